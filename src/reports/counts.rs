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
use crate::models::store::ModelRow;

/// What a model is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    unit_id: String,
    campaign_id: String,
    year: i32,
    status: String,
    kind: String,
    field: String,
    subject: String,
    registered_level: String,
    areas: Vec<String>,
}

impl Key {
    fn of(row: &ModelRow) -> Result<Key, ApiError> {
        Ok(Key {
            unit_id: row.unit_id.clone(),
            campaign_id: row.campaign_id.clone(),
            year: row.year,
            status: row.status.clone(),
            kind: row.kind.clone(),
            field: row.field.clone().unwrap_or_default(),
            subject: row.subject.clone(),
            registered_level: row.registered_level.clone(),
            areas: row.special_areas()?.into_iter().map(|a| a.as_str().to_string()).collect(),
        })
    }
}

/// Moves the counts from what `before` was counted under to what `after` is. Called by the models
/// store on every insert (`before` = None) and update.
pub fn model_written(conn: &mut DbConnection, before: Option<&ModelRow>, after: &ModelRow) -> Result<(), ApiError> {
    let after = Key::of(after)?;
    if let Some(before) = before {
        let before = Key::of(before)?;
        if before == after {
            return Ok(());
        }
        remove(conn, &before)?;
    }
    add(conn, &after)
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

fn add(conn: &mut DbConnection, k: &Key) -> Result<(), ApiError> {
    let backend = conn.backend();
    // One statement per table: a row for the unit itself (own = 1) and one per ancestor.
    let upsert = |table: &str, area: bool| {
        let (area_col, area_val) = if area { ("special_area, ", "?, ") } else { ("", "") };
        db::placeholders(
            backend,
            &format!(
                "INSERT INTO {table} (scope_id, own, {area_col}unit_level, {COLUMNS}, n) \
                 SELECT t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, {area_val}u.level, ?, ?, ?, ?, ?, ?, ?, 1 \
                 FROM unit_tree t JOIN units u ON u.id = t.descendant_id WHERE t.descendant_id = ? \
                 ON CONFLICT (scope_id, own, {area_col}{COLUMNS}, unit_level) DO UPDATE SET n = {table}.n + 1"
            ),
        )
    };
    bind_key!(diesel::sql_query(upsert("model_counts", false)), k).bind::<Text, _>(&k.unit_id).execute(conn)?;
    let sql = upsert("model_area_counts", true);
    for area in &k.areas {
        bind_key!(diesel::sql_query(&sql).bind::<Text, _>(area), k).bind::<Text, _>(&k.unit_id).execute(conn)?;
    }
    Ok(())
}

fn remove(conn: &mut DbConnection, k: &Key) -> Result<(), ApiError> {
    let backend = conn.backend();
    // Decrement the rows of every ancestor, then drop those that reached zero, so the tables hold
    // exactly what a recount would.
    let statements = |table: &str, area: bool| {
        let area_match = if area { "special_area = ? AND " } else { "" };
        let scope = "scope_id IN (SELECT ancestor_id FROM unit_tree WHERE descendant_id = ?) \
                     AND own = CASE WHEN scope_id = ? THEN 1 ELSE 0 END \
                     AND unit_level = (SELECT level FROM units WHERE id = ?)";
        [
            db::placeholders(backend, &format!("UPDATE {table} SET n = n - 1 WHERE {area_match}{MATCH} AND {scope}")),
            db::placeholders(backend, &format!("DELETE FROM {table} WHERE n = 0 AND {area_match}{MATCH} AND {scope}")),
        ]
    };
    for sql in statements("model_counts", false) {
        bind_key!(diesel::sql_query(sql), k)
            .bind::<Text, _>(&k.unit_id)
            .bind::<Text, _>(&k.unit_id)
            .bind::<Text, _>(&k.unit_id)
            .execute(conn)?;
    }
    for sql in statements("model_area_counts", true) {
        for area in &k.areas {
            bind_key!(diesel::sql_query(&sql).bind::<Text, _>(area), k)
                .bind::<Text, _>(&k.unit_id)
                .bind::<Text, _>(&k.unit_id)
                .bind::<Text, _>(&k.unit_id)
                .execute(conn)?;
        }
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
