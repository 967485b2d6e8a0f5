//! Every list and report as JSON, CSV or XLSX, chosen by `Accept`: written once for all of them.
//!
//! CSV is UTF-8 with a byte-order mark, so Excel shows Vietnamese as it is; XLSX has a bold,
//! frozen header row and columns as wide as their contents. Headings and enum values are labels in
//! `lang` (Vietnamese by default); JSON keeps the codes.

use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;

use crate::db::Pool;
use crate::error::ApiError;
use crate::labels::{label, Lang};

pub const CSV: &str = "text/csv";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Rows a spreadsheet answer may hold: a page of a list, as `limit` asks (default and maximum).
pub const MAX_EXPORT_ROWS: i64 = 10_000;

/// The representation the caller accepts, from `Accept` (JSON when it says nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn of(req: &HttpRequest) -> Result<Format, ApiError> {
        let Some(raw) = req.headers().get(header::ACCEPT) else { return Ok(Format::Json) };
        let raw = raw.to_str().map_err(|_| not_acceptable())?;
        // Media ranges by preference (q, then order); the first we can produce wins.
        let mut ranges: Vec<(f32, usize, &str)> = raw
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let media = bits.next()?.trim();
                let q = bits
                    .filter_map(|b| b.trim().strip_prefix("q="))
                    .next()
                    .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
                    .unwrap_or(1.0);
                (q > 0.0 && !media.is_empty()).then_some((q, i, media))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, _, media) in ranges {
            match media.to_ascii_lowercase().as_str() {
                "application/json" | "application/*" | "*/*" | "application/problem+json" => return Ok(Format::Json),
                "text/csv" | "text/*" => return Ok(Format::Csv),
                m if m == XLSX => return Ok(Format::Xlsx),
                _ => {}
            }
        }
        Err(not_acceptable())
    }

    pub fn is_spreadsheet(self) -> bool {
        self != Format::Json
    }

    /// The page size of a list in this format: 1–200 (default 50) as JSON; up to 10,000 (the
    /// default) in a spreadsheet, which people want whole.
    pub fn limit(self, requested: Option<i64>) -> Result<i64, ApiError> {
        if !self.is_spreadsheet() {
            return crate::http::pagination::limit(requested);
        }
        crate::http::pagination::limit_between(requested, MAX_EXPORT_ROWS, MAX_EXPORT_ROWS, " in CSV and XLSX")
    }
}

fn not_acceptable() -> ApiError {
    ApiError::NotAcceptable { detail: format!("this resource is available as application/json, {CSV} and {XLSX}") }
}

impl FromRequest for Format {
    type Error = ApiError;
    type Future = Ready<Result<Format, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Format::of(req))
    }
}

/// One cell of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Empty,
}

/// A sheet: a name, the headings and the rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The answer in `format` (a spreadsheet one), named `name` for the download.
    pub fn respond(&self, format: Format) -> Result<HttpResponse, ApiError> {
        let (body, content_type, ext) = match format {
            Format::Csv => (self.to_csv()?, "text/csv; charset=utf-8", "csv"),
            Format::Xlsx => (self.to_xlsx()?, XLSX, "xlsx"),
            Format::Json => return Err(ApiError::internal("a table asked for as JSON")),
        };
        Ok(HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.{ext}\"", file_name(&self.name)),
            ))
            .body(body))
    }

    pub fn to_csv(&self) -> Result<Vec<u8>, ApiError> {
        let mut out = Vec::with_capacity(64 * (self.rows.len() + 1));
        out.extend_from_slice("\u{feff}".as_bytes());
        let mut w = csv::Writer::from_writer(out);
        let fail = |e: csv::Error| ApiError::internal(format!("writing CSV: {e}"));
        w.write_record(&self.headings).map_err(fail)?;
        for row in &self.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Text(s) => defuse(s),
                Cell::Int(n) => n.to_string(),
                Cell::Float(x) => x.to_string(),
                Cell::Empty => String::new(),
            }))
            .map_err(fail)?;
        }
        w.into_inner().map_err(|e| ApiError::internal(format!("writing CSV: {e}")))
    }

    pub fn to_xlsx(&self) -> Result<Vec<u8>, ApiError> {
        use rust_xlsxwriter::{Format as CellFormat, Workbook};
        let fail = |e: rust_xlsxwriter::XlsxError| ApiError::internal(format!("writing XLSX: {e}"));
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&self.name)).map_err(fail)?;
        let bold = CellFormat::new().set_bold();
        let mut widths: Vec<usize> = self.headings.iter().map(|h| h.chars().count()).collect();
        for (c, h) in self.headings.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold).map_err(fail)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let width = match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c as u16, s).map_err(fail)?;
                        s.chars().count()
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, c as u16, *n as f64).map_err(fail)?;
                        n.to_string().len()
                    }
                    Cell::Float(x) => {
                        sheet.write_number(r, c as u16, *x).map_err(fail)?;
                        x.to_string().len()
                    }
                    Cell::Empty => 0,
                };
                if let Some(w) = widths.get_mut(c) {
                    *w = (*w).max(width);
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            sheet.set_column_width(c as u16, (*w).clamp(8, 60) as f64 + 2.0).map_err(fail)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(fail)?;
        book.save_to_buffer().map_err(fail)
    }
}

/// A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
/// leading apostrophe: records typed by strangers must not execute on an official's machine.
fn defuse(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// A file name that is plain ASCII (a header value must be): `targets-07-KH/BĐ` →
/// `targets-07-KH-BD`.
fn file_name(name: &str) -> String {
    let folded = crate::http::text::fold(name);
    let clean: String = folded
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .take(100)
        .collect();
    if clean.is_empty() {
        "export".into()
    } else {
        clean
    }
}

/// Excel allows 31 characters and none of `[]:*?/\` in a sheet name.
fn sheet_name(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    if clean.is_empty() {
        "Sheet1".into()
    } else {
        clean
    }
}

/// A list item as a spreadsheet row: its columns are paths into its JSON (`person.full_name`).
/// Columns that hold a unit's id (`…unit_id`, a unit's `parent_id`) show the unit's code and name.
pub trait Tabular: Serialize {
    const COLUMNS: &'static [&'static str];
}

/// A page of a list, as every list answers.
pub trait Page: Serialize {
    type Item: Tabular;
    /// The file name of its spreadsheet.
    const NAME: &'static str;
    fn items(&self) -> &[Self::Item];
    fn next_cursor(&self) -> Option<&str>;
}

/// `page!(ModelPage, Model, "models")`: the page type `ModelPage { items, next_cursor }` lists
/// `Model`s in a sheet named "models".
#[macro_export]
macro_rules! page {
    ($page:ty, $item:ty, $name:literal) => {
        impl $crate::http::export::Page for $page {
            type Item = $item;
            const NAME: &'static str = $name;
            fn items(&self) -> &[$item] {
                &self.items
            }
            fn next_cursor(&self) -> Option<&str> {
                self.next_cursor.as_deref()
            }
        }
    };
}

/// Columns whose values are codes with labels.
const ENUM_COLUMNS: &[&str] = &[
    "kind",
    "level",
    "status",
    "field",
    "fields",
    "subject",
    "special_areas",
    "registered_level",
    "review_kind",
    "verdict",
    "decision",
    "form",
    "issuing_authority",
    "issuer_level",
    "issuer_snapshot.level",
    "recipient.subject",
    "recipient_subject",
    "unit.level",
    "roles",
];

fn is_unit_column(path: &str) -> bool {
    path.ends_with("unit_id") || path == "parent_id"
}

/// A page of a list in the format asked for: JSON as it is, or a sheet of its items with the next
/// page's cursor in `X-Next-Cursor`.
pub async fn respond<P: Page>(pool: &Pool, format: Format, lang: Lang, page: P) -> Result<HttpResponse, ApiError> {
    if !format.is_spreadsheet() {
        return Ok(HttpResponse::Ok().json(&page));
    }
    let rows = page
        .items()
        .iter()
        .map(|item| serde_json::to_value(item).map_err(|e| ApiError::internal(format!("serialising a row: {e}"))))
        .collect::<Result<Vec<Value>, _>>()?;
    let ids: Vec<String> = rows
        .iter()
        .flat_map(|row| P::Item::COLUMNS.iter().filter(|c| is_unit_column(c)).map(|c| lookup(row, c)))
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let names = if ids.is_empty() {
        HashMap::new()
    } else {
        crate::db::read(pool, move |conn| crate::tree::names(conn, &ids)).await?
    };
    let table = Table {
        name: P::NAME.to_string(),
        headings: P::Item::COLUMNS.iter().map(|c| label(lang, c)).collect(),
        rows: rows
            .iter()
            .map(|row| P::Item::COLUMNS.iter().map(|path| cell(lang, path, lookup(row, path), &names)).collect())
            .collect(),
    };
    let mut res = table.respond(format)?;
    if let Some(cursor) = page.next_cursor() {
        if let Ok(v) = header::HeaderValue::from_str(cursor) {
            res.headers_mut().insert(header::HeaderName::from_static("x-next-cursor"), v);
        }
    }
    Ok(res)
}

fn lookup<'a>(json: &'a Value, path: &str) -> &'a Value {
    path.split('.').try_fold(json, |v, key| v.get(key)).unwrap_or(&Value::Null)
}

fn cell(lang: Lang, path: &str, v: &Value, units: &HashMap<String, String>) -> Cell {
    let labelled = ENUM_COLUMNS.contains(&path);
    let text = |s: &str| if labelled { label(lang, s) } else { s.to_string() };
    match v {
        Value::Null => Cell::Empty,
        Value::String(s) if is_unit_column(path) => Cell::Text(units.get(s).cloned().unwrap_or_else(|| s.clone())),
        Value::Bool(b) => Cell::Text(label(lang, if *b { "yes" } else { "no" })),
        Value::Number(n) => n.as_i64().map(Cell::Int).unwrap_or_else(|| Cell::Float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => Cell::Text(text(s)),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            Cell::Text(items.iter().filter_map(Value::as_str).map(text).collect::<Vec<_>>().join("; "))
        }
        other => Cell::Text(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn format(accept: &str) -> Result<Format, ApiError> {
        Format::of(&TestRequest::default().insert_header((header::ACCEPT, accept)).to_http_request())
    }

    #[test]
    fn accept_picks_the_preferred_format_we_make() {
        assert_eq!(Format::of(&TestRequest::default().to_http_request()).unwrap(), Format::Json);
        assert_eq!(format("text/csv").unwrap(), Format::Csv);
        assert_eq!(format(XLSX).unwrap(), Format::Xlsx);
        assert_eq!(format("text/csv;q=0.5, application/json").unwrap(), Format::Json);
        assert_eq!(format("image/png, text/csv;q=0.1").unwrap(), Format::Csv);
        assert_eq!(format("*/*").unwrap(), Format::Json);
        assert!(format("image/png").is_err());
        assert!(format("text/csv;q=0").is_err());
    }

    #[test]
    fn file_names_are_plain_ascii() {
        assert_eq!(file_name("targets-07-KH/BCĐ"), "targets-07-kh-bcd");
        assert_eq!(file_name(""), "export");
    }

    #[test]
    fn csv_has_a_bom_and_defuses_formulas() {
        let t = Table {
            name: "x".into(),
            headings: vec!["Tên".into(), "Số".into()],
            rows: vec![vec![Cell::Text("=1+1".into()), Cell::Int(-3)]],
        };
        let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
        assert_eq!(csv, "\u{feff}Tên,Số\n'=1+1,-3\n");
    }
}
