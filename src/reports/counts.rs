//! Counts kept beside the models and commendations, in the same transaction as every write.
//!
//! Every model is counted once at each ancestor of its unit (`unit_tree`), under the attributes a
//! report filters and groups by; so is every issued or revoked commendation, at the ancestors of
//! its model's unit. A report reads a scope's rows, a few hundred for the whole country, instead of
//! a million records. `recount` rebuilds the tables from the records; tree changes use it, and a
//! test proves that counts kept write by write equal it.
//!
//! On PostgreSQL a write appends its changes to a delta table instead of updating the count rows
//! (every write would otherwise lock its lineage's rows up to the nation's, and concurrent writers
//! queued there until each other's commit); `fold` moves them into the counts in the background,
//! and readers read both (`readable`), so a count is exact at every moment. SQLite has one writer
//! at a time and updates the counts directly.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::commendations::CommendationRow;
use crate::db::schema::{commendations, models};
use crate::db::{self, DbConnection, Writes};
use crate::error::ApiError;
use crate::models::ModelRow;

/// The count tables, in the order their rows are locked (by SQLite's writers, and by folds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    Models,
    ModelAreas,
    Commendations,
}

impl Table {
    const ALL: [Table; 3] = [Table::Models, Table::ModelAreas, Table::Commendations];

    fn name(self) -> &'static str {
        match self {
            Table::Models => "model_counts",
            Table::ModelAreas => "model_area_counts",
            Table::Commendations => "commendation_counts",
        }
    }

    /// Where PostgreSQL writers append their changes (migration 000022).
    fn deltas(self) -> &'static str {
        match self {
            Table::Models => "model_count_deltas",
            Table::ModelAreas => "model_area_count_deltas",
            Table::Commendations => "commendation_count_deltas",
        }
    }

    /// Every delta table, as a list for one statement over them all.
    fn all_deltas() -> String {
        Table::ALL.map(Table::deltas).join(", ")
    }

    /// The attribute columns, in the order a cell holds their values.
    fn attributes(self) -> &'static [&'static str] {
        const MODEL: &[&str] = &["campaign_id", "year", "status", "kind", "field", "subject", "registered_level"];
        const AREA: &[&str] =
            &["special_area", "campaign_id", "year", "status", "kind", "field", "subject", "registered_level"];
        const COMMENDATION: &[&str] =
            &["campaign_id", "year", "status", "form", "subject", "issuing_authority", "issuer_level"];
        match self {
            Table::Models => MODEL,
            Table::ModelAreas => AREA,
            Table::Commendations => COMMENDATION,
        }
    }

    /// Model counts also hold the level of the model's unit, read from the unit as counted.
    fn has_unit_level(self) -> bool {
        self != Table::Commendations
    }

    /// Every column, for inserts and comparisons.
    fn columns(self) -> String {
        format!("{}, n", self.key())
    }

    /// The columns a cell is counted under: a report's choices of grouping.
    pub(super) fn cell_columns(self) -> Vec<&'static str> {
        let level: &[&str] = if self.has_unit_level() { &["unit_level"] } else { &[] };
        [level, self.attributes()].concat()
    }

    /// Every column but the count: the primary key.
    fn key_columns(self) -> Vec<&'static str> {
        [vec!["scope_id", "own"], self.cell_columns()].concat()
    }

    fn key(self) -> String {
        self.key_columns().join(", ")
    }

    /// The table's counts with the changes not yet folded in, one row per key, zeros left out:
    /// what a recount would hold.
    fn current(self, backend: db::Backend) -> String {
        let key = self.key();
        let from = self.readable(backend);
        format!("SELECT {key}, CAST(SUM(n) AS BIGINT) FROM {from} GROUP BY {key} HAVING SUM(n) <> 0")
    }

    /// The table as a report reads it, to add up with `SUM(n)` (a sum of zero is no row): on
    /// PostgreSQL its rows and the changes not yet folded in, as one relation of its columns; on
    /// SQLite, whose delta tables stay empty, the table alone (reading the empty one beside it
    /// cost the national report a third of its rate).
    pub fn readable(self, backend: db::Backend) -> String {
        match backend {
            db::Backend::Postgres => {
                let cols = self.columns();
                format!(
                    "(SELECT {cols} FROM {} UNION ALL SELECT {cols} FROM {}) AS counted",
                    self.name(),
                    self.deltas()
                )
            }
            db::Backend::Sqlite => self.name().to_string(),
        }
    }

    /// The table's full count from the records, as a `SELECT` of `columns()`.
    fn full_count(self) -> String {
        let own = "CASE WHEN t.depth = 0 THEN 1 ELSE 0 END";
        let model = "m.campaign_id, m.year, m.status, m.kind, COALESCE(m.field, ''), m.subject, m.registered_level";
        let (attrs, from) = match self {
            Table::Models => (
                format!("u.level, {model}"),
                "models m JOIN units u ON u.id = m.unit_id JOIN unit_tree t ON t.descendant_id = m.unit_id",
            ),
            Table::ModelAreas => (
                format!("u.level, a.special_area, {model}"),
                "models m JOIN model_special_areas a ON a.model_id = m.id JOIN units u ON u.id = m.unit_id \
                 JOIN unit_tree t ON t.descendant_id = m.unit_id",
            ),
            Table::Commendations => (
                "m.campaign_id, COALESCE(c.decision_year, 0), c.status, c.form, c.recipient_subject, \
                 c.issuing_authority, COALESCE(c.issuer_level, '')"
                    .to_string(),
                "commendations c JOIN models m ON m.id = c.model_id JOIN unit_tree t ON t.descendant_id = m.unit_id",
            ),
        };
        let counted = if self == Table::Commendations { " WHERE c.status IN ('issued', 'revoked')" } else { "" };
        format!(
            "SELECT t.ancestor_id, {own}, {attrs}, COUNT(*) FROM {from}{counted} GROUP BY t.ancestor_id, {own}, {attrs}"
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Text(String),
    Int(i32),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

/// One record's row in a count table, at every scope: the table, the attribute values in the
/// table's column order, and the unit whose ancestors count it. Its derived order is the order
/// writers lock count rows in: table, then attributes, then scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Cell {
    table: Table,
    values: Vec<Value>,
    unit_id: String,
}

/// The cells a model is counted in: one in the main table and one per special-area tag.
fn model_cells(row: &ModelRow) -> Result<Vec<Cell>, ApiError> {
    let values = vec![
        Value::from(row.campaign_id.as_str()),
        Value::Int(row.year),
        Value::from(row.status.as_str()),
        Value::from(row.kind.as_str()),
        Value::from(row.field.map(|f| f.as_str()).unwrap_or_default()),
        Value::from(row.subject.as_str()),
        Value::from(row.registered_level.as_str()),
    ];
    let mut cells = vec![];
    for area in row.special_areas()? {
        let mut tagged = vec![Value::from(area.as_str())];
        tagged.extend(values.iter().cloned());
        cells.push(Cell { table: Table::ModelAreas, values: tagged, unit_id: row.unit_id.clone() });
    }
    cells.push(Cell { table: Table::Models, values, unit_id: row.unit_id.clone() });
    Ok(cells)
}

/// Where a commendation's model sits: its campaign and unit.
struct Placed<'a> {
    campaign_id: &'a str,
    unit_id: &'a str,
}

/// Whether a commendation is counted: issued or revoked (proposals and refusals never are).
fn counted(c: &CommendationRow) -> bool {
    use crate::commendations::types::CommendationStatus as S;
    matches!(c.status, S::Issued | S::Revoked)
}

/// The cell a commendation is counted in, if it is counted at all.
fn commendation_cell(c: &CommendationRow, model: &Placed<'_>) -> Option<Cell> {
    if !counted(c) {
        return None;
    }
    Some(Cell {
        table: Table::Commendations,
        values: vec![
            Value::from(model.campaign_id),
            Value::Int(c.decision_year.unwrap_or(0)),
            Value::from(c.status.as_str()),
            Value::from(c.form.as_str()),
            Value::from(c.recipient_subject.as_str()),
            Value::from(c.issuing_authority.as_str()),
            Value::from(c.issuer_level.map(|l| l.as_str()).unwrap_or_default()),
        ],
        unit_id: model.unit_id.to_string(),
    })
}

/// The net change from `before` to `after`, cell by cell, in lock order; cells on both sides cancel.
fn net(before: Vec<Cell>, after: Vec<Cell>) -> BTreeMap<Cell, i64> {
    let mut deltas = BTreeMap::new();
    for (cells, delta) in [(before, -1), (after, 1)] {
        for cell in cells {
            *deltas.entry(cell).or_insert(0) += delta;
        }
    }
    deltas.retain(|_, d| *d != 0);
    deltas
}

/// Adds the net changes to `writes`, cell by cell.
fn apply(backend: db::Backend, writes: &mut Writes<'_>, deltas: BTreeMap<Cell, i64>) -> Result<(), ApiError> {
    for (cell, delta) in deltas {
        bump(backend, writes, &cell, delta)?;
    }
    Ok(())
}

/// Moves the counts from what `before` was counted under to what `after` is. Called by the models
/// store on every insert (`before` = None) and update, into the writes it sends with the model's
/// own. A model that changes campaign or unit takes its commendations' counts with it.
pub fn model_written(
    conn: &mut DbConnection,
    writes: &mut Writes<'_>,
    before: Option<&ModelRow>,
    after: &ModelRow,
) -> Result<(), ApiError> {
    let mut old = match before {
        Some(b) => model_cells(b)?,
        None => vec![],
    };
    let mut new = model_cells(after)?;
    if let Some(b) = before.filter(|b| (&b.campaign_id, &b.unit_id) != (&after.campaign_id, &after.unit_id)) {
        let commended: Vec<CommendationRow> = commendations::table
            .filter(commendations::model_id.eq(&after.id))
            .select(CommendationRow::as_select())
            .load(conn)?;
        let (was, is) = (
            Placed { campaign_id: &b.campaign_id, unit_id: &b.unit_id },
            Placed { campaign_id: &after.campaign_id, unit_id: &after.unit_id },
        );
        old.extend(commended.iter().filter_map(|c| commendation_cell(c, &was)));
        new.extend(commended.iter().filter_map(|c| commendation_cell(c, &is)));
    }
    apply(conn.backend(), writes, net(old, new))
}

/// Moves a commendation's count from what `before` was counted under to what `after` is. Called by
/// the commendations store on every insert (`before` = None) and update, into the writes it sends
/// with the commendation's own.
pub fn commendation_written(
    conn: &mut DbConnection,
    writes: &mut Writes<'_>,
    before: Option<&CommendationRow>,
    after: &CommendationRow,
) -> Result<(), ApiError> {
    // Proposals, and a proposal listed in a draft, count nowhere: no need to look at the model.
    if !counted(after) && !before.is_some_and(counted) {
        return Ok(());
    }
    let (campaign_id, unit_id): (String, String) =
        models::table.find(&after.model_id).select((models::campaign_id, models::unit_id)).first(conn)?;
    let model = Placed { campaign_id: &campaign_id, unit_id: &unit_id };
    let old = before.and_then(|b| commendation_cell(b, &model)).into_iter().collect();
    let new = commendation_cell(after, &model).into_iter().collect();
    apply(conn.backend(), writes, net(old, new))
}

/// Adds to `writes` the change of `delta` to the count of `cell` at its unit and each of the
/// unit's ancestors. PostgreSQL appends the change to the delta table (no row lock: see the module's note). SQLite updates the
/// counts, and removes a count that reaches zero, so the tables hold exactly what a recount would.
fn bump(backend: db::Backend, writes: &mut Writes<'_>, cell: &Cell, delta: i64) -> Result<(), ApiError> {
    if backend == db::Backend::Postgres {
        return append(writes, cell, delta);
    }
    let attributes = cell.table.attributes();
    let cols = attributes.join(", ");
    let marks = vec!["?"; attributes.len()].join(", ");
    let (level_col, level_val) = if cell.table.has_unit_level() { ("unit_level, ", "u.level, ") } else { ("", "") };
    let table = cell.table.name();
    let insert = db::placeholders(
        backend,
        &format!(
            "INSERT INTO {table} (scope_id, own, {level_col}{cols}, n) \
             SELECT t.ancestor_id, CASE WHEN t.depth = 0 THEN 1 ELSE 0 END, {level_val}{marks}, ? \
             FROM unit_tree t JOIN units u ON u.id = t.descendant_id WHERE t.descendant_id = ? \
             ON CONFLICT ({}) DO UPDATE SET n = {table}.n + excluded.n",
            cell.table.key()
        ),
    );
    writes.push(
        bind_values(diesel::sql_query(insert).into_boxed(), &cell.values)
            .bind::<BigInt, _>(delta)
            .bind::<Text, _>(cell.unit_id.clone()),
    );
    if delta < 0 {
        let matching: Vec<String> = attributes.iter().map(|c| format!("{c} = ?")).collect();
        let delete = db::placeholders(
            backend,
            &format!(
                "DELETE FROM {table} WHERE n = 0 AND {} \
                 AND scope_id IN (SELECT ancestor_id FROM unit_tree WHERE descendant_id = ?)",
                matching.join(" AND ")
            ),
        );
        writes.push(
            bind_values(diesel::sql_query(delete).into_boxed(), &cell.values).bind::<Text, _>(cell.unit_id.clone()),
        );
    }
    Ok(())
}

/// Appends a cell's change at its unit and each ancestor to its delta table (PostgreSQL). Written
/// with the query builder, so that the write's statement holding it is prepared once per
/// connection (diesel never caches `sql_query`) and PostgreSQL does not plan it for every write.
fn append(writes: &mut Writes<'_>, cell: &Cell, delta: i64) -> Result<(), ApiError> {
    use crate::db::schema::{
        commendation_count_deltas as c, model_area_count_deltas as a, model_count_deltas as m, unit_tree, units,
    };
    use diesel::dsl::case_when;
    use Value::{Int, Text as T};
    let scopes = unit_tree::table
        .inner_join(units::table.on(units::id.eq(unit_tree::descendant_id)))
        .filter(unit_tree::descendant_id.eq(cell.unit_id.clone()));
    macro_rules! own {
        () => {
            case_when(unit_tree::depth.eq(0), 1.into_sql::<Integer>()).otherwise(0.into_sql::<Integer>())
        };
    }
    // A model's cell, in the main table or, with its tag, in the area table.
    macro_rules! model_cell {
        ($t:ident, $campaign:ident, $year:ident, $status:ident, $kind:ident, $field:ident, $subject:ident,
         $registered:ident $(, $area:ident => $area_col:ident)?) => {
            diesel::insert_into($t::table)
                .values(scopes.select((
                    unit_tree::ancestor_id,
                    own!(),
                    units::level,
                    $campaign.clone().into_sql::<Text>(),
                    (*$year).into_sql::<Integer>(),
                    $status.clone().into_sql::<Text>(),
                    $kind.clone().into_sql::<Text>(),
                    $field.clone().into_sql::<Text>(),
                    $subject.clone().into_sql::<Text>(),
                    $registered.clone().into_sql::<Text>(),
                    delta.into_sql::<BigInt>(),
                    $($area.clone().into_sql::<Text>(),)?
                )))
                .into_columns((
                    $t::scope_id,
                    $t::own,
                    $t::unit_level,
                    $t::campaign_id,
                    $t::year,
                    $t::status,
                    $t::kind,
                    $t::field,
                    $t::subject,
                    $t::registered_level,
                    $t::n,
                    $($t::$area_col,)?
                ))
        };
    }
    match (cell.table, cell.values.as_slice()) {
        (Table::Models, [T(campaign), Int(year), T(status), T(kind), T(field), T(subject), T(registered)]) => {
            writes.push(model_cell!(m, campaign, year, status, kind, field, subject, registered));
        }
        (
            Table::ModelAreas,
            [T(area), T(campaign), Int(year), T(status), T(kind), T(field), T(subject), T(registered)],
        ) => {
            writes.push(model_cell!(a, campaign, year, status, kind, field, subject, registered, area => special_area));
        }
        (
            Table::Commendations,
            [T(campaign), Int(year), T(status), T(form), T(subject), T(authority), T(issuer_level)],
        ) => {
            writes.push(
                diesel::insert_into(c::table)
                    .values(scopes.select((
                        unit_tree::ancestor_id,
                        own!(),
                        campaign.clone().into_sql::<Text>(),
                        (*year).into_sql::<Integer>(),
                        status.clone().into_sql::<Text>(),
                        form.clone().into_sql::<Text>(),
                        subject.clone().into_sql::<Text>(),
                        authority.clone().into_sql::<Text>(),
                        issuer_level.clone().into_sql::<Text>(),
                        delta.into_sql::<BigInt>(),
                    )))
                    .into_columns((
                        c::scope_id,
                        c::own,
                        c::campaign_id,
                        c::year,
                        c::status,
                        c::form,
                        c::subject,
                        c::issuing_authority,
                        c::issuer_level,
                        c::n,
                    )),
            );
        }
        (table, values) => {
            return Err(ApiError::internal(format!("a count cell of {values:?} does not fit {}", table.name())));
        }
    }
    Ok(())
}

/// Moves the changes PostgreSQL writers appended into the count tables, in one transaction (a
/// reader sees them on one side or the other, never both or neither), one fold at a time across
/// instances. Counts that reach zero are removed. Returns how many count rows it changed; on
/// SQLite there is nothing to fold.
pub fn fold(conn: &mut DbConnection) -> Result<usize, ApiError> {
    if conn.backend() != db::Backend::Postgres {
        return Ok(0);
    }
    db::transaction(conn, |conn| {
        if !db::try_lock(conn, "reports.counts.fold")? {
            return Ok(0);
        }
        #[derive(QueryableByName)]
        struct Folded {
            #[diesel(sql_type = BigInt)]
            changed: i64,
            /// The keys of the counts the fold left at zero, as JSON rows of the table.
            #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
            zeros: Option<String>,
        }
        let mut changed = 0;
        for table in Table::ALL {
            let (name, key, cols) = (table.name(), table.key(), table.columns());
            // Rows the fold's snapshot does not see (appended meanwhile) stay for the next one.
            let folded: Folded = diesel::sql_query(format!(
                "WITH moved AS (DELETE FROM {} RETURNING {cols}), \
                 summed AS (SELECT {key}, CAST(SUM(n) AS BIGINT) AS n FROM moved GROUP BY {key}), \
                 changed AS (INSERT INTO {name} ({cols}) SELECT {cols} FROM summed WHERE n <> 0 ORDER BY {key} \
                 ON CONFLICT ({key}) DO UPDATE SET n = {name}.n + excluded.n RETURNING {cols}) \
                 SELECT (SELECT COUNT(*) FROM changed) AS changed, \
                 (SELECT CAST(json_agg(changed) AS TEXT) FROM changed WHERE n = 0) AS zeros",
                table.deltas()
            ))
            .get_result(conn)?;
            // A count at zero is removed by its key (a statement cannot remove the rows it
            // updates). Not by an index on `n`: a column an index reads makes every update of it
            // a new row version elsewhere with new index entries, where an update of a column no
            // index reads stays in its page (migration 000024).
            if let Some(zeros) = folded.zeros {
                let same_key =
                    table.key_columns().iter().map(|c| format!("t.{c} = z.{c}")).collect::<Vec<_>>().join(" AND ");
                diesel::sql_query(format!(
                    "DELETE FROM {name} t USING json_populate_recordset(NULL::{name}, CAST($1 AS json)) z \
                     WHERE {same_key} AND t.n = 0"
                ))
                .bind::<Text, _>(zeros)
                .execute(conn)?;
            }
            changed += folded.changed as usize;
        }
        Ok(changed)
    })
}

type Boxed<'a> = diesel::query_builder::BoxedSqlQuery<
    'a,
    <DbConnection as diesel::Connection>::Backend,
    diesel::query_builder::SqlQuery,
>;

fn bind_values<'a>(mut q: Boxed<'a>, values: &[Value]) -> Boxed<'a> {
    for v in values {
        q = match v {
            Value::Text(s) => q.bind::<Text, _>(s.clone()),
            Value::Int(n) => q.bind::<Integer, _>(*n),
        };
    }
    q
}

/// Reclaims the delta rows folds removed (PostgreSQL; outside a transaction). A report reads the
/// delta tables, and the dead rows of thousands of writes a second would otherwise be read with
/// them until autovacuum came by (measured: the national report at a third of its rate after a
/// burst of registrations).
pub fn tidy(conn: &mut DbConnection) -> Result<(), ApiError> {
    if conn.backend() == db::Backend::Postgres {
        diesel::sql_query(format!("VACUUM {}", Table::all_deltas())).execute(conn)?;
    }
    Ok(())
}

/// Rebuilds every count table from the records: after the unit tree changes (a move, a
/// reorganisation), which changes which scopes count which records. One set-based pass each, in
/// the caller's transaction (readers never see the tables empty).
pub fn recount(conn: &mut DbConnection) -> Result<(), ApiError> {
    if conn.backend() == db::Backend::Postgres {
        // A writer that appended changes before this point is waited for (its changes are then
        // dropped and its records counted below); one appending after waits for the recount and
        // then reads the new tree. Without it, a writer committing between the two statements
        // below would be counted twice: by its changes and by the recount.
        diesel::sql_query(format!("LOCK TABLE {} IN EXCLUSIVE MODE", Table::all_deltas())).execute(conn)?;
    }
    for table in Table::ALL {
        let name = table.name();
        diesel::sql_query(format!("DELETE FROM {}", table.deltas())).execute(conn)?;
        diesel::sql_query(format!("DELETE FROM {name}")).execute(conn)?;
        // A scope's rows together, as a report reads them (migration 000024).
        diesel::sql_query(format!("INSERT INTO {name} ({}) {} ORDER BY 1, 2", table.columns(), table.full_count()))
            .execute(conn)?;
    }
    Ok(())
}

/// How many rows the kept counts and a full recount disagree on (0 when they are equal): what the
/// tests and `dvk verify-counts` check.
pub fn differences(conn: &mut DbConnection) -> Result<i64, ApiError> {
    let mut total = 0;
    for table in Table::ALL {
        let current = table.current(conn.backend());
        total += db::rows_differing(conn, &current, &table.full_count())?;
    }
    Ok(total)
}
