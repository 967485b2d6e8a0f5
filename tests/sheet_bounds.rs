//! Hostile workbooks (issue 14): a sheet that declares or holds a far cell, many sheets, shared
//! strings that announce or hold millions of entries, a deflate bomb. Reading any of them must
//! answer (Ok or a problem) without aborting, and never allocate more than `BOUND` at once.
//!
//! A test binary of its own, because it counts every allocation of the process with a global
//! allocator; the cases run one after another on one thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use dvk::http::sheet::{self, Upload};
use proptest::prelude::*;

/// The most a read may hold at once, whatever the workbook: the limits of `sheet::limits` keep
/// a worst case (48 MiB unpacked, 16 MiB of shared strings) well under it.
const BOUND: usize = 256 * 1024 * 1024;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One case at a time: the peak is the process's.
static SERIAL: Mutex<()> = Mutex::new(());

/// Reads `bytes` and returns the result's problem code (or "ok") and the most held at once
/// during the read, above what was held before it.
fn read_measured(bytes: &[u8], max_rows: usize) -> (String, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let outcome = match sheet::read(Upload::Xlsx, bytes, max_rows) {
        Ok(_) => "ok".to_string(),
        Err(e) => {
            let res = actix_web::ResponseError::error_response(&e);
            format!("{} {}", res.status().as_u16(), problem_code(&e))
        }
    };
    (outcome, PEAK.load(Ordering::Relaxed).saturating_sub(before))
}

fn problem_code(e: &dvk::error::ApiError) -> String {
    match e {
        dvk::error::ApiError::Unprocessable { code, .. } => code.to_string(),
        other => format!("{other:?}"),
    }
}

/// The parts of a workbook, to be zipped; `sheets` worksheets, each with `sheet_xml`.
struct Book {
    sheets: usize,
    sheet_xml: String,
    shared_strings: Option<String>,
    /// An extra part of this many zero bytes (a deflate bomb: it packs a thousandfold).
    filler: usize,
}

impl Book {
    fn with_cells(dimension: &str, cells: &str) -> Book {
        Book {
            sheets: 1,
            sheet_xml: format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{cells}</sheetData></worksheet>"#
            ),
            shared_strings: None,
            filler: 0,
        }
    }

    fn zip(&self) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut put = |name: &str, body: &[u8]| {
            zip.start_file(name, opts).unwrap();
            zip.write_all(body).unwrap();
        };
        let sheets: String =
            (1..=self.sheets).map(|i| format!(r#"<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>"#)).collect();
        let rels: String = (1..=self.sheets)
            .map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#))
            .collect();
        let overrides: String = (1..=self.sheets)
            .map(|i| format!(r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#))
            .collect();
        put(
            "[Content_Types].xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"#).as_bytes(),
        );
        put(
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        );
        put(
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>"#).as_bytes(),
        );
        put(
            "xl/_rels/workbook.xml.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#).as_bytes(),
        );
        for i in 1..=self.sheets {
            put(&format!("xl/worksheets/sheet{i}.xml"), self.sheet_xml.as_bytes());
        }
        if let Some(sst) = &self.shared_strings {
            put("xl/sharedStrings.xml", sst.as_bytes());
        }
        if self.filler > 0 {
            zip.start_file("xl/media/filler.bin", opts).unwrap();
            let chunk = vec![0u8; 1024 * 1024];
            let mut left = self.filler;
            while left > 0 {
                let n = left.min(chunk.len());
                zip.write_all(&chunk[..n]).unwrap();
                left -= n;
            }
        }
        zip.finish().unwrap();
        out.into_inner()
    }
}

fn cell(reference: &str, text: &str) -> String {
    format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn header_and_row() -> String {
    let header: String = ["A", "B", "C", "D", "E", "F"].iter().map(|c| cell(&format!("{c}1"), "h")).collect();
    let row: String = ["A", "B", "C", "D", "E", "F"].iter().map(|c| cell(&format!("{c}2"), "v")).collect();
    format!(r#"<row r="1">{header}</row><row r="2">{row}</row>"#)
}

#[test]
fn the_reported_workbook_is_refused_naming_the_sheet_limit() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // A1:F2, and one cell at the last cell of a sheet: calamine's dense range was 512 GiB.
    let cells = format!(r#"{}<row r="1048576">{}</row>"#, header_and_row(), cell("XFD1048576", "x"));
    let bytes = Book::with_cells("A1:XFD1048576", &cells).zip();
    assert!(bytes.len() < 8 * 1024, "the workbook is small: {} bytes", bytes.len());
    let (outcome, peak) = read_measured(&bytes, 5000);
    assert_eq!(outcome, "422 sheet_too_large");
    assert!(peak < 16 * 1024 * 1024, "held {peak} bytes");
}

#[test]
fn a_dimension_that_lies_small_does_not_let_a_far_cell_through() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cells = format!(r#"{}<row r="900000">{}</row>"#, header_and_row(), cell("C900000", "x"));
    let (outcome, _) = read_measured(&Book::with_cells("A1:F2", &cells).zip(), 5000);
    assert_eq!(outcome, "422 sheet_too_large");
}

#[test]
fn an_honest_workbook_still_reads() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (outcome, _) = read_measured(&Book::with_cells("A1:F2", &header_and_row()).zip(), 5000);
    assert_eq!(outcome, "ok");
}

#[test]
fn shared_strings_that_announce_billions_are_refused_before_they_are_reserved() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut book = Book::with_cells("A1:A2", r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#);
    book.shared_strings = Some(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>a</t></si></sst>"#
            .into(),
    );
    let (outcome, peak) = read_measured(&book.zip(), 5000);
    assert_eq!(outcome, "422 too_many_shared_strings");
    assert!(peak < 16 * 1024 * 1024, "held {peak} bytes");
}

#[test]
fn a_deflate_bomb_is_refused_as_it_inflates() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut book = Book::with_cells("A1:F2", &header_and_row());
    book.filler = 200 * 1024 * 1024;
    let bytes = book.zip();
    assert!(bytes.len() < 1024 * 1024, "the bomb packs small: {} bytes", bytes.len());
    let (outcome, peak) = read_measured(&bytes, 5000);
    assert_eq!(outcome, "422 workbook_too_large");
    assert!(peak < 4 * 1024 * 1024, "held {peak} bytes");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any mix of far cells, declared dimensions, sheets and shared strings answers within the
    /// bound.
    #[test]
    fn hostile_workbooks_answer_within_the_bound(
        far_row in 1u32..=1_048_576,
        far_col in 0u32..16_384,
        dim_row in 1u32..=1_048_576,
        dim_col in 0u32..16_384,
        sheets in 1usize..=600,
        announced in prop_oneof![Just(None), (0u64..u64::MAX).prop_map(Some)],
        strings in 0usize..400_000,
    ) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let col_name = |mut c: u32| { let mut s = Vec::new(); loop { s.push(b'A' + (c % 26) as u8); if c < 26 { break } c = c / 26 - 1; } s.reverse(); String::from_utf8(s).unwrap() };
        let far = format!("{}{far_row}", col_name(far_col));
        let cells = format!(r#"{}<row r="{far_row}"><c r="{far}" t="s"><v>0</v></c></row>"#, header_and_row());
        let mut book = Book::with_cells(&format!("A1:{}{dim_row}", col_name(dim_col)), &cells);
        book.sheets = sheets;
        let count = announced.map(|n| format!(r#" uniqueCount="{n}""#)).unwrap_or_default();
        book.shared_strings = Some(format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"{count}>{}</sst>"#,
            "<si><t/></si>".repeat(strings)
        ));
        let (outcome, peak) = read_measured(&book.zip(), 5000);
        prop_assert!(peak < BOUND, "{outcome}: held {peak} bytes");
        prop_assert!(!outcome.contains("Internal"), "{outcome}");
    }
}
