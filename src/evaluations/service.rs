//! Evaluation operations, each inside one transaction: scope, rules, write, audit.

use chrono::Datelike;

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::http::etag::IfMatch;
use crate::models::types::ModelStatus;
use crate::models::ModelRow;

use super::rules;
use super::store::{self, EvaluationRow};
use super::types::{CreateEvaluation, Evaluation, EvaluationStatus, UpdateEvaluation};

/// The evaluation if the actor sees its model; 404 otherwise.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<EvaluationRow, ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    crate::models::service::visible(conn, actor, &row.model_id)?;
    Ok(row)
}

/// Drafts are the evaluating unit's own: its reviewers score them, its approvers finalise them.
fn require_evaluator(actor: &Actor, role: Role, row: &EvaluationRow) -> Result<(), ApiError> {
    actor.require(role)?;
    if row.evaluator_unit_id != actor.unit_id {
        return Err(ApiError::forbidden("not_evaluator", "only the evaluating unit works on its evaluation"));
    }
    Ok(())
}

fn require_draft(row: &EvaluationRow) -> Result<(), ApiError> {
    if row.status != EvaluationStatus::Draft {
        return Err(ApiError::conflict(
            "evaluation_finalized",
            "a finalised evaluation never changes; correct it with a new one that supersedes it",
        ));
    }
    Ok(())
}

fn change<'a>(action: &'a str, row: &'a EvaluationRow, model: &'a ModelRow) -> Change<'a> {
    Change::new(action, "evaluation", &row.id, Some(&model.unit_id))
}

pub fn create(conn: &mut DbConnection, actor: &Actor, input: CreateEvaluation) -> Result<Evaluation, ApiError> {
    actor.require(Role::Reviewer)?;
    let model = crate::models::service::visible(conn, actor, &input.model_id)
        .map_err(|e| e.unresolved("model_id", "unknown_model", "no such model, or it is outside your scope"))?;
    let owner =
        crate::tree::find(conn, &model.unit_id)?.ok_or_else(|| ApiError::internal("a model's unit is missing"))?;
    if !crate::tree::is_above(conn, &actor.unit_id, actor.level, &owner)? {
        return Err(ApiError::forbidden("not_above_owner", "a model is evaluated by a unit above its own unit"));
    }
    let (review_kind, year) = match &input.supersedes_id {
        Some(old_id) => {
            let old = store::find(conn, old_id)?.filter(|o| o.model_id == model.id).ok_or_else(|| {
                ApiError::field("supersedes_id", "unknown_evaluation", "no such evaluation of this model")
            })?;
            if old.status != EvaluationStatus::Finalized || old.superseded_by_id.is_some() {
                return Err(ApiError::field(
                    "supersedes_id",
                    "not_standing",
                    "only a finalised evaluation that still stands can be corrected",
                ));
            }
            let kind = old.review_kind;
            if input.review_kind.is_some_and(|k| k != kind) || input.year.is_some_and(|y| y != old.year) {
                return Err(ApiError::field(
                    "supersedes_id",
                    "different_review",
                    "a correction is for the same review and year as the evaluation it corrects",
                ));
            }
            (kind, old.year)
        }
        None => {
            let status = model.status;
            if status != ModelStatus::InProgress {
                return Err(ApiError::conflict(
                    "model_not_in_progress",
                    format!("a {status} model is not up for evaluation; a decision is corrected by superseding it"),
                ));
            }
            let mut errors = Vec::new();
            if input.review_kind.is_none() {
                errors.push(FieldError::new("review_kind", "required", "say which review this is"));
            }
            if input.year.is_none() {
                errors.push(FieldError::new("year", "required", "say which year this review covers"));
            }
            match (input.review_kind, input.year) {
                (Some(k), Some(y)) if errors.is_empty() => (k, y),
                _ => return Err(ApiError::validation(errors)),
            }
        }
    };
    let campaign = crate::campaigns::find(conn, &model.campaign_id)?
        .ok_or_else(|| ApiError::internal("a model's campaign is missing"))?;
    let content = model.content()?;
    let sets = campaign.content()?.criteria_sets;
    let set = rules::choose_set(&sets, input.criteria_set_code.as_deref(), content.subject, content.kind)
        .map_err(|e| ApiError::validation(vec![e]))?;
    let mut criteria = rules::unscored(set);
    let mut errors = rules::apply_scores(&mut criteria, &input.scores);
    let (first, last) = (campaign.starts_on.year(), campaign.ends_on.year());
    if !(first..=last).contains(&year) {
        errors.push(FieldError::new("year", "outside_campaign", format!("must lie within {first} to {last}")));
    }
    let comment = crate::units::rules::clean_long_text("comment", input.comment.as_deref(), 10_000)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    ApiError::unless_any(errors)?;
    let now = crate::db::now();
    let mut row = EvaluationRow {
        id: uuid::Uuid::now_v7().to_string(),
        model_id: model.id.clone(),
        evaluator_unit_id: actor.unit_id.clone(),
        review_kind,
        year,
        criteria_set_code: set.code.clone(),
        criteria: String::new(),
        total_score: 0.0,
        verdict: input.verdict,
        decision: input.decision,
        comment,
        status: EvaluationStatus::Draft,
        supersedes_id: input.supersedes_id,
        superseded_by_id: None,
        finalized_at: None,
        finalized_by: None,
        evaluated_on: crate::dates::checked_for(conn, "evaluated_on", input.evaluated_on, &actor.unit_id)?,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    row.set_criteria(&criteria);
    store::insert(conn, &row)?;
    let evaluation = row.to_api()?;
    changes::record(conn, actor, change("evaluation.create", &row, &model), None::<&()>, Some(&evaluation))?;
    Ok(evaluation)
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateEvaluation,
) -> Result<Evaluation, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_evaluator(actor, Role::Reviewer, &before_row)?;
    let before = before_row.to_api()?;
    if_match.check(before.version, &before)?;
    require_draft(&before_row)?;
    let mut row = before_row.clone();
    let mut criteria = row.criteria()?;
    let mut errors = rules::apply_scores(&mut criteria, input.scores.as_deref().unwrap_or_default());
    if let Some(v) = input.verdict {
        row.verdict = v;
    }
    if let Some(d) = input.decision {
        row.decision = d;
    }
    if let Some(c) = input.comment {
        match crate::units::rules::clean_long_text("comment", c.as_deref(), 10_000) {
            Ok(c) => row.comment = c,
            Err(e) => errors.push(e),
        }
    }
    ApiError::unless_any(errors)?;
    row.set_criteria(&criteria);
    if row == before_row {
        return Ok(before);
    }
    row.updated_at = crate::db::now();
    row.version += 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    let model = crate::models::service::visible(conn, actor, &row.model_id)?;
    let after = row.to_api()?;
    changes::record(conn, actor, change("evaluation.update", &row, &model), Some(&before), Some(&after))?;
    Ok(after)
}

/// Finalises a draft and, in the same transaction, moves the model to recognized or
/// not_recognized; a correction also retires the evaluation it supersedes. Of two finalisations
/// racing for the same model, review and year, one wins and the other gets 409.
pub fn finalize(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    comment: Option<String>,
) -> Result<Evaluation, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_evaluator(actor, Role::Approver, &before_row)?;
    let before = before_row.to_api()?;
    if_match.check(before.version, &before)?;
    require_draft(&before_row)?;
    ApiError::unless_any(rules::ready(&before.criteria, before.verdict, before.decision))?;
    let model = crate::models::service::visible(conn, actor, &before_row.model_id)?;
    let now = crate::db::now();
    let lost = || ApiError::conflict("already_decided", "a concurrent decision on this model got there first");
    match &before_row.supersedes_id {
        Some(old_id) => {
            let mut old =
                store::find(conn, old_id)?.ok_or_else(|| ApiError::internal("superseded evaluation missing"))?;
            if old.superseded_by_id.is_some() {
                return Err(lost());
            }
            let old_before = old.to_api()?;
            old.superseded_by_id = Some(before_row.id.clone());
            old.updated_at = now;
            old.version += 1;
            if !store::update(conn, &old, old_before.version)? {
                return Err(lost());
            }
            changes::record(
                conn,
                actor,
                change("evaluation.supersede", &old, &model),
                Some(&old_before),
                Some(&old.to_api()?),
            )?;
        }
        None if model.status != ModelStatus::InProgress => return Err(lost()),
        None => {}
    }
    let mut row = before_row.clone();
    row.status = EvaluationStatus::Finalized;
    row.finalized_at = Some(now);
    row.evaluated_on = row.evaluated_on.or(Some(crate::db::day_in_vietnam(now.and_utc())));
    row.finalized_by = Some(actor.sub.clone());
    row.updated_at = now;
    row.version += 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(lost());
    }
    let recognized = before.decision == Some(super::types::Decision::Recognize);
    crate::models::service::decide(conn, actor, &model, recognized, &row.id).map_err(|e| match e {
        ApiError::PreconditionFailed { .. } => lost(),
        other => other,
    })?;
    let after = row.to_api()?;
    #[derive(serde::Serialize)]
    struct Finalized<'a> {
        evaluation: &'a Evaluation,
        comment: Option<String>,
    }
    changes::record(
        conn,
        actor,
        change("evaluation.finalize", &row, &model),
        Some(&before),
        Some(&Finalized { evaluation: &after, comment }),
    )?;
    Ok(after)
}
