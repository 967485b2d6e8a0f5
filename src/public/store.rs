//! The SQL of the public view: owners and issued commendations for a page of models, one query
//! each whatever the page size.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::commendations::types::{CommendationStatus, IssuedUnder};
use crate::commendations::CommendationRow;
use crate::db::schema::{commendations, models, units};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::models::types::{Model, ModelStatus};
use crate::units::types::Level;

use super::types::{
    CommendationRecord, PublicAttachment, PublicCommendation, PublicModel, PublicRevocation, PublicUnit, RecordStatus,
};

/// The public form of recognised models.
pub fn publish(conn: &mut DbConnection, models: Vec<Model>) -> Result<Vec<PublicModel>, ApiError> {
    let unit_ids: Vec<&str> = models.iter().map(|m| m.unit_id.as_str()).collect();
    let owners: HashMap<String, PublicUnit> = units::table
        .filter(units::id.eq_any(&unit_ids))
        .select((units::id, units::name, units::level))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, level)| Ok((id.clone(), PublicUnit { id, name, level: Level::from_db(&level)? })))
        .collect::<Result<_, ApiError>>()?;
    let model_ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    // Public figures count public records: a replica counts once it is recognised itself, never
    // while it is a draft or under review somewhere the reader cannot see.
    let ids: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
    let public_replicas = crate::models::recognised_replication_counts(conn, &ids)?;
    let mut issued: HashMap<String, Vec<PublicCommendation>> = HashMap::new();
    let rows: Vec<CommendationRow> = commendations::table
        .filter(commendations::model_id.eq_any(&model_ids))
        .filter(commendations::status.eq(CommendationStatus::Issued.as_str()))
        .order((commendations::decided_on, commendations::id))
        .select(CommendationRow::as_select())
        .load(conn)?;
    for row in rows {
        let mut c = row.to_api()?;
        let IssuedUnder { issuer, decision_number: number, decided_on } = c.take_issued()?;
        issued.entry(row.model_id).or_default().push(PublicCommendation {
            form: c.form,
            recipient_subject: c.recipient.subject,
            recipient_name: c.recipient.full_name,
            issuer_name: issuer.name,
            issuer_level: issuer.level,
            authority_title: issuer.authority_title,
            decision_number: number,
            decided_on,
            reason: c.reason,
        });
    }
    let mut attachments: HashMap<String, Vec<PublicAttachment>> = HashMap::new();
    for a in crate::attachments::public_of(conn, crate::attachments::types::ParentType::Model, &ids)? {
        if !a.public_copy_ready() {
            continue;
        }
        let att = a.to_api(true);
        attachments.entry(a.parent_id.clone()).or_default().push(PublicAttachment {
            id: a.id.clone(),
            title: a.title.clone(),
            kind: a.kind,
            media_type: a.media_type,
            size: a.public_size.unwrap_or(a.size),
            sha256: a.public_sha256.clone().unwrap_or_else(|| a.sha256.clone()),
            url: att.public_url.unwrap_or_default(),
            preview_url: att.preview_url,
        });
    }
    models
        .into_iter()
        .map(|m| {
            let unit =
                owners.get(&m.unit_id).cloned().ok_or_else(|| ApiError::internal("a model's unit is missing"))?;
            let recognized_on = m
                .status_history
                .iter()
                .rev()
                .find(|h| h.to == ModelStatus::Recognized)
                .map(|h| crate::db::day_in_vietnam(h.at));
            let replication_count = public_replicas.get(&m.id).copied().unwrap_or(0);
            Ok(PublicModel {
                commendations: issued.remove(&m.id).unwrap_or_default(),
                attachments: attachments.remove(&m.id).unwrap_or_default(),
                id: m.id,
                title: m.title,
                description: m.description,
                unit,
                subject: m.subject,
                person: m.person,
                kind: m.kind,
                field: m.field,
                special_areas: m.special_areas,
                year: m.year,
                objectives: m.objectives,
                indicators: m.indicators,
                replicated_from_id: m.replicated_from_id,
                replication_count,
                recognized_on,
            })
        })
        .collect()
}

/// The verification record of a commendation that was issued (standing or revoked since); none
/// for a proposal, which was never public.
pub fn commendation_record(conn: &mut DbConnection, id: &str) -> Result<Option<CommendationRecord>, ApiError> {
    let Some(row) = crate::commendations::find(conn, id)? else { return Ok(None) };
    let status = match row.status {
        CommendationStatus::Issued => RecordStatus::Issued,
        CommendationStatus::Revoked if row.decision_number.is_some() => RecordStatus::Revoked,
        _ => return Ok(None),
    };
    let (title, person_name, person_position, unit_id, unit_name, unit_level): (
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
    ) = models::table
        .inner_join(units::table.on(units::id.eq(models::unit_id)))
        .filter(models::id.eq(&row.model_id))
        .select((models::title, models::person_name, models::person_position, units::id, units::name, units::level))
        .first(conn)?;
    let mut c = row.to_api()?;
    let IssuedUnder { issuer, decision_number, decided_on } = c.take_issued()?;
    let individual = c.recipient.subject == crate::vocabulary::Subject::Individual;
    Ok(Some(CommendationRecord {
        id: c.id,
        status,
        form: c.form,
        recipient_subject: c.recipient.subject,
        recipient_name: c
            .recipient
            .full_name
            .or(if individual { person_name } else { None })
            .unwrap_or_else(|| unit_name.clone()),
        recipient_position: if individual { person_position } else { None },
        unit: PublicUnit { id: unit_id, name: unit_name, level: Level::from_db(&unit_level)? },
        model_title: title,
        issuer_name: issuer.name,
        issuer_level: issuer.level,
        issuing_authority: c.issuing_authority,
        authority_title: issuer.authority_title,
        decision_number,
        decided_on,
        reason: c.reason,
        revocation: c
            .revocation
            .filter(|_| status == RecordStatus::Revoked)
            .map(|r| PublicRevocation { decision_number: r.decision_number, decided_on: r.decided_on }),
    }))
}
