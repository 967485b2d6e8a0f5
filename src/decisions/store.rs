//! All the SQL of decisions.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::commendations::types::{Form, IssuerSnapshot, IssuingAuthority};
use crate::db::schema::{commendations, decisions, models, unit_lineage};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort, TimeSort};
use crate::units::types::Level;

use super::rules;
use super::types::{AwardDecision, DecisionRevocation, DecisionStatus, Recipients, Signer};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = decisions, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct DecisionRow {
    pub id: String,
    pub issuer_unit_id: String,
    pub issuing_authority: IssuingAuthority,
    pub authority_title: String,
    pub form: Form,
    pub number: String,
    pub decided_on: NaiveDate,
    pub decision_year: i32,
    pub summary: Option<String>,
    pub signer_name: Option<String>,
    pub signer_position: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_level: Option<Level>,
    pub status: DecisionStatus,
    pub revocation_reason: Option<String>,
    pub revocation_number: Option<String>,
    pub revoked_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl DecisionRow {
    pub fn to_api(&self, recipients: Recipients) -> Result<AwardDecision, ApiError> {
        let status = self.status;
        let issuer_snapshot = match (&self.issuer_name, &self.issuer_level) {
            (Some(name), Some(level)) => Some(IssuerSnapshot {
                name: name.clone(),
                level: *level,
                authority_title: self.authority_title.clone(),
            }),
            _ => None,
        };
        Ok(AwardDecision {
            id: self.id.clone(),
            issuer_unit_id: self.issuer_unit_id.clone(),
            issuing_authority: self.issuing_authority,
            authority_title: self.authority_title.clone(),
            form: self.form,
            number: self.number.clone(),
            decided_on: self.decided_on,
            summary: self.summary.clone(),
            signer: match (&self.signer_name, &self.signer_position) {
                (Some(name), Some(position)) => Some(Signer { name: name.clone(), position: position.clone() }),
                _ => None,
            },
            issuer_snapshot,
            status,
            allowed_actions: rules::LIFECYCLE.allowed(status),
            recipients,
            revocation: self.revocation_reason.as_ref().map(|reason| DecisionRevocation {
                reason: reason.clone(),
                number: self.revocation_number.clone(),
                decided_on: self.revoked_on,
            }),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
        })
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<DecisionRow>, ApiError> {
    Ok(decisions::table.find(id).select(DecisionRow::as_select()).first(conn).optional()?)
}

/// The rule the database holds: a number is the issuer's once a year.
fn number_taken(e: diesel::result::Error) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::conflict("decision_number_taken", "the issuer already used this decision number this year")
        }
        other => other.into(),
    }
}

pub fn insert(conn: &mut DbConnection, row: &DecisionRow) -> Result<(), ApiError> {
    diesel::insert_into(decisions::table).values(row).execute(conn).map_err(number_taken)?;
    Ok(())
}

/// Writes `row` if the stored one is still at `expected_version`; false when someone else got
/// there first.
pub fn update(conn: &mut DbConnection, row: &DecisionRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(decisions::table.find(&row.id).filter(decisions::version.eq(expected_version)))
        .set(row)
        .execute(conn)
        .map_err(number_taken)?;
    Ok(n == 1)
}

/// Moves a decision's version on: what it lists changed under it.
pub fn touch(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(decisions::table.find(id))
        .set((decisions::version.eq(decisions::version + 1), decisions::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// The commendations not revoked of each decision, by subject: one query for a page.
pub fn recipients(conn: &mut DbConnection, ids: &[String]) -> Result<HashMap<String, Recipients>, ApiError> {
    let mut out: HashMap<String, Recipients> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(Option<String>, String, i64)> = commendations::table
            .filter(commendations::decision_id.eq_any(chunk))
            .filter(commendations::status.ne("revoked"))
            .group_by((commendations::decision_id, commendations::recipient_subject))
            .select((commendations::decision_id, commendations::recipient_subject, diesel::dsl::count_star()))
            .load(conn)?;
        for (id, subject, n) in rows {
            let Some(id) = id else { continue };
            let entry = out.entry(id).or_default();
            if subject == "individual" {
                entry.individuals += n;
            } else {
                entry.collectives += n;
            }
        }
    }
    Ok(out)
}

/// Whether `viewer` sees the decision through one of its commendations (a recipient below the
/// issuer, or the issuer's own subtree is checked by the caller).
pub fn lists_a_commendation_seen_by(conn: &mut DbConnection, id: &str, viewer: &str) -> Result<bool, ApiError> {
    let visible_units =
        unit_lineage::table.filter(unit_lineage::ancestor_id.eq(viewer)).select(unit_lineage::descendant_id);
    Ok(diesel::select(diesel::dsl::exists(commendations::table.filter(commendations::decision_id.eq(id)).filter(
        commendations::model_id.eq_any(models::table.filter(models::unit_id.eq_any(visible_units)).select(models::id)),
    )))
    .get_result(conn)?)
}

pub struct Filter {
    pub viewer: String,
    pub issuer_unit_id: Option<String>,
    pub issuing_authority: Option<IssuingAuthority>,
    pub form: Option<Form>,
    pub year: Option<i32>,
    pub status: Option<DecisionStatus>,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: Sort<TimeSort>,
    pub sort_name: String,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

/// Decisions of issuers in the viewer's subtree, and decisions that list a commendation of a
/// model the viewer sees, a page at a time.
pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<DecisionRow>, Option<String>), ApiError> {
    let after = pagination::time_after(&f.cursor)?;
    let rows: Vec<DecisionRow> = crate::with_backend!(conn, |c| {
        let visible_units = || {
            unit_lineage::table
                .filter(unit_lineage::ancestor_id.eq(f.viewer.clone()))
                .select(unit_lineage::descendant_id)
        };
        let listing = commendations::table
            .filter(
                commendations::model_id
                    .eq_any(models::table.filter(models::unit_id.eq_any(visible_units())).select(models::id)),
            )
            .select(commendations::decision_id);
        let mut q = decisions::table
            .filter(decisions::issuer_unit_id.eq_any(visible_units()).or(decisions::id.nullable().eq_any(listing)))
            .into_boxed();
        if let Some(unit) = &f.issuer_unit_id {
            q = q.filter(decisions::issuer_unit_id.eq(unit.clone()));
        }
        if let Some(authority) = f.issuing_authority {
            q = q.filter(decisions::issuing_authority.eq(authority.as_str()));
        }
        if let Some(form) = f.form {
            q = q.filter(decisions::form.eq(form.as_str()));
        }
        if let Some(year) = f.year {
            q = q.filter(decisions::decision_year.eq(year));
        }
        if let Some(status) = f.status {
            q = q.filter(decisions::status.eq(status.as_str()));
        }
        if let Some(since) = f.updated_since {
            q = q.filter(decisions::updated_at.ge(since));
        }
        let desc = f.sort.descending;
        let q = match f.sort.field {
            TimeSort::CreatedAt => crate::keyset!(q, decisions::created_at, decisions::id, after, desc),
            TimeSort::UpdatedAt => crate::keyset!(q, decisions::updated_at, decisions::id, after, desc),
        };
        q.limit(f.limit + 1).select(DecisionRow::as_select()).load(c)
    })?;
    Ok(pagination::finish_page(rows, f.limit, |last| Cursor {
        sort: f.sort_name.clone(),
        key: Some(f.sort.field.key(&last.created_at, &last.updated_at)),
        id: last.id.clone(),
    }))
}
