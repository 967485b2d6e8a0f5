//! All the SQL of commendations.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{commendations, models, unit_lineage};
use crate::db::{DbConnection, Writes};
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort, TimeSort};
use crate::units::types::Level;

use super::rules;
use super::types::{Commendation, CommendationStatus, Form, IssuerSnapshot, IssuingAuthority, Recipient, Revocation};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = commendations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct CommendationRow {
    pub id: String,
    pub model_id: String,
    pub evaluation_id: String,
    pub recipient_subject: crate::vocabulary::Subject,
    pub recipient_unit_id: Option<String>,
    pub recipient_name: Option<String>,
    pub form: Form,
    pub issuer_unit_id: String,
    pub issuing_authority: IssuingAuthority,
    pub authority_title: String,
    pub issuer_name: Option<String>,
    pub issuer_level: Option<Level>,
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub decision_year: Option<i32>,
    pub reason: String,
    pub amount_vnd: Option<i64>,
    pub status: CommendationStatus,
    pub revocation_reason: Option<String>,
    pub revocation_decision_number: Option<String>,
    pub revoked_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The decision that lists it (a draft it joined, or the one that issued it).
    pub decision_id: Option<String>,
}

impl CommendationRow {
    pub fn to_api(&self) -> Result<Commendation, ApiError> {
        let status = self.status;
        let issuer_snapshot = match (&self.issuer_name, &self.issuer_level) {
            (Some(name), Some(level)) => Some(IssuerSnapshot {
                name: name.clone(),
                level: *level,
                authority_title: self.authority_title.clone(),
            }),
            _ => None,
        };
        Ok(Commendation {
            id: self.id.clone(),
            model_id: self.model_id.clone(),
            evaluation_id: self.evaluation_id.clone(),
            recipient: Recipient {
                subject: self.recipient_subject,
                unit_id: self.recipient_unit_id.clone(),
                full_name: self.recipient_name.clone(),
            },
            form: self.form,
            issuer_unit_id: self.issuer_unit_id.clone(),
            issuing_authority: self.issuing_authority,
            issuer_snapshot,
            decision_id: self.decision_id.clone(),
            decision_number: self.decision_number.clone(),
            decided_on: self.decided_on,
            reason: self.reason.clone(),
            amount_vnd: self.amount_vnd,
            status,
            allowed_actions: rules::LIFECYCLE.allowed(status),
            revocation: self.revocation_reason.as_ref().map(|reason| Revocation {
                reason: reason.clone(),
                decision_number: self.revocation_decision_number.clone(),
                decided_on: self.revoked_on,
            }),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
        })
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<CommendationRow>, ApiError> {
    Ok(commendations::table.find(id).select(CommendationRow::as_select()).first(conn).optional()?)
}

/// The rule the database holds: one commendation per achievement. Concurrent writers meet it here.
fn unique_violation(e: diesel::result::Error) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ApiError::conflict(
            "already_commended",
            "this achievement already has a commendation; one achievement is commended once",
        ),
        other => other.into(),
    }
}

pub fn insert(conn: &mut DbConnection, row: &CommendationRow) -> Result<(), ApiError> {
    let mut writes = Writes::default();
    writes.push(diesel::insert_into(commendations::table).values(row));
    crate::reports::counts::commendation_written(conn, &mut writes, None, row)?;
    writes.run(conn).map_err(unique_violation)
}

/// Writes `row` over `before` (the row as read) if it is still at that version; false when
/// someone else got there first.
pub fn update(conn: &mut DbConnection, row: &CommendationRow, before: &CommendationRow) -> Result<bool, ApiError> {
    let n = diesel::update(commendations::table.find(&row.id).filter(commendations::version.eq(before.version)))
        .set(row)
        .execute(conn)
        .map_err(unique_violation)?;
    if n == 1 {
        let mut writes = Writes::default();
        crate::reports::counts::commendation_written(conn, &mut writes, Some(before), row)?;
        writes.run(conn)?;
    }
    Ok(n == 1)
}

/// The commendations a decision lists, oldest first.
pub fn of_decision(conn: &mut DbConnection, decision_id: &str) -> Result<Vec<CommendationRow>, ApiError> {
    Ok(commendations::table
        .filter(commendations::decision_id.eq(decision_id))
        .order((commendations::created_at, commendations::id))
        .select(CommendationRow::as_select())
        .load(conn)?)
}

/// Which of `ids` are commendations of models in `viewer`'s subtree.
pub fn seen_by(conn: &mut DbConnection, viewer: &str, ids: &[String]) -> Result<Vec<String>, ApiError> {
    let visible_units =
        unit_lineage::table.filter(unit_lineage::ancestor_id.eq(viewer)).select(unit_lineage::descendant_id);
    Ok(commendations::table
        .filter(commendations::id.eq_any(ids))
        .filter(
            commendations::model_id
                .eq_any(models::table.filter(models::unit_id.eq_any(visible_units)).select(models::id)),
        )
        .select(commendations::id)
        .load(conn)?)
}

pub struct Filter {
    pub viewer: String,
    pub model_id: Option<String>,
    pub issuer_unit_id: Option<String>,
    pub status: Option<CommendationStatus>,
    pub form: Option<Form>,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: Sort<TimeSort>,
    pub sort_name: String,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

/// Commendations of the models the viewer sees, a page at a time.
pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<CommendationRow>, Option<String>), ApiError> {
    let after = pagination::time_after(&f.cursor)?;
    let rows: Vec<CommendationRow> = crate::with_backend!(conn, |c| {
        let visible_units = unit_lineage::table
            .filter(unit_lineage::ancestor_id.eq(f.viewer.clone()))
            .select(unit_lineage::descendant_id);
        let mut q = commendations::table
            .filter(
                commendations::model_id
                    .eq_any(models::table.filter(models::unit_id.eq_any(visible_units)).select(models::id)),
            )
            .into_boxed();
        if let Some(model) = &f.model_id {
            q = q.filter(commendations::model_id.eq(model.clone()));
        }
        if let Some(unit) = &f.issuer_unit_id {
            q = q.filter(commendations::issuer_unit_id.eq(unit.clone()));
        }
        if let Some(status) = f.status {
            q = q.filter(commendations::status.eq(status.as_str()));
        }
        if let Some(form) = f.form {
            q = q.filter(commendations::form.eq(form.as_str()));
        }
        if let Some(since) = f.updated_since {
            q = q.filter(commendations::updated_at.ge(since));
        }
        let desc = f.sort.descending;
        let q = match f.sort.field {
            TimeSort::CreatedAt => crate::keyset!(q, commendations::created_at, commendations::id, after, desc),
            TimeSort::UpdatedAt => crate::keyset!(q, commendations::updated_at, commendations::id, after, desc),
        };
        q.limit(f.limit + 1).select(CommendationRow::as_select()).load(c)
    })?;
    Ok(pagination::finish_page(rows, f.limit, |last| Cursor {
        sort: f.sort_name.clone(),
        key: Some(f.sort.field.key(&last.created_at, &last.updated_at)),
        id: last.id.clone(),
    }))
}
