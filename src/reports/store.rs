//! All the SQL of reports: counts read from the kept model counts, commendations grouped in the
//! database, target progress counted with `EXISTS`. Nothing is counted by pulling rows.
//!
//! The SQL is assembled from fixed fragments; every value from a request is a bound parameter.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::db::{self, DbConnection, Param};
use crate::error::ApiError;
use crate::units::types::Level;

use super::counts;
use super::rules::Counts;

/// `?, ?, ?` for `values`, and their binds.
fn list_of<T: AsRef<str>>(values: &[T], binds: &mut Vec<Param>) -> String {
    binds.extend(values.iter().map(|v| Param::Text(v.as_ref().to_string())));
    vec!["?"; values.len()].join(", ")
}

/// `AND condition` with its one bound value, when there is a value.
fn and(sql: &mut String, condition: &str, value: Option<Param>, binds: &mut Vec<Param>) {
    if let Some(v) = value {
        sql.push_str(" AND ");
        sql.push_str(condition);
        binds.push(v);
    }
}

/// `AND column IN (…)` when `values` is not empty.
fn and_in<T: AsRef<str>>(sql: &mut String, column: &str, values: &[T], binds: &mut Vec<Param>) {
    if !values.is_empty() {
        let list = list_of(values, binds);
        sql.push_str(&format!(" AND {column} IN ({list})"));
    }
}

fn load<R>(conn: &mut DbConnection, sql: &str, binds: &[Param]) -> Result<Vec<R>, ApiError>
where
    R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
{
    // Not cached: these texts take as many shapes as the lists a request names.
    let statement = db::Prepared::uncached(sql.to_string(), binds.to_vec());
    Ok(crate::with_backend!(conn, |c| statement.load::<R>(c))?)
}

#[derive(QueryableByName)]
struct Grouped {
    #[diesel(sql_type = Text)]
    scope_id: String,
    #[diesel(sql_type = Integer)]
    own: i32,
    #[diesel(sql_type = Text)]
    g1: String,
    #[diesel(sql_type = Text)]
    g2: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Which scopes' counts a report adds up, and under which unit each goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub scope_id: String,
    pub bucket: String,
    /// Only the scope unit's own models (its subtree is counted elsewhere or not at all).
    pub own_only: bool,
}

/// The scopes of a report on `root`. Without predecessors the tree does it: the root, or each
/// child plus the root's own models. With them, `unit_lineage` is closed downwards, so its members
/// whose parent is not a member head disjoint subtrees that together are exactly the lineage.
pub fn scopes(
    conn: &mut DbConnection,
    root: &str,
    by_unit: bool,
    with_predecessors: bool,
) -> Result<Vec<Scope>, ApiError> {
    #[derive(QueryableByName)]
    struct Pair {
        #[diesel(sql_type = Text)]
        scope_id: String,
        #[diesel(sql_type = Text)]
        bucket: String,
    }
    let root_bind = || vec![Param::Text(root.to_string())];
    let whole = |scope_id: String, bucket: String| Scope { scope_id, bucket, own_only: false };
    match (by_unit, with_predecessors) {
        (false, false) => Ok(vec![whole(root.to_string(), root.to_string())]),
        (true, false) => {
            let children: Vec<Pair> =
                load(conn, "SELECT id AS scope_id, id AS bucket FROM units WHERE parent_id = ?", &root_bind())?;
            let mut out: Vec<Scope> = children.into_iter().map(|p| whole(p.scope_id, p.bucket)).collect();
            out.push(Scope { scope_id: root.to_string(), bucket: root.to_string(), own_only: true });
            Ok(out)
        }
        (false, true) => {
            let heads: Vec<Pair> = load(
                conn,
                "SELECT l.descendant_id AS scope_id, l.ancestor_id AS bucket FROM unit_lineage l \
                 JOIN units u ON u.id = l.descendant_id WHERE l.ancestor_id = ? AND (u.id = l.ancestor_id \
                 OR u.parent_id IS NULL OR NOT EXISTS (SELECT 1 FROM unit_lineage p \
                   WHERE p.ancestor_id = l.ancestor_id AND p.descendant_id = u.parent_id))",
                &root_bind(),
            )?;
            Ok(heads.into_iter().map(|p| whole(p.scope_id, p.bucket)).collect())
        }
        (true, true) => {
            // Each unit of the lineage goes to the first active child (by code) whose lineage holds
            // it, else to the root; their own counts are added up, so nothing counts twice even
            // where two children's lineages meet.
            let units: Vec<Pair> = load(
                conn,
                "SELECT l.descendant_id AS scope_id, COALESCE((SELECT c.id FROM units c \
                   JOIN unit_lineage lc ON lc.ancestor_id = c.id \
                   WHERE c.parent_id = l.ancestor_id AND c.status = 'active' AND lc.descendant_id = l.descendant_id \
                   ORDER BY c.code LIMIT 1), l.ancestor_id) AS bucket \
                 FROM unit_lineage l WHERE l.ancestor_id = ?",
                &root_bind(),
            )?;
            Ok(units.into_iter().map(|p| Scope { scope_id: p.scope_id, bucket: p.bucket, own_only: true }).collect())
        }
    }
}

/// What a model report filters on, parsed.
#[derive(Debug, Clone, Default)]
pub struct ModelFilter {
    pub campaign_id: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub status: Vec<&'static str>,
    pub kind: Vec<&'static str>,
    pub field: Vec<&'static str>,
    pub subject: Vec<&'static str>,
    pub registered_level: Vec<&'static str>,
    pub level: Vec<&'static str>,
    pub special_area: Option<&'static str>,
}

/// The column a model dimension reads (`None` for `unit`, which comes from the scope).
pub fn model_column(dimension: super::types::ModelDimension) -> Option<&'static str> {
    use super::types::ModelDimension as D;
    Some(match dimension {
        D::Field => "field",
        D::Kind => "kind",
        D::Subject => "subject",
        D::Level => "unit_level",
        D::RegisteredLevel => "registered_level",
        D::Status => "status",
        D::SpecialArea => "special_area",
        D::Year => "year",
        D::Unit => return None,
    })
}

/// Model counts over `scopes`, grouped by up to two columns (`None`: the unit, from the scope),
/// from the area table when `areas` (one row per tag) else the main one.
pub fn model_counts(
    conn: &mut DbConnection,
    scopes: &[Scope],
    groups: &[Option<&'static str>],
    areas: bool,
    f: &ModelFilter,
) -> Result<Counts, ApiError> {
    let table = if areas { counts::Table::ModelAreas } else { counts::Table::Models };
    let mut only = vec![
        ("campaign_id", f.campaign_id.iter().map(String::as_str).collect()),
        ("status", f.status.clone()),
        ("kind", f.kind.clone()),
        ("field", f.field.clone()),
        ("subject", f.subject.clone()),
        ("registered_level", f.registered_level.clone()),
        ("unit_level", f.level.clone()),
    ];
    if areas {
        only.push(("special_area", f.special_area.into_iter().collect()));
    }
    kept_counts(conn, table, scopes, groups, (f.year_from, f.year_to), &only)
}

/// `AND column` is one of `values` (any when there are none and `optional`), its values pushed
/// to `params`. PostgreSQL: the list is one JSON value, so the text is the same however long it
/// is, and an empty list is bound too. SQLite: a `?` each, as it plans with the values anyway.
fn and_one_of(backend: db::Backend, column: &str, values: &[&str], optional: bool, params: &mut Vec<Param>) -> String {
    match backend {
        db::Backend::Postgres => {
            let list = Param::Text(serde_json::Value::from(values.to_vec()).to_string());
            // Not optional, the column keeps its index: `ANY` of an array is an index range.
            let one_of = format!("{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))))");
            if optional {
                params.extend([list.clone(), list]);
                format!(" AND (? = '[]' OR {one_of})")
            } else {
                params.push(list);
                format!(" AND {one_of}")
            }
        }
        db::Backend::Sqlite if values.is_empty() && optional => String::new(),
        db::Backend::Sqlite => format!(" AND {column} IN ({})", list_of(values, params)),
    }
}

/// Adds up a count table's rows over `scopes` with a year in `years` (inclusive, open when
/// `None`) and, for each `(column, values)` of `only`, a value among `values` (any when empty),
/// grouped by up to two columns (`None`: the unit, from the scope).
///
/// On PostgreSQL one statement per table and set of filter columns, whatever a caller asks: the
/// scopes, the grouping columns and the filters' values are all bound. Each connection prepares
/// it once, so a report is not parsed anew on every request, and callers cannot fill the
/// connections' statement caches with shapes. SQLite, which re-plans a statement for its bound
/// values whatever is cached (STAT4) and does not fold the bound choices away as PostgreSQL's
/// planner does, gets the plain statement, not cached.
fn kept_counts(
    conn: &mut DbConnection,
    table: counts::Table,
    scopes: &[Scope],
    groups: &[Option<&'static str>],
    years: (Option<i32>, Option<i32>),
    only: &[(&'static str, Vec<&str>)],
) -> Result<Counts, ApiError> {
    let backend = conn.backend();
    let expression = |column: &str| match column {
        "year" => "CAST(year AS TEXT)".to_string(),
        column => column.to_string(),
    };
    // On PostgreSQL a grouping column is chosen by a bound name among the table's own columns.
    let chosen = match backend {
        db::Backend::Postgres => table
            .cell_columns()
            .iter()
            .map(|c| format!("WHEN '{c}' THEN {}", expression(c)))
            .collect::<Vec<_>>()
            .join(" "),
        db::Backend::Sqlite => String::new(),
    };
    let by_scope: HashMap<&str, &Scope> = scopes.iter().map(|s| (s.scope_id.as_str(), s)).collect();
    let mut counts = Counts::new();
    for chunk in scopes.chunks(500) {
        let mut params = Vec::new();
        let mut grouped = Vec::new();
        for i in 0..2 {
            let column = groups.get(i).copied().flatten();
            grouped.push(match backend {
                db::Backend::Postgres => {
                    params.push(Param::Text(column.unwrap_or("").to_string()));
                    format!("CASE ? {chosen} ELSE '' END")
                }
                db::Backend::Sqlite => column.map(expression).unwrap_or_else(|| "''".into()),
            });
        }
        let ids: Vec<&str> = chunk.iter().map(|s| s.scope_id.as_str()).collect();
        let in_scopes = and_one_of(backend, "scope_id", &ids, false, &mut params);
        params.extend([Param::Int(years.0.unwrap_or(i32::MIN)), Param::Int(years.1.unwrap_or(i32::MAX))]);
        let mut sql = format!(
            "SELECT scope_id, own, {} AS g1, {} AS g2, CAST(SUM(n) AS BIGINT) AS n FROM {} \
             WHERE 1 = 1{in_scopes} AND year >= ? AND year <= ?",
            grouped[0],
            grouped[1],
            table.readable(backend),
        );
        for (column, values) in only {
            sql.push_str(&and_one_of(backend, column, values, true, &mut params));
        }
        sql.push_str(" GROUP BY scope_id, own, 3, 4 HAVING SUM(n) <> 0");
        let statement = match backend {
            db::Backend::Postgres => db::Prepared::new(sql, params),
            db::Backend::Sqlite => db::Prepared::uncached(sql, params),
        };
        let rows: Vec<Grouped> = crate::with_backend!(conn, |c| statement.load::<Grouped>(c))?;
        for row in rows {
            let Some(scope) = by_scope.get(row.scope_id.as_str()) else { continue };
            if scope.own_only && row.own == 0 {
                continue;
            }
            let key: Vec<String> = groups
                .iter()
                .enumerate()
                .map(|(i, col)| match col {
                    None => scope.bucket.clone(),
                    Some(_) => {
                        if i == 0 {
                            row.g1.clone()
                        } else {
                            row.g2.clone()
                        }
                    }
                })
                .collect();
            *counts.entry(key).or_insert(0) += row.n;
        }
    }
    Ok(counts)
}

/// What a commendation report filters on, parsed.
#[derive(Debug, Clone, Default)]
pub struct CommendationFilter {
    pub campaign_id: Option<String>,
    pub issuer_unit_id: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub form: Vec<&'static str>,
    pub issuer_level: Vec<&'static str>,
    pub include_revoked: bool,
    /// Count decisions (each once, however many it commends) rather than commendations.
    pub count_decisions: bool,
}

impl CommendationFilter {
    /// The statuses counted: issued, and revoked when asked for.
    fn statuses(&self) -> &'static [&'static str] {
        if self.include_revoked {
            &["issued", "revoked"]
        } else {
            &["issued"]
        }
    }
}

/// Commendations of the models of `root`'s subtree (or lineage), grouped by up to two dimensions.
/// Read from the kept counts, except what they cannot answer: a count of decisions (a decision
/// counts once however many cells it commends in) and anything by issuer unit, which the counts
/// leave out; those group the commendations themselves, one issuer's by its index.
pub fn commendation_counts(
    conn: &mut DbConnection,
    root: &str,
    with_predecessors: bool,
    groups: &[super::types::CommendationDimension],
    f: &CommendationFilter,
) -> Result<Counts, ApiError> {
    use super::types::CommendationDimension as D;
    if f.count_decisions || f.issuer_unit_id.is_some() || groups.contains(&D::Issuer) {
        return commendation_records(conn, root, with_predecessors, groups, f);
    }
    let columns: Vec<Option<&'static str>> = groups
        .iter()
        .map(|d| match d {
            D::IssuingAuthority => Some("issuing_authority"),
            D::IssuerLevel => Some("issuer_level"),
            D::Form => Some("form"),
            D::Subject => Some("subject"),
            D::Year => Some("year"),
            D::Status => Some("status"),
            D::Unit | D::Issuer => None,
        })
        .collect();
    let scopes = scopes(conn, root, groups.contains(&D::Unit), with_predecessors)?;
    let only = [
        ("status", f.statuses().to_vec()),
        ("campaign_id", f.campaign_id.iter().map(String::as_str).collect()),
        ("form", f.form.clone()),
        ("issuer_level", f.issuer_level.clone()),
    ];
    kept_counts(conn, counts::Table::Commendations, &scopes, &columns, (f.year_from, f.year_to), &only)
}

/// The same, grouped from the commendations in the database. The unit a commendation goes under
/// is its model's, bucketed as `scopes` buckets: the root's child above it (the first active one
/// by code whose lineage holds it, with predecessors), else the root.
fn commendation_records(
    conn: &mut DbConnection,
    root: &str,
    with_predecessors: bool,
    groups: &[super::types::CommendationDimension],
    f: &CommendationFilter,
) -> Result<Counts, ApiError> {
    use super::types::CommendationDimension as D;
    let closure = if with_predecessors { "unit_lineage" } else { "unit_tree" };
    let mut binds = Vec::new();
    let mut exprs = Vec::new();
    for d in groups {
        exprs.push(match d {
            D::Issuer => "c.issuer_unit_id".to_string(),
            D::IssuingAuthority => "c.issuing_authority".to_string(),
            D::IssuerLevel => "COALESCE(c.issuer_level, '')".to_string(),
            D::Form => "c.form".to_string(),
            D::Subject => "c.recipient_subject".to_string(),
            D::Year => "CAST(c.decision_year AS TEXT)".to_string(),
            D::Status => "c.status".to_string(),
            D::Unit => {
                binds.push(Param::Text(root.to_string()));
                binds.push(Param::Text(root.to_string()));
                let child = if with_predecessors {
                    "SELECT k.id FROM unit_lineage x JOIN units k ON k.id = x.ancestor_id \
                     WHERE x.descendant_id = m.unit_id AND k.parent_id = ? AND k.status = 'active' \
                     ORDER BY k.code LIMIT 1"
                } else {
                    "SELECT k.id FROM unit_tree x JOIN units k ON k.id = x.ancestor_id \
                     WHERE x.descendant_id = m.unit_id AND k.parent_id = ?"
                };
                format!("COALESCE(({child}), ?)")
            }
        });
    }
    while exprs.len() < 2 {
        exprs.push("''".into());
    }
    // Under the root every commendation is in scope: a national report reads the commendations
    // alone, and their models only when a dimension or filter needs them.
    let whole_tree = crate::tree::is_root(root);
    let needs_model = !whole_tree || f.campaign_id.is_some() || groups.contains(&D::Unit);
    let mut sql = format!(
        "SELECT '' AS scope_id, 0 AS own, {} AS g1, {} AS g2, CAST({} AS BIGINT) AS n \
         FROM commendations c {} WHERE 1 = 1",
        exprs[0],
        exprs[1],
        if f.count_decisions { "COUNT(DISTINCT c.decision_id)" } else { "COUNT(*)" },
        if needs_model { "JOIN models m ON m.id = c.model_id" } else { "" }
    );
    if !whole_tree {
        sql.push_str(&format!(" AND m.unit_id IN (SELECT descendant_id FROM {closure} WHERE ancestor_id = ?)"));
        binds.push(Param::Text(root.to_string()));
    }
    and_in(&mut sql, "c.status", f.statuses(), &mut binds);
    and(&mut sql, "m.campaign_id = ?", f.campaign_id.clone().map(Param::Text), &mut binds);
    and(&mut sql, "c.issuer_unit_id = ?", f.issuer_unit_id.clone().map(Param::Text), &mut binds);
    and(&mut sql, "c.decision_year >= ?", f.year_from.map(Param::Int), &mut binds);
    and(&mut sql, "c.decision_year <= ?", f.year_to.map(Param::Int), &mut binds);
    and_in(&mut sql, "c.form", &f.form, &mut binds);
    and_in(&mut sql, "c.issuer_level", &f.issuer_level, &mut binds);
    sql.push_str(" GROUP BY 3, 4");
    let mut counts = Counts::new();
    for row in load::<Grouped>(conn, &sql, &binds)? {
        let key = [row.g1, row.g2].into_iter().take(groups.len()).collect();
        *counts.entry(key).or_insert(0) += row.n;
    }
    Ok(counts)
}

/// The active children of `root`: the rows a report by unit always shows, zeros included.
pub fn active_children(conn: &mut DbConnection, root: &str) -> Result<Vec<String>, ApiError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let rows: Vec<Id> =
        load(conn, "SELECT id FROM units WHERE parent_id = ? AND status = 'active'", &[Param::Text(root.to_string())])?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Whose progress a target measures, and on which day.
pub struct TargetScope<'a> {
    pub campaign: &'a str,
    pub launcher: &'a str,
    /// The level of the units counted; `None`: the launcher alone.
    pub level: Option<Level>,
    pub kind: Option<&'a str>,
    /// The day whose structure counts: the units active then under the launcher as it stood.
    pub structure_on: chrono::NaiveDate,
    /// Records dated up to this day count.
    pub records_until: chrono::NaiveDate,
    /// A unit also counts what its primary predecessors did (their records passed into it).
    pub include_predecessors: bool,
}

/// The common table expressions of a target count: `ct` the campaign and those implementing it,
/// `targets` the units counted (as the structure stood on `structure_on`), `below` each target
/// unit with every unit under it that day (`anchor`, `id`), and, with predecessors, the units
/// whose records passed into them.
fn target_ctes(t: &TargetScope<'_>, binds: &mut Vec<Param>) -> String {
    let on = t.structure_on;
    binds.push(Param::Text(t.campaign.to_string()));
    let mut sql = String::from(
        "WITH RECURSIVE ct(id) AS (SELECT id FROM campaigns WHERE id = ? \
           UNION ALL SELECT c.id FROM campaigns c JOIN ct ON c.parent_campaign_id = ct.id), \
         edges(parent, child) AS (SELECT p.parent_id, p.unit_id FROM unit_parents p \
           WHERE p.valid_from <= ? AND (p.valid_to IS NULL OR p.valid_to > ?)), ",
    );
    binds.extend([Param::Date(on), Param::Date(on)]);
    match t.level {
        Some(level) => {
            sql.push_str(
                "sub(id, depth) AS (SELECT CAST(? AS TEXT), 0 \
                   UNION SELECT e.child, sub.depth + 1 FROM edges e JOIN sub ON e.parent = sub.id), \
                 targets(id) AS (SELECT u.id FROM units u JOIN sub ON sub.id = u.id WHERE sub.depth > 0 \
                   AND u.level = ? AND (u.established_on IS NULL OR u.established_on <= ?) \
                   AND (u.closed_on IS NULL OR u.closed_on > ?)",
            );
            binds.push(Param::Text(t.launcher.to_string()));
            binds.extend([Param::Text(level.as_str().to_string()), Param::Date(on), Param::Date(on)]);
            if let Some(kind) = t.kind {
                sql.push_str(" AND u.kind = ?");
                binds.push(Param::Text(kind.to_string()));
            }
            sql.push_str("), ");
        }
        None => {
            sql.push_str("targets(id) AS (SELECT CAST(? AS TEXT)), ");
            binds.push(Param::Text(t.launcher.to_string()));
        }
    }
    let care = if t.include_predecessors {
        " UNION ALL SELECT s.successor_id, s.predecessor_id FROM unit_successors s WHERE s.is_primary"
    } else {
        ""
    };
    sql.push_str(&format!(
        "reach(parent, child) AS (SELECT parent, child FROM edges{care}), \
         below(anchor, id) AS (SELECT id, id FROM targets \
           UNION SELECT below.anchor, r.child FROM reach r JOIN below ON r.parent = below.id) "
    ));
    sql
}

/// Statuses of a model that has been registered and not withdrawn.
const REGISTERED: &str = "('registered', 'in_progress', 'recognized', 'not_recognized')";

/// How many target units there are.
pub fn count_units(conn: &mut DbConnection, t: &TargetScope<'_>) -> Result<i64, ApiError> {
    let mut binds = Vec::new();
    let sql = format!("{}SELECT CAST(COUNT(*) AS BIGINT) AS n FROM targets", target_ctes(t, &mut binds));
    Ok(load::<Number>(conn, &sql, &binds)?.first().map(|r| r.n).unwrap_or(0))
}

/// Target units that had, on `records_until`, a campaign implementing this one (directly or
/// further down): issued by then and not cancelled by then; with predecessors, a primary
/// predecessor's plan counts for its successor.
pub fn count_units_with_plan(conn: &mut DbConnection, t: &TargetScope<'_>) -> Result<i64, ApiError> {
    let mut binds = Vec::new();
    let ctes = target_ctes(t, &mut binds);
    let planners = if t.include_predecessors {
        "(c.unit_id = x.id OR c.unit_id IN (SELECT s.predecessor_id FROM unit_successors s \
           WHERE s.successor_id = x.id AND s.is_primary))"
    } else {
        "c.unit_id = x.id"
    };
    // A plan counts from its issue date; one cancelled since counts until the day it was.
    let sql = format!(
        "{ctes}SELECT CAST(COUNT(*) AS BIGINT) AS n FROM targets x WHERE EXISTS ( \
           SELECT 1 FROM campaigns c JOIN ct ON ct.id = c.id WHERE {planners} AND c.id <> ? \
           AND c.launched_at IS NOT NULL AND c.issued_on <= ? \
           AND (c.status IN ('active', 'closed') OR (c.status = 'cancelled' AND c.closed_at >= ?)))"
    );
    binds.push(Param::Text(t.campaign.to_string()));
    binds.push(Param::Date(t.records_until));
    binds.push(Param::Time(crate::db::start_of_day_in_vietnam(t.records_until + chrono::Duration::days(1))));
    Ok(load::<Number>(conn, &sql, &binds)?.first().map(|r| r.n).unwrap_or(0))
}

/// Target units under which (as the structure stood) a model of the campaign, or of one
/// implementing it, was registered on `records_until` for one of the years (its `year`, the year
/// it counts in however late it was typed in): registered by then and not yet returned or
/// withdrawn; with `per_model`, the number of such models instead.
pub fn count_models(
    conn: &mut DbConnection,
    t: &TargetScope<'_>,
    years: (i32, i32),
    per_model: bool,
) -> Result<i64, ApiError> {
    let mut binds = Vec::new();
    let ctes = target_ctes(t, &mut binds);
    let counted = if per_model { "m.id" } else { "b.anchor" };
    let sql = format!(
        "{ctes}SELECT CAST(COUNT(DISTINCT {counted}) AS BIGINT) AS n FROM below b JOIN models m ON m.unit_id = b.id \
         WHERE m.campaign_id IN (SELECT id FROM ct) AND m.year BETWEEN ? AND ? AND m.registered_on <= ? \
           AND (m.status IN {REGISTERED} OR (m.status IN ('returned', 'withdrawn') AND m.deregistered_on > ?))"
    );
    binds.extend([Param::Int(years.0), Param::Int(years.1)]);
    binds.extend([Param::Date(t.records_until), Param::Date(t.records_until)]);
    Ok(load::<Number>(conn, &sql, &binds)?.first().map(|r| r.n).unwrap_or(0))
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}
