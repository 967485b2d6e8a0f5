//! The two migration trees build one schema: on the database under test, every table and column
//! is the one `src/db/schema.rs` declares, with its type and nullability, once each backend's
//! idioms are evened out (`TIMESTAMP` and `timestamp without time zone`, `REAL` and `double
//! precision`…). Run on SQLite and on PostgreSQL, it holds the trees to each other.

use std::collections::BTreeMap;

use diesel::sql_types::{Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::helpers::*;

/// table → column → (type, nullable), as `schema.rs` declares them.
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

fn declared() -> Columns {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs")).unwrap();
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_suffix('{').and_then(|l| l.split_once(" (")).map(|(n, _)| n.to_string()) {
            current = Some(name);
        } else if let (Some(table), Some((column, ty))) = (&current, line.trim_end_matches(',').split_once(" -> ")) {
            let (ty, nullable) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                Some(inner) => (inner, true),
                None => (ty, false),
            };
            // print-schema writes PostgreSQL's names of diesel's types.
            let ty = match ty {
                "Int4" => "Integer",
                "Int8" => "BigInt",
                "Float8" => "Double",
                other => other,
            };
            tables.entry(table.clone()).or_default().insert(column.to_string(), (ty.to_string(), nullable));
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

/// The diesel type a backend's column type stands for.
fn diesel_type(sql: &str) -> String {
    match sql.to_lowercase().as_str() {
        "text" | "character varying" => "Text",
        "integer" | "int" | "int4" => "Integer",
        "bigint" | "int8" => "BigInt",
        "boolean" | "bool" => "Bool",
        "date" => "Date",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "double precision" | "double" | "real" | "float8" => "Double",
        other => return format!("unknown SQL type {other}"),
    }
    .to_string()
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    nullable: i32,
}

fn built(app: &TestApp) -> Columns {
    let mut conn = app.state.pool.get().unwrap();
    let sql = match conn.backend() {
        dvk::db::Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
               CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' \
               AND table_name <> '__diesel_schema_migrations'"
        }
        dvk::db::Backend::Sqlite => {
            // A primary key column is NOT NULL in the schema whether or not its DDL says so; an
            // INTEGER PRIMARY KEY is SQLite's 64-bit rowid, PostgreSQL's BIGINT. The search
            // index (models_search: FTS5 and its shadow tables, and its row numbers) is SQLite's
            // own, as pg_trgm's index is PostgreSQL's: no code reads it through the schema.
            "SELECT m.name AS table_name, c.name AS column_name, \
               CASE WHEN c.pk = 1 AND c.type = 'INTEGER' THEN 'BIGINT' ELSE c.type END AS data_type, \
               CASE WHEN c.\"notnull\" = 1 OR c.pk > 0 THEN 0 ELSE 1 END AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
               AND m.name NOT LIKE 'models_search%'"
        }
    };
    let rows: Vec<Column> = dvk::with_backend!(&mut *conn, |c| diesel::sql_query(sql).load(c)).unwrap();
    let mut tables = Columns::new();
    for r in rows {
        tables.entry(r.table_name).or_default().insert(r.column_name, (diesel_type(&r.data_type), r.nullable == 1));
    }
    tables
}

#[actix_web::test]
async fn the_migrations_build_the_schema_the_code_declares() {
    let app = TestApp::spawn().await;
    let (declared, built) = (declared(), built(&app));
    let mut differences = Vec::new();
    for table in declared.keys().chain(built.keys()).collect::<std::collections::BTreeSet<_>>() {
        let (d, b) = (declared.get(table), built.get(table));
        match (d, b) {
            (Some(_), None) => differences.push(format!("{table}: declared, not built")),
            (None, Some(_)) => differences.push(format!("{table}: built, not declared")),
            (Some(d), Some(b)) => {
                for column in d.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>() {
                    if d.get(column) != b.get(column) {
                        differences.push(format!(
                            "{table}.{column}: declared {:?}, built {:?}",
                            d.get(column),
                            b.get(column)
                        ));
                    }
                }
            }
            (None, None) => {}
        }
    }
    assert!(differences.is_empty(), "the schema and the migrations differ:\n{}", differences.join("\n"));
}

#[test]
fn both_trees_hold_the_same_migrations_but_the_search_indexes() {
    let names = |backend: &str| -> Vec<String> {
        let dir = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    // Each backend has its own trigram index of search: pg_trgm, and FTS5's trigram tokenizer.
    // PostgreSQL's delta tables are not truncated by VACUUM (SQLite's stay empty and are not vacuumed),
    // and its count tables leave room in each page for a fold's updates (SQLite has no folds).
    let postgres_only = [
        "2026-11-24-000004_search",
        "2026-12-01-000023_count_deltas_no_truncate",
        "2026-12-01-000024_count_rows_in_place",
    ];
    let postgres: Vec<String> = postgres.into_iter().filter(|n| !postgres_only.contains(&n.as_str())).collect();
    let sqlite: Vec<String> = sqlite.into_iter().filter(|n| n != "2026-11-30-000017_model_search_index").collect();
    assert_eq!(sqlite, postgres);
}
