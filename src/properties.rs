//! Property tests: every parser of outside input, fed arbitrary input, answers Ok or a clean
//! error and never panics (issue 8). `cargo test properties` runs them; `PROPTEST_CASES` raises
//! the number of cases.

use proptest::prelude::*;

use crate::http::export::Format;
use crate::http::pagination::{self, Cursor};
use crate::http::sheet::{self, Upload};
use crate::reports::types::{CommendationDimension, ModelDimension};
use crate::vocabulary::Field;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn cursors_never_panic(raw in ".{0,300}", sort in "[a-z_-]{0,12}") {
        let _ = Cursor::decode(&raw, &sort);
    }

    #[test]
    fn decoded_base64_cursors_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        if let Ok(c) = Cursor::decode(&raw, "updated_at") {
            let _ = pagination::time_after(&Some(c.clone()));
            let _ = pagination::date_after(&Some(c.clone()));
            let _ = pagination::text_after(&Some(c));
        }
    }

    #[test]
    fn a_cursor_round_trips(key in ".{0,100}", id in "[0-9a-f-]{1,36}") {
        let c = Cursor { sort: "title".into(), key: Some(key), id };
        prop_assert_eq!(Cursor::decode(&c.encode(), "title").unwrap(), c);
    }

    #[test]
    fn updated_since_never_panics(raw in ".{0,64}") {
        let _ = pagination::updated_since(Some(&raw));
    }

    #[test]
    fn csv_uploads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = sheet::read(Upload::Csv, &bytes, 50);
    }

    #[test]
    fn csv_like_text_never_panics(text in "([a-zA-Zà-ỹ0-9,\"; \\r\\n]{0,40}\\n){0,30}") {
        let _ = sheet::read(Upload::Csv, text.as_bytes(), 50);
        let _ = crate::units::import::parse_units_csv(&text);
    }

    #[test]
    fn xlsx_uploads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = sheet::read(Upload::Xlsx, &bytes, 50);
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend(&bytes);
        let _ = sheet::read(Upload::Xlsx, &zip, 50);
    }

    #[test]
    fn report_filters_never_panic(raw in ".{0,80}") {
        let mut errors = vec![];
        let _ = crate::reports::rules::group_by::<ModelDimension>(Some(&raw), &mut errors);
        let _ = crate::reports::rules::group_by::<CommendationDimension>(Some(&raw), &mut errors);
        let _ = crate::reports::rules::codes::<Field>("field", Some(&raw), &mut errors);
        let _ = crate::labels::code_of(&raw, &["collective", "individual"]);
        let _ = crate::http::text::search_query(Some(raw.clone()));
        let _ = crate::http::text::fold(&raw);
    }

    #[test]
    fn accept_headers_never_panic(raw in "[ -~]{0,120}") {
        let req = actix_web::test::TestRequest::default().insert_header(("Accept", raw.as_str())).to_http_request();
        let _ = Format::of(&req);
    }
}

#[test]
fn a_real_xlsx_with_odd_cells_reads() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(2, 3, "unit_code").unwrap();
    sheet.write_number(3, 3, 2024.5).unwrap();
    sheet.write_boolean(3, 4, true).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let grid = sheet::read(Upload::Xlsx, &bytes, 10).unwrap();
    assert_eq!(grid.header[3], "unit_code");
    assert_eq!(grid.rows[0], (4, vec!["".into(), "".into(), "".into(), "2024.5".into(), "true".into()]));
}
