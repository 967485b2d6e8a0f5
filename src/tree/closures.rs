//! The two closures of the tree (`unit_tree`: parents; `unit_lineage`: parents and primary
//! successions) and the dated history of parents (`unit_parents`).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::db::schema::unit_parents;
use crate::db::{self, DbConnection};
use crate::error::ApiError;

/// The first day of the records: units known before their history was kept sat under their
/// parent since then.
pub const BEGINNING: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => panic!("a valid date"),
};

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
    // Which scopes count and index which models follows the tree.
    crate::reports::counts::recount(conn)?;
    crate::models::rebuild_scope_index(conn)
}
