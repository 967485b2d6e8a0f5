//! Printed certificates (issue 21), read back as a reader of the paper would: the PDF's text by
//! `pdftotext`, its QR code by `pdftoppm` and `zbarimg` (Debian's poppler-utils and zbar-tools,
//! which `.ci/run` installs), and the address the QR code holds asked without a token.

use std::process::Command;

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::decisions::{campaign, list_all, new_decision, proposed};
use crate::helpers::*;

/// Runs a Debian tool on `pdf`; a missing tool fails the test (CI installs them).
fn tool(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed (apt-get install poppler-utils zbar-tools): {e}"));
    assert!(out.status.success(), "{program} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Writes the PDF to a fresh directory and returns it with the file's path.
fn saved(pdf: &Resp) -> (tempfile::TempDir, String) {
    pdf.expect(200);
    assert_eq!(pdf.header("content-type").as_deref(), Some("application/pdf"), "{}", pdf.text());
    assert!(pdf.body.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, &pdf.body).unwrap();
    (dir, path.to_str().unwrap().to_string())
}

/// Page `page`'s text, its runs of white space made one space.
fn page_text(path: &str, page: usize) -> String {
    let p = page.to_string();
    let text = String::from_utf8(tool("pdftotext", &["-f", &p, "-l", &p, "-enc", "UTF-8", path, "-"])).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pages(path: &str) -> usize {
    let info = String::from_utf8(tool("pdfinfo", &[path])).unwrap();
    let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
    line["Pages:".len()..].trim().parse().unwrap()
}

/// The QR code of page `page`, decoded from the page rendered at 150 dpi.
fn qr(dir: &tempfile::TempDir, path: &str, page: usize) -> String {
    let p = page.to_string();
    let prefix = dir.path().join(format!("page{page}"));
    tool("pdftoppm", &["-r", "150", "-png", "-singlefile", "-f", &p, "-l", &p, path, prefix.to_str().unwrap()]);
    let png = format!("{}.png", prefix.to_str().unwrap());
    String::from_utf8(tool("zbarimg", &["--raw", "-q", &png])).unwrap().trim().to_string()
}

/// The path of a URL the QR code holds, to ask this test's server.
fn path_of(url: &str) -> String {
    let at = url.find("/api/v1/").unwrap_or_else(|| panic!("not an API address: {url}"));
    url[at..].to_string()
}

async fn public(app: &TestApp, path: &str) -> Resp {
    app.request(Method::GET, path, None, &[], None).await
}

fn assert_says(text: &str, expected: &[&str]) {
    for s in expected {
        assert!(text.contains(s), "the page lacks {s:?}: {text}");
    }
}

/// The standing board of province P1 commends two communes and a Party cell's secretary in one
/// decision; the office prints the three certificates at once; a reader scans one and the
/// address answers with the record; one recipient is revoked and its certificate is refused.
#[actix_web::test]
async fn a_decision_prints_a_verifiable_certificate_for_each_recipient() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = campaign(&app, &fx).await;
    let mut commendations = Vec::new();
    for (unit, person) in [("C1", None), ("C2", None), ("C1", Some("Nguyễn Thị Hoa"))] {
        commendations.push(proposed(&app, &fx, &campaign, unit, person).await.2);
    }
    let p1 = fx.token(&app, "P1", &["approver"]);
    let draft = app.post("/api/v1/decisions", &p1, &new_decision("13-QĐ/TU")).await.expect(201).json();
    let id = draft["id"].as_str().unwrap().to_string();
    let version = list_all(&app, &p1, &id, &commendations, 1).await;
    let print = format!("/api/v1/decisions/{id}/certificates");
    app.get(&print, &p1).await.problem(409, "not_issued");
    let etag = format!("\"{version}\"");
    app.post_with(&format!("/api/v1/decisions/{id}/issue"), &p1, &[("If-Match", &etag)], &json!({})).await.expect(200);

    let viewer = fx.token(&app, "P1", &["viewer"]);
    let res = app.get(&print, &viewer).await;
    res.expect(200);
    assert_eq!(res.header("cache-control").as_deref(), Some("private, no-store"));
    let (dir, pdf) = saved(&res);
    assert_eq!(pages(&pdf), 3, "one page per recipient");
    let heading = [
        "ĐẢNG BỘ TỈNH HÀ NAM CŨ",
        "BAN THƯỜNG VỤ TỈNH ỦY HÀ NAM",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "GIẤY KHEN",
        "Có thành tích xuất sắc trong phong trào thi đua Dân vận khéo năm 2024",
        "Hà Nam Cũ, ngày 20 tháng 12 năm 2024",
        "Quyết định số 13-QĐ/TU ngày 20/12/2024",
        "PHÓ BÍ THƯ THƯỜNG TRỰC",
        "Nguyễn Văn An",
    ];
    for (page, recipient) in
        [(1, vec!["Xã Đồng Du"]), (2, vec!["Xã An Đổ"]), (3, vec!["Nguyễn Thị Hoa", "Bí thư chi bộ, Xã Đồng Du"])]
    {
        let text = page_text(&pdf, page);
        assert_says(&text, &heading);
        assert_says(&text, &recipient);
        assert!(!text.contains("CỘNG HÒA"), "a Party body's certificate carries no State motto");
        // The QR code opens the page's own verification record, with no token.
        let url = qr(&dir, &pdf, page);
        let commendation = &commendations[page - 1];
        assert!(url.ends_with(&format!("/api/v1/public/commendations/{commendation}")), "{url}");
        let record = public(&app, &path_of(&url)).await;
        assert!(record.header("cache-control").unwrap().starts_with("public"));
        let record = record.expect(200).json();
        assert_eq!(record["status"], "issued");
        assert_eq!(
            (record["decision_number"].as_str(), record["decided_on"].as_str()),
            (Some("13-QĐ/TU"), Some("2024-12-20"))
        );
        assert_eq!(record["recipient_name"], recipient[0]);
        assert_eq!(record["form"], "giay_khen");
        assert!(text.contains(&url), "the address is printed under the code too");
    }

    // The recipient's commune prints its own; a sibling district and another province cannot.
    let own = format!("/api/v1/commendations/{}/certificate", commendations[0]);
    let single = app.get(&own, &fx.token(&app, "C1", &["viewer"])).await;
    let (_single_dir, single_pdf) = saved(&single);
    assert_eq!(pages(&single_pdf), 1);
    assert_says(&page_text(&single_pdf, 1), &["Xã Đồng Du", "GIẤY KHEN"]);
    app.get(&own, &fx.token(&app, "D1", &["viewer"])).await.expect(200);
    app.get(&own, &fx.token(&app, "D2", &["viewer"])).await.problem(404, "not_found");
    app.get(&own, &fx.token(&app, "P2", &["admin"])).await.problem(404, "not_found");
    app.get(&print, &fx.token(&app, "P2", &["viewer"])).await.problem(404, "not_found");
    app.get(&print, &fx.token(&app, "C1", &["viewer"])).await.problem(404, "not_found");

    // Each print is audited.
    let audit = app
        .get(&format!("/api/v1/audit-events?resource_id={}", commendations[0]), &fx.token(&app, "P1", &["admin"]))
        .await;
    let actions: Vec<Value> =
        audit.expect(200).json()["items"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(actions.iter().filter(|a| *a == "commendation.certificate").count(), 2, "{actions:?}");
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &fx.token(&app, "P1", &["admin"])).await;
    assert!(audit.expect(200).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "decision.certificates"));

    // One recipient is revoked: its certificate can no longer be made, its record says so, and
    // the decision prints the two that stand.
    let revoke = json!({"reason": "Thành tích kê khai không trung thực", "decision_number": "20-QĐ/TU", "decided_on": "2025-01-10"});
    app.post_with(
        &format!("/api/v1/commendations/{}/revoke", commendations[1]),
        &p1,
        &[("If-Match", "\"3\"")],
        &revoke,
    )
    .await
    .expect(200);
    let refused = format!("/api/v1/commendations/{}/certificate", commendations[1]);
    app.get(&refused, &viewer).await.problem(409, "revoked");
    let record = public(&app, &format!("/api/v1/public/commendations/{}", commendations[1])).await.expect(200).json();
    assert_eq!(record["status"], "revoked");
    assert_eq!(record["revocation"], json!({"decision_number": "20-QĐ/TU", "decided_on": "2025-01-10"}));
    assert!(record.get("reason").is_some() && !record.to_string().contains("không trung thực"), "grounds stay private");
    let again = app.get(&print, &viewer).await;
    let (_d, after) = saved(again.expect(200));
    assert_eq!(pages(&after), 2);

    // A proposal is not public, and nothing is made of an unknown id.
    let (_, _, proposal) = proposed(&app, &fx, &campaign, "C2", None).await;
    public(&app, &format!("/api/v1/public/commendations/{proposal}")).await.problem(404, "not_found");
    app.get(&format!("/api/v1/commendations/{proposal}/certificate"), &viewer).await.problem(409, "not_issued");
    app.get("/api/v1/commendations/nope/certificate", &viewer).await.problem(404, "not_found");
}

/// A People's Committee chair commends a collective alone, naming the signer in the issue
/// action: a State body's heading, the national motto, and the signer under it.
#[actix_web::test]
async fn a_state_body_heads_its_certificate_with_the_national_motto() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let d1_campaign = crate::reports::province(&app, &fx).await.d1;
    let (model, _) = crate::commendations::recognised(&app, &fx, &d1_campaign).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let mut proposal =
        crate::commendations::proposal(&fx, &model, "giay_khen", "D1", "Chủ tịch Ủy ban nhân dân huyện Bình Lục");
    proposal["issuing_authority"] = json!("peoples_committee_chair");
    let id =
        app.post("/api/v1/commendations", &c1, &proposal).await.expect(201).json()["id"].as_str().unwrap().to_string();
    let decision = json!({"decision_number": "250/QĐ-UBND", "decided_on": "2025-02-05",
                          "signer": {"name": "Phạm Quốc Hưng", "position": "Chủ tịch"}});
    crate::commendations::decide(&app, &fx.token(&app, "D1", &["approver"]), &id, "issue", 1, decision)
        .await
        .expect(200);
    let res = app.get(&format!("/api/v1/commendations/{id}/certificate"), &c1).await;
    let (_dir, pdf) = saved(&res);
    let text = page_text(&pdf, 1);
    assert_says(
        &text,
        &[
            "CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN BÌNH LỤC",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "Bình Lục, ngày 05 tháng 02 năm 2025",
            "Quyết định số 250/QĐ-UBND ngày 05/02/2025",
            "CHỦ TỊCH",
            "Phạm Quốc Hưng",
        ],
    );
    assert!(!text.contains("ĐẢNG CỘNG SẢN"));
}
