//! The layering of `src/`, read from the source: the foundations (`http`, `auth`, `db`) know no
//! resource; a resource's SQL (its `store`) is its own, and other modules read only what its
//! `mod.rs` publishes; the unit tree is the one thing every resource shares.

use std::path::{Path, PathBuf};

/// The resources: each owns its tables and its `store`.
const RESOURCES: &[&str] = &[
    "attachments",
    "audit",
    "campaigns",
    "certificates",
    "commendations",
    "decisions",
    "evaluations",
    "models",
    "public",
    "reports",
    "service_accounts",
    "units",
    "webhooks",
];

/// Modules every resource builds on, which must not know any resource.
const FOUNDATIONS: &[&str] = &["http", "auth", "db"];

/// The one way a foundation reaches a resource, and why: a service account's token holds only
/// while the account is active, so authentication asks the accounts' store on each request.
const ALLOWED: &[(&str, &str)] = &[("src/auth/mod.rs", "crate::service_accounts::")];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

/// Lines of `text` that are code, not comments.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with("//")).map(|(i, l)| (i + 1, l))
}

#[test]
fn foundations_know_no_resource() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if !FOUNDATIONS.iter().any(|f| path.starts_with(&format!("src/{f}/")) || path == format!("src/{f}.rs")) {
            continue;
        }
        for (n, line) in code_lines(&text) {
            for r in RESOURCES {
                let name = format!("crate::{r}::");
                if line.contains(&name) && !ALLOWED.contains(&(path.as_str(), name.as_str())) {
                    found.push(format!("{path}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "a foundation imports a resource:\n{}", found.join("\n"));
}

#[test]
fn a_resources_store_is_its_own() {
    let files = sources();
    let mut found = Vec::new();
    for r in RESOURCES {
        let module = files.iter().find(|(p, _)| *p == format!("src/{r}/mod.rs")).expect("a resource module");
        if module.1.lines().any(|l| l.trim() == "pub mod store;") {
            found.push(format!("src/{r}/mod.rs: `pub mod store;` lets any module use its SQL"));
        }
        for (path, text) in &files {
            if path.starts_with(&format!("src/{r}/")) {
                continue;
            }
            for (n, line) in code_lines(text) {
                if line.contains(&format!("{r}::store")) {
                    found.push(format!("{path}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "another resource's store is used:\n{}", found.join("\n"));
}

#[test]
fn the_tree_is_a_foundation_too() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if !path.starts_with("src/tree/") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            // Rebuilding the closures recounts and reindexes the models per scope, which follow
            // the tree.
            if RESOURCES.iter().any(|r| line.contains(&format!("crate::{r}::")))
                && !line.contains("crate::reports::counts::recount")
                && !line.contains("crate::models::rebuild_scope_index")
            {
                found.push(format!("{path}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "the tree imports a resource:\n{}", found.join("\n"));
}

/// A day the records give (a plan issued, a model evaluated or recognised) is a day in Vietnam:
/// the date of a UTC timestamp is the day before from midnight to 07:00 there. Only `db` turns
/// moments into days.
#[test]
fn days_are_taken_in_vietnam() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if path == "src/db/mod.rs" {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if line.contains(".date_naive()") || line.contains("now.date()") || line.contains("now().date()") {
                found.push(format!("{path}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "a UTC date taken as a day (use db::today or db::day_in_vietnam):\n{}", found.join("\n"));
}

#[test]
fn every_closed_set_of_codes_is_checked_for_labels() {
    let files = sources();
    let labels = &files.iter().find(|(p, _)| p == "src/labels.rs").expect("labels.rs").1;
    let mut unchecked = Vec::new();
    for (path, text) in &files {
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if line.trim() != "str_enum! {" {
                continue;
            }
            let name = lines
                .by_ref()
                .find_map(|l| l.trim().strip_prefix("pub enum ").map(|r| r.trim_end_matches(" {").to_string()))
                .expect("an enum in str_enum!");
            if !labels.contains(&format!("::{name},")) {
                unchecked.push(format!("{path}: {name}"));
            }
        }
    }
    assert!(unchecked.is_empty(), "add these to labels.rs's every_code test: {unchecked:?}");
}

/// A row inserted from a struct whose `Option` fields mean `DEFAULT` is a statement diesel never
/// prepares (its type does not fix its SQL), so PostgreSQL would parse and plan every insert of
/// it, and a chain of writes holding it (`db::Writes`) too. No column has a default a `None`
/// could stand for, so every row type inserts `None` as `NULL`.
#[test]
fn every_row_insert_is_prepared_once() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("#[derive(") && line.contains("Insertable") {
                let attrs = lines[i + 1..].iter().take_while(|l| l.trim_start().starts_with("#["));
                if !attrs.clone().any(|l| l.contains("treat_none_as_default_value = false")) {
                    found.push(format!("{path}:{}", i + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "Insertable without treat_none_as_default_value = false:\n{}", found.join("\n"));
}
