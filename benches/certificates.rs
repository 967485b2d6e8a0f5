//! The certificates of a 500-recipient decision in one request (issue 21): its time and the
//! process's peak resident set. Targets: under 2 s and under 200 MiB.
//!
//! `cargo bench --bench certificates` (SQLite), or with `DVK_BENCH_DATABASE_URL=postgres://…`.
//! `DVK_BENCH_RECIPIENTS` (default 500) and `DVK_BENCH_RUNS` (default 5) change the size.
//! Everything is built through the API, as an office would: 500 recognised models, a proposal
//! each, one decision listing them all, issued at once.

mod common;

use std::time::Instant;

use common::*;
use serde_json::{json, Value};

const UNITS: &str = "code,name,level,division_type,parent_code,kind
P,Tỉnh Hà Nam,province,tỉnh,,locality
D,Huyện Bình Lục,district,huyện,P,locality
C,Xã Đồng Du,commune,xã,D,locality
";

/// Sends one request and returns its JSON, failing the bench on an unexpected status.
async fn call(bench: &Bench, method: &str, path: &str, token: &str, if_match: Option<i64>, body: Value) -> Value {
    let url = format!("{}{path}", bench.base);
    let mut req = match method {
        "GET" => bench.client.get(url),
        _ => bench.client.post(url),
    }
    .bearer_auth(token);
    if let Some(v) = if_match {
        req = req.insert_header(("If-Match", format!("\"{v}\"")));
    }
    let mut res = if method == "GET" { req.send().await } else { req.send_json(&body).await }.unwrap();
    let bytes = res.body().limit(64 << 20).await.unwrap();
    assert!(res.status().is_success(), "{method} {path}: {} {}", res.status(), String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

fn main() {
    let recipients: usize = env_or("DVK_BENCH_RECIPIENTS", 500);
    let runs: usize = env_or("DVK_BENCH_RUNS", 5);
    actix_web::rt::System::new().block_on(async move {
        let bench = Bench::start();
        let admin = token("VN", "central", &["admin"]);
        let mut res = bench
            .client
            .post(format!("{}/api/v1/units/import", bench.base))
            .bearer_auth(&admin)
            .insert_header(("Content-Type", "text/csv"))
            .send_body(UNITS)
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{:?}", res.body().await);
        let (p, d, c) = (
            token("P", "province", &["editor", "approver", "viewer"]),
            token("D", "district", &["reviewer", "approver"]),
            token("C", "commune", &["editor"]),
        );
        let campaign = json!({"code": "07-KH/TU", "title": "Dân vận khéo 2023–2025", "starts_on": "2023-01-01",
            "ends_on": "2025-12-31",
            "criteria_sets": [{"code": "TT", "name": "Tập thể", "applies_to": {"subject": "collective"},
                "criteria": [{"code": "TC1", "title": "Hoàn thành tốt nhiệm vụ", "max_score": 100, "required": true}]}]});
        let campaign = call(&bench, "POST", "/api/v1/campaigns", &p, None, campaign).await["id"].as_str().unwrap().to_string();
        call(&bench, "POST", &format!("/api/v1/campaigns/{campaign}/launch"), &p, Some(1), json!({})).await;
        let p_id = call(&bench, "GET", "/api/v1/units?code=P", &admin, None, Value::Null).await["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();

        let seeding = Instant::now();
        let decision = json!({"issuing_authority": "party_committee_standing_board",
            "authority_title": "Ban Thường vụ Tỉnh ủy Hà Nam", "form": "giay_khen", "number": "13-QĐ/TU",
            "decided_on": "2024-12-20", "signer": {"name": "Nguyễn Văn An", "position": "Phó Bí thư Thường trực"}});
        let decision = call(&bench, "POST", "/api/v1/decisions", &p, None, decision).await;
        let (id, mut version) = (decision["id"].as_str().unwrap().to_string(), 1);
        for i in 0..recipients {
            let model = json!({"campaign_id": campaign, "title": format!("Mô hình Dân vận khéo số {}", i + 1),
                "subject": "collective", "kind": "comprehensive", "registered_level": "district", "year": 2024,
                "registered_on": "2024-03-01"});
            let model = call(&bench, "POST", "/api/v1/models", &c, None, model).await["id"].as_str().unwrap().to_string();
            call(&bench, "POST", &format!("/api/v1/models/{model}/submit"), &c, Some(1), json!({})).await;
            call(&bench, "POST", &format!("/api/v1/models/{model}/accept"), &d, Some(2), json!({})).await;
            let evaluation = json!({"model_id": model, "review_kind": "annual", "year": 2024, "verdict": "excellent",
                "decision": "recognize", "scores": [{"code": "TC1", "score": 95}]});
            let e = call(&bench, "POST", "/api/v1/evaluations", &d, None, evaluation).await["id"].as_str().unwrap().to_string();
            call(&bench, "POST", &format!("/api/v1/evaluations/{e}/finalize"), &d, Some(1), json!({})).await;
            let proposal = json!({"model_id": model, "form": "giay_khen", "issuer_unit_id": p_id,
                "issuing_authority": "party_committee_standing_board", "authority_title": "Ban Thường vụ Tỉnh ủy Hà Nam",
                "recipient_name": format!("Chi bộ thôn số {} xã Đồng Du", i + 1),
                "reason": "Có thành tích xuất sắc trong phong trào thi đua Dân vận khéo năm 2024"});
            let commendation =
                call(&bench, "POST", "/api/v1/commendations", &c, None, proposal).await["id"].as_str().unwrap().to_string();
            let listed = call(&bench, "POST", &format!("/api/v1/decisions/{id}/commendations"), &p, Some(version),
                json!({"commendation_id": commendation})).await;
            version = listed["version"].as_i64().unwrap();
        }
        call(&bench, "POST", &format!("/api/v1/decisions/{id}/issue"), &p, Some(version), json!({})).await;
        println!(
            "{}: a decision of {recipients} recipients built through the API in {:.1} s",
            bench.backend,
            seeding.elapsed().as_secs_f64()
        );

        let mut times = Vec::new();
        let (mut size, mut peak) = (0, 0);
        for _ in 0..runs {
            reset_peak_rss();
            let started = Instant::now();
            let mut res = bench
                .client
                .get(format!("{}/api/v1/decisions/{id}/certificates", bench.base))
                .bearer_auth(&p)
                .send()
                .await
                .unwrap();
            let pdf = res.body().limit(256 << 20).await.unwrap();
            times.push(started.elapsed().as_secs_f64());
            assert_eq!(res.status().as_u16(), 200);
            assert!(pdf.starts_with(b"%PDF-"));
            size = pdf.len();
            peak = peak.max(peak_rss_mib());
        }
        times.sort_by(f64::total_cmp);
        let (best, median, worst) = (times[0], times[times.len() / 2], times[times.len() - 1]);
        println!(
            "GET /decisions/{{id}}/certificates, {recipients} pages: best {best:.2} s, median {median:.2} s, \
             worst {worst:.2} s over {runs} runs; {:.1} MiB of PDF; peak RSS {peak} MiB (service and client)",
            size as f64 / 1048576.0
        );
        let met = worst < 2.0 && peak < 200;
        println!("targets (under 2 s, under 200 MiB): {}", if met { "met" } else { "NOT met" });
        bench.finish().await;
    });
}
