//! Models from the spreadsheets units already keep: one row a model, CSV or XLSX, all rows or
//! none. Each row goes through the same `create` as `POST /models`, so an import can do nothing
//! the API would refuse one model at a time.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Actor, Role};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::http::export::{Cell, Table};
use crate::http::sheet::Grid;
use crate::labels::{code_of, label, Lang};
use crate::units::types::Level;
use crate::vocabulary::{Field, ModelKind, SpecialArea, Subject};

use super::types::{CreateModel, Person};

/// Rows an import takes at most.
pub const MAX_ROWS: usize = 5_000;
/// Errors listed at most; a file with more gets the first ones.
const MAX_ERRORS: usize = 100;

/// One column of the template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateColumn {
    /// The column's code; a header may give it, or its Vietnamese or English label.
    pub key: &'static str,
    pub label: String,
    pub required: bool,
    /// The codes allowed (labels are accepted too, ignoring case and diacritics).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<&'static str>,
    pub description: &'static str,
}

/// The template: its columns, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Template {
    pub columns: Vec<TemplateColumn>,
    /// How many rows one file may hold.
    pub max_rows: usize,
}

/// The columns: (key, required, allowed codes, description).
const COLUMNS: &[(&str, bool, &str)] = &[
    ("unit_code", true, "The owning unit's code: an active unit of your subtree."),
    ("title", true, "1–500 characters."),
    ("description", false, "Up to 10,000 characters."),
    ("subject", true, "collective or individual."),
    ("person_full_name", false, "Required for an individual; empty for a collective."),
    ("person_position", false, "Required for an individual."),
    ("kind", true, "comprehensive or by_field."),
    ("field", false, "Required for a by-field model; empty for a comprehensive one."),
    ("special_areas", false, "Special-area tags separated by ';'."),
    ("registered_level", true, "The level it registers with: the owner's or above."),
    ("year", true, "The year within the campaign's period."),
    ("registered_on", false, "The day it was registered, YYYY-MM-DD (an Excel date too), when entered later; default: the day it is submitted."),
    ("objectives", false, "Up to 10,000 characters."),
];

/// Other headings people give a column, besides its code and labels.
const ALIASES: &[(&str, &str)] = &[
    ("Tên mô hình", "title"),
    ("Tên điển hình", "title"),
    ("Tên", "title"),
    ("Đơn vị", "unit_code"),
    ("Hình thức", "kind"),
];

fn column_named(heading: &str, keys: &[&'static str]) -> Option<&'static str> {
    code_of(heading, keys).or_else(|| {
        let folded = crate::http::text::fold(heading.trim());
        ALIASES.iter().find(|(alias, _)| crate::http::text::fold(alias) == folded).map(|(_, key)| *key)
    })
}

fn codes(key: &str) -> Vec<&'static str> {
    use crate::StrEnum;
    match key {
        "subject" => Subject::codes(),
        "kind" => ModelKind::codes(),
        "field" => Field::codes(),
        "special_areas" => SpecialArea::codes(),
        "registered_level" => Level::codes(),
        _ => vec![],
    }
}

pub fn template(lang: Lang) -> Template {
    Template {
        columns: COLUMNS
            .iter()
            .map(|(key, required, description)| TemplateColumn {
                key,
                label: label(lang, key),
                required: *required,
                values: codes(key),
                description,
            })
            .collect(),
        max_rows: MAX_ROWS,
    }
}

/// The template as a sheet: the header row of labels, nothing else.
pub fn template_table(lang: Lang) -> Table {
    Table {
        name: "models-import-template".into(),
        headings: COLUMNS.iter().map(|(key, _, _)| label(lang, key)).collect(),
        rows: vec![COLUMNS.iter().map(|_| Cell::Empty).collect()],
    }
}

/// What an import did, or would do on a dry run.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportedModels {
    pub dry_run: bool,
    pub campaign_id: String,
    pub created: usize,
    pub items: Vec<ImportedModel>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportedModel {
    /// The file's line (the header is line 1).
    pub row: u64,
    /// The new model's id (absent on a dry run: nothing was created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub unit_code: String,
    pub title: String,
}

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, row: u64, column: &str, code: &str, message: impl Into<String>) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(FieldError::new(column, code, message).at_row(row));
        }
    }
}

/// The column each header cell names, checked: every required column, none twice, none unknown.
fn columns(header: &[String], errors: &mut Errors) -> Vec<Option<&'static str>> {
    let keys: Vec<&'static str> = COLUMNS.iter().map(|(k, _, _)| *k).collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for h in header {
        match column_named(h, &keys) {
            Some(key) if seen.contains(&key) => {
                errors.push(1, key, "duplicate_column", format!("the column {h:?} appears twice"));
                out.push(None);
            }
            Some(key) => {
                seen.push(key);
                out.push(Some(key));
            }
            None if h.is_empty() => out.push(None),
            None => {
                errors.push(1, h, "unknown_column", format!("unknown column {h:?}; see the template"));
                out.push(None);
            }
        }
    }
    for (key, required, _) in COLUMNS {
        if *required && !seen.contains(key) {
            errors.push(
                1,
                key,
                "missing_column",
                format!("the header needs a {key} column ({})", label(Lang::Vi, key)),
            );
        }
    }
    out
}

/// Where a `CreateModel` field's error shows in the file.
fn column_of(field: &str) -> String {
    match field {
        "unit_id" => "unit_code".into(),
        "person" | "person.full_name" => "person_full_name".into(),
        "person.position" => "person_position".into(),
        f if f.starts_with("special_areas") => "special_areas".into(),
        f => f.to_string(),
    }
}

/// One row as the request `POST /models` would take, or what is wrong with it.
fn parse_row(
    row: u64,
    cells: HashMap<&'static str, String>,
    campaign_id: &str,
    units: &HashMap<String, Option<String>>,
    errors: &mut Errors,
) -> Option<CreateModel> {
    let before = errors.0.len();
    let text = |k: &str| cells.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let code = |key: &str, errors: &mut Errors| -> Option<&'static str> {
        let raw = text(key)?;
        let allowed = codes(key);
        let found = code_of(&raw, &allowed);
        if found.is_none() {
            errors.push(row, key, "invalid_value", format!("{raw:?} is not one of {}", allowed.join(", ")));
        }
        found
    };
    let unit_code = text("unit_code").unwrap_or_default();
    let unit_id = units.get(&unit_code).cloned().flatten();
    if unit_id.is_none() {
        errors.push(row, "unit_code", "unknown_unit", format!("no active unit {unit_code:?} in your subtree"));
    }
    let subject = code("subject", errors).and_then(Subject::parse);
    let kind = code("kind", errors).and_then(ModelKind::parse);
    let field = code("field", errors).and_then(Field::parse);
    let registered_level = code("registered_level", errors).and_then(Level::parse);
    let mut special_areas = Vec::new();
    for tag in text("special_areas").unwrap_or_default().split([';', ',']).map(str::trim).filter(|t| !t.is_empty()) {
        match code_of(tag, &codes("special_areas")).and_then(SpecialArea::parse) {
            Some(a) if !special_areas.contains(&a) => special_areas.push(a),
            Some(_) => {}
            None => errors.push(row, "special_areas", "invalid_value", format!("{tag:?} is not a special area")),
        }
    }
    let year = match text("year").map(|y| y.parse::<i32>()) {
        Some(Ok(y)) => Some(y),
        Some(Err(_)) => {
            errors.push(row, "year", "invalid_value", "must be a year, e.g. 2025");
            None
        }
        None => None,
    };
    for (key, missing) in [
        ("title", text("title").is_none()),
        ("subject", text("subject").is_none()),
        ("kind", text("kind").is_none()),
        ("registered_level", text("registered_level").is_none()),
        ("year", text("year").is_none()),
    ] {
        if missing {
            errors.push(row, key, "required", "must not be empty");
        }
    }
    let registered_on = match text("registered_on").map(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")) {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            errors.push(row, "registered_on", "invalid_value", "must be a date, e.g. 2023-05-12");
            None
        }
        None => None,
    };
    let person = match (text("person_full_name"), text("person_position")) {
        (None, None) => None,
        (full_name, position) => {
            Some(Person { full_name: full_name.unwrap_or_default(), position: position.unwrap_or_default() })
        }
    };
    if errors.0.len() > before {
        return None;
    }
    let input = CreateModel {
        campaign_id: campaign_id.to_string(),
        unit_id,
        title: text("title")?,
        description: text("description"),
        subject: subject?,
        person,
        kind: kind?,
        field,
        special_areas,
        registered_level: registered_level?,
        registered_on,
        year: year?,
        objectives: text("objectives"),
        indicators: vec![],
        replicated_from_id: None,
    };
    if let Err(e) = input.validate() {
        for f in crate::http::json::field_errors(&e) {
            errors.push(row, &column_of(&f.field), &f.code, f.message);
        }
        return None;
    }
    Some(input)
}

/// Creates a model per row, in the caller's transaction: every row is tried so the caller learns
/// every fault at once; any fault fails the whole import (the transaction rolls back).
pub fn import(
    conn: &mut DbConnection,
    actor: &Actor,
    campaign_id: &str,
    grid: &Grid,
    dry_run: bool,
) -> Result<ImportedModels, ApiError> {
    actor.require(Role::Editor)?;
    crate::campaigns::service::visible(conn, actor, campaign_id).map_err(|e| {
        e.unresolved("campaign_id", "unknown_campaign", "no such campaign, or it is outside your scope")
    })?;
    let mut errors = Errors(Vec::new());
    let columns = columns(&grid.header, &mut errors);
    if !errors.0.is_empty() {
        return Err(invalid(errors));
    }
    // Unit codes resolve within the caller's subtree, once each.
    let mut units: HashMap<String, Option<String>> = HashMap::new();
    let unit_column = columns.iter().position(|c| *c == Some("unit_code"));
    for (_, cells) in &grid.rows {
        let code = unit_column.and_then(|i| cells.get(i)).map(|c| c.trim().to_string()).unwrap_or_default();
        if let std::collections::hash_map::Entry::Vacant(slot) = units.entry(code) {
            let id = match crate::tree::unit_ref_by_code(conn, slot.key())? {
                Some(u) if u.active && crate::tree::Subtree::of(&actor.unit_id).holds(conn, &u.id)? => Some(u.id),
                _ => None,
            };
            slot.insert(id);
        }
    }
    let mut items = Vec::new();
    for (row, cells) in &grid.rows {
        let named: HashMap<&'static str, String> =
            columns.iter().zip(cells.iter()).filter_map(|(c, v)| c.map(|c| (c, v.clone()))).collect();
        let unit_code = named.get("unit_code").map(|c| c.trim().to_string()).unwrap_or_default();
        let Some(input) = parse_row(*row, named, campaign_id, &units, &mut errors) else { continue };
        let title = input.title.clone();
        match super::service::create(conn, actor, input) {
            Ok(m) => items.push(ImportedModel { row: *row, id: (!dry_run).then_some(m.id), unit_code, title }),
            Err(ApiError::Unprocessable { errors: faults, .. }) => {
                for f in faults {
                    errors.push(*row, &column_of(&f.field), &f.code, f.message);
                }
            }
            // Anything else (the database, the caller's role) is not the file's fault.
            Err(other) => return Err(other),
        }
    }
    if !errors.0.is_empty() {
        return Err(invalid(errors));
    }
    Ok(ImportedModels { dry_run, campaign_id: campaign_id.to_string(), created: items.len(), items })
}

fn invalid(errors: Errors) -> ApiError {
    ApiError::Unprocessable {
        code: "invalid_file",
        detail: "the file has errors (row is the file's line, the header being line 1); nothing was created".into(),
        errors: errors.0,
    }
}
