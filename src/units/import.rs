//! Bulk changes from the official unit lists: import (idempotent on code, all rows or none) and
//! reorganisation (close predecessors, name successors, carry on what continues).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::webhooks::types::EventType;

use super::rules::{self, UnitCode};
use super::store::{self, NewUnit};
use super::types::{ImportReport, Level, ReorganizeReport, UnitKind};
use crate::tree::UnitRow;

/// At most this many errors are listed; a file with more gets the first ones.
const MAX_ERRORS: usize = 100;

/// One row of a unit list: `code,name,level,division_type,parent_code` (+ optional
/// `short_name`, `kind`, default `locality`).
#[derive(Debug, Clone)]
pub struct UnitLine {
    pub line: u64,
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub level: Level,
    pub division_type: Option<String>,
    pub parent_code: Option<String>,
    /// The day the unit came into being, when the list says.
    pub established_on: Option<NaiveDate>,
}

/// One row of a succession list: `legacy_code,successor_code,is_primary`.
#[derive(Debug, Clone)]
pub struct SuccessionLine {
    pub line: u64,
    pub legacy_code: String,
    pub successor_code: String,
    pub is_primary: bool,
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, line: u64, column: &str, code: &str, message: impl Into<String>) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(FieldError::new(column, code, message).at_row(line));
        }
    }

    fn into_result(self, what: &str) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Unprocessable {
                code: "invalid_file",
                detail: format!(
                    "the {what} has errors (row is the file's line, the header being line 1); nothing was changed"
                ),
                errors: self.0,
            })
        }
    }
}

/// At most this many rows in one unit list: the whole country down to its villages fits.
pub const MAX_ROWS: usize = 250_000;

/// A file's header and its rows, each with its line number and its cells in header order: the
/// cells are kept as a list, not a map per row, so a list's size in memory stays near its size
/// on the wire.
struct CsvRows {
    headers: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

/// One row, its cells found by column name.
struct CsvRow<'a> {
    headers: &'a [String],
    cells: &'a [String],
}

impl CsvRow<'_> {
    fn get(&self, column: &str) -> Option<&String> {
        self.headers.iter().position(|h| h == column).and_then(|i| self.cells.get(i))
    }
}

impl CsvRows {
    fn iter(&self) -> impl Iterator<Item = (u64, CsvRow<'_>)> {
        self.rows.iter().map(|(line, cells)| (*line, CsvRow { headers: &self.headers, cells }))
    }
}

/// Reads a CSV text into rows of named columns, checking the header.
fn read_csv(text: &str, what: &str, required: &[&str], optional: &[&str]) -> Result<CsvRows, ApiError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let header =
        reader.headers().map_err(|e| ApiError::unprocessable("invalid_file", format!("the {what} is not CSV: {e}")))?;
    // Known columns, each once: a header of a million commas is refused before it is copied.
    let known = required.len() + optional.len();
    if header.len() > known + 16 {
        return Err(ApiError::unprocessable(
            "too_many_columns",
            format!("the {what} has {} columns; it takes {}", header.len(), [required, optional].concat().join(", ")),
        ));
    }
    let headers: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let mut errors = Errors(Vec::new());
    for column in required {
        if !headers.iter().any(|h| h == column) {
            errors.push(1, column, "missing_column", format!("the header needs a {column} column"));
        }
    }
    for (i, h) in headers.iter().enumerate() {
        if !required.contains(&h.as_str()) && !optional.contains(&h.as_str()) {
            errors.push(1, h, "unknown_column", format!("unknown column {h:?}"));
        } else if headers[..i].contains(h) {
            errors.push(1, h, "duplicate_column", format!("column {h:?} appears twice"));
        }
    }
    errors.into_result(what)?;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ApiError::Unprocessable {
                code: "invalid_file",
                detail: format!("the {what} is not valid CSV; nothing was changed"),
                errors: vec![FieldError::new("csv", "malformed_row", e.to_string()).at_row(line)],
            }
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(ApiError::unprocessable(
                "too_many_rows",
                format!("a {what} holds at most {MAX_ROWS} rows; split it"),
            ));
        }
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    if rows.is_empty() {
        return Err(ApiError::unprocessable("empty_file", format!("the {what} has no rows")));
    }
    Ok(CsvRows { headers, rows })
}

fn optional(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_string)
}

pub fn parse_units_csv(text: &str) -> Result<Vec<UnitLine>, ApiError> {
    let what = "unit list";
    let rows = read_csv(
        text,
        what,
        &["code", "name", "level", "parent_code"],
        &["division_type", "short_name", "kind", "established_on"],
    )?;
    let mut errors = Errors(Vec::new());
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut lines = Vec::with_capacity(rows.rows.len());
    for (line, row) in rows.iter() {
        let get = |c: &str| row.get(c).cloned().unwrap_or_default();
        let code = match UnitCode::parse(&get("code")) {
            Ok(c) => c.into_string(),
            Err(m) => {
                errors.push(line, "code", "invalid_code", m);
                continue;
            }
        };
        if let Some(first) = seen.insert(code.clone(), line) {
            errors.push(line, "code", "duplicate_code", format!("code {code} is also on line {first}"));
        }
        let name = rules::clean_text("name", &get("name"), 255);
        let level = Level::parse(get("level").as_str());
        let kind = match optional(row.get("kind")) {
            None => Some(UnitKind::Locality),
            Some(k) => UnitKind::parse(&k),
        };
        let short_name = optional(row.get("short_name")).map(|s| rules::clean_text("short_name", &s, 64)).transpose();
        let division_type =
            optional(row.get("division_type")).map(|s| rules::clean_text("division_type", &s, 64)).transpose();
        let parent_code = optional(row.get("parent_code"));
        let established_on = match optional(row.get("established_on")) {
            None => None,
            Some(d) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
                Ok(d) if d <= crate::db::today() => Some(d),
                Ok(_) => {
                    errors.push(line, "established_on", "in_future", "a unit came into being today or earlier");
                    None
                }
                Err(_) => {
                    errors.push(line, "established_on", "invalid_date", "must be a date, YYYY-MM-DD");
                    None
                }
            },
        };
        if let Some(p) = &parent_code {
            if let Err(m) = UnitCode::parse(p) {
                errors.push(line, "parent_code", "invalid_code", m);
            }
            if *p == code {
                errors.push(line, "parent_code", "cycle", "a unit cannot be its own parent");
            }
        }
        match (name, level, kind, short_name, division_type) {
            (Ok(name), Some(level), Some(kind), Ok(short_name), Ok(division_type)) if level != Level::Central => lines
                .push(UnitLine {
                    line,
                    code,
                    name,
                    short_name,
                    kind,
                    level,
                    division_type,
                    parent_code,
                    established_on,
                }),
            (name, level, kind, short_name, division_type) => {
                for e in [name.err(), short_name.err(), division_type.err()].into_iter().flatten() {
                    errors.push(line, &e.field, &e.code, e.message);
                }
                if !matches!(level, Some(l) if l != Level::Central) {
                    errors.push(line, "level", "invalid_level", "must be one of province, district, commune, village");
                }
                if kind.is_none() {
                    errors.push(line, "kind", "invalid_kind", format!("must be one of {}", UnitKind::names()));
                }
            }
        }
    }
    errors.into_result(what)?;
    Ok(lines)
}

pub fn parse_successions_csv(text: &str) -> Result<Vec<SuccessionLine>, ApiError> {
    let what = "succession list";
    let rows = read_csv(text, what, &["legacy_code", "successor_code", "is_primary"], &[])?;
    let mut errors = Errors(Vec::new());
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    let mut lines = Vec::with_capacity(rows.rows.len());
    for (line, row) in rows.iter() {
        let get = |c: &str| row.get(c).cloned().unwrap_or_default();
        let legacy = UnitCode::parse(&get("legacy_code"));
        let successor = UnitCode::parse(&get("successor_code"));
        let primary = match get("is_primary").to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Some(true),
            "0" | "false" | "no" | "" => Some(false),
            _ => None,
        };
        match (legacy, successor, primary) {
            (Ok(l), Ok(s), Some(p)) => {
                if let Some(first) = seen.insert((l.as_str().into(), s.as_str().into()), line) {
                    errors.push(line, "successor_code", "duplicate_pair", format!("the same pair is on line {first}"));
                }
                lines.push(SuccessionLine {
                    line,
                    legacy_code: l.into_string(),
                    successor_code: s.into_string(),
                    is_primary: p,
                })
            }
            (l, s, p) => {
                if let Err(m) = l {
                    errors.push(line, "legacy_code", "invalid_code", m);
                }
                if let Err(m) = s {
                    errors.push(line, "successor_code", "invalid_code", m);
                }
                if p.is_none() {
                    errors.push(line, "is_primary", "invalid_boolean", "must be 1 or 0");
                }
            }
        }
    }
    errors.into_result(what)?;
    Ok(lines)
}

/// What a line of a unit list resolves to.
#[derive(Clone)]
enum Target {
    /// An active unit already holds the code (its row as it is now).
    Existing(Box<UnitRow>),
    New,
}

/// The parent of a line: another line of the file, or a unit already in the database.
#[derive(Clone)]
enum ParentRef {
    Line(usize),
    Unit(Box<UnitRow>),
}

/// The ids and rows a unit list becomes: shared by import and reorganisation.
struct Plan {
    /// Per line: the final row.
    rows: Vec<UnitRow>,
    /// Per line: whether it is inserted (else updated or unchanged).
    new: Vec<bool>,
    /// Order in which lines can be inserted (parents first).
    order: Vec<usize>,
}

/// Resolves every line's target and parent, checks scope and placement, and computes the rows.
/// `targets[i]` says whether line i is an existing unit or a new one.
fn plan(
    lines: &[UnitLine],
    targets: &[Target],
    active: &HashMap<String, UnitRow>,
    closing: &HashSet<String>,
    scope: &HashSet<String>,
    actor_unit: &UnitRow,
    errors: &mut Errors,
) -> Result<Plan, ApiError> {
    let index: HashMap<&str, usize> = lines.iter().enumerate().map(|(i, l)| (l.code.as_str(), i)).collect();
    let now = crate::db::now();
    let mut parents: Vec<Option<ParentRef>> = Vec::with_capacity(lines.len());
    for line in lines {
        let parent = match &line.parent_code {
            None => Some(ParentRef::Unit(Box::new(actor_unit.clone()))),
            Some(pc) => match index.get(pc.as_str()) {
                Some(&i) => Some(ParentRef::Line(i)),
                None => match active.get(pc) {
                    Some(u) if !closing.contains(&u.id) && scope.contains(&u.id) => {
                        Some(ParentRef::Unit(Box::new(u.clone())))
                    }
                    _ => {
                        errors.push(
                            line.line,
                            "parent_code",
                            "unknown_parent",
                            format!("no active unit {pc} in the file or within your scope"),
                        );
                        None
                    }
                },
            },
        };
        if let Some(p) = &parent {
            let (pkind, plevel) = match p {
                ParentRef::Line(i) => (lines[*i].kind, lines[*i].level),
                ParentRef::Unit(u) => (u.kind, u.level),
            };
            if let Err(e) = rules::check_placement(line.kind, line.level, pkind, plevel) {
                errors.push(
                    line.line,
                    if e.field == "parent_id" { "parent_code" } else { &e.field },
                    &e.code,
                    e.message,
                );
            }
        }
        parents.push(parent);
    }
    // Depth within the file, to insert parents before children; a cycle is an error.
    let mut depth: Vec<Option<usize>> = vec![None; lines.len()];
    for (start, start_line) in lines.iter().enumerate() {
        let mut chain = vec![];
        let mut at = start;
        let mut cyclic = false;
        loop {
            if depth[at].is_some() {
                break;
            }
            if chain.contains(&at) {
                cyclic = true;
                break;
            }
            chain.push(at);
            match &parents[at] {
                Some(ParentRef::Line(p)) => at = *p,
                _ => break,
            }
        }
        if cyclic {
            errors.push(start_line.line, "parent_code", "cycle", "the parent codes of the file form a cycle");
            for i in chain {
                depth[i] = Some(0);
            }
            continue;
        }
        // `at` ends the chain when its parent is outside the file; else it is a line whose depth
        // is known and the chain hangs below it.
        let mut d = if chain.last() == Some(&at) { 0 } else { depth[at].map_or(0, |x| x + 1) };
        for &i in chain.iter().rev() {
            if depth[i].is_none() {
                depth[i] = Some(d);
            }
            d = depth[i].unwrap_or(0) + 1;
        }
    }
    if !errors.0.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "invalid_file",
            detail: "the unit list has errors; nothing was changed".into(),
            errors: std::mem::take(&mut errors.0),
        });
    }
    let mut rows: Vec<UnitRow> = Vec::with_capacity(lines.len());
    let mut new = Vec::with_capacity(lines.len());
    for (line, target) in lines.iter().zip(targets) {
        match target {
            Target::Existing(row) => {
                let mut row = (**row).clone();
                row.name = line.name.clone();
                if line.short_name.is_some() {
                    row.short_name = line.short_name.clone();
                }
                row.division_type = line.division_type.clone();
                row.kind = line.kind;
                if line.established_on.is_some() {
                    row.established_on = line.established_on;
                }
                row.refresh_search_text();
                rows.push(row);
                new.push(false);
            }
            Target::New => {
                let unit = NewUnit {
                    code: line.code.clone(),
                    name: line.name.clone(),
                    short_name: line.short_name.clone(),
                    kind: line.kind,
                    level: line.level,
                    division_type: line.division_type.clone(),
                    parent_id: String::new(),
                };
                let mut row = UnitRow::new(unit, now);
                row.established_on = line.established_on;
                rows.push(row);
                new.push(true);
            }
        }
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    for (row, parent) in rows.iter_mut().zip(&parents) {
        row.parent_id = match parent {
            Some(ParentRef::Line(i)) => Some(ids[*i].clone()),
            Some(ParentRef::Unit(u)) => Some(u.id.clone()),
            None => None,
        };
    }
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| depth[i].unwrap_or(0));
    Ok(Plan { rows, new, order })
}

/// Writes a plan: inserts (parents first), then updates of what changed. Returns (created,
/// updated, moved, unchanged) and the updated rows' before-images.
fn apply(
    conn: &mut DbConnection,
    plan: &Plan,
    before: &HashMap<String, UnitRow>,
    effective_on: NaiveDate,
) -> Result<(usize, usize, usize, usize), ApiError> {
    let now = crate::db::now();
    let inserts: Vec<UnitRow> = plan.order.iter().filter(|&&i| plan.new[i]).map(|&i| plan.rows[i].clone()).collect();
    store::insert(conn, &inserts)?;
    let (mut updated, mut moved, mut unchanged) = (0, 0, 0);
    for (i, row) in plan.rows.iter().enumerate() {
        if plan.new[i] {
            continue;
        }
        let old = &before[&row.id];
        if row == old {
            unchanged += 1;
            continue;
        }
        if row.parent_id != old.parent_id {
            moved += 1;
            crate::tree::record_move(conn, &row.id, row.parent_id.as_deref(), effective_on)?;
        }
        if (&row.name, &row.short_name, &row.division_type, &row.kind)
            != (&old.name, &old.short_name, &old.division_type, &old.kind)
        {
            updated += 1;
        }
        let mut row = row.clone();
        row.updated_at = now;
        row.version = old.version + 1;
        if !store::update(conn, &row, old.version)? {
            return Err(ApiError::conflict("concurrent_update", "a unit changed while the file was applied; retry"));
        }
    }
    Ok((inserts.len(), updated, moved, unchanged))
}

fn actor_context(conn: &mut DbConnection, actor: &Actor) -> Result<(UnitRow, HashSet<String>), ApiError> {
    actor.require(Role::Admin)?;
    let unit = crate::tree::find(conn, &actor.unit_id)?.ok_or(ApiError::NotFound)?;
    let scope: HashSet<String> = crate::tree::Subtree::of(&actor.unit_id).ids(conn)?.into_iter().collect();
    Ok((unit, scope))
}

/// Loads a unit list: rows whose code an active unit holds update it (name, type, parent; never
/// its level), the others are created. Idempotent: the same file again changes nothing.
pub fn import_units(conn: &mut DbConnection, actor: &Actor, lines: &[UnitLine]) -> Result<ImportReport, ApiError> {
    let (actor_unit, scope) = actor_context(conn, actor)?;
    let active = store::active_by_code(conn)?;
    let mut errors = Errors(Vec::new());
    let mut targets = Vec::with_capacity(lines.len());
    for line in lines {
        match active.get(&line.code) {
            Some(u) if u.id == actor_unit.id || !scope.contains(&u.id) => {
                errors.push(line.line, "code", "outside_scope", format!("unit {} is not below your unit", line.code));
                targets.push(Target::New);
            }
            Some(u) if u.level != line.level => {
                errors.push(
                    line.line,
                    "level",
                    "level_changed",
                    format!("unit {} is at {} level; a unit's level does not change", line.code, u.level),
                );
                targets.push(Target::New);
            }
            Some(u) => targets.push(Target::Existing(Box::new(u.clone()))),
            None => targets.push(Target::New),
        }
    }
    let plan = plan(lines, &targets, &active, &HashSet::new(), &scope, &actor_unit, &mut errors)?;
    let before: HashMap<String, UnitRow> = active.into_values().map(|r| (r.id.clone(), r)).collect();
    let (created, updated, moved, unchanged) = apply(conn, &plan, &before, crate::db::today())?;
    if created > 0 || moved > 0 {
        crate::tree::rebuild_closures(conn)?;
    }
    let report = ImportReport { dry_run: false, rows: lines.len(), created, updated: updated.max(moved), unchanged };
    if created + updated + moved > 0 {
        let created_codes: Vec<&str> =
            plan.rows.iter().zip(&plan.new).filter(|(_, n)| **n).map(|(r, _)| r.code.as_str()).collect();
        changes::record(
            conn,
            actor,
            Change::new("unit.import", "unit_import", &uuid::Uuid::now_v7().to_string(), Some(&actor.unit_id)),
            None::<&()>,
            Some(&serde_json::json!({"report": report, "created_codes": created_codes})),
        )?;
    }
    Ok(report)
}

/// What a legacy code of the succession list resolves to.
enum Legacy {
    /// The same unit carries on (same code, level and name in the new list).
    Continues,
    /// Closed, with its successors' codes (primary first).
    Closes(Box<UnitRow>, Vec<(String, bool)>),
    /// Closed by an earlier run of the same reorganisation.
    AlreadyApplied,
}

/// What the database holds that a reorganisation is planned against, read in its transaction.
pub struct Structure {
    /// The admin's unit, and the ids of its subtree (itself included).
    pub actor_unit: UnitRow,
    pub scope: HashSet<String>,
    /// Every active unit, by code.
    pub active: HashMap<String, UnitRow>,
    /// Units closed on the effective date, by code, with their successors' codes: a run of the
    /// same reorganisation already applied.
    pub applied: HashMap<String, Vec<String>>,
}

/// A reorganisation worked out, before anything is written.
pub struct Reorganization {
    /// What each legacy code of the succession list resolves to.
    legacy: HashMap<String, Legacy>,
    /// Active units whose code the new list gives to a different unit: closed with their parent.
    displaced: Vec<UnitRow>,
    /// The rows of the new list.
    plan: Plan,
}

/// Works out a reorganisation from the lists and the structure as it is: a pure function, so
/// that every rule of it is tested without a database. Refused whole (422, an error per line)
/// if any line breaks a rule.
pub fn plan_reorganization(
    known: &Structure,
    effective_on: NaiveDate,
    lines: &[UnitLine],
    pairs: &[SuccessionLine],
) -> Result<Reorganization, ApiError> {
    let Structure { actor_unit, scope, active, applied } = known;
    let new_list: HashMap<&str, &UnitLine> = lines.iter().map(|l| (l.code.as_str(), l)).collect();
    let mut errors = Errors(Vec::new());

    let mut by_legacy: Vec<(&str, Vec<&SuccessionLine>)> = Vec::new();
    let mut legacy_index: HashMap<&str, usize> = HashMap::new();
    for p in pairs {
        let i = *legacy_index.entry(p.legacy_code.as_str()).or_insert_with(|| {
            by_legacy.push((p.legacy_code.as_str(), Vec::new()));
            by_legacy.len() - 1
        });
        by_legacy[i].1.push(p);
    }

    let mut legacy: HashMap<String, Legacy> = HashMap::new();
    for (code, succ) in &by_legacy {
        let first_line = succ[0].line;
        for s in succ {
            if !new_list.contains_key(s.successor_code.as_str()) && !active.contains_key(&s.successor_code) {
                errors.push(
                    s.line,
                    "successor_code",
                    "unknown_successor",
                    format!("{} is neither in the new list nor an active unit", s.successor_code),
                );
            }
        }
        let primaries = succ.iter().filter(|s| s.is_primary).count();
        if succ.len() > 1 && primaries != 1 {
            errors.push(
                first_line,
                "is_primary",
                "one_primary",
                format!("{code} has {} successors and must mark exactly one primary", succ.len()),
            );
        }
        let resolved = if applied.contains_key(*code) {
            Legacy::AlreadyApplied
        } else if let Some(unit) = active.get(*code) {
            if unit.id == actor_unit.id || !scope.contains(&unit.id) {
                errors.push(first_line, "legacy_code", "outside_scope", format!("unit {code} is not below your unit"));
            }
            let same = new_list.get(code).is_some_and(|l| l.level == unit.level && l.name == unit.name)
                && succ.iter().any(|s| s.successor_code == *code);
            if same {
                Legacy::Continues
            } else {
                let successors =
                    succ.iter().map(|s| (s.successor_code.clone(), s.is_primary || succ.len() == 1)).collect();
                Legacy::Closes(Box::new(unit.clone()), successors)
            }
        } else {
            errors.push(first_line, "legacy_code", "unknown_unit", format!("no active unit has the code {code}"));
            continue;
        };
        legacy.insert(code.to_string(), resolved);
    }

    let closing: HashSet<String> = legacy
        .values()
        .filter_map(|l| match l {
            Legacy::Closes(u, _) => Some(u.id.clone()),
            _ => None,
        })
        .collect();
    // A code of the new list held by an active unit that the succession list does not close is
    // the same unit when it carries the same level and name, or when nothing above it closes
    // (a rename). Under a closing unit, with another name, it is a different unit: the old one
    // is displaced (closed with its parent) and the code goes to a new unit.
    let by_id: HashMap<&str, &UnitRow> = active.values().map(|u| (u.id.as_str(), u)).collect();
    let under_closing = |u: &UnitRow| {
        let mut at = u.parent_id.as_deref();
        while let Some(id) = at {
            if closing.contains(id) {
                return true;
            }
            at = by_id.get(id).and_then(|p| p.parent_id.as_deref());
        }
        false
    };
    let mut displaced: Vec<UnitRow> = Vec::new();
    let mut targets = Vec::with_capacity(lines.len());
    for line in lines {
        match active.get(&line.code) {
            Some(u) if !closing.contains(&u.id) => {
                let continues = matches!(legacy.get(&line.code), Some(Legacy::Continues));
                let same = u.level == line.level && u.name == line.name;
                if !continues && !same && under_closing(u) {
                    displaced.push(u.clone());
                    targets.push(Target::New);
                    continue;
                }
                if u.level != line.level {
                    errors.push(
                        line.line,
                        "level",
                        "level_changed",
                        format!("active unit {} is at {} level", line.code, u.level),
                    );
                }
                if u.id == actor_unit.id || !scope.contains(&u.id) {
                    errors.push(
                        line.line,
                        "code",
                        "outside_scope",
                        format!("unit {} is not below your unit", line.code),
                    );
                }
                targets.push(Target::Existing(Box::new(u.clone())));
            }
            _ => targets.push(Target::New),
        }
    }
    let mut closing = closing;
    closing.extend(displaced.iter().map(|u| u.id.clone()));
    let mut plan = plan(lines, &targets, active, &closing, scope, actor_unit, &mut errors)?;
    errors.into_result("reorganisation")?;
    // The units it creates come into being on its effective date.
    for (row, new) in plan.rows.iter_mut().zip(&plan.new) {
        if *new && row.established_on.is_none() {
            row.established_on = Some(effective_on);
        }
    }
    Ok(Reorganization { legacy, displaced, plan })
}

/// Applies a new structure: predecessors that carry on stay the same unit (moved under their new
/// parent), the others close on `effective_on` naming their successors, new units are created,
/// and every descendant of a closed unit that the new structure does not carry on closes with it.
/// Running the same reorganisation again changes nothing.
pub fn reorganize(
    conn: &mut DbConnection,
    actor: &Actor,
    effective_on: NaiveDate,
    lines: &[UnitLine],
    pairs: &[SuccessionLine],
) -> Result<ReorganizeReport, ApiError> {
    let (actor_unit, scope) = actor_context(conn, actor)?;
    let known = Structure {
        actor_unit,
        scope,
        active: store::active_by_code(conn)?,
        applied: store::closed_successions(conn, effective_on)?,
    };
    let reorganization = plan_reorganization(&known, effective_on, lines, pairs)?;
    apply_reorganization(conn, actor, effective_on, &known.active, reorganization)
}

/// Writes a planned reorganisation, with its audit record and its event.
fn apply_reorganization(
    conn: &mut DbConnection,
    actor: &Actor,
    effective_on: NaiveDate,
    active: &HashMap<String, UnitRow>,
    reorganization: Reorganization,
) -> Result<ReorganizeReport, ApiError> {
    let Reorganization { legacy, displaced, plan } = reorganization;
    let now = crate::db::now();
    // Close the predecessors first: that frees their codes for the units that reuse them. They
    // were read active in this transaction; a count that falls short means a concurrent change.
    let closing_ids: Vec<String> = legacy
        .values()
        .filter_map(|l| match l {
            Legacy::Closes(unit, _) => Some(unit.id.clone()),
            _ => None,
        })
        .chain(displaced.iter().map(|u| u.id.clone()))
        .collect();
    let closed = store::close_many(conn, &closing_ids, effective_on, now)?;
    if closed != closing_ids.len() {
        return Err(ApiError::conflict("concurrent_update", "a unit changed while the reorganisation ran; retry"));
    }
    // Displaced units count with the descendants closed along with their parents.
    let closed = closed - displaced.len();
    let before: HashMap<String, UnitRow> = active.values().map(|r| (r.id.clone(), r.clone())).collect();
    let (created, updated, moved, _) = apply(conn, &plan, &before, effective_on)?;
    let id_of: HashMap<&str, &str> = plan.rows.iter().map(|r| (r.code.as_str(), r.id.as_str())).collect();
    for l in legacy.values() {
        if let Legacy::Closes(unit, successors) = l {
            let resolved: Vec<(String, bool)> = successors
                .iter()
                .map(|(code, primary)| {
                    let id = id_of
                        .get(code.as_str())
                        .map(|s| s.to_string())
                        .or_else(|| active.get(code).map(|u| u.id.clone()));
                    (id.unwrap_or_default(), *primary)
                })
                .collect();
            store::add_successors(conn, &unit.id, &resolved)?;
        }
    }
    let orphans = store::close_orphans(conn, effective_on, now)?;
    crate::tree::rebuild_closures(conn)?;
    let report = ReorganizeReport {
        dry_run: false,
        effective_on: Some(effective_on),
        continued: legacy.values().filter(|l| matches!(l, Legacy::Continues)).count(),
        moved,
        created,
        updated,
        closed,
        closed_descendants: orphans.len() + displaced.len(),
        already_applied: legacy.values().filter(|l| matches!(l, Legacy::AlreadyApplied)).count(),
    };
    if created + updated + moved + closed + orphans.len() + displaced.len() > 0 {
        let closed_codes: Vec<&str> = legacy
            .values()
            .filter_map(|l| match l {
                Legacy::Closes(u, _) => Some(u.code.as_str()),
                _ => None,
            })
            .chain(displaced.iter().chain(&orphans).map(|o| o.code.as_str()))
            .collect();
        changes::record(
            conn,
            actor,
            Change::new("unit.reorganize", "reorganization", &uuid::Uuid::now_v7().to_string(), Some(&actor.unit_id))
                .announcing(EventType::UnitReorganized),
            None::<&()>,
            Some(&serde_json::json!({"report": report, "closed_codes": closed_codes})),
        )?;
    }
    Ok(report)
}

#[cfg(test)]
mod reorganization_plans {
    use super::*;
    use crate::units::store::NewUnit;

    /// The nation (the admin's unit, VN) with province P of the 2024 shape: districts D1
    /// (communes C1, C2) and D2 (commune C3); and province Q beside it.
    fn structure() -> Structure {
        let now = crate::db::now();
        let mut active: HashMap<String, UnitRow> = HashMap::new();
        let mut add = |code: &str, name: &str, level: Level, parent: Option<&str>| {
            let parent_id = parent.map(|p| active[p].id.clone()).unwrap_or_else(|| "root".into());
            let new = NewUnit {
                code: code.into(),
                name: name.into(),
                short_name: None,
                kind: UnitKind::Locality,
                level,
                division_type: None,
                parent_id,
            };
            active.insert(code.into(), UnitRow::new(new, now));
        };
        add("VN", "Việt Nam", Level::Central, None);
        add("P", "Tỉnh Hà Nam", Level::Province, Some("VN"));
        add("Q", "Tỉnh Ninh Bình", Level::Province, Some("VN"));
        add("D1", "Huyện Bình Lục", Level::District, Some("P"));
        add("D2", "Huyện Kim Bảng", Level::District, Some("P"));
        add("C1", "Xã Đồng Du", Level::Commune, Some("D1"));
        add("C2", "Xã An Đổ", Level::Commune, Some("D1"));
        add("C3", "Thị trấn Quế", Level::Commune, Some("D2"));
        let scope = active.values().map(|u| u.id.clone()).collect();
        Structure { actor_unit: active["VN"].clone(), scope, active, applied: HashMap::new() }
    }

    fn line(n: u64, code: &str, name: &str, level: Level, parent: Option<&str>) -> UnitLine {
        UnitLine {
            line: n,
            code: code.into(),
            name: name.into(),
            short_name: None,
            kind: UnitKind::Locality,
            level,
            division_type: None,
            parent_code: parent.map(str::to_string),
            established_on: None,
        }
    }

    fn pair(n: u64, legacy: &str, successor: &str, primary: bool) -> SuccessionLine {
        SuccessionLine { line: n, legacy_code: legacy.into(), successor_code: successor.into(), is_primary: primary }
    }

    /// The 2025 shape: the districts close into the province, C1 carries on under it, C2 and C3
    /// merge into CN.
    fn lists() -> (Vec<UnitLine>, Vec<SuccessionLine>) {
        let lines = vec![
            line(2, "P", "Tỉnh Hà Nam", Level::Province, Some("VN")),
            line(3, "C1", "Xã Đồng Du", Level::Commune, Some("P")),
            line(4, "CN", "Xã Kim Thanh", Level::Commune, Some("P")),
        ];
        let pairs = vec![
            pair(2, "D1", "P", true),
            pair(3, "D2", "P", true),
            pair(4, "C2", "CN", true),
            pair(5, "C3", "CN", true),
        ];
        (lines, pairs)
    }

    fn errors(result: Result<Reorganization, ApiError>) -> Vec<(Option<u64>, String, String)> {
        match result {
            Err(ApiError::Unprocessable { errors, .. }) => {
                errors.into_iter().map(|e| (e.row, e.field.to_string(), e.code.to_string())).collect()
            }
            Err(e) => panic!("not a refusal of lines: {e:?}"),
            Ok(_) => panic!("the plan was accepted"),
        }
    }

    #[test]
    fn districts_close_into_the_province_and_communes_merge() {
        let known = structure();
        let (lines, pairs) = lists();
        let on = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let r = plan_reorganization(&known, on, &lines, &pairs).unwrap();
        let closes = |code: &str| match &r.legacy[code] {
            Legacy::Closes(unit, successors) => (unit.code.clone(), successors.clone()),
            _ => panic!("{code} does not close"),
        };
        assert_eq!(closes("D1"), ("D1".into(), vec![("P".into(), true)]));
        assert_eq!(closes("C3"), ("C3".into(), vec![("CN".into(), true)]));
        assert!(r.displaced.is_empty());
        // C1 is the same unit, now under the province; CN is new, from the effective date.
        let c1 = &r.plan.rows[1];
        assert_eq!(
            (c1.id.as_str(), c1.parent_id.as_deref()),
            (known.active["C1"].id.as_str(), Some(known.active["P"].id.as_str()))
        );
        assert_eq!(r.plan.new, [false, false, true]);
        assert_eq!(r.plan.rows[2].established_on, Some(on));
        // Run again after it was applied: nothing closes twice.
        let mut again = structure();
        again.applied = ["D1", "D2", "C2", "C3"].iter().map(|c| (c.to_string(), vec![])).collect();
        let r = plan_reorganization(&again, on, &lines, &pairs).unwrap();
        assert!(r.legacy.values().all(|l| matches!(l, Legacy::AlreadyApplied)));
    }

    #[test]
    fn each_rule_names_the_line_that_breaks_it() {
        let known = structure();
        let (lines, _) = lists();
        let on = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let bad = vec![
            pair(2, "D1", "P", false),
            pair(3, "D1", "CN", false),
            pair(4, "C2", "NOWHERE", true),
            pair(5, "GONE", "P", true),
        ];
        let found = errors(plan_reorganization(&known, on, &lines, &bad));
        let has = |row: u64, field: &str, code: &str| found.contains(&(Some(row), field.to_string(), code.to_string()));
        assert!(has(2, "is_primary", "one_primary"), "{found:?}");
        assert!(has(4, "successor_code", "unknown_successor"), "{found:?}");
        assert!(has(5, "legacy_code", "unknown_unit"), "{found:?}");
        // An admin of P reorganises P's subtree only: Q is not below it.
        let mut of_p = structure();
        of_p.actor_unit = of_p.active["P"].clone();
        of_p.scope = ["P", "D1", "D2", "C1", "C2", "C3"].iter().map(|c| of_p.active[*c].id.clone()).collect();
        let lines_of_p = vec![line(2, "C1", "Xã Đồng Du", Level::Commune, Some("P"))];
        let found = errors(plan_reorganization(&of_p, on, &lines_of_p, &[pair(2, "Q", "C1", true)]));
        assert!(found.contains(&(Some(2), "legacy_code".into(), "outside_scope".into())), "{found:?}");
        // A line may not change the level of an active unit that carries on.
        let lines = vec![line(2, "C1", "Xã Đồng Du", Level::Village, Some("D1"))];
        let found = errors(plan_reorganization(&known, on, &lines, &[]));
        assert!(found.contains(&(Some(2), "level".into(), "level_changed".into())), "{found:?}");
    }

    #[test]
    fn a_code_given_to_another_unit_under_a_closing_parent_displaces_the_old_one() {
        let known = structure();
        let on = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        // C2's code now names a new commune under P; the old C2, under closing D1, is displaced.
        let lines = vec![
            line(2, "P", "Tỉnh Hà Nam", Level::Province, Some("VN")),
            line(3, "C2", "Xã Bình An", Level::Commune, Some("P")),
        ];
        let pairs = vec![pair(2, "D1", "P", true)];
        let r = plan_reorganization(&known, on, &lines, &pairs).unwrap();
        assert_eq!(r.displaced.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["C2"]);
        assert_eq!(r.plan.new, [false, true]);
    }
}
