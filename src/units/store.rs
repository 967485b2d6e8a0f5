//! All the SQL of units: rows, the two closure tables, lists and bulk changes.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::auth::UnitRef;
use crate::db::schema::{unit_lineage, unit_parents, unit_successors, unit_tree, units};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort};

use super::types::{Level, Unit, UnitKind, UnitStatus};

pub const ROOT_CODE: &str = "VN";

#[derive(Queryable, Selectable, Insertable, Debug, Clone, PartialEq)]
#[diesel(table_name = units)]
pub struct UnitRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub search_text: String,
    pub kind: String,
    pub level: String,
    pub division_type: Option<String>,
    pub parent_id: Option<String>,
    pub status: String,
    pub closed_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The day it came into being, when known (units a reorganisation creates).
    pub established_on: Option<NaiveDate>,
}

/// The first day of the records: units known before their history was kept sat under their
/// parent since then.
pub const BEGINNING: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

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
            kind: new.kind.as_str().into(),
            level: new.level.as_str().into(),
            division_type: new.division_type,
            parent_id: Some(new.parent_id),
            status: UnitStatus::Active.as_str().into(),
            closed_on: None,
            created_at: now,
            updated_at: now,
            version: 1,
            established_on: None,
        }
    }

    pub fn level(&self) -> Result<Level, ApiError> {
        Level::from_db(&self.level)
    }

    pub fn kind(&self) -> Result<UnitKind, ApiError> {
        UnitKind::from_db(&self.kind)
    }

    pub fn is_active(&self) -> bool {
        self.status == UnitStatus::Active.as_str()
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
        kind: row.kind()?,
        level: row.level()?,
        status: UnitStatus::from_db(&row.status)?,
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

/// Successors of each of `ids`, the primary one first.
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

/// Whether `viewer` sees `unit`: in its subtree, or in the subtree of a predecessor whose records
/// passed to its subtree.
pub fn can_see(conn: &mut DbConnection, viewer: &str, unit: &str) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        unit_lineage::table.filter(unit_lineage::ancestor_id.eq(viewer)).filter(unit_lineage::descendant_id.eq(unit)),
    ))
    .get_result(conn)?)
}

/// Whether `viewer` sees more than `n` units (itself, its subtree and predecessors). Every list
/// asks, so it reads at most `n + 1` index entries: a full count for the nation read tens of
/// thousands on every request.
pub fn sees_more_than(conn: &mut DbConnection, viewer: &str, n: i64) -> Result<bool, ApiError> {
    Ok(unit_lineage::table
        .filter(unit_lineage::ancestor_id.eq(viewer))
        .select(unit_lineage::descendant_id)
        .order(unit_lineage::descendant_id)
        .offset(n)
        .limit(1)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// How a list keeps to what its viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePlan {
    /// The viewer is the root of the tree: everything is in scope, no filter.
    Everything,
    /// The list asks for the subtree of a unit the viewer sees: that filter implies the scope.
    ByAncestor,
    /// A small scope (a commune, a district): `IN (the scope)`, read through the owner index.
    OwnerIndex,
    /// A large scope (a province, the nation): walk the sort index and probe the scope row by row,
    /// stopping at the limit instead of sorting the whole scope.
    Probe,
}

/// Up to this many units in a viewer's scope, lists go through the owner index.
const SMALL_SCOPE: i64 = 1000;

pub fn scope_plan(conn: &mut DbConnection, viewer: &str, ancestor: Option<&str>) -> Result<ScopePlan, ApiError> {
    if let Some(a) = ancestor {
        if can_see(conn, viewer, a)? {
            return Ok(ScopePlan::ByAncestor);
        }
    }
    if is_root(viewer) {
        return Ok(ScopePlan::Everything);
    }
    Ok(if sees_more_than(conn, viewer, SMALL_SCOPE)? { ScopePlan::Probe } else { ScopePlan::OwnerIndex })
}

/// The root of the tree (VN), written by the first migration: the one unit without a parent.
pub const ROOT_ID: &str = "0190c000-0000-7000-8000-000000000001";

/// Whether `unit` is the root, whose subtree is every unit. A constant, not a query: every list
/// and report asks.
pub fn is_root(unit: &str) -> bool {
    unit == ROOT_ID
}

/// Whether `unit` is `ancestor` or below it in the tree.
pub fn is_within(conn: &mut DbConnection, ancestor: &str, unit: &str) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        unit_tree::table.filter(unit_tree::ancestor_id.eq(ancestor)).filter(unit_tree::descendant_id.eq(unit)),
    ))
    .get_result(conn)?)
}

/// Whether the unit `upper` (at `upper_level`) stands above `lower`: a proper ancestor in the
/// tree, or, through a reorganisation, one whose lineage holds `lower` at a lower level (the new
/// province above the communes of a province merged into it).
pub fn is_above(conn: &mut DbConnection, upper: &str, upper_level: Level, lower: &UnitRow) -> Result<bool, ApiError> {
    if upper == lower.id {
        return Ok(false);
    }
    if is_within(conn, upper, &lower.id)? {
        return Ok(true);
    }
    Ok(upper_level.rank() < lower.level()?.rank() && can_see(conn, upper, &lower.id)?)
}

/// The ids of `ancestor`'s subtree (itself included).
pub fn subtree_ids(conn: &mut DbConnection, ancestor: &str) -> Result<Vec<String>, ApiError> {
    Ok(unit_tree::table.filter(unit_tree::ancestor_id.eq(ancestor)).select(unit_tree::descendant_id).load(conn)?)
}

/// The ancestors of `unit` that `viewer` may see, from the top down to the parent.
pub fn ancestors(conn: &mut DbConnection, unit: &str, viewer: &str) -> Result<Vec<UnitRow>, ApiError> {
    let visible = unit_lineage::table.filter(unit_lineage::ancestor_id.eq(viewer)).select(unit_lineage::descendant_id);
    Ok(units::table
        .inner_join(unit_tree::table.on(unit_tree::ancestor_id.eq(units::id)))
        .filter(unit_tree::descendant_id.eq(unit))
        .filter(unit_tree::depth.gt(0))
        .filter(units::id.eq_any(visible))
        .order(unit_tree::depth.desc())
        .select(UnitRow::as_select())
        .load(conn)?)
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
    let plan = scope_plan(conn, &f.viewer, ancestor.as_deref())?;
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

/// Records that `unit` sits under `parent` from `on`: the row it sat under until then ends there
/// (a move dated the day of an earlier one replaces it).
pub fn record_move(conn: &mut DbConnection, unit: &str, parent: Option<&str>, on: NaiveDate) -> Result<(), ApiError> {
    diesel::delete(unit_parents::table.filter(unit_parents::unit_id.eq(unit)).filter(unit_parents::valid_from.ge(on)))
        .execute(conn)?;
    diesel::update(unit_parents::table.filter(unit_parents::unit_id.eq(unit)).filter(unit_parents::valid_to.is_null()))
        .set(unit_parents::valid_to.eq(Some(on)))
        .execute(conn)?;
    diesel::update(unit_parents::table.filter(unit_parents::unit_id.eq(unit)).filter(unit_parents::valid_to.gt(on)))
        .set(unit_parents::valid_to.eq(Some(on)))
        .execute(conn)?;
    diesel::insert_into(unit_parents::table)
        .values((unit_parents::unit_id.eq(unit), unit_parents::parent_id.eq(parent), unit_parents::valid_from.eq(on)))
        .execute(conn)?;
    Ok(())
}

/// Writes a changed row if it is still at `expected_version`; false when someone else got there
/// first.
pub fn update(conn: &mut DbConnection, row: &UnitRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(units::table.find(&row.id).filter(units::version.eq(expected_version)))
        .set((
            units::code.eq(&row.code),
            units::name.eq(&row.name),
            units::short_name.eq(&row.short_name),
            units::search_text.eq(&row.search_text),
            units::kind.eq(&row.kind),
            units::division_type.eq(&row.division_type),
            units::parent_id.eq(&row.parent_id),
            units::status.eq(&row.status),
            units::closed_on.eq(&row.closed_on),
            units::established_on.eq(&row.established_on),
            units::updated_at.eq(&row.updated_at),
            units::version.eq(row.version),
        ))
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

/// Adds a new leaf unit to both closures: its parent's ancestors, and itself.
pub fn add_to_closures(conn: &mut DbConnection, id: &str, parent_id: &str) -> Result<(), ApiError> {
    let backend = conn.backend();
    diesel::sql_query(db::placeholders(
        backend,
        "INSERT INTO unit_tree (ancestor_id, descendant_id, depth) \
         SELECT ancestor_id, ?, depth + 1 FROM unit_tree WHERE descendant_id = ? \
         UNION ALL SELECT ?, ?, 0",
    ))
    .bind::<Text, _>(id)
    .bind::<Text, _>(parent_id)
    .bind::<Text, _>(id)
    .bind::<Text, _>(id)
    .execute(conn)?;
    diesel::sql_query(db::placeholders(
        backend,
        "INSERT INTO unit_lineage (ancestor_id, descendant_id) \
         SELECT ancestor_id, ? FROM unit_lineage WHERE descendant_id = ? \
         UNION SELECT ?, ?",
    ))
    .bind::<Text, _>(id)
    .bind::<Text, _>(parent_id)
    .bind::<Text, _>(id)
    .bind::<Text, _>(id)
    .execute(conn)?;
    Ok(())
}

/// Recomputes both closure tables from the parent and succession edges: after moves,
/// reorganisations and bulk imports, where one set-based pass beats row-by-row upkeep.
pub fn rebuild_closures(conn: &mut DbConnection) -> Result<(), ApiError> {
    diesel::sql_query("DELETE FROM unit_tree").execute(conn)?;
    diesel::sql_query(
        "WITH RECURSIVE t(ancestor_id, descendant_id, depth) AS ( \
             SELECT id, id, 0 FROM units \
             UNION ALL \
             SELECT t.ancestor_id, u.id, t.depth + 1 FROM t JOIN units u ON u.parent_id = t.descendant_id \
         ) INSERT INTO unit_tree (ancestor_id, descendant_id, depth) SELECT ancestor_id, descendant_id, depth FROM t",
    )
    .execute(conn)?;
    diesel::sql_query("DELETE FROM unit_lineage").execute(conn)?;
    diesel::sql_query(
        "WITH RECURSIVE e(parent_id, child_id) AS ( \
             SELECT parent_id, id FROM units WHERE parent_id IS NOT NULL \
             UNION ALL \
             SELECT successor_id, predecessor_id FROM unit_successors WHERE is_primary \
         ), l(ancestor_id, descendant_id) AS ( \
             SELECT id, id FROM units \
             UNION \
             SELECT l.ancestor_id, e.child_id FROM l JOIN e ON e.parent_id = l.descendant_id \
         ) INSERT INTO unit_lineage (ancestor_id, descendant_id) SELECT ancestor_id, descendant_id FROM l",
    )
    .execute(conn)?;
    // Which scopes count which models follows the tree.
    crate::reports::counts::recount(conn)
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

/// Units closed on `closed_on` without successors, by code (closed along with their parent).
pub fn closed_codes_on(
    conn: &mut DbConnection,
    closed_on: NaiveDate,
) -> Result<std::collections::HashSet<String>, ApiError> {
    Ok(units::table
        .filter(units::status.eq(UnitStatus::Closed.as_str()))
        .filter(units::closed_on.eq(Some(closed_on)))
        .select(units::code)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// Keeps the boxed query `$q`, over rows owned by the unit in column `$unit`, to `$viewer`'s scope
/// (as `$plan` says) and, when `$ancestor` is given, to that unit's subtree (with the units whose
/// records passed to it in a reorganisation when `$with_predecessors`). Every list of records
/// owned by units uses it.
#[macro_export]
macro_rules! within_scope {
    ($q:expr, $unit:expr, $viewer:expr, $plan:expr, $ancestor:expr, $with_predecessors:expr) => {{
        use $crate::db::schema::{unit_lineage, unit_tree};
        use $crate::units::store::ScopePlan;
        let mut q = $q;
        let viewer: String = $viewer.to_string();
        match $plan {
            ScopePlan::Everything | ScopePlan::ByAncestor => {}
            ScopePlan::OwnerIndex => {
                q = q.filter(
                    $unit.eq_any(
                        unit_lineage::table
                            .filter(unit_lineage::ancestor_id.eq(viewer))
                            .select(unit_lineage::descendant_id),
                    ),
                )
            }
            ScopePlan::Probe => {
                q = q.filter(diesel::dsl::exists(
                    unit_lineage::table
                        .filter(unit_lineage::ancestor_id.eq(viewer))
                        .filter(unit_lineage::descendant_id.eq($unit)),
                ))
            }
        }
        if let Some(ancestor) = $ancestor {
            let ancestor: String = ancestor.to_string();
            q = if $with_predecessors {
                q.filter(
                    $unit.eq_any(
                        unit_lineage::table
                            .filter(unit_lineage::ancestor_id.eq(ancestor))
                            .select(unit_lineage::descendant_id),
                    ),
                )
            } else {
                q.filter($unit.eq_any(
                    unit_tree::table.filter(unit_tree::ancestor_id.eq(ancestor)).select(unit_tree::descendant_id),
                ))
            };
        }
        q
    }};
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
