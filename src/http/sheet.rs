//! Uploaded spreadsheets (CSV or XLSX) read into rows of text with their line numbers, the header
//! being line 1, so errors can name the row a person sees in Excel.

use std::io::Cursor;

use actix_web::HttpRequest;

use crate::error::{ApiError, FieldError};
use crate::http::export::{CSV, XLSX};

/// What an XLSX may unpack to: a zip of a few MiB can hold gigabytes of XML.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

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
        Upload::Csv => read_csv(bytes)?,
        Upload::Xlsx => read_xlsx(bytes)?,
    }
    .into_iter()
    .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((_, header)) = lines.next() else { return Err(invalid("the file is empty: it needs a header row")) };
    let rows: Vec<(u64, Vec<String>)> = lines.take(max_rows + 1).collect();
    if rows.is_empty() {
        return Err(invalid("the file has a header and no rows"));
    }
    if rows.len() > max_rows {
        return Err(ApiError::Unprocessable {
            code: "too_many_rows",
            detail: format!("a file holds at most {max_rows} rows; split it"),
            errors: vec![],
        });
    }
    Ok(Grid { header: header.into_iter().map(|h| h.trim().to_string()).collect(), rows })
}

fn read_csv(bytes: &[u8]) -> Result<Vec<(u64, Vec<String>)>, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::unprocessable("invalid_encoding", "a CSV file must be UTF-8 (Excel: CSV UTF-8)"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ApiError::Unprocessable {
            code: "invalid_file",
            detail: "the file is not valid CSV; nothing was changed".into(),
            errors: vec![FieldError::new("file", "malformed_row", e.to_string())
                .at_row(e.position().map(|p| p.line()).unwrap_or(0))],
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        out.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<(u64, Vec<String>)>, ApiError> {
    use calamine::{Data, Reader, Xlsx};
    let not_xlsx = || invalid("the file is not an XLSX workbook");
    // Check what the archive says it unpacks to before anything is inflated.
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let mut unpacked = 0u64;
    for i in 0..archive.len() {
        unpacked += archive.by_index_raw(i).map_err(|_| not_xlsx())?.size();
    }
    if unpacked > MAX_UNPACKED_BYTES || archive.len() > 1000 {
        return Err(ApiError::PayloadTooLarge { limit: MAX_UNPACKED_BYTES as usize });
    }
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    let range = match book.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        _ => return Err(invalid("the workbook has no readable first sheet")),
    };
    let first_line = range.start().map(|(row, _)| u64::from(row) + 1).unwrap_or(1);
    let first_col = range.start().map(|(_, col)| col as usize).unwrap_or(0);
    let text = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        // Excel stores every number as a float: 2024 comes back as 2024.0.
        Data::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        Data::Float(x) => x.to_string(),
        Data::Int(n) => n.to_string(),
        Data::Bool(b) => b.to_string(),
        // A date cell is days since 1899-12-30 (Excel's day 0, its 1900 leap-year bug included).
        Data::DateTime(d) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|day0| day0.checked_add_days(chrono::Days::new(d.as_f64().max(0.0) as u64)))
            .map(|day| day.to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    };
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            // Columns left of the used range are empty cells, so positions match the header's.
            let mut cells = vec![String::new(); first_col];
            cells.extend(row.iter().map(text));
            (first_line + i as u64, cells)
        })
        .collect())
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
