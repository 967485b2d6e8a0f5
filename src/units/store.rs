//! All the SQL of the units resource: new rows, lists and bulk changes. The tree they form (its
//! closures, scope and lineage) is `crate::tree`.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{unit_parents, unit_successors, units};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort};
use crate::tree::{resolve_opt, UnitRow, BEGINNING};

use super::types::{Level, Unit, UnitKind, UnitStatus};

/// What a new unit is made of, every value already checked.
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub level: Level,
    pub division_type: Option<String>,
    pub parent_id: String,
}

impl UnitRow {
    pub fn new(new: NewUnit, now: NaiveDateTime) -> UnitRow {
        UnitRow {
            id: uuid::Uuid::now_v7().to_string(),
            search_text: search_text(&new.code, &new.name, new.short_name.as_deref()),
            code: new.code,
            name: new.name,
            short_name: new.short_name,
            kind: new.kind,
            level: new.level,
            division_type: new.division_type,
            parent_id: Some(new.parent_id),
            status: UnitStatus::Active,
            closed_on: None,
            created_at: now,
            updated_at: now,
            version: 1,
            established_on: None,
        }
    }

    /// Recomputes the folded search text after a change of code or names.
    pub fn refresh_search_text(&mut self) {
        self.search_text = search_text(&self.code, &self.name, self.short_name.as_deref());
    }
}

pub fn search_text(code: &str, name: &str, short_name: Option<&str>) -> String {
    crate::http::text::fold(&format!("{code} {name} {}", short_name.unwrap_or("")))
}

/// The API form of a row, with its successors.
pub fn to_unit(row: UnitRow, successors: &[(String, bool)]) -> Result<Unit, ApiError> {
    Ok(Unit {
        kind: row.kind,
        level: row.level,
        status: row.status,
        successor_ids: successors.iter().map(|(id, _)| id.clone()).collect(),
        primary_successor_id: successors.iter().find(|(_, p)| *p).map(|(id, _)| id.clone()),
        id: row.id,
        code: row.code,
        name: row.name,
        short_name: row.short_name,
        division_type: row.division_type,
        parent_id: row.parent_id,
        closed_on: row.closed_on,
        established_on: row.established_on,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        version: row.version,
    })
}

/// Successors of each of `ids`, the primary one first.
pub fn successors_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<(String, bool)>>, ApiError> {
    let mut out: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String, bool)> = unit_successors::table
            .filter(unit_successors::predecessor_id.eq_any(chunk))
            .order((unit_successors::predecessor_id, unit_successors::is_primary.desc(), unit_successors::successor_id))
            .select((unit_successors::predecessor_id, unit_successors::successor_id, unit_successors::is_primary))
            .load(conn)?;
        for (pred, succ, primary) in rows {
            out.entry(pred).or_default().push((succ, primary));
        }
    }
    Ok(out)
}

pub fn load_unit(conn: &mut DbConnection, row: UnitRow) -> Result<Unit, ApiError> {
    let successors = successors_of(conn, std::slice::from_ref(&row.id))?;
    let of_row = successors.get(&row.id).cloned().unwrap_or_default();
    to_unit(row, &of_row)
}

pub fn to_units(conn: &mut DbConnection, rows: Vec<UnitRow>) -> Result<Vec<Unit>, ApiError> {
    let closed: Vec<String> = rows.iter().filter(|r| !r.is_active()).map(|r| r.id.clone()).collect();
    let successors = if closed.is_empty() { HashMap::new() } else { successors_of(conn, &closed)? };
    rows.into_iter()
        .map(|row| {
            let of_row = successors.get(&row.id).map(Vec::as_slice).unwrap_or(&[]);
            to_unit(row, of_row)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Code,
    Name,
    CreatedAt,
    UpdatedAt,
}

pub const SORTS: &[(&str, SortField)] = &[
    ("code", SortField::Code),
    ("name", SortField::Name),
    ("created_at", SortField::CreatedAt),
    ("updated_at", SortField::UpdatedAt),
];

/// A list request after parsing: every value already checked.
#[derive(Debug, Clone)]
pub struct Filter {
    pub viewer: String,
    /// Units with one of these codes (none: any).
    pub codes: Vec<String>,
    pub parent_id: Option<String>,
    pub ancestor_id: Option<String>,
    pub include_predecessors: bool,
    pub level: Option<Level>,
    pub kind: Option<UnitKind>,
    pub status: Option<UnitStatus>,
    pub q: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: Sort<SortField>,
    pub sort_name: String,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

/// One page of units; keyset on (sort key, id), so pages stay stable under inserts.
pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<Unit>, Option<String>), ApiError> {
    let text_after = pagination::text_after(&f.cursor);
    let time_after = match f.sort.field {
        SortField::CreatedAt | SortField::UpdatedAt => pagination::time_after(&f.cursor)?,
        _ => None,
    };
    let ancestor = resolve_opt(conn, f.ancestor_id.as_deref())?;
    let parent = resolve_opt(conn, f.parent_id.as_deref())?;
    let plan = crate::tree::Sight::of(&f.viewer).plan(conn, ancestor.as_deref())?;
    let rows: Vec<UnitRow> = crate::with_backend!(conn, |c| {
        let mut q = crate::within_scope!(
            units::table.into_boxed(),
            units::id,
            &f.viewer,
            plan,
            ancestor.as_ref(),
            f.include_predecessors
        );
        if let Some(parent) = &parent {
            q = q.filter(units::parent_id.eq(parent.clone()));
        }
        if !f.codes.is_empty() {
            q = q.filter(units::code.eq_any(f.codes.clone()));
        }
        if let Some(level) = f.level {
            q = q.filter(units::level.eq(level.as_str()));
        }
        if let Some(kind) = f.kind {
            q = q.filter(units::kind.eq(kind.as_str()));
        }
        if let Some(status) = f.status {
            q = q.filter(units::status.eq(status.as_str()));
        }
        if let Some(text) = &f.q {
            q = q.filter(units::search_text.like(crate::http::text::contains_pattern(text)).escape('\\'));
        }
        if let Some(since) = f.updated_since {
            q = q.filter(units::updated_at.ge(since));
        }
        let desc = f.sort.descending;
        let q = match f.sort.field {
            SortField::Code => crate::keyset!(q, units::code, units::id, text_after.clone(), desc),
            SortField::Name => crate::keyset!(q, units::name, units::id, text_after.clone(), desc),
            SortField::CreatedAt => crate::keyset!(q, units::created_at, units::id, time_after, desc),
            SortField::UpdatedAt => crate::keyset!(q, units::updated_at, units::id, time_after, desc),
        };
        q.limit(f.limit + 1).select(UnitRow::as_select()).load(c)
    })?;
    let (rows, next) = pagination::finish_page(rows, f.limit, |last| Cursor {
        sort: f.sort_name.clone(),
        key: Some(sort_key(last, f.sort.field)),
        id: last.id.clone(),
    });
    Ok((to_units(conn, rows)?, next))
}

fn sort_key(row: &UnitRow, field: SortField) -> String {
    match field {
        SortField::Code => row.code.clone(),
        SortField::Name => row.name.clone(),
        SortField::CreatedAt => pagination::timestamp_key(&row.created_at),
        SortField::UpdatedAt => pagination::timestamp_key(&row.updated_at),
    }
}

/// Whether an active unit other than `except` holds `code`.
pub fn code_taken(conn: &mut DbConnection, code: &str, except: Option<&str>) -> Result<bool, ApiError> {
    let holders: Vec<String> = units::table
        .filter(units::code.eq(code))
        .filter(units::status.eq(UnitStatus::Active.as_str()))
        .select(units::id)
        .load(conn)?;
    Ok(holders.iter().any(|id| Some(id.as_str()) != except))
}

pub fn insert(conn: &mut DbConnection, rows: &[UnitRow]) -> Result<(), ApiError> {
    // 15 binds a row: 500 rows stay far below either backend's limit on bind parameters.
    for chunk in rows.chunks(500) {
        crate::with_backend!(conn, |c| diesel::insert_into(units::table).values(chunk).execute(c))?;
        let history: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    unit_parents::unit_id.eq(&r.id),
                    unit_parents::parent_id.eq(&r.parent_id),
                    unit_parents::valid_from.eq(r.established_on.unwrap_or(BEGINNING)),
                )
            })
            .collect();
        crate::with_backend!(conn, |c| diesel::insert_into(unit_parents::table).values(&history).execute(c))?;
    }
    Ok(())
}

/// Writes a changed row if it is still at `expected_version`; false when someone else got there
/// first.
pub fn update(conn: &mut DbConnection, row: &UnitRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(units::table.find(&row.id).filter(units::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

pub fn add_successors(
    conn: &mut DbConnection,
    predecessor: &str,
    successors: &[(String, bool)],
) -> Result<(), ApiError> {
    let rows: Vec<_> = successors
        .iter()
        .map(|(s, primary)| {
            (
                unit_successors::predecessor_id.eq(predecessor.to_string()),
                unit_successors::successor_id.eq(s.clone()),
                unit_successors::is_primary.eq(*primary),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        crate::with_backend!(conn, |c| diesel::insert_into(unit_successors::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// Closes every active unit under a closed one, level by level, until none is left: no active
/// unit stays under a closed one. Returns the rows as they were before closing.
pub fn close_orphans(
    conn: &mut DbConnection,
    closed_on: NaiveDate,
    now: NaiveDateTime,
) -> Result<Vec<UnitRow>, ApiError> {
    let parents = diesel::alias!(units as parents);
    let mut closed = Vec::new();
    loop {
        let orphans: Vec<UnitRow> = units::table
            .inner_join(parents.on(parents.field(units::id).nullable().eq(units::parent_id)))
            .filter(units::status.eq(UnitStatus::Active.as_str()))
            .filter(parents.field(units::status).eq(UnitStatus::Closed.as_str()))
            .select(UnitRow::as_select())
            .load(conn)?;
        if orphans.is_empty() {
            return Ok(closed);
        }
        let ids: Vec<String> = orphans.iter().map(|r| r.id.clone()).collect();
        close_many(conn, &ids, closed_on, now)?;
        closed.extend(orphans);
    }
}

/// Closes the active units among `ids` on `closed_on`, a chunk per statement (one round trip per
/// 500 units, not per unit); returns how many it closed.
pub fn close_many(
    conn: &mut DbConnection,
    ids: &[String],
    closed_on: NaiveDate,
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += diesel::update(
            units::table.filter(units::id.eq_any(chunk)).filter(units::status.eq(UnitStatus::Active.as_str())),
        )
        .set((
            units::status.eq(UnitStatus::Closed.as_str()),
            units::closed_on.eq(Some(closed_on)),
            units::updated_at.eq(now),
            units::version.eq(units::version + 1),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

/// Every active unit, by code: what imports and reorganisations match their rows against.
pub fn active_by_code(conn: &mut DbConnection) -> Result<HashMap<String, UnitRow>, ApiError> {
    let rows: Vec<UnitRow> =
        units::table.filter(units::status.eq(UnitStatus::Active.as_str())).select(UnitRow::as_select()).load(conn)?;
    Ok(rows.into_iter().map(|r| (r.code.clone(), r)).collect())
}

/// Closed units by code with their successors' codes: how a repeated reorganisation recognises
/// the pairs it has already applied.
pub fn closed_successions(
    conn: &mut DbConnection,
    closed_on: NaiveDate,
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let succ = diesel::alias!(units as succ);
    let rows: Vec<(String, String)> = units::table
        .inner_join(unit_successors::table.on(unit_successors::predecessor_id.eq(units::id)))
        .inner_join(succ.on(succ.field(units::id).eq(unit_successors::successor_id)))
        .filter(units::status.eq(UnitStatus::Closed.as_str()))
        .filter(units::closed_on.eq(Some(closed_on)))
        .select((units::code, succ.field(units::code)))
        .load(conn)?;
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (pred, s) in rows {
        out.entry(pred).or_default().push(s);
    }
    Ok(out)
}
