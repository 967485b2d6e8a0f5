//! Commendation operations, each inside one transaction: scope, rules, write, audit.

use chrono::{Datelike, NaiveDate};

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::evaluations::types::{Decision, EvaluationStatus};
use crate::evaluations::EvaluationRow;
use crate::http::etag::IfMatch;
use crate::models::types::ModelStatus;
use crate::units::rules::{clean_long_text, clean_text};
use crate::units::types::Level;
use crate::vocabulary::Subject;
use crate::webhooks::types::EventType;

use super::rules;
use super::store::{self, CommendationRow};
use super::types::{
    Commendation, CommendationAction, CommendationStatus, IssueCommendation, ProposeCommendation, RevokeCommendation,
};

/// The commendation if the actor sees its model; 404 otherwise.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<CommendationRow, ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    crate::models::service::visible(conn, actor, &row.model_id)?;
    Ok(row)
}

fn change<'a>(action: &'a str, row: &'a CommendationRow, unit_id: &'a str) -> Change<'a> {
    Change::new(action, "commendation", &row.id, Some(unit_id))
}

/// The achievement: a finalised evaluation of the model, still standing, that recognised it.
fn achievement(conn: &mut DbConnection, model_id: &str, id: Option<&str>) -> Result<EvaluationRow, ApiError> {
    let not_recognising = || {
        ApiError::field(
            "evaluation_id",
            "not_a_recognition",
            "name a finalised, standing evaluation of this model that recognised it",
        )
    };
    match id {
        None => crate::evaluations::standing_recognition(conn, model_id)?.ok_or_else(not_recognising),
        Some(id) => {
            let e =
                crate::evaluations::find(conn, id)?.filter(|e| e.model_id == model_id).ok_or_else(not_recognising)?;
            let standing = e.status == EvaluationStatus::Finalized && e.superseded_by_id.is_none();
            if standing && e.decision == Some(Decision::Recognize) {
                Ok(e)
            } else {
                Err(not_recognising())
            }
        }
    }
}

pub fn propose(conn: &mut DbConnection, actor: &Actor, input: ProposeCommendation) -> Result<Commendation, ApiError> {
    actor.require(Role::Editor)?;
    let model = crate::models::service::visible(conn, actor, &input.model_id)
        .map_err(|e| e.unresolved("model_id", "unknown_model", "no such model, or it is outside your scope"))?;
    if model.status != ModelStatus::Recognized {
        return Err(ApiError::conflict("model_not_recognized", "only a recognised model is commended"));
    }
    let evaluation = achievement(conn, &model.id, input.evaluation_id.as_deref())?;
    let owner =
        crate::tree::find(conn, &model.unit_id)?.ok_or_else(|| ApiError::internal("a model's unit is missing"))?;
    // The issuer sits above the proposer, outside what it may read: an unknown unit and one not
    // above the model's get the same answer.
    let not_above = || {
        ApiError::field(
            "issuer_unit_id",
            "issuer_not_above",
            "the issuer must be an active unit above the model's unit",
        )
    };
    let issuer = crate::tree::find(conn, &input.issuer_unit_id)?.ok_or_else(not_above)?;
    if !issuer.is_active() || !crate::tree::is_above(conn, &issuer.id, issuer.level, &owner)? {
        return Err(not_above());
    }
    let mut errors = Vec::new();
    if !rules::may_award(input.form, issuer.level) {
        errors.push(FieldError::new(
            "form",
            "form_beyond_authority",
            format!("a {} unit may not award a {}", issuer.level, input.form),
        ));
    }
    let content = model.content()?;
    let recipient_name = match (content.subject, input.recipient_name.as_deref()) {
        (Subject::Individual, Some(_)) => {
            errors.push(FieldError::new("recipient_name", "not_allowed", "an individual is commended by name"));
            None
        }
        (Subject::Individual, None) => content.person.map(|p| p.full_name),
        (Subject::Collective, name) => {
            name.and_then(|n| clean_text("recipient_name", n, 255).map_err(|e| errors.push(e)).ok())
        }
    };
    let authority_title =
        clean_text("authority_title", &input.authority_title, 255).map_err(|e| errors.push(e)).ok().unwrap_or_default();
    let reason = match clean_long_text("reason", Some(&input.reason), 2000) {
        Ok(Some(r)) => r,
        Ok(None) => {
            errors.push(FieldError::new("reason", "required", "say what is commended"));
            String::new()
        }
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    ApiError::unless_any(errors)?;
    let now = crate::db::now();
    let row = CommendationRow {
        id: uuid::Uuid::now_v7().to_string(),
        model_id: model.id.clone(),
        evaluation_id: evaluation.id,
        recipient_subject: content.subject,
        recipient_unit_id: (content.subject == Subject::Collective).then(|| model.unit_id.clone()),
        recipient_name,
        form: input.form,
        issuer_unit_id: issuer.id,
        issuing_authority: input.issuing_authority,
        authority_title,
        issuer_name: None,
        issuer_level: None,
        decision_number: None,
        decided_on: None,
        decision_year: None,
        reason,
        amount_vnd: input.amount_vnd,
        status: CommendationStatus::Proposed,
        revocation_reason: None,
        revocation_decision_number: None,
        revoked_on: None,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
        decision_id: None,
    };
    store::insert(conn, &row)?;
    let commendation = row.to_api()?;
    changes::record(
        conn,
        actor,
        change("commendation.propose", &row, &model.unit_id),
        None::<&()>,
        Some(&commendation),
    )?;
    Ok(commendation)
}

/// What an action says: the issuing decision, or the grounds of a revocation.
pub enum Decided {
    Issue(IssueCommendation),
    Revoke(RevokeCommendation),
}

/// The grounds of a revocation: required, cleaned, at most 2,000 characters.
pub fn grounds(reason: &str, errors: &mut Vec<FieldError>) -> String {
    match clean_long_text("reason", Some(reason), 2000) {
        Ok(Some(reason)) => reason,
        Ok(None) => {
            errors.push(FieldError::new("reason", "required", "give the grounds"));
            String::new()
        }
        Err(e) => {
            errors.push(e);
            String::new()
        }
    }
}

/// Issues or revokes one commendation, as an approver of the issuing unit. Issuing one alone
/// makes a decision with one recipient.
pub fn act(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    decided: Decided,
    today: NaiveDate,
) -> Result<Commendation, ApiError> {
    let before_row = visible(conn, actor, id)?;
    actor.require(Role::Approver)?;
    if before_row.issuer_unit_id != actor.unit_id {
        return Err(ApiError::forbidden("not_issuer", "only approvers of the issuing unit decide on a commendation"));
    }
    let before = before_row.to_api()?;
    if_match.check(before.version, &before)?;
    match decided {
        Decided::Issue(d) => {
            rules::LIFECYCLE.apply(before.status, CommendationAction::Issue)?;
            if before_row.decision_id.is_some() {
                return Err(ApiError::conflict(
                    "listed_in_decision",
                    "this commendation is listed in a draft decision: it is issued with that decision",
                ));
            }
            crate::decisions::service::issue_alone(conn, actor, before_row, d, today)
        }
        Decided::Revoke(r) => {
            let to = rules::LIFECYCLE.apply(before.status, CommendationAction::Revoke)?;
            let mut errors = Vec::new();
            let reason = grounds(&r.reason, &mut errors);
            let revocation = if before.status == CommendationStatus::Issued {
                // Revoking an issued decision takes a decision of its own.
                match (&r.decision_number, r.decided_on) {
                    (Some(n), Some(on)) => {
                        let number = clean_text("decision_number", n, 64).map_err(|e| errors.push(e)).ok();
                        crate::dates::check("decided_on", on, today, &mut errors);
                        if before.decided_on.is_some_and(|issued| on < issued) {
                            errors.push(FieldError::new(
                                "decided_on",
                                "before_issue",
                                "a revocation follows the decision",
                            ));
                        }
                        (number, Some(on))
                    }
                    _ => {
                        errors.push(FieldError::new(
                            "decision_number",
                            "required",
                            "revoking an issued decision takes the revoking decision's number and date",
                        ));
                        (None, None)
                    }
                }
            } else {
                (r.decision_number, r.decided_on)
            };
            ApiError::unless_any(errors)?;
            let decision = before_row.decision_id.clone();
            let after = revoke_row(conn, actor, before_row, &reason, revocation, to)?;
            // A decision shows how many it commends: its representation moved on.
            if let Some(decision) = decision {
                crate::decisions::service::touch(conn, &decision)?;
            }
            Ok(after)
        }
    }
}

/// Writes a commendation's revocation (or a proposal turned down, which leaves any draft
/// decision it was listed in), with its record.
fn revoke_row(
    conn: &mut DbConnection,
    actor: &Actor,
    before_row: CommendationRow,
    reason: &str,
    (number, on): (Option<String>, Option<NaiveDate>),
    to: CommendationStatus,
) -> Result<Commendation, ApiError> {
    let mut row = before_row.clone();
    row.revocation_reason = Some(reason.to_string());
    row.revocation_decision_number = number;
    row.revoked_on = on;
    if before_row.status == CommendationStatus::Proposed {
        row.decision_id = None;
    }
    row.status = to;
    save(conn, actor, "commendation.revoke", Some(EventType::CommendationRevoked), &before_row, row)
}

/// Writes `row` over the version read, with its audit record (which queues its webhook event).
fn save(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    event: Option<EventType>,
    before_row: &CommendationRow,
    mut row: CommendationRow,
) -> Result<Commendation, ApiError> {
    let before = &before_row.to_api()?;
    row.updated_at = crate::db::now();
    row.version = before_row.version + 1;
    if !store::update(conn, &row, before_row)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    let model = crate::models::find(conn, &row.model_id)?.ok_or_else(|| ApiError::internal("model missing"))?;
    let after = row.to_api()?;
    changes::record(conn, actor, change(action, &row, &model.unit_id).announcing(event), Some(before), Some(&after))?;
    Ok(after)
}

/// What a decision gives each commendation it issues.
pub struct Issuing<'a> {
    pub decision_id: &'a str,
    pub number: &'a str,
    pub decided_on: NaiveDate,
    pub issuer_name: &'a str,
    pub issuer_level: Level,
    pub amount_vnd: Option<i64>,
}

/// Issues one commendation under a decision. Each recipient is checked on its own: it is still a
/// proposal, its model is still recognised, and the achievement still stands. `Ok(Err(why))`
/// names what stops this one (the caller refuses the whole decision and writes nothing).
pub fn issue_under(
    conn: &mut DbConnection,
    actor: &Actor,
    before_row: CommendationRow,
    issuing: &Issuing<'_>,
) -> Result<Result<Commendation, (&'static str, String)>, ApiError> {
    let before = before_row.to_api()?;
    if before.status != CommendationStatus::Proposed {
        return Ok(Err(("not_proposed", format!("commendation {} is {}, not a proposal", before.id, before.status))));
    }
    let model = crate::models::find(conn, &before_row.model_id)?.ok_or_else(|| ApiError::internal("model missing"))?;
    if model.status != ModelStatus::Recognized {
        return Ok(Err((
            "model_not_recognized",
            format!("the model of commendation {} is no longer recognised", before.id),
        )));
    }
    if achievement(conn, &model.id, Some(&before_row.evaluation_id)).is_err() {
        return Ok(Err((
            "achievement_withdrawn",
            format!("the evaluation commendation {} rewards no longer stands", before.id),
        )));
    }
    let mut row = before_row.clone();
    row.decision_id = Some(issuing.decision_id.to_string());
    row.decision_number = Some(issuing.number.to_string());
    row.decided_on = Some(issuing.decided_on);
    row.decision_year = Some(issuing.decided_on.year());
    row.amount_vnd = issuing.amount_vnd.or(row.amount_vnd);
    // The issuer as it is today, kept with the decision so it reads right after a reorganisation.
    row.issuer_name = Some(issuing.issuer_name.to_string());
    row.issuer_level = Some(issuing.issuer_level);
    row.status = CommendationStatus::Issued;
    save(conn, actor, "commendation.issue", Some(EventType::CommendationIssued), &before_row, row).map(Ok)
}

/// Revokes an issued commendation with its decision.
pub fn revoke_under(
    conn: &mut DbConnection,
    actor: &Actor,
    before_row: CommendationRow,
    reason: &str,
    number: &str,
    on: NaiveDate,
) -> Result<Commendation, ApiError> {
    revoke_row(conn, actor, before_row, reason, (Some(number.to_string()), Some(on)), CommendationStatus::Revoked)
}

/// Lists a proposal in a draft decision, or takes it out (`decision_id` None).
pub fn list_in(
    conn: &mut DbConnection,
    actor: &Actor,
    before_row: CommendationRow,
    decision_id: Option<&str>,
) -> Result<Commendation, ApiError> {
    let mut row = before_row.clone();
    row.decision_id = decision_id.map(str::to_string);
    let action =
        if decision_id.is_some() { "commendation.list_in_decision" } else { "commendation.remove_from_decision" };
    save(conn, actor, action, None, &before_row, row)
}
