//! Decision operations, each inside one transaction: scope, rules, write, audit.

use chrono::{Datelike, NaiveDate};

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::commendations::service::{self as commendations, Issuing};
use crate::commendations::types::{Commendation, CommendationStatus, IssueCommendation};
use crate::commendations::CommendationRow;
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::http::etag::IfMatch;
use crate::units::rules::{clean_long_text, clean_text};
use crate::webhooks::types::EventType;

use super::rules;
use super::store::{self, DecisionRow};
use super::types::*;

fn change<'a>(action: &'a str, row: &'a DecisionRow) -> Change<'a> {
    Change::new(action, "decision", &row.id, Some(&row.issuer_unit_id))
}

/// The decision if the actor sees it: its issuer is in the actor's subtree, or it lists a
/// commendation of a model the actor sees. 404 otherwise.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<DecisionRow, ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if crate::tree::Subtree::of(&actor.unit_id).holds(conn, &row.issuer_unit_id)?
        || store::lists_a_commendation_seen_by(conn, &row.id, &actor.unit_id)?
    {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The decision as the API shows it.
pub fn load(conn: &mut DbConnection, row: &DecisionRow) -> Result<AwardDecision, ApiError> {
    let mut counts = store::recipients(conn, std::slice::from_ref(&row.id))?;
    row.to_api(counts.remove(&row.id).unwrap_or_default())
}

pub fn load_all(conn: &mut DbConnection, rows: &[DecisionRow]) -> Result<Vec<AwardDecision>, ApiError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut counts = store::recipients(conn, &ids)?;
    rows.iter().map(|r| r.to_api(counts.remove(&r.id).unwrap_or_default())).collect()
}

/// The decision with the commendations it lists that the actor sees.
pub fn with_commendations(
    conn: &mut DbConnection,
    actor: &Actor,
    row: &DecisionRow,
) -> Result<AwardDecisionWithCommendations, ApiError> {
    let listed = crate::commendations::of_decision(conn, &row.id)?;
    let ids: Vec<String> = listed.iter().map(|c| c.id.clone()).collect();
    let seen = crate::commendations::seen_by(conn, &actor.unit_id, &ids)?;
    let commendations = listed.iter().filter(|c| seen.contains(&c.id)).map(|c| c.to_api()).collect::<Result<_, _>>()?;
    Ok(AwardDecisionWithCommendations { decision: load(conn, row)?, commendations })
}

/// Decisions are made by approvers of the issuer unit.
/// Approvers of the issuing unit act on its decisions.
pub fn require_issuer(actor: &Actor, row: &DecisionRow) -> Result<(), ApiError> {
    actor.require(Role::Approver)?;
    if row.issuer_unit_id != actor.unit_id {
        return Err(ApiError::forbidden("not_issuer", "only approvers of the issuing unit decide"));
    }
    Ok(())
}

fn text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    clean_text(field, value, max).map_err(|e| errors.push(e)).ok().unwrap_or_default()
}

/// The signer's name and position, cleaned.
fn signer(s: Option<&Signer>, errors: &mut Vec<FieldError>) -> Option<(String, String)> {
    s.map(|s| (text("signer.name", &s.name, 255, errors), text("signer.position", &s.position, 255, errors)))
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    input: CreateDecision,
    today: NaiveDate,
) -> Result<AwardDecision, ApiError> {
    actor.require(Role::Approver)?;
    let issuer = crate::tree::find(conn, &actor.unit_id)?.ok_or(ApiError::NotFound)?;
    let mut errors = Vec::new();
    if !crate::commendations::rules::may_award(input.form, issuer.level) {
        errors.push(FieldError::new(
            "form",
            "form_beyond_authority",
            format!("a {} unit may not award a {}", issuer.level, input.form),
        ));
    }
    let authority_title = text("authority_title", &input.authority_title, 255, &mut errors);
    let number = text("number", &input.number, 64, &mut errors);
    crate::dates::check("decided_on", input.decided_on, today, &mut errors);
    crate::dates::check_within_unit("decided_on", input.decided_on, &issuer, &mut errors);
    let summary = clean_long_text("summary", input.summary.as_deref(), 500).map_err(|e| errors.push(e)).ok().flatten();
    let signer = signer(input.signer.as_ref(), &mut errors);
    ApiError::unless_any(errors)?;
    let now = crate::db::now();
    let row = DecisionRow {
        id: uuid::Uuid::now_v7().to_string(),
        issuer_unit_id: issuer.id,
        issuing_authority: input.issuing_authority,
        authority_title,
        form: input.form,
        number,
        decided_on: input.decided_on,
        decision_year: input.decided_on.year(),
        summary,
        signer_name: signer.as_ref().map(|s| s.0.clone()),
        signer_position: signer.map(|s| s.1),
        issuer_name: None,
        issuer_level: None,
        status: DecisionStatus::Draft,
        revocation_reason: None,
        revocation_number: None,
        revoked_on: None,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    store::insert(conn, &row)?;
    let decision = row.to_api(Recipients::default())?;
    changes::record(conn, actor, change("decision.create", &row), None::<&()>, Some(&decision))?;
    Ok(decision)
}

/// Writes a change of the decision over the row as read, with its audit record; the decision as
/// shown and the row as written.
fn save(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    event: Option<EventType>,
    before_row: &DecisionRow,
    mut row: DecisionRow,
) -> Result<(AwardDecision, DecisionRow), ApiError> {
    let before = load(conn, before_row)?;
    row.updated_at = crate::db::now();
    row.version = before_row.version + 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    let after = load(conn, &row)?;
    changes::record(conn, actor, change(action, &row).announcing(event), Some(&before), Some(&after))?;
    Ok((after, row))
}

/// The draft the actor may change, checked against `If-Match`.
fn draft(conn: &mut DbConnection, actor: &Actor, id: &str, if_match: &IfMatch) -> Result<DecisionRow, ApiError> {
    let row = visible(conn, actor, id)?;
    require_issuer(actor, &row)?;
    if_match.check(row.version, &load(conn, &row)?)?;
    if row.status != DecisionStatus::Draft {
        return Err(ApiError::conflict("not_a_draft", format!("the decision is {}; only a draft changes", row.status)));
    }
    Ok(row)
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateDecision,
    today: NaiveDate,
) -> Result<AwardDecision, ApiError> {
    let before_row = draft(conn, actor, id, if_match)?;
    let mut row = before_row.clone();
    let mut errors = Vec::new();
    if let Some(title) = input.authority_title {
        row.authority_title = text("authority_title", &title, 255, &mut errors);
    }
    if let Some(number) = input.number {
        row.number = text("number", &number, 64, &mut errors);
    }
    if let Some(on) = input.decided_on {
        crate::dates::check("decided_on", on, today, &mut errors);
        row.decided_on = on;
        row.decision_year = on.year();
    }
    if let Some(summary) = input.summary {
        row.summary = clean_long_text("summary", summary.as_deref(), 500).map_err(|e| errors.push(e)).ok().flatten();
    }
    if let Some(given) = input.signer {
        let cleaned = signer(given.as_ref(), &mut errors);
        row.signer_name = cleaned.as_ref().map(|s| s.0.clone());
        row.signer_position = cleaned.map(|s| s.1);
    }
    ApiError::unless_any(errors)?;
    if row == before_row {
        return load(conn, &row);
    }
    save(conn, actor, "decision.update", None, &before_row, row).map(|(decision, _)| decision)
}

/// Lists a proposal in a draft decision: a proposal to the same issuer, authority and form, not
/// listed elsewhere.
pub fn add(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: AddCommendation,
) -> Result<AwardDecisionWithCommendations, ApiError> {
    let before_row = draft(conn, actor, id, if_match)?;
    let unknown = || {
        ApiError::field("commendation_id", "unknown_commendation", "no proposal to this decision's issuer has this id")
    };
    let c = crate::commendations::find(conn, &input.commendation_id)?
        .filter(|c| c.issuer_unit_id == before_row.issuer_unit_id)
        .ok_or_else(unknown)?;
    if c.status != CommendationStatus::Proposed {
        return Err(ApiError::conflict("not_proposed", format!("the commendation is {}, not a proposal", c.status)));
    }
    if c.decision_id.as_deref() == Some(before_row.id.as_str()) {
        return with_commendations(conn, actor, &before_row);
    }
    if c.decision_id.is_some() {
        return Err(ApiError::conflict("listed_in_decision", "the commendation is listed in another draft decision"));
    }
    let mut errors = Vec::new();
    if c.form != before_row.form {
        errors.push(FieldError::new(
            "commendation_id",
            "form_mismatch",
            format!("it proposes a {}, the decision awards a {}", c.form, before_row.form),
        ));
    }
    if c.issuing_authority != before_row.issuing_authority {
        errors.push(FieldError::new(
            "commendation_id",
            "authority_mismatch",
            format!(
                "it is proposed to the {}, the decision is the {}'s",
                c.issuing_authority, before_row.issuing_authority
            ),
        ));
    }
    ApiError::unless_any(errors)?;
    commendations::list_in(conn, actor, c, Some(&before_row.id))?;
    let (_, row) = save(conn, actor, "decision.add_commendation", None, &before_row, before_row.clone())?;
    with_commendations(conn, actor, &row)
}

/// Takes a proposal out of a draft decision.
pub fn remove(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    commendation_id: &str,
    if_match: &IfMatch,
) -> Result<AwardDecisionWithCommendations, ApiError> {
    let before_row = draft(conn, actor, id, if_match)?;
    let c = crate::commendations::find(conn, commendation_id)?
        .filter(|c| c.decision_id.as_deref() == Some(before_row.id.as_str()))
        .ok_or(ApiError::NotFound)?;
    commendations::list_in(conn, actor, c, None)?;
    let (_, row) = save(conn, actor, "decision.remove_commendation", None, &before_row, before_row.clone())?;
    with_commendations(conn, actor, &row)
}

/// Issues every commendation of `row` under it, or none: each one that cannot be issued is named.
fn issue_all(
    conn: &mut DbConnection,
    actor: &Actor,
    row: &DecisionRow,
    listed: Vec<CommendationRow>,
    amount_vnd: Option<i64>,
    today: NaiveDate,
) -> Result<DecisionRow, ApiError> {
    let issuer =
        crate::tree::find(conn, &row.issuer_unit_id)?.ok_or_else(|| ApiError::internal("an issuer unit is missing"))?;
    if !crate::commendations::rules::may_award(row.form, issuer.level) {
        return Err(ApiError::conflict("form_beyond_authority", "the issuer's level may no longer award this form"));
    }
    let mut errors = Vec::new();
    crate::dates::check("decided_on", row.decided_on, today, &mut errors);
    if listed.is_empty() {
        errors.push(FieldError::new("commendations", "required", "a decision commends at least one recipient"));
    }
    ApiError::unless_any(errors)?;
    let issuing = Issuing {
        decision_id: &row.id,
        number: &row.number,
        decided_on: row.decided_on,
        issuer_name: &issuer.name,
        issuer_level: issuer.level,
        amount_vnd,
    };
    let mut refused = Vec::new();
    for (i, c) in listed.into_iter().enumerate() {
        let id = c.id.clone();
        if let Err((code, message)) = commendations::issue_under(conn, actor, c, &issuing)? {
            refused.push(FieldError::new(format!("commendations[{i}]"), code, format!("{message} ({id})")));
        }
    }
    if !refused.is_empty() {
        // The caller's transaction rolls back what was written for the others.
        return Err(ApiError::Unprocessable {
            code: "decision_not_issuable",
            detail: format!("{} of the decision's commendations cannot be issued; nothing was issued", refused.len()),
            errors: refused,
        });
    }
    let mut issued = row.clone();
    issued.status = DecisionStatus::Issued;
    issued.issuer_name = Some(issuer.name);
    issued.issuer_level = Some(issuer.level);
    Ok(issued)
}

/// Issues the decision and, in the same transaction, every commendation it lists.
pub fn issue(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    today: NaiveDate,
) -> Result<AwardDecisionWithCommendations, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_issuer(actor, &before_row)?;
    if_match.check(before_row.version, &load(conn, &before_row)?)?;
    rules::LIFECYCLE.apply(before_row.status, DecisionAction::Issue)?;
    let listed = crate::commendations::of_decision(conn, &before_row.id)?;
    let row = issue_all(conn, actor, &before_row, listed, None, today)?;
    let (_, row) = save(conn, actor, "decision.issue", Some(EventType::DecisionIssued), &before_row, row)?;
    with_commendations(conn, actor, &row)
}

/// A commendation issued alone: a decision with one recipient, made and issued with it.
pub fn issue_alone(
    conn: &mut DbConnection,
    actor: &Actor,
    c: CommendationRow,
    input: IssueCommendation,
    today: NaiveDate,
) -> Result<Commendation, ApiError> {
    let mut errors = Vec::new();
    let number = text("decision_number", &input.decision_number, 64, &mut errors);
    let signer = signer(input.signer.as_ref(), &mut errors);
    crate::dates::check("decided_on", input.decided_on, today, &mut errors);
    ApiError::unless_any(errors)?;
    let now = crate::db::now();
    let draft = DecisionRow {
        id: uuid::Uuid::now_v7().to_string(),
        issuer_unit_id: c.issuer_unit_id.clone(),
        issuing_authority: c.issuing_authority,
        authority_title: c.authority_title.clone(),
        form: c.form,
        number,
        decided_on: input.decided_on,
        decision_year: input.decided_on.year(),
        summary: None,
        signer_name: signer.as_ref().map(|s| s.0.clone()),
        signer_position: signer.map(|s| s.1),
        issuer_name: None,
        issuer_level: None,
        status: DecisionStatus::Draft,
        revocation_reason: None,
        revocation_number: None,
        revoked_on: None,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    store::insert(conn, &draft)?;
    changes::record(
        conn,
        actor,
        change("decision.create", &draft),
        None::<&()>,
        Some(&draft.to_api(Recipients::default())?),
    )?;
    let commendation_id = c.id.clone();
    let row = issue_all(conn, actor, &draft, vec![c], input.amount_vnd, today).map_err(|e| match e {
        // One recipient: its refusal is the commendation's own.
        ApiError::Unprocessable { code: "decision_not_issuable", errors, .. } => match errors.into_iter().next() {
            Some(first) => ApiError::conflict(
                if first.code == "not_proposed" { "invalid_transition" } else { "not_issuable" },
                first.message,
            ),
            None => ApiError::internal("a refusal without a reason"),
        },
        other => other,
    })?;
    save(conn, actor, "decision.issue", Some(EventType::DecisionIssued), &draft, row)?;
    crate::commendations::find(conn, &commendation_id)?
        .ok_or_else(|| ApiError::internal("the issued commendation is missing"))?
        .to_api()
}

/// Revokes an issued decision, and every commendation of it still standing, with the revoking
/// decision; or abandons a draft, whose proposals are free to join another.
pub fn revoke(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: RevokeDecision,
    today: NaiveDate,
) -> Result<AwardDecisionWithCommendations, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_issuer(actor, &before_row)?;
    if_match.check(before_row.version, &load(conn, &before_row)?)?;
    let status = before_row.status;
    let to = rules::LIFECYCLE.apply(status, DecisionAction::Revoke)?;
    let mut errors = Vec::new();
    let reason = commendations::grounds(&input.reason, &mut errors);
    let mut row = before_row.clone();
    row.status = to;
    row.revocation_reason = Some(reason.clone());
    let listed = crate::commendations::of_decision(conn, &before_row.id)?;
    if status == DecisionStatus::Issued {
        match (&input.number, input.decided_on) {
            (Some(n), Some(on)) => {
                row.revocation_number = Some(text("number", n, 64, &mut errors));
                crate::dates::check("decided_on", on, today, &mut errors);
                if on < before_row.decided_on {
                    errors.push(FieldError::new("decided_on", "before_issue", "a revocation follows the decision"));
                }
                row.revoked_on = Some(on);
            }
            _ => errors.push(FieldError::new(
                "number",
                "required",
                "revoking an issued decision takes the revoking decision's number and date",
            )),
        }
        ApiError::unless_any(errors)?;
        let (number, on) = (row.revocation_number.clone().unwrap_or_default(), row.revoked_on.unwrap_or(today));
        for c in listed.into_iter().filter(|c| c.status == CommendationStatus::Issued) {
            commendations::revoke_under(conn, actor, c, &reason, &number, on)?;
        }
    } else {
        row.revocation_number = input.number;
        row.revoked_on = input.decided_on;
        ApiError::unless_any(errors)?;
        for c in listed {
            commendations::list_in(conn, actor, c, None)?;
        }
    }
    let (_, row) = save(conn, actor, "decision.revoke", Some(EventType::DecisionRevoked), &before_row, row)?;
    with_commendations(conn, actor, &row)
}

/// Moves a decision's version on when one of its commendations changed on its own (a revocation
/// of one recipient): its representation counts its recipients.
pub fn touch(conn: &mut DbConnection, id: &str) -> Result<(), ApiError> {
    store::touch(conn, id, crate::db::now())
}
