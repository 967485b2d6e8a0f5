//! Uploaded spreadsheets (CSV or XLSX) read into rows of text with their line numbers, the header
//! being line 1, so errors can name the row a person sees in Excel.

use std::io::Cursor;

use actix_web::HttpRequest;

use crate::error::{ApiError, FieldError};
use crate::http::export::{CSV, XLSX};

/// What an uploaded spreadsheet may hold. A file's size on the wire says little about its size
/// in memory: a zip of a few KiB can declare a sheet of 17 billion cells, hold gigabytes of XML,
/// or announce millions of shared strings; a CSV line of commas is a row of thousands of cells.
/// Each limit is checked before anything of that size is built, and a file past one is refused
/// with a problem naming it.
pub mod limits {
    /// Columns of a sheet: the widest import has a few dozen.
    pub const MAX_COLUMNS: usize = 64;
    /// What the whole archive may unpack to (checked as it is inflated, not as it claims).
    pub const MAX_UNPACKED_BYTES: u64 = 48 * 1024 * 1024;
    /// What `sharedStrings.xml` may unpack to, and how many strings it may announce.
    pub const MAX_SHARED_STRINGS_BYTES: u64 = 16 * 1024 * 1024;
    pub const MAX_SHARED_STRINGS: usize = 500_000;
    /// Entries of the archive (parts, sheets, styles...).
    pub const MAX_ENTRIES: usize = 500;
    /// Rows a sheet may declare beyond the rows an import takes: blank and formatted rows.
    pub const SPARE_ROWS: usize = 10_000;
}

use limits::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    Csv,
    Xlsx,
}

impl Upload {
    /// The kind of file from `Content-Type`; anything else is 415.
    pub fn of(req: &HttpRequest) -> Result<Upload, ApiError> {
        let media = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match media.as_str() {
            CSV => Ok(Upload::Csv),
            m if m == XLSX => Ok(Upload::Xlsx),
            _ => Err(ApiError::UnsupportedMediaType { detail: format!("the file must be sent as {CSV} or {XLSX}") }),
        }
    }
}

/// A file's header and its non-empty rows, each with its line number.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::Unprocessable { code: "invalid_file", detail: detail.into(), errors: vec![] }
}

/// Reads `bytes` as `kind`, refusing more than `max_rows` rows.
pub fn read(kind: Upload, bytes: &[u8], max_rows: usize) -> Result<Grid, ApiError> {
    let mut lines = match kind {
        Upload::Csv => read_csv(bytes, max_rows)?,
        Upload::Xlsx => read_xlsx(bytes, max_rows)?,
    }
    .into_iter()
    .filter(|(_, cells)| !blank(cells));
    let Some((_, header)) = lines.next() else { return Err(invalid("the file is empty: it needs a header row")) };
    let rows: Vec<(u64, Vec<String>)> = lines.collect();
    if rows.is_empty() {
        return Err(invalid("the file has a header and no rows"));
    }
    if rows.len() > max_rows {
        return Err(too_many_rows(max_rows));
    }
    Ok(Grid { header: header.into_iter().map(|h| h.trim().to_string()).collect(), rows })
}

fn blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

fn too_many_rows(max_rows: usize) -> ApiError {
    ApiError::Unprocessable {
        code: "too_many_rows",
        detail: format!("a file holds at most {max_rows} rows; split it"),
        errors: vec![],
    }
}

/// The header and the non-blank rows, stopping as soon as there are more than `max_rows`.
fn read_csv(bytes: &[u8], max_rows: usize) -> Result<Vec<(u64, Vec<String>)>, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::unprocessable("invalid_encoding", "a CSV file must be UTF-8 (Excel: CSV UTF-8)"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(ApiError::Unprocessable {
                    code: "invalid_file",
                    detail: "the file is not valid CSV; nothing was changed".into(),
                    errors: vec![FieldError::new("file", "malformed_row", e.to_string())
                        .at_row(e.position().map(|p| p.line()).unwrap_or(0))],
                })
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // A line of commas is thousands of cells in a few KiB.
        if record.len() > MAX_COLUMNS {
            return Err(ApiError::Unprocessable {
                code: "too_many_columns",
                detail: format!("a row may have at most {MAX_COLUMNS} columns"),
                errors: vec![
                    FieldError::new("file", "too_many_columns", format!("{} columns", record.len())).at_row(line)
                ],
            });
        }
        out.push((line, record.iter().map(str::to_string).collect()));
        if out.len() > max_rows + 1 {
            return Err(too_many_rows(max_rows));
        }
    }
    Ok(out)
}

fn too_large(code: &'static str, detail: String) -> ApiError {
    ApiError::Unprocessable { code, detail, errors: vec![] }
}

/// Inflates every entry of the archive once, counting what it really unpacks to (a zip may lie
/// about its sizes), and checks the shared strings' announced count. Nothing is kept.
fn check_archive(bytes: &[u8]) -> Result<(), ApiError> {
    use std::io::Read;
    let not_xlsx = || invalid("the file is not an XLSX workbook");
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    if archive.len() > MAX_ENTRIES {
        return Err(too_large(
            "workbook_too_large",
            format!("a workbook may have at most {MAX_ENTRIES} parts; this one has {}", archive.len()),
        ));
    }
    let mut unpacked = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| not_xlsx())?;
        let shared_strings = entry.name().map_err(|_| not_xlsx())?.to_ascii_lowercase().ends_with("sharedstrings.xml");
        let mut head = Vec::new();
        let mut size = 0u64;
        loop {
            let n = entry.read(&mut chunk).map_err(|_| not_xlsx())?;
            if n == 0 {
                break;
            }
            size += n as u64;
            unpacked += n as u64;
            if unpacked > MAX_UNPACKED_BYTES {
                return Err(too_large(
                    "workbook_too_large",
                    format!("a workbook may unpack to at most {} MiB", MAX_UNPACKED_BYTES / (1024 * 1024)),
                ));
            }
            if shared_strings {
                if size > MAX_SHARED_STRINGS_BYTES {
                    return Err(too_large(
                        "too_many_shared_strings",
                        format!(
                            "a workbook's shared strings may unpack to at most {} MiB",
                            MAX_SHARED_STRINGS_BYTES / (1024 * 1024)
                        ),
                    ));
                }
                if head.len() < 4096 {
                    head.extend_from_slice(&chunk[..n.min(4096 - head.len())]);
                }
            }
        }
        if shared_strings {
            // calamine reserves room for `uniqueCount` strings before it reads one.
            if let Some(count) = announced_strings(&head) {
                if count > MAX_SHARED_STRINGS as u64 {
                    return Err(too_large(
                        "too_many_shared_strings",
                        format!("a workbook may hold at most {MAX_SHARED_STRINGS} shared strings; this one announces {count}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The `uniqueCount` (or `count`) of the `<sst>` element, if it says one; a value too long to
/// be a number counts as too many.
fn announced_strings(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let sst = text.find("sst")?;
    let tag = &text[sst..text[sst..].find('>').map_or(text.len(), |end| sst + end)];
    let mut most = None;
    for attr in ["uniqueCount=", "count="] {
        let Some(at) = tag.find(attr) else { continue };
        let value = tag[at + attr.len()..].trim_start_matches(['"', '\'']);
        let digits: String = value.chars().take_while(|c| c.is_ascii_digit()).collect();
        let n = if digits.len() > 18 { u64::MAX } else { digits.parse().unwrap_or(0) };
        most = Some(most.map_or(n, |m: u64| m.max(n)));
    }
    most
}

fn read_xlsx(bytes: &[u8], max_rows: usize) -> Result<Vec<(u64, Vec<String>)>, ApiError> {
    use calamine::{DataRef, Reader, Xlsx};
    check_archive(bytes)?;
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| invalid("the file is not an XLSX workbook"))?;
    let first = book.sheet_names().first().cloned().ok_or_else(|| invalid("the workbook has no sheet"))?;
    // Cells are read one at a time: calamine's `Range` is dense and would allocate the sheet's
    // whole bounding box, one far cell making it billions of cells.
    let mut cells =
        book.worksheet_cells_reader(&first).map_err(|_| invalid("the workbook has no readable first sheet"))?;
    let max_lines = max_rows + 1 + SPARE_ROWS;
    let dim = cells.dimensions();
    let declared_rows = u64::from(dim.end.0).saturating_sub(u64::from(dim.start.0)) + 1;
    let declared_cols = u64::from(dim.end.1).saturating_sub(u64::from(dim.start.1)) + 1;
    let sheet_too_large = |what: String| {
        too_large(
            "sheet_too_large",
            format!(
                "{what}; a sheet may span at most {max_lines} rows and {MAX_COLUMNS} columns (from A1 to {})",
                column_name(MAX_COLUMNS - 1)
            ),
        )
    };
    if declared_cols > MAX_COLUMNS as u64 || declared_rows > max_lines as u64 {
        return Err(sheet_too_large(format!("the sheet declares {declared_rows} rows and {declared_cols} columns")));
    }
    let text = |c: &DataRef| match c {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        // Excel stores every number as a float: 2024 comes back as 2024.0.
        DataRef::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        DataRef::Float(x) => x.to_string(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Bool(b) => b.to_string(),
        // A date cell is days since 1899-12-30 (Excel's day 0, its 1900 leap-year bug included).
        DataRef::DateTime(d) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|day0| day0.checked_add_days(chrono::Days::new(d.as_f64().max(0.0) as u64)))
            .map(|day| day.to_string())
            .unwrap_or_default(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
    };
    // Row number (0-based) to its cells; only rows that hold something are kept.
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = std::collections::BTreeMap::new();
    let mut seen = 0usize;
    while let Some(cell) = cells.next_cell().map_err(|_| invalid("the first sheet cannot be read"))? {
        let (row, col) = cell.get_position();
        // The declared dimension may lie: every cell is checked as it comes.
        if col as usize >= MAX_COLUMNS || row as usize >= max_lines {
            return Err(sheet_too_large(format!("the sheet has a cell at {}{}", column_name(col as usize), row + 1)));
        }
        seen += 1;
        if seen > max_lines * MAX_COLUMNS {
            return Err(sheet_too_large(format!("the sheet has more than {} cells", max_lines * MAX_COLUMNS)));
        }
        let value = text(cell.get_value());
        if value.is_empty() {
            continue;
        }
        let line = rows.entry(row).or_default();
        if line.len() <= col as usize {
            line.resize(col as usize + 1, String::new());
        }
        line[col as usize] = value;
    }
    Ok(rows.into_iter().map(|(row, cells)| (u64::from(row) + 1, cells)).collect())
}

/// `A`, `B`, … `Z`, `AA`: a column as Excel names it.
fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_line_numbers_and_skip_blank_ones() {
        let grid = read(Upload::Csv, "\u{feff}a,b\n1,2\n,\n3,\"x\ny\"\n".as_bytes(), 10).unwrap();
        assert_eq!(grid.header, ["a", "b"]);
        assert_eq!(grid.rows, vec![(2, vec!["1".into(), "2".into()]), (4, vec!["3".into(), "x\ny".into()])]);
    }

    #[test]
    fn bad_files_are_refused_without_panicking() {
        assert!(read(Upload::Csv, b"a\n1\n2\n3\n", 2).is_err(), "too many rows");
        assert!(read(Upload::Csv, b"\xff\xfe", 2).is_err());
        assert!(read(Upload::Csv, b"a,b\n", 2).is_err(), "no rows");
        assert!(read(Upload::Xlsx, b"a,b\n1,2\n", 2).is_err(), "CSV sent as XLSX");
        assert!(read(Upload::Xlsx, b"PK\x03\x04garbage", 2).is_err());
    }
}
