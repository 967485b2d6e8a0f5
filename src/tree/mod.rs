//! The unit tree: who is above whom, whose records passed to whom, and who sees what. Every
//! resource, `auth`, the exports and the reports ask it; the `units` resource changes it.

mod closures;
mod scope;
mod types;

pub use closures::*;
pub use scope::*;
pub use types::*;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

use diesel::prelude::*;

use crate::auth::UnitRef;
use crate::db::schema::{unit_successors, units};
use crate::db::DbConnection;
use crate::error::ApiError;

pub const ROOT_CODE: &str = "VN";

/// The root of the tree (VN), written by the first migration: the one unit without a parent.
pub const ROOT_ID: &str = "0190c000-0000-7000-8000-000000000001";

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = units, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct UnitRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub search_text: String,
    pub kind: UnitKind,
    pub level: Level,
    pub division_type: Option<String>,
    pub parent_id: Option<String>,
    pub status: UnitStatus,
    pub closed_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The day it came into being, when known (units a reorganisation creates).
    pub established_on: Option<NaiveDate>,
}

impl UnitRow {
    pub fn is_active(&self) -> bool {
        self.status == UnitStatus::Active
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<UnitRow>, ApiError> {
    Ok(units::table.find(id).select(UnitRow::as_select()).first(conn).optional()?)
}

pub fn root_id(conn: &mut DbConnection) -> Result<String, ApiError> {
    Ok(units::table
        .filter(units::code.eq(ROOT_CODE))
        .filter(units::parent_id.is_null())
        .select(units::id)
        .first(conn)?)
}

/// Whether `unit` is the root, whose subtree is every unit. A constant, not a query: every list
/// and report asks.
pub fn is_root(unit: &str) -> bool {
    unit == ROOT_ID
}

/// The unit a token's code names: the active one, else the most recently closed one.
pub fn unit_ref_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<UnitRef>, ApiError> {
    let row = units::table
        .filter(units::code.eq(code))
        // 'active' sorts before 'closed'.
        .order((units::status.asc(), units::updated_at.desc()))
        .select((units::id, units::level, units::status))
        .first::<(String, String, String)>(conn)
        .optional()?;
    row.map(|(id, level, status)| {
        Ok(UnitRef { id, level: Level::from_db(&level)?, active: status == UnitStatus::Active.as_str() })
    })
    .transpose()
}

/// A unit named by its id or, as tokens and spreadsheets name units, by its code: its id. A code
/// names the active unit that has it, else the one that had it last. A value that names no unit
/// comes back as it is, and matches nothing.
pub fn resolve_ref(conn: &mut DbConnection, value: &str) -> Result<String, ApiError> {
    if uuid::Uuid::parse_str(value).is_ok() {
        return Ok(value.to_string());
    }
    let by_code: Option<String> = units::table
        .filter(units::code.eq(value))
        // 'active' sorts before 'closed'; of closed ones, the latest.
        .order((units::status.asc(), units::closed_on.desc()))
        .select(units::id)
        .first(conn)
        .optional()?;
    Ok(by_code.unwrap_or_else(|| value.to_string()))
}

/// `resolve_ref` for an optional filter.
pub fn resolve_opt(conn: &mut DbConnection, value: Option<&str>) -> Result<Option<String>, ApiError> {
    value.map(|v| resolve_ref(conn, v)).transpose()
}

/// The active unit that holds a unit's records: the unit itself while it is active; for a closed
/// unit, the holder of its primary successor (reorganisations may chain). `None` when the chain
/// ends in a unit closed without a primary successor.
pub fn caretaker(conn: &mut DbConnection, unit: &str) -> Result<Option<String>, ApiError> {
    let mut id = unit.to_string();
    // A reorganisation a year would take a century to make a chain this long.
    for _ in 0..100 {
        match find(conn, &id)? {
            None => return Ok(None),
            Some(row) if row.is_active() => return Ok(Some(row.id)),
            Some(row) => {
                let next: Option<String> = unit_successors::table
                    .filter(unit_successors::predecessor_id.eq(&row.id))
                    .filter(unit_successors::is_primary.eq(true))
                    .select(unit_successors::successor_id)
                    .first(conn)
                    .optional()?;
                match next {
                    Some(next) => id = next,
                    None => return Ok(None),
                }
            }
        }
    }
    Ok(None)
}

/// (id, code, name) of the units `ids`, in code order: how reports and spreadsheets label units.
pub fn labels(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<(String, String, String)>, ApiError> {
    let mut out: Vec<(String, String, String)> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            units::table.filter(units::id.eq_any(chunk)).select((units::id, units::code, units::name)).load::<(
                String,
                String,
                String,
            )>(
                conn
            )?,
        );
    }
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    Ok(out)
}

/// "code – name" of the units `ids`, by id: how spreadsheets show a unit a person must recognise.
pub fn names(conn: &mut DbConnection, ids: &[String]) -> Result<HashMap<String, String>, ApiError> {
    Ok(labels(conn, ids)?.into_iter().map(|(id, code, name)| (id, format!("{code} – {name}"))).collect())
}
