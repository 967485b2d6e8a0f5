//! Who may print which certificates, and what goes on them.

use std::collections::HashMap;

use crate::auth::Actor;
use crate::changes::{self, Change};
use crate::commendations::types::CommendationStatus;
use crate::commendations::CommendationRow;
use crate::db::DbConnection;
use crate::decisions::types::DecisionStatus;
use crate::decisions::DecisionRow;
use crate::error::ApiError;
use crate::vocabulary::Subject;

use super::layout::{self, Certificate, Facts};
use super::store::{self, IssuerPlace, ModelFacts};

/// The address of a commendation's public verification record, which its QR code opens.
pub fn verify_url(base_url: &str, id: &str) -> String {
    format!("{}/api/v1/public/commendations/{id}", base_url.trim_end_matches('/'))
}

/// The certificate of an issued commendation, for any role of its issuer's unit, of its
/// recipient's unit, or of a unit above either. Each print is audited.
pub fn of_commendation(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    base_url: &str,
) -> Result<Certificate, ApiError> {
    let row = crate::commendations::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let models = store::model_facts(conn, &[row.model_id.as_str()])?;
    let model = models.get(&row.model_id).ok_or_else(|| ApiError::internal("a commendation's model is missing"))?;
    let sees = |conn: &mut DbConnection, unit: &str| crate::tree::Sight::of(&actor.unit_id).holds(conn, unit);
    if !sees(conn, &row.issuer_unit_id)? && !sees(conn, &model.unit_id)? {
        return Err(ApiError::NotFound);
    }
    match row.status {
        CommendationStatus::Issued => {}
        CommendationStatus::Proposed => {
            return Err(ApiError::conflict("not_issued", "a proposal has no certificate until its decision is issued"))
        }
        CommendationStatus::Revoked => return Err(revoked(&row)),
    }
    let decision = decision_of(conn, &row)?;
    let place = store::issuer_place(conn, &row.issuer_unit_id)?;
    let certificate = layout::certificate(facts(&row, model, &decision, &place, base_url)?);
    let change = Change::new("commendation.certificate", "commendation", &row.id, Some(&row.issuer_unit_id));
    changes::record(conn, actor, change, None::<&()>, Some(&serde_json::json!({"certificates": 1})))?;
    Ok(certificate)
}

/// The certificates of every commendation of an issued decision that still stands, one page
/// each, for any role of the issuer's unit or of a unit above it. Audited once.
pub fn of_decision(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    base_url: &str,
) -> Result<Vec<Certificate>, ApiError> {
    let decision = crate::decisions::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if !crate::tree::Sight::of(&actor.unit_id).holds(conn, &decision.issuer_unit_id)? {
        return Err(ApiError::NotFound);
    }
    match decision.status {
        DecisionStatus::Issued => {}
        DecisionStatus::Draft => {
            return Err(ApiError::conflict("not_issued", "a draft decision has no certificates until it is issued"))
        }
        DecisionStatus::Revoked => {
            return Err(ApiError::conflict(
                "revoked",
                "the decision was revoked: its certificates can no longer be printed",
            ))
        }
    }
    let standing: Vec<CommendationRow> = crate::commendations::of_decision(conn, &decision.id)?
        .into_iter()
        .filter(|c| c.status == CommendationStatus::Issued)
        .collect();
    if standing.is_empty() {
        return Err(ApiError::conflict("revoked", "every commendation of the decision was revoked"));
    }
    let ids: Vec<&str> = standing.iter().map(|c| c.model_id.as_str()).collect();
    let models: HashMap<String, ModelFacts> = store::model_facts(conn, &ids)?;
    let place = store::issuer_place(conn, &decision.issuer_unit_id)?;
    let mut certificates = Vec::with_capacity(standing.len());
    for row in &standing {
        let model = models.get(&row.model_id).ok_or_else(|| ApiError::internal("a commendation's model is missing"))?;
        certificates.push(layout::certificate(facts(row, model, &decision, &place, base_url)?));
    }
    let change = Change::new("decision.certificates", "decision", &decision.id, Some(&decision.issuer_unit_id));
    changes::record(conn, actor, change, None::<&()>, Some(&serde_json::json!({"certificates": certificates.len()})))?;
    Ok(certificates)
}

fn revoked(row: &CommendationRow) -> ApiError {
    let by = match (&row.revocation_decision_number, row.revoked_on) {
        (Some(number), Some(on)) => format!(" by decision {number} of {on}"),
        _ => String::new(),
    };
    ApiError::conflict("revoked", format!("the commendation was revoked{by}: its certificate can no longer be printed"))
}

fn decision_of(conn: &mut DbConnection, row: &CommendationRow) -> Result<DecisionRow, ApiError> {
    let id =
        row.decision_id.as_deref().ok_or_else(|| ApiError::internal("an issued commendation lacks its decision"))?;
    crate::decisions::find(conn, id)?.ok_or_else(|| ApiError::internal("an issued commendation lacks its decision"))
}

fn facts(
    row: &CommendationRow,
    model: &ModelFacts,
    decision: &DecisionRow,
    place: &IssuerPlace,
    base_url: &str,
) -> Result<Facts, ApiError> {
    let mut c = row.to_api()?;
    let issued = c.take_issued()?;
    let (recipient_name, recipient_detail) = match c.recipient.subject {
        Subject::Collective => (c.recipient.full_name.unwrap_or_else(|| model.unit_name.clone()), None),
        Subject::Individual => {
            let detail = match &model.person_position {
                Some(position) => format!("{position}, {}", model.unit_name),
                None => model.unit_name.clone(),
            };
            (c.recipient.full_name.unwrap_or_default(), Some(detail))
        }
    };
    Ok(Facts {
        authority: row.issuing_authority,
        authority_title: row.authority_title.clone(),
        issuer_name: row.issuer_name.clone().unwrap_or_else(|| place.name.clone()),
        issuer_kind: place.kind,
        place: layout::place_of(&place.name, place.division_type.as_deref()),
        form: c.form,
        recipient_name,
        recipient_detail,
        achievement: c.reason,
        decision_number: issued.decision_number,
        decided_on: issued.decided_on,
        signer_position: decision.signer_position.clone(),
        signer_name: decision.signer_name.clone(),
        verify_url: verify_url(base_url, &row.id),
    })
}
