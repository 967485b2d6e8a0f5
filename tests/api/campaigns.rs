//! Campaigns through the API: a province campaign implemented by district and commune campaigns
//! (2024 shape) and by communes directly (2025 shape); lifecycle, scope, validation, lists.

use serde_json::{json, Value};

use crate::helpers::*;

pub fn campaign(code: &str, starts: &str, ends: &str, parent: Option<&str>) -> Value {
    let mut body = json!({
        "code": code, "title": format!("Dân vận khéo {code}"), "starts_on": starts, "ends_on": ends,
        "fields": ["economy", "culture_society"],
        "directives": [{"number": "23-KL/TW", "date": "2021-01-15", "issuer": "Ban Bí thư", "title": "Kết luận 23"}],
        "targets": [{"metric": "units_with_plan_ratio", "level": "commune", "threshold": 1.0},
                    {"metric": "models_per_unit_per_year", "threshold": 1}],
        "review_points": [{"kind": "final", "due_on": ends}],
        "criteria_sets": [{"code": "TT", "name": "Tập thể toàn diện", "applies_to": {"subject": "collective", "kind": "comprehensive"},
                           "criteria": [{"code": "TC1", "title": "Tổ chức hoàn thành tốt nhiệm vụ", "max_score": 50, "required": true},
                                        {"code": "TC2", "title": "Đảng viên hoàn thành tốt nhiệm vụ", "max_score": 50}]}]
    });
    if let Some(p) = parent {
        body["parent_campaign_id"] = json!(p);
    }
    body
}

/// Creates and launches a campaign as an editor of `unit`; returns it.
pub async fn launched(app: &TestApp, fx: &Fixture, unit: &str, body: &Value) -> Value {
    let editor = fx.token(app, unit, &["editor"]);
    let created = app.post("/api/v1/campaigns", &editor, body).await.expect(201).json();
    let id = created["id"].as_str().unwrap();
    app.post_with(&format!("/api/v1/campaigns/{id}/launch"), &editor, &[("If-Match", "\"1\"")], &json!({}))
        .await
        .expect(200)
        .json()
}

#[actix_web::test]
async fn campaigns_cascade_down_the_hierarchy() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p1_editor = fx.token(&app, "P1", &["editor"]);
    let res = app.post("/api/v1/campaigns", &p1_editor, &campaign("07-KH/BDV", "2023-01-01", "2025-12-31", None)).await;
    let draft = res.expect(201).json();
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["unit_id"], fx.id("P1"));
    assert_eq!(draft["allowed_actions"], json!(["launch", "cancel"]));
    let id = draft["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/campaigns/{id}");
    // A draft is the launcher's (and those above it): the subtree sees it once launched.
    app.get(&path, &fx.token(&app, "D1", &["viewer"])).await.problem(404, "not_found");
    app.get(&path, &app.root_admin()).await.expect(200);
    let active = app
        .post_with(&format!("{path}/launch"), &p1_editor, &[("If-Match", "\"1\"")], &json!({"comment": "Ban hành"}))
        .await;
    let active = active.expect(200).json();
    assert_eq!(active["status"], "active");
    assert!(active["launched_at"].is_string());
    app.get(&path, &fx.token(&app, "C1", &["viewer"])).await.expect(200);
    app.get(&path, &fx.token(&app, "P2", &["viewer"])).await.problem(404, "not_found");

    // District implements the province's; commune implements the district's (2024 shape).
    let d1 = launched(&app, &fx, "D1", &campaign("12-KH/HU", "2023-03-01", "2025-12-31", Some(&id))).await;
    let c1 =
        launched(&app, &fx, "C1", &campaign("05-KH/ĐU", "2023-06-01", "2025-06-30", Some(d1["id"].as_str().unwrap())))
            .await;
    assert_eq!(c1["parent_campaign_id"], d1["id"]);
    // A period outside the parent's is refused; so is a parent launched by the same unit or by no ancestor.
    let outside = app
        .post(
            "/api/v1/campaigns",
            &fx.token(&app, "D2", &["editor"]),
            &campaign("1", "2022-01-01", "2025-12-31", Some(&id)),
        )
        .await;
    assert_eq!(outside.problem(422, "validation_failed")["errors"][0]["code"], "outside_parent_period");
    let same = app.post("/api/v1/campaigns", &p1_editor, &campaign("2", "2023-01-01", "2025-12-31", Some(&id))).await;
    assert_eq!(same.problem(422, "validation_failed")["errors"][0]["code"], "parent_not_above");
    let not_above = app
        .post(
            "/api/v1/campaigns",
            &fx.token(&app, "C3", &["editor"]),
            &campaign("3", "2023-06-01", "2025-06-30", d1["id"].as_str()),
        )
        .await;
    assert_eq!(not_above.problem(422, "validation_failed")["errors"][0]["code"], "unknown_campaign");

    // 2025 shape: communes implement the province's campaign directly.
    let p2 = launched(&app, &fx, "P2", &campaign("01-KH/BDV", "2025-07-01", "2030-12-31", None)).await;
    launched(&app, &fx, "P2C1", &campaign("01-KH/ĐU", "2025-08-01", "2030-12-31", p2["id"].as_str())).await;

    // Children are listed by parent.
    let children = app.get(&format!("/api/v1/campaigns?parent_campaign_id={id}"), &p1_editor).await.expect(200).json();
    assert_eq!(children["items"].as_array().unwrap().len(), 1);
    assert_eq!(children["items"][0]["id"], d1["id"]);
}

#[actix_web::test]
async fn the_lifecycle_is_enforced() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let editor = fx.token(&app, "P1", &["editor"]);
    let c = app
        .post("/api/v1/campaigns", &editor, &campaign("A", "2024-01-01", "2024-12-31", None))
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/campaigns/{}", c["id"].as_str().unwrap());
    let closing = app.post_with(&format!("{path}/close"), &editor, &[("If-Match", "\"1\"")], &json!({})).await;
    let problem = closing.problem(409, "invalid_transition");
    assert_eq!(problem["allowed_actions"], json!(["launch", "cancel"]));
    app.post(&format!("{path}/launch"), &editor, &json!({})).await.problem(428, "if_match_required");
    app.post_with(&format!("{path}/launch"), &editor, &[("If-Match", "\"9\"")], &json!({}))
        .await
        .problem(412, "version_mismatch");
    // Only editors of the launching unit act on it.
    app.post_with(
        &format!("{path}/launch"),
        &fx.token(&app, "P1", &["reviewer", "approver", "admin"]),
        &[("If-Match", "\"1\"")],
        &json!({}),
    )
    .await
    .problem(403, "missing_role");
    app.post_with(
        &format!("{path}/launch"),
        &app.token("VN", "central", &["editor"]),
        &[("If-Match", "\"1\"")],
        &json!({}),
    )
    .await
    .problem(403, "outside_scope");
    // An action takes no body, or a comment; nothing else.
    let empty = app
        .request(
            actix_web::http::Method::POST,
            &format!("{path}/launch"),
            Some(&editor),
            &[("If-Match", "\"1\"")],
            None,
        )
        .await;
    assert_eq!(empty.expect(200).json()["status"], "active");
    app.post_with(&format!("{path}/launch"), &editor, &[("If-Match", "\"2\"")], &json!({}))
        .await
        .problem(409, "invalid_transition");
    let patched =
        app.patch(&path, &editor, "\"2\"", &json!({"title": "Dân vận khéo 2024 (sửa)"})).await.expect(200).json();
    assert_eq!(patched["version"], 3);
    app.patch(&path, &editor, "\"3\"", &json!({"ends_on": "2025-12-31"})).await.problem(409, "campaign_active");
    app.post_with(&format!("{path}/close"), &editor, &[("If-Match", "\"3\"")], &json!({"comment": "Tổng kết"}))
        .await
        .expect(200);
    app.patch(&path, &editor, "\"4\"", &json!({"title": "x"})).await.problem(409, "campaign_not_editable");
    app.post_with(&format!("{path}/cancel"), &editor, &[("If-Match", "\"4\"")], &json!({}))
        .await
        .problem(409, "invalid_transition");
    let audit = app
        .get(
            &format!("/api/v1/audit-events?resource_type=campaign&resource_id={}", c["id"].as_str().unwrap()),
            &fx.token(&app, "P1", &["admin"]),
        )
        .await;
    let actions: Vec<Value> =
        audit.expect(200).json()["items"].as_array().unwrap().iter().map(|e| e["action"].clone()).collect();
    assert_eq!(
        actions,
        vec![json!("campaign.close"), json!("campaign.update"), json!("campaign.launch"), json!("campaign.create")]
    );
}

#[actix_web::test]
async fn bad_campaigns_are_refused_with_their_own_codes() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let editor = fx.token(&app, "P1", &["editor"]);
    app.post("/api/v1/campaigns", &editor, &campaign("DUP", "2024-01-01", "2024-12-31", None)).await.expect(201);
    let before = app.get("/api/v1/campaigns", &editor).await.expect(200).json();
    let base = campaign("X", "2024-01-01", "2024-12-31", None);
    let with = |path: &str, v: Value| {
        let mut b = base.clone();
        b.pointer_mut(path).map(|slot| *slot = v.clone()).unwrap_or_else(|| {
            b[path.trim_start_matches('/')] = v.clone();
        });
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (with("/status", json!("active")), "status", "unknown_field"),
        (with("/starts_on", json!("2024-13-01")), "starts_on", "invalid_value"),
        (with("/ends_on", json!("2023-12-31")), "ends_on", "before_start"),
        (with("/fields", json!(["economy", "economy"])), "fields[1]", "duplicate"),
        (with("/fields", json!(["sports"])), "fields[0]", "invalid_enum"),
        (with("/targets/0/threshold", json!(1.5)), "targets[0].threshold", "out_of_range"),
        (with("/targets/0/level", json!(null)), "targets[0].level", "required"),
        (with("/review_points/0/due_on", json!("2025-01-01")), "review_points[0].due_on", "outside_period"),
        (with("/criteria_sets/0/criteria/1/code", json!("TC1")), "criteria_sets[0].criteria[1].code", "duplicate"),
        (
            with("/criteria_sets/0/criteria/0/max_score", json!(0)),
            "criteria_sets[0].criteria[0].max_score",
            "out_of_range",
        ),
        (with("/title", json!("t".repeat(501))), "title", "length"),
        (with("/unit_id", json!(fx.id("D1"))), "", "outside_scope"),
        (with("/code", json!("DUP")), "", "code_taken"),
    ];
    for (body, field, code) in cases {
        let res = app.post("/api/v1/campaigns", &editor, &body).await;
        let problem = res.json();
        if code == "outside_scope" {
            res.problem(403, code);
        } else if code == "code_taken" {
            res.problem(409, code);
        } else {
            res.problem(422, "validation_failed");
            let e = &problem["errors"][0];
            assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some(field), Some(code)), "{problem}");
        }
    }
    app.post("/api/v1/campaigns", &fx.token(&app, "P1", &["viewer"]), &base).await.problem(403, "missing_role");
    assert_eq!(app.get("/api/v1/campaigns", &editor).await.json(), before, "nothing was created");
}

#[actix_web::test]
async fn campaign_lists_filter_and_page() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let top = launched(&app, &fx, "P1", &campaign("10-KH", "2023-01-01", "2025-12-31", None)).await;
    let top_id = top["id"].as_str().unwrap().to_string();
    launched(&app, &fx, "D1", &campaign("11-KH", "2023-01-01", "2023-12-31", Some(&top_id))).await;
    launched(&app, &fx, "D2", &campaign("12-KH", "2024-01-01", "2025-12-31", Some(&top_id))).await;
    let editor = fx.token(&app, "P1", &["editor"]);
    app.post("/api/v1/campaigns", &editor, &campaign("13-KH Phòng chống thiên tai", "2025-01-01", "2025-12-31", None))
        .await
        .expect(201);
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let codes = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_string()).collect()
    };
    let get = |q: &str| {
        let url = format!("/api/v1/campaigns?{q}");
        let (app, p1) = (&app, p1.clone());
        async move { app.get(&url, &p1).await }
    };
    assert_eq!(
        codes(&get("").await.expect(200).json()),
        vec!["10-KH", "11-KH", "12-KH", "13-KH Phòng chống thiên tai"]
    );
    assert_eq!(codes(&get("status=draft").await.json()), vec!["13-KH Phòng chống thiên tai"]);
    assert_eq!(codes(&get("year=2023").await.json()), vec!["10-KH", "11-KH"]);
    assert_eq!(codes(&get(&format!("ancestor_id={}", fx.id("D1"))).await.json()), vec!["11-KH"]);
    assert_eq!(
        codes(&get(&format!("unit_id={}", fx.id("P1"))).await.json()),
        vec!["10-KH", "13-KH Phòng chống thiên tai"]
    );
    assert_eq!(codes(&get("q=phong%20chong%20THIEN%20TAI").await.json()), vec!["13-KH Phòng chống thiên tai"]);
    assert_eq!(codes(&get("sort=-starts_on&limit=2").await.json()), vec!["13-KH Phòng chống thiên tai", "12-KH"]);
    let first = get("sort=starts_on&limit=3").await.json();
    let next = get(&format!("sort=starts_on&limit=3&cursor={}", first["next_cursor"].as_str().unwrap())).await.json();
    assert_eq!([codes(&first), codes(&next)].concat().len(), 4);
    get("year=1999").await.problem(400, "invalid_query");
    get("sort=code").await.problem(400, "invalid_sort");
    // A commune sees its district's launched campaign and the province's, not the draft.
    let c1 = app.get("/api/v1/campaigns", &fx.token(&app, "C1", &["viewer"])).await.json();
    assert_eq!(codes(&c1), vec!["10-KH", "11-KH"]);
}

/// Issue 15 §3: a district's communes issued their plans in 2023, and the office types them in
/// now; a model registered in 2023 is entered now too. Each counts in its own year.
#[actix_web::test]
async fn plans_and_models_entered_late_count_in_their_own_year() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let mut body = campaign("07-KH/TU", "2023-01-01", "2025-12-31", None);
    body["targets"] = json!([{"metric": "units_with_plan_ratio", "level": "commune", "threshold": 1.0},
                             {"metric": "units_with_model_ratio", "level": "commune", "threshold": 0.5}]);
    let top = launched(&app, &fx, "P1", &body).await;
    let top_id = top["id"].as_str().unwrap();
    for (unit, code, issued_on) in
        [("C1", "01-KH/ĐU", "2023-03-01"), ("C2", "02-KH/ĐU", "2023-06-15"), ("C3", "03-KH/ĐU", "2024-02-01")]
    {
        let mut plan = campaign(code, "2023-03-01", "2025-12-31", Some(top_id));
        plan["issued_on"] = json!(issued_on);
        let plan = launched(&app, &fx, unit, &plan).await;
        assert_eq!(plan["issued_on"], issued_on, "the document's own date, not the day it was typed in");
    }
    // A plan launched without its date is dated the day it is launched.
    let p2 = launched(&app, &fx, "P2", &campaign("09-KH/TU", "2024-01-01", "2025-12-31", None)).await;
    assert_eq!(p2["issued_on"], json!(dvk::db::today()));
    let editor = fx.token(&app, "C1", &["editor"]);
    let mut future = campaign("04-KH/ĐU", "2023-03-01", "2025-12-31", Some(top_id));
    future["issued_on"] = json!("2999-01-01");
    let res = app.post("/api/v1/campaigns", &editor, &future).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "in_future");

    // A model of 2023, registered in 2023, typed in now.
    let model = json!({"campaign_id": top_id, "title": "Dân vận khéo làm đường 2023", "subject": "collective",
                       "kind": "comprehensive", "registered_level": "commune", "year": 2023, "registered_on": "2023-05-10"});
    let m = app.post("/api/v1/models", &editor, &model).await.expect(201).json();
    let id = m["id"].as_str().unwrap();
    let submitted = crate::models::act(&app, &editor, id, "submit", 1, json!({})).await.expect(200).json();
    assert_eq!(submitted["registered_on"], "2023-05-10", "submission keeps the registration's own date");

    let viewer = fx.token(&app, "P1", &["viewer"]);
    let in_2023 =
        app.get(&format!("/api/v1/reports/campaigns/{top_id}/targets?year=2023"), &viewer).await.expect(200).json();
    // Commune-level units under P1: C1, C2, C3 and the bloc's grassroots base.
    assert_eq!(
        (in_2023["targets"][0]["numerator"].as_i64(), in_2023["targets"][0]["denominator"].as_i64()),
        (Some(2), Some(4))
    );
    assert_eq!(in_2023["targets"][1]["numerator"], 1);
    let in_2024 =
        app.get(&format!("/api/v1/reports/campaigns/{top_id}/targets?year=2024"), &viewer).await.expect(200).json();
    assert_eq!(in_2024["targets"][0]["numerator"], 3);
    let report = format!("/api/v1/reports/models?unit_id={}&year_from=2023&year_to=2023", fx.id("P1"));
    assert_eq!(app.get(&report, &viewer).await.expect(200).json()["total"], 1);
}
