//! Model imports from CSV and XLSX: the template, a dry run, a good file, a file with one bad
//! row (nothing created), a file too large (413), files that are not spreadsheets (415/422), and
//! a retry with the same Idempotency-Key.

use actix_web::http::Method;

use crate::helpers::*;
use crate::models::district_campaign;
use crate::reports::{assert_counts_match_a_recount, read_xlsx};

const GOOD: &str =
    "\u{feff}Mã đơn vị,\"Tên mô hình, điển hình\",Đối tượng,Họ và tên,Chức vụ,Loại,Lĩnh vực,Vùng đặc thù,Cấp đăng ký,Năm
C1,Dân vận khéo làm đường giao thông,Tập thể,,,Theo lĩnh vực,Kinh tế,Vùng tôn giáo; Biên giới,Huyện,2024
C2,Dân vận khéo giữ gìn an ninh trật tự,collective,,,by_field,defense_security,,district,2025
V1,Bà Nguyễn Thị Lan vận động hiến đất,Cá nhân,Nguyễn Thị Lan,Chi hội trưởng phụ nữ,Toàn diện,,,huyen,2024
";

async fn upload(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Resp {
    app.request(
        Method::POST,
        &format!("/api/v1/models/import?{query}"),
        Some(token),
        headers,
        Some((content_type, body)),
    )
    .await
}

fn models_of(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let mut conn = app.state.pool.get().unwrap();
    dvk::db::schema::models::table.count().get_result(&mut conn).unwrap()
}

#[actix_web::test]
async fn a_spreadsheet_registers_models_all_or_none() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "D1", &["editor"]);
    let q = format!("campaign_id={campaign}");

    // A dry run says what would be created and creates nothing.
    let before = app.snapshot();
    let dry = upload(&app, &editor, &format!("{q}&dry_run=true"), "text/csv", GOOD.into(), &[]).await;
    let dry = dry.expect(200).json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["created"], 3);
    assert_eq!(dry["items"][2]["row"], 4);
    assert!(dry["items"][0].get("id").is_none(), "nothing was created, so no id");
    assert_eq!(app.snapshot(), before, "a dry run changes nothing");

    // The file, sent twice with one Idempotency-Key: created once, the answer replayed.
    let key = [("Idempotency-Key", "import-2024-d1")];
    let done = upload(&app, &editor, &q, "text/csv", GOOD.into(), &key).await;
    let report = done.expect(200).json();
    assert_eq!(report["created"], 3);
    let again = upload(&app, &editor, &q, "text/csv", GOOD.into(), &key).await;
    assert_eq!(again.expect(200).json(), report);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(models_of(&app), 3);

    let id = report["items"][0]["id"].as_str().unwrap();
    let m = app.get(&format!("/api/v1/models/{id}"), &editor).await.expect(200).json();
    assert_eq!(m["unit_id"], fx.id("C1"));
    assert_eq!(m["status"], "draft");
    assert_eq!(m["field"], "economy");
    assert_eq!(m["registered_level"], "district");
    assert_eq!(m["special_areas"], serde_json::json!(["religious", "border"]));
    let lan = app.get(&format!("/api/v1/models/{}", report["items"][2]["id"].as_str().unwrap()), &editor).await;
    let lan = lan.expect(200).json();
    assert_eq!(lan["person"]["full_name"], "Nguyễn Thị Lan");
    assert_eq!(lan["kind"], "comprehensive");
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &fx.token(&app, "D1", &["admin"])).await;
    assert_eq!(audit.expect(200).json()["items"][0]["action"], "model.create");
    // Reports count them like any other model: drafts when asked, as drafts are not yet registered.
    let report = app.get("/api/v1/reports/models?group_by=unit&status=draft", &editor).await.expect(200).json();
    assert_eq!(report["total"], 3);
    let report = app.get("/api/v1/reports/models?group_by=unit", &editor).await.expect(200).json();
    assert_eq!(report["total"], 0);
    assert_counts_match_a_recount(&app);
}

#[actix_web::test]
async fn an_xlsx_file_imports_like_a_csv_one() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "D1", &["editor"]);
    // The template in English, filled in as a spreadsheet program would: numbers as numbers.
    let template = app
        .request(
            Method::GET,
            "/api/v1/models/import/template?lang=en",
            Some(&editor),
            &[("Accept", dvk::http::export::XLSX)],
            None,
        )
        .await;
    let header = read_xlsx(&template.expect(200).body)[0].clone();
    assert_eq!(header[..3], ["Unit code", "Title", "Description"]);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    let row = [
        ("Unit code", "C2"),
        ("Title", "Dân vận khéo xây dựng nông thôn mới"),
        ("Subject", "collective"),
        ("Kind", "by_field"),
        ("Field", "Economy"),
        ("Registered level", "district"),
    ];
    for (name, value) in row {
        let c = header.iter().position(|h| h == name).unwrap();
        sheet.write_string(1, c as u16, value).unwrap();
    }
    sheet.write_number(1, header.iter().position(|h| h == "Year").unwrap() as u16, 2025.0).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let res = upload(&app, &editor, &format!("campaign_id={campaign}"), dvk::http::export::XLSX, bytes, &[]).await;
    let report = res.expect(200).json();
    assert_eq!(report["created"], 1);
    assert_eq!(report["items"][0]["row"], 2);
    let m = app.get(&format!("/api/v1/models/{}", report["items"][0]["id"].as_str().unwrap()), &editor).await;
    assert_eq!(m.expect(200).json()["year"], 2025);
}

#[actix_web::test]
async fn the_template_documents_every_column() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let token = fx.token(&app, "C1", &["viewer"]);
    let t = app.get("/api/v1/models/import/template", &token).await.expect(200).json();
    let keys: Vec<&str> = t["columns"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys[..3], ["unit_code", "title", "description"]);
    assert_eq!(t["max_rows"], 5000);
    let subject = t["columns"].as_array().unwrap().iter().find(|c| c["key"] == "subject").unwrap();
    assert_eq!(subject["required"], true);
    assert_eq!(subject["values"], serde_json::json!(["collective", "individual"]));
    let csv =
        app.request(Method::GET, "/api/v1/models/import/template", Some(&token), &[("Accept", "text/csv")], None).await;
    assert!(csv.expect(200).text().starts_with("\u{feff}Mã đơn vị,\"Tên mô hình, điển hình\",Mô tả,Đối tượng"));
}

#[actix_web::test]
async fn bad_files_create_nothing_and_say_why() {
    let app = TestApp::spawn_with(|c| c.model_import_limit = 4096).await;
    let fx = Fixture::load(&app).await;
    let campaign = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "D1", &["editor"]);
    let q = format!("campaign_id={campaign}");
    let before = app.snapshot();

    // One bad row among good ones: nothing is created; each fault names its row and column.
    let bad = format!(
        "{GOOD}P2C1,Ngoài phạm vi,collective,,,by_field,economy,,district,2024\n\
         C2,Cá nhân thiếu tên,individual,,,comprehensive,,,district,2024\n\
         C2,Lĩnh vực lạ,collective,,,by_field,thiên văn,,district,năm ngoái\n"
    );
    let p = upload(&app, &editor, &q, "text/csv", bad.into(), &[]).await.problem(422, "invalid_file");
    let faults: Vec<(u64, &str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        faults,
        [
            (5, "unit_code", "unknown_unit"),
            (6, "person_full_name", "required"),
            (7, "field", "invalid_value"),
            (7, "year", "invalid_value")
        ],
        "{p}"
    );
    assert_eq!(app.snapshot(), before, "all rows or none");

    // The header is checked first.
    let p = upload(&app, &editor, &q, "text/csv", "unit_code,title,colour\nC1,x,red\n".into(), &[]).await;
    let p = p.problem(422, "invalid_file");
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["colour", "subject", "kind", "registered_level", "year"]);
    assert!(p["errors"].as_array().unwrap().iter().all(|e| e["row"] == 1));

    // Too large, not a spreadsheet, not what it claims to be, no campaign, no role.
    let big = format!("{GOOD}{}", "C1,x,collective,,,by_field,economy,,district,2024\n".repeat(100));
    upload(&app, &editor, &q, "text/csv", big.into(), &[]).await.problem(413, "payload_too_large");
    upload(&app, &editor, &q, "image/png", vec![0x89, b'P', b'N', b'G'], &[])
        .await
        .problem(415, "unsupported_media_type");
    upload(&app, &editor, &q, dvk::http::export::XLSX, GOOD.into(), &[]).await.problem(422, "invalid_file");
    upload(&app, &editor, &q, "text/csv", vec![0xff, 0xfe, 0x00], &[]).await.problem(422, "invalid_encoding");
    upload(&app, &editor, &q, "text/csv", "unit_code,title\n".into(), &[]).await.problem(422, "invalid_file");
    let p = upload(&app, &editor, "campaign_id=nope", "text/csv", GOOD.into(), &[]).await;
    assert_eq!(p.problem(422, "validation_failed")["errors"][0]["field"], "campaign_id");
    let viewer = fx.token(&app, "D1", &["viewer"]);
    upload(&app, &viewer, &q, "text/csv", GOOD.into(), &[]).await.problem(403, "missing_role");
    let res = upload(&app, &editor, "", "text/csv", GOOD.into(), &[]).await;
    res.problem(400, "invalid_query");
    assert_eq!(app.snapshot(), before);
}
