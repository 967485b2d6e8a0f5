//! Model counts kept beside the models, in the same transaction as every write.
//!
//! Every model is counted once at each ancestor of its unit (`unit_tree`), under the attributes a
//! report filters and groups by. A report reads a scope's rows, a few hundred for the whole
//! country, instead of a million models. `recount` rebuilds the tables from the models; tree
//! changes use it, and a test proves that counts kept write by write equal it.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::models::ModelRow;

/// What a model is counted under. Its derived order is the order counts are locked in: the
/// attributes first (what a count row is, at any scope), the unit last (the same for both sides of
/// an update).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    campaign_id: String,
    year: i32,
    status: String,
    kind: String,
    field: String,
    subject: String,
    registered_level: String,
    unit_id: String,
    areas: Vec<String>,
}

impl Key {
    fn of(row: &ModelRow) -> Result<Key, ApiError> {
        let mut areas: Vec<String> = row.special_areas()?.into_iter().map(|a| a.as_str().to_string()).collect();
        areas.sort();
        Ok(Key {
            campaign_id: row.campaign_id.clone(),
            year: row.year,
            status: row.status.as_str().into(),
            kind: row.kind.as_str().into(),
            field: row.field.map(|f| f.as_str()).unwrap_or_default().into(),
            subject: row.subject.as_str().into(),
            registered_level: row.registered_level.as_str().into(),
            unit_id: row.unit_id.clone(),
            areas,
        })
    }

    fn counted_alike(&self, other: &Key) -> bool {
        Key { areas: vec![], ..self.clone() } == Key { areas: vec![], ..other.clone() }
    }
}

/// Moves the counts from what `before` was counted under to what `after` is. Called by the models
/// store on every insert (`before` = None) and update.
///
/// Concurrent writers on PostgreSQL lock count rows; every writer takes them in one global order
/// (table, then attributes, then scope id), so two writers can never wait on each other in a
/// cycle. SQLite has one writer at a time.
pub fn model_written(conn: &mut DbConnection, before: Option<&ModelRow>, after: &ModelRow) -> Result<(), ApiError> {
    let after = Key::of(after)?;
    let before = before.map(Key::of).transpose()?;
    if before.as_ref() == Some(&after) {
        return Ok(());
    }
    let mut main: Vec<(&Key, i64)> = vec![(&after, 1)];
    let mut areas: Vec<(&str, &Key, i64)> = after.areas.iter().map(|a| (a.as_str(), &after, 1)).collect();
    if let Some(before) = &before {
        if before.counted_alike(&after) {
            main.clear();
        } else {
            main.push((before, -1));
        }
        for area in &before.areas {
            if before.counted_alike(&after) && after.areas.contains(area) {
                // A tag kept with the same attributes: its +1 and -1 fall on the same rows.
                areas.retain(|(a, _, _)| a != area);
            } else {
                areas.push((area, before, -1));
            }
        }
    }
    main.sort();
    areas.sort();
    for (k, delta) in main {
        bump(conn, None, k, delta)?;
    }
    for (area, k, delta) in areas {
        bump(conn, Some(area), k, delta)?;
    }
    Ok(())
}

/// The attribute columns in key order, and the same values as placeholders.
const COLUMNS: &str = "campaign_id, year, status, kind, field, subject, registered_level";
const MATCH: &str = "campaign_id = ? AND year = ? AND status = ? AND kind = ? AND field = ? AND subject = ? \
                     AND registered_level = ?";

macro_rules! bind_key {
    ($q:expr, $k:expr) => {
        $q.bind::<Text, _>(&$k.campaign_id)
            .bind::<Integer, _>($k.year)
            .bind::<Text, _>(&$k.status)
            .bind::<Text, _>(&$k.kind)
            .bind::<Text, _>(&$k.field)
            .bind::<Text, _>(&$k.subject)
            .bind::<Text, _>(&$k.registered_level)
    };
}

/// Adds `delta` to the count of `k` (under `area` in the area table) at the unit and each of its
/// ancestors, in scope order; a count that reaches zero is removed, so the tables hold exactly
/// what a recount would.
fn bump(conn: &mut DbConnection, area: Option<&str>, k: &Key, delta: i64) -> Result<(), ApiError> {
    let backend = conn.backend();
    let (table, area_col, area_val, area_match) = match area {
        Some(_) => ("model_area_counts", "special_area, ", "?, ", "special_area = ? AND "),
        None => ("model_counts", "", "", ""),
    };
    let upsert = db::placeholders(
        backend,
        &format!(
            "INSERT INTO {table} (scope_id, own, {area_col}unit_level, {COLUMNS}, n) \
             SELECT t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, {area_val}u.level, ?, ?, ?, ?, ?, ?, ?, ? \
             FROM unit_tree t JOIN units u ON u.id = t.descendant_id WHERE t.descendant_id = ? \
             ORDER BY t.ancestor_id \
             ON CONFLICT (scope_id, own, {area_col}{COLUMNS}, unit_level) DO UPDATE SET n = {table}.n + excluded.n"
        ),
    );
    let q = diesel::sql_query(upsert);
    let q = match area {
        Some(a) => bind_key!(q.into_boxed().bind::<Text, _>(a), k),
        None => bind_key!(q.into_boxed(), k),
    };
    q.bind::<BigInt, _>(delta).bind::<Text, _>(&k.unit_id).execute(conn)?;
    if delta < 0 {
        let delete = db::placeholders(
            backend,
            &format!(
                "DELETE FROM {table} WHERE n = 0 AND {area_match}{MATCH} \
                 AND scope_id IN (SELECT ancestor_id FROM unit_tree WHERE descendant_id = ?)"
            ),
        );
        let q = diesel::sql_query(delete);
        let q = match area {
            Some(a) => bind_key!(q.into_boxed().bind::<Text, _>(a), k),
            None => bind_key!(q.into_boxed(), k),
        };
        q.bind::<Text, _>(&k.unit_id).execute(conn)?;
    }
    Ok(())
}

/// The full count, as `SELECT`s over the models, for the main table and the area table.
fn full_count() -> [(&'static str, String); 2] {
    let attrs =
        "u.level, m.campaign_id, m.year, m.status, m.kind, COALESCE(m.field, ''), m.subject, m.registered_level";
    let own = "CASE WHEN t.depth = 0 THEN 1 ELSE 0 END";
    [
        (
            "model_counts",
            format!(
                "SELECT t.ancestor_id, {own}, {attrs}, COUNT(*) \
                 FROM models m JOIN units u ON u.id = m.unit_id JOIN unit_tree t ON t.descendant_id = m.unit_id \
                 GROUP BY t.ancestor_id, {own}, {attrs}"
            ),
        ),
        (
            "model_area_counts",
            format!(
                "SELECT t.ancestor_id, {own}, a.special_area, {attrs}, COUNT(*) \
                 FROM models m JOIN model_special_areas a ON a.model_id = m.id JOIN units u ON u.id = m.unit_id \
                 JOIN unit_tree t ON t.descendant_id = m.unit_id \
                 GROUP BY t.ancestor_id, {own}, a.special_area, {attrs}"
            ),
        ),
    ]
}

fn columns(table: &str) -> String {
    let area = if table == "model_area_counts" { "special_area, " } else { "" };
    format!("scope_id, own, {area}unit_level, {COLUMNS}, n")
}

/// Rebuilds both tables from the models: after the unit tree changes (a move, a reorganisation),
/// which changes which scopes count which models. One set-based pass.
pub fn recount(conn: &mut DbConnection) -> Result<(), ApiError> {
    for (table, select) in full_count() {
        diesel::sql_query(format!("DELETE FROM {table}")).execute(conn)?;
        diesel::sql_query(format!("INSERT INTO {table} ({}) {select}", columns(table))).execute(conn)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Difference {
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// How many rows the kept counts and a full recount disagree on (0 when they are equal): what the
/// tests and `dvk verify-counts` check.
pub fn differences(conn: &mut DbConnection) -> Result<i64, ApiError> {
    let mut total = 0;
    for (table, select) in full_count() {
        let cols = columns(table);
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS rows FROM ( \
               SELECT * FROM (SELECT {cols} FROM {table} EXCEPT {select}) a \
               UNION ALL \
               SELECT * FROM ({select} EXCEPT SELECT {cols} FROM {table}) b \
             ) d"
        );
        total += diesel::sql_query(sql).get_result::<Difference>(conn)?.rows;
    }
    Ok(total)
}
