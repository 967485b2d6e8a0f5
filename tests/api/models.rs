//! Models through the API: registration with the competent level (returned once, then accepted),
//! follow-up with progress reports, replication, every forbidden transition and out-of-scope actor,
//! bad input, and the lists a mobile app and a portal live on.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::campaigns::{campaign, launched};
use crate::helpers::*;

/// A collective by-field model registered at district level under `campaign_id`.
pub fn model(campaign_id: &str, title: &str) -> Value {
    json!({
        "campaign_id": campaign_id, "title": title,
        "description": "Vận động nhân dân hiến đất, góp công làm đường giao thông nông thôn",
        "subject": "collective", "kind": "by_field", "field": "economy", "special_areas": ["ethnic_minority"],
        "registered_level": "district", "year": 2024, "objectives": "5 km đường bê tông",
        "indicators": [{"name": "Đường bê tông", "unit": "km", "target": 5.0}, {"name": "Hộ hiến đất", "unit": "hộ", "target": 100}]
    })
}

/// Province P1 launches a campaign, district D1 implements it: the campaign communes register under.
pub async fn district_campaign(app: &TestApp, fx: &Fixture) -> String {
    let top = launched(app, fx, "P1", &campaign("07-KH/BDV", "2023-01-01", "2025-12-31", None)).await;
    let d1 = launched(app, fx, "D1", &campaign("12-KH/HU", "2023-03-01", "2025-12-31", top["id"].as_str())).await;
    d1["id"].as_str().unwrap().to_string()
}

pub async fn act(app: &TestApp, token: &str, id: &str, action: &str, version: i64, body: Value) -> Resp {
    let etag = format!("\"{version}\"");
    app.post_with(&format!("/api/v1/models/{id}/{action}"), token, &[("If-Match", &etag)], &body).await
}

/// Creates a model as an editor of `unit` and takes it to in_progress through the D1 reviewer.
async fn in_progress(app: &TestApp, fx: &Fixture, campaign_id: &str, unit: &str, title: &str) -> Value {
    let editor = fx.token(app, unit, &["editor"]);
    let mut body = model(campaign_id, title);
    body["unit_id"] = json!(fx.id(unit));
    let m = app.post("/api/v1/models", &editor, &body).await.expect(201).json();
    let id = m["id"].as_str().unwrap();
    act(app, &editor, id, "submit", 1, json!({})).await.expect(200);
    act(app, &fx.token(app, "D1", &["reviewer"]), id, "accept", 2, json!({})).await.expect(200).json()
}

/// Recognition comes with evaluations; until then the fixture puts a model in that state directly.
fn force_status(app: &TestApp, id: &str, status: &str) {
    use diesel::prelude::*;
    use dvk::db::schema::models;
    let mut conn = app.state.pool.get().unwrap();
    diesel::update(models::table.find(id)).set(models::status.eq(status)).execute(&mut conn).unwrap();
}

#[actix_web::test]
async fn a_registration_is_returned_once_then_accepted() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "C1", &["editor"]);
    let res = app.post("/api/v1/models", &editor, &model(&campaign_id, "Dân vận khéo làm đường nông thôn")).await;
    let draft = res.expect(201).json();
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.header("location"), Some(format!("/api/v1/models/{}", draft["id"].as_str().unwrap())));
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["unit_id"], fx.id("C1"));
    assert_eq!(draft["allowed_actions"], json!(["submit", "withdraw"]));
    assert_eq!(draft["status_history"][0]["action"], "create");
    let id = draft["id"].as_str().unwrap().to_string();

    act(&app, &editor, &id, "submit", 1, json!({})).await.expect(200);
    let reviewer = fx.token(&app, "D1", &["reviewer"]);
    // Returning needs a comment that says what to change.
    act(&app, &reviewer, &id, "return", 2, json!({})).await.problem(422, "validation_failed");
    act(&app, &reviewer, &id, "return", 2, json!({"comment": "  "})).await.problem(422, "validation_failed");
    let returned = act(&app, &reviewer, &id, "return", 2, json!({"comment": "Bổ sung số hộ tham gia"})).await;
    assert_eq!(returned.expect(200).json()["status"], "returned");
    // The unit changes it and registers it again; the reviewer accepts.
    let patched =
        app.patch(&format!("/api/v1/models/{id}"), &editor, "\"3\"", &json!({"objectives": "6 km đường"})).await;
    assert_eq!(patched.expect(200).json()["objectives"], "6 km đường");
    act(&app, &editor, &id, "submit", 4, json!({"comment": "Đã bổ sung"})).await.expect(200);
    let accepted = act(&app, &reviewer, &id, "accept", 5, json!({"comment": "Đạt yêu cầu"})).await.expect(200).json();
    assert_eq!(accepted["status"], "in_progress");
    assert_eq!(accepted["allowed_actions"], json!(["withdraw"]));
    let history = accepted["status_history"].as_array().unwrap();
    let steps: Vec<(&str, &str)> =
        history.iter().map(|h| (h["action"].as_str().unwrap(), h["to"].as_str().unwrap())).collect();
    assert_eq!(
        steps,
        vec![
            ("create", "draft"),
            ("submit", "registered"),
            ("return", "returned"),
            ("submit", "registered"),
            ("accept", "in_progress")
        ]
    );
    assert_eq!(history[2]["comment"], "Bổ sung số hộ tham gia");
    assert_eq!(history[2]["by"], "user-of-D1");
    assert_eq!(history[2]["by_unit_id"], fx.id("D1"));
    assert_eq!(history[2]["from"], "registered");
    // Every step is in the audit log.
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &fx.token(&app, "P1", &["admin"])).await;
    let actions: Vec<String> = audit.expect(200).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        ["model.accept", "model.submit", "model.update", "model.return", "model.submit", "model.create"]
    );
}

#[actix_web::test]
async fn the_competent_level_decides_registrations() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "C1", &["editor"]);
    let mut body = model(&campaign_id, "Mô hình đăng ký cấp tỉnh");
    body["registered_level"] = json!("province");
    let m = app.post("/api/v1/models", &editor, &body).await.expect(201).json();
    let id = m["id"].as_str().unwrap();
    act(&app, &editor, id, "submit", 1, json!({})).await.expect(200);
    // Its own unit is not above it; a district is below the registered level; a sibling district
    // does not even see it; a province editor lacks the role.
    act(&app, &fx.token(&app, "C1", &["reviewer"]), id, "accept", 2, json!({})).await.problem(403, "not_above_owner");
    act(&app, &fx.token(&app, "D1", &["reviewer"]), id, "accept", 2, json!({}))
        .await
        .problem(403, "below_registered_level");
    act(&app, &fx.token(&app, "D2", &["reviewer"]), id, "accept", 2, json!({})).await.problem(404, "not_found");
    act(&app, &fx.token(&app, "P2", &["reviewer"]), id, "accept", 2, json!({})).await.problem(404, "not_found");
    act(&app, &fx.token(&app, "P1", &["editor", "approver"]), id, "accept", 2, json!({}))
        .await
        .problem(403, "missing_role");
    // Reviewers do not submit; editors do not accept.
    act(&app, &fx.token(&app, "C1", &["reviewer"]), id, "withdraw", 2, json!({})).await.problem(403, "missing_role");
    act(&app, &fx.token(&app, "P1", &["reviewer"]), id, "accept", 2, json!({})).await.expect(200);

    // 2025 shape: a commune directly under its province registers there.
    let p2 = launched(&app, &fx, "P2", &campaign("01-KH/BDV", "2025-07-01", "2030-12-31", None)).await;
    let mut body = model(p2["id"].as_str().unwrap(), "Phường Đông Kinh dân vận khéo");
    body["registered_level"] = json!("province");
    body["year"] = json!(2026);
    let m = app.post("/api/v1/models", &fx.token(&app, "P2C1", &["editor"]), &body).await.expect(201).json();
    let id = m["id"].as_str().unwrap();
    act(&app, &fx.token(&app, "P2C1", &["editor"]), id, "submit", 1, json!({})).await.expect(200);
    let accepted = act(&app, &fx.token(&app, "P2", &["reviewer"]), id, "accept", 2, json!({})).await;
    assert_eq!(accepted.expect(200).json()["status"], "in_progress");
}

#[actix_web::test]
async fn forbidden_transitions_and_stale_writes_change_nothing() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "C1", &["editor"]);
    let reviewer = fx.token(&app, "D1", &["reviewer"]);
    let m = app.post("/api/v1/models", &editor, &model(&campaign_id, "Mô hình A")).await.expect(201).json();
    let id = m["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/models/{id}");
    let before = app.snapshot();
    let problem = act(&app, &reviewer, &id, "accept", 1, json!({})).await.problem(409, "invalid_transition");
    assert_eq!(problem["allowed_actions"], json!(["submit", "withdraw"]));
    act(&app, &reviewer, &id, "return", 1, json!({"comment": "x"})).await.problem(409, "invalid_transition");
    app.post(&format!("{path}/submit"), &editor, &json!({})).await.problem(428, "if_match_required");
    act(&app, &editor, &id, "submit", 7, json!({})).await.problem(412, "version_mismatch");
    act(&app, &fx.token(&app, "C1", &["viewer"]), &id, "submit", 1, json!({})).await.problem(403, "missing_role");
    act(&app, &fx.token(&app, "C2", &["editor"]), &id, "submit", 1, json!({})).await.problem(404, "not_found");
    act(&app, &editor, &id, "submit", 1, json!({"status": "recognized"})).await.problem(422, "validation_failed");
    app.patch(&path, &fx.token(&app, "C3", &["editor"]), "\"1\"", &json!({"title": "x"}))
        .await
        .problem(404, "not_found");
    assert_eq!(app.snapshot(), before, "refused requests change nothing");

    act(&app, &editor, &id, "submit", 1, json!({})).await.expect(200);
    app.patch(&path, &editor, "\"2\"", &json!({"title": "Đổi tên"})).await.problem(409, "model_not_editable");
    act(&app, &reviewer, &id, "accept", 2, json!({})).await.expect(200);
    act(&app, &editor, &id, "submit", 3, json!({})).await.problem(409, "invalid_transition");
    let withdrawn = act(&app, &editor, &id, "withdraw", 3, json!({"comment": "Không triển khai"})).await;
    assert_eq!(withdrawn.expect(200).json()["allowed_actions"], json!([]));
    for (token, action) in [(&editor, "submit"), (&reviewer, "accept"), (&reviewer, "return"), (&editor, "withdraw")] {
        let problem =
            act(&app, token, &id, action, 4, json!({"comment": "x"})).await.problem(409, "invalid_transition");
        assert_eq!(problem["allowed_actions"], json!([]));
    }
    let read = app.get(&path, &editor).await.expect(200).json();
    assert_eq!((read["status"].as_str(), read["version"].as_i64()), (Some("withdrawn"), Some(4)));
    // A recognised model is past withdrawing.
    let other = in_progress(&app, &fx, &campaign_id, "C2", "Mô hình B").await;
    force_status(&app, other["id"].as_str().unwrap(), "recognized");
    act(&app, &fx.token(&app, "C2", &["editor"]), other["id"].as_str().unwrap(), "withdraw", 3, json!({}))
        .await
        .problem(409, "invalid_transition");
}

#[actix_web::test]
async fn bad_models_are_refused_with_their_own_codes() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let draft_campaign = app
        .post(
            "/api/v1/campaigns",
            &fx.token(&app, "D1", &["editor"]),
            &campaign("99-KH", "2024-01-01", "2024-12-31", None),
        )
        .await
        .expect(201)
        .json();
    let p2 = launched(&app, &fx, "P2", &campaign("01-KH/BDV", "2025-07-01", "2030-12-31", None)).await;
    let not_recognized = in_progress(&app, &fx, &campaign_id, "C1", "Chưa được công nhận").await;
    let d2 = launched(&app, &fx, "D2", &campaign("20-KH/HU", "2024-01-01", "2024-12-31", None)).await;
    let editor = fx.token(&app, "C1", &["editor"]);
    let before = app.snapshot();
    let base = model(&campaign_id, "Mô hình X");
    let with = |changes: Value| {
        let mut b = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let individual =
        json!({"subject": "individual", "person": {"full_name": "Nguyễn Văn A", "position": "Trưởng thôn"}});
    let cases: Vec<(Value, &str, &str)> = vec![
        (with(json!({"status": "recognized"})), "status", "unknown_field"),
        (with(json!({"id": "x"})), "id", "unknown_field"),
        (with(json!({"kind": "partial"})), "kind", "invalid_enum"),
        (with(json!({"special_areas": ["mountain"]})), "special_areas[0]", "invalid_enum"),
        (with(json!({"person": {"full_name": "A", "position": "B"}})), "person", "not_allowed"),
        (with(json!({"subject": "individual"})), "person", "required"),
        (
            with(json!({"person": {"full_name": "", "position": "B"}, "subject": "individual"})),
            "person.full_name",
            "length",
        ),
        (with(json!({"field": null})), "field", "required"),
        (with(json!({"kind": "comprehensive"})), "field", "not_allowed"),
        (with(json!({"year": 2026})), "year", "outside_campaign"),
        (with(json!({"year": 1999})), "year", "range"),
        (with(json!({"registered_level": "village"})), "registered_level", "below_owner_level"),
        (with(json!({"title": "t".repeat(501)})), "title", "length"),
        (with(json!({"title": " \t "})), "title", "required"),
        (with(json!({"special_areas": ["border", "border"]})), "special_areas[1]", "duplicate"),
        (with(json!({"indicators": [{"name": "a", "target": -1}]})), "indicators[0].target", "out_of_range"),
        (with(json!({"campaign_id": p2["id"]})), "campaign_id", "unknown_campaign"),
        (with(json!({"campaign_id": draft_campaign["id"]})), "campaign_id", "unknown_campaign"),
        (with(json!({"unit_id": fx.id("C3")})), "unit_id", "unknown_unit"),
        (with(json!({"unit_id": "no-such-unit"})), "unit_id", "unknown_unit"),
        (with(json!({"replicated_from_id": not_recognized["id"]})), "replicated_from_id", "source_not_recognized"),
    ];
    for (body, field, code) in cases {
        let res = app.post("/api/v1/models", &editor, &body).await;
        let problem = res.problem(422, "validation_failed");
        let e = &problem["errors"][0];
        assert_eq!((e["field"].as_str(), e["code"].as_str()), (Some(field), Some(code)), "{problem}");
    }
    // An individual exemplar is fine; the same body from a viewer is not.
    app.post("/api/v1/models", &fx.token(&app, "C1", &["viewer"]), &with(individual.clone()))
        .await
        .problem(403, "missing_role");
    // A draft campaign of D1 is D1's own: C1 editors (below) do not see it, but D1 editors may
    // not register under a draft either.
    let mut under_draft = with(json!({"campaign_id": draft_campaign["id"], "unit_id": fx.id("D1")}));
    under_draft["registered_level"] = json!("province");
    let res = app.post("/api/v1/models", &fx.token(&app, "D1", &["editor"]), &under_draft).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "campaign_not_active");
    // A province editor sees D2's campaign, but C1 does not implement it.
    let mut elsewhere = with(json!({"campaign_id": d2["id"], "unit_id": fx.id("C1")}));
    elsewhere["registered_level"] = json!("province");
    let res = app.post("/api/v1/models", &fx.token(&app, "P1", &["editor"]), &elsewhere).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "campaign_not_applicable");
    let res = app.post("/api/v1/models", &editor, &with(json!({"description": "a\u{0}b"}))).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "invalid_characters");
    app.request(Method::POST, "/api/v1/models", Some(&editor), &[], Some(("text/plain", b"{}".to_vec())))
        .await
        .problem(415, "unsupported_media_type");
    assert_eq!(app.snapshot(), before, "nothing was written");
    let created = app.post("/api/v1/models", &editor, &with(individual)).await.expect(201).json();
    assert_eq!(created["person"]["full_name"], "Nguyễn Văn A");
}

#[actix_web::test]
async fn progress_reports_follow_a_model_in_progress() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let editor = fx.token(&app, "C1", &["editor"]);
    let draft = app.post("/api/v1/models", &editor, &model(&campaign_id, "Mô hình nháp")).await.expect(201).json();
    let report = json!({"reported_on": "2024-06-30", "text": "Đã làm 3,2 km", "indicator_values": [{"name": "Đường bê tông", "value": 3.2}]});
    let draft_progress = format!("/api/v1/models/{}/progress", draft["id"].as_str().unwrap());
    app.post(&draft_progress, &editor, &report).await.problem(409, "model_not_in_progress");

    let m = in_progress(&app, &fx, &campaign_id, "C1", "Làm đường").await;
    let id = m["id"].as_str().unwrap();
    let path = format!("/api/v1/models/{id}/progress");
    let filed = app.post(&path, &editor, &report).await.expect(201).json();
    assert_eq!(filed["indicator_values"], report["indicator_values"]);
    let later = json!({"reported_on": "2024-12-31", "text": "Hoàn thành 5 km.\n\t104 hộ hiến đất.",
        "indicator_values": [{"name": "đường bê tông", "value": 5.0}, {"name": "Hộ hiến đất", "value": 104}]});
    app.post(&path, &editor, &later).await.expect(201);
    // A report dated earlier than the latest is kept but does not overwrite the latest figures.
    let earlier = json!({"reported_on": "2024-03-31", "text": "Khởi công", "indicator_values": [{"name": "Đường bê tông", "value": 0.5}]});
    app.post(&path, &editor, &earlier).await.expect(201);
    let read = app.get(&format!("/api/v1/models/{id}"), &fx.token(&app, "P1", &["viewer"])).await.expect(200).json();
    assert_eq!(read["indicators"][0]["actual"], 5.0);
    assert_eq!(read["indicators"][1]["actual"], 104.0);
    assert_eq!(read["latest_progress_on"], "2024-12-31");
    assert_eq!(read["version"], 6, "each report moves the model's version on");
    let list = app.get(&format!("{path}?limit=2"), &editor).await.expect(200).json();
    let dates: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|p| p["reported_on"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2024-12-31", "2024-06-30"]);
    let rest = app.get(&format!("{path}?limit=2&cursor={}", list["next_cursor"].as_str().unwrap()), &editor).await;
    assert_eq!(rest.expect(200).json()["items"][0]["reported_on"], "2024-03-31");

    let before = app.snapshot();
    let bad = [
        (json!({"reported_on": "2999-01-01", "text": "x"}), "reported_on", "in_future"),
        (
            json!({"reported_on": "2024-01-01", "text": "x", "indicator_values": [{"name": "Cầu", "value": 1}]}),
            "indicator_values[0].name",
            "unknown_indicator",
        ),
        (json!({"reported_on": "2024-01-01", "text": "   "}), "text", "required"),
        (json!({"reported_on": "1999-12-31", "text": "x"}), "reported_on", "out_of_range"),
        (json!({"reported_on": "2024-01-01", "text": "x", "extra": 1}), "extra", "unknown_field"),
    ];
    for (body, field, code) in bad {
        let problem = app.post(&path, &editor, &body).await.problem(422, "validation_failed");
        assert_eq!(
            (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
            (Some(field), Some(code))
        );
    }
    app.post(&path, &fx.token(&app, "C1", &["viewer"]), &report).await.problem(403, "missing_role");
    app.post(&path, &fx.token(&app, "C3", &["editor"]), &report).await.problem(404, "not_found");
    app.get(&path, &fx.token(&app, "P2", &["viewer"])).await.problem(404, "not_found");
    assert_eq!(app.snapshot(), before);
}

#[actix_web::test]
async fn recognised_models_are_replicated() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let source = in_progress(&app, &fx, &campaign_id, "C1", "Mô hình gốc").await;
    let source_id = source["id"].as_str().unwrap();
    force_status(&app, source_id, "recognized");
    let mut body = model(&campaign_id, "Nhân rộng mô hình gốc");
    body["replicated_from_id"] = json!(source_id);
    let c2 = fx.token(&app, "C2", &["editor"]);
    let copy = app.post("/api/v1/models", &c2, &body).await.expect(201).json();
    assert_eq!(copy["replicated_from_id"], source_id);
    body["title"] = json!("Nhân rộng lần hai");
    let second = app.post("/api/v1/models", &c2, &body).await.expect(201).json();
    // Recognised models are public: another province replicates it too.
    let p2 = launched(&app, &fx, "P2", &campaign("01-KH/BDV", "2025-07-01", "2030-12-31", None)).await;
    let mut foreign = model(p2["id"].as_str().unwrap(), "Nhân rộng ở tỉnh khác");
    foreign["replicated_from_id"] = json!(source_id);
    foreign["year"] = json!(2026);
    foreign["registered_level"] = json!("province");
    app.post("/api/v1/models", &fx.token(&app, "P2C1", &["editor"]), &foreign).await.expect(201);
    // A model that is not recognised cannot be replicated, and one you cannot see is unknown.
    let pending = in_progress(&app, &fx, &campaign_id, "C1", "Chưa công nhận").await;
    foreign["replicated_from_id"] = pending["id"].clone();
    let res = app.post("/api/v1/models", &fx.token(&app, "P2C1", &["editor"]), &foreign).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "unknown_model");

    let viewer = fx.token(&app, "D1", &["viewer"]);
    let res = app.get(&format!("/api/v1/models/{source_id}"), &viewer).await;
    let read = res.expect(200).json();
    assert_eq!(read["replication_count"], 3, "every replication counts");
    // A list counts in its own query; it must say what the single read says.
    let in_list = |page: &Value| -> Value {
        page["items"].as_array().unwrap().iter().find(|m| m["id"] == source_id).unwrap()["replication_count"].clone()
    };
    let page = app.get("/api/v1/models?limit=200", &viewer).await.expect(200).json();
    assert_eq!(in_list(&page), 3);
    // The count is part of the source: its ETag moves with it, so a cached copy is not kept.
    let etag = res.header("etag").unwrap();
    let cached = app
        .request(Method::GET, &format!("/api/v1/models/{source_id}"), Some(&viewer), &[("If-None-Match", &etag)], None)
        .await;
    cached.expect(304);
    let list = app.get(&format!("/api/v1/models/{source_id}/replications"), &viewer).await.expect(200).json();
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [copy["id"].as_str().unwrap(), second["id"].as_str().unwrap()], "those D1 may see are listed");
    // A withdrawn replication no longer counts, and the source says so to caches and to sync.
    let mark = mark_after(&page);
    act(&app, &c2, second["id"].as_str().unwrap(), "withdraw", 1, json!({})).await.expect(200);
    let stale = app
        .request(Method::GET, &format!("/api/v1/models/{source_id}"), Some(&viewer), &[("If-None-Match", &etag)], None)
        .await;
    assert_eq!(stale.expect(200).json()["replication_count"], 2);
    let page = app.get("/api/v1/models?limit=200", &viewer).await.expect(200).json();
    assert_eq!(in_list(&page), 2, "a withdrawn replication is not counted in the list either");
    let synced = app.get(&format!("/api/v1/models?updated_since={mark}"), &viewer).await.expect(200).json();
    let changed: Vec<&str> = synced["items"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert!(changed.contains(&source_id), "the source is among the changed models: {changed:?}");
    // A replication may be dropped while the copy is a draft.
    let unlinked = app
        .patch(
            &format!("/api/v1/models/{}", copy["id"].as_str().unwrap()),
            &c2,
            "\"1\"",
            &json!({"replicated_from_id": null}),
        )
        .await;
    assert_eq!(unlinked.expect(200).json()["replicated_from_id"], Value::Null);
}

#[actix_web::test]
async fn model_lists_filter_search_page_and_sync() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let c2 = fx.token(&app, "C2", &["editor"]);
    let economy =
        app.post("/api/v1/models", &c1, &model(&campaign_id, "Dân vận khéo làm đường")).await.expect(201).json();
    let mut b = model(&campaign_id, "Tôn giáo đoàn kết");
    b["kind"] = json!("comprehensive");
    b["field"] = Value::Null;
    b["special_areas"] = json!(["religious", "border"]);
    b["year"] = json!(2023);
    let religious = app.post("/api/v1/models", &c2, &b).await.expect(201).json();
    let mut b = model(&campaign_id, "Gương sáng trưởng thôn");
    b["subject"] = json!("individual");
    b["person"] = json!({"full_name": "Lò Văn Hùng", "position": "Trưởng thôn"});
    b["registered_level"] = json!("province");
    let person = app.post("/api/v1/models", &c1, &b).await.expect(201).json();
    act(&app, &c1, person["id"].as_str().unwrap(), "submit", 1, json!({})).await.expect(200);

    let viewer = fx.token(&app, "P1", &["viewer"]);
    let titles = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_string()).collect()
    };
    let get = |q: String| {
        let (app, viewer) = (&app, viewer.clone());
        async move { app.get(&format!("/api/v1/models?{q}"), &viewer).await }
    };
    let all = ["Dân vận khéo làm đường", "Tôn giáo đoàn kết", "Gương sáng trưởng thôn"]; // creation order
    assert_eq!(titles(&get(String::new()).await.expect(200).json()), all);
    assert_eq!(titles(&get(format!("campaign_id={campaign_id}")).await.json()), all);
    assert_eq!(titles(&get(format!("unit_id={}", fx.id("C2"))).await.json()), ["Tôn giáo đoàn kết"]);
    assert_eq!(titles(&get(format!("ancestor_id={}", fx.id("D1"))).await.json()), all);
    assert!(titles(&get(format!("ancestor_id={}", fx.id("D2"))).await.json()).is_empty());
    assert_eq!(titles(&get("status=registered".into()).await.json()), ["Gương sáng trưởng thôn"]);
    assert_eq!(titles(&get("kind=comprehensive".into()).await.json()), ["Tôn giáo đoàn kết"]);
    assert_eq!(titles(&get("field=economy".into()).await.json()), ["Dân vận khéo làm đường", "Gương sáng trưởng thôn"]);
    assert_eq!(titles(&get("subject=individual".into()).await.json()), ["Gương sáng trưởng thôn"]);
    assert_eq!(titles(&get("special_area=border".into()).await.json()), ["Tôn giáo đoàn kết"]);
    assert_eq!(titles(&get("registered_level=province".into()).await.json()), ["Gương sáng trưởng thôn"]);
    assert_eq!(titles(&get("year=2023".into()).await.json()), ["Tôn giáo đoàn kết"]);
    assert_eq!(titles(&get("q=giao%20DOAN%20ket".into()).await.json()), ["Tôn giáo đoàn kết"]);
    assert_eq!(titles(&get("q=hien%20dat".into()).await.json()), all, "q reaches the description");
    assert_eq!(titles(&get("q=100%25".into()).await.json()), Vec::<String>::new(), "LIKE wildcards are literal");
    assert_eq!(titles(&get("q=%22".into()).await.json()), Vec::<String>::new(), "a quote is a character");
    assert_eq!(titles(&get("q=K%E1%BA%BET".into()).await.json()), ["Tôn giáo đoàn kết"], "KẾT: the trigram index");
    assert_eq!(titles(&get("q=kheo%20lam".into()).await.json()), ["Dân vận khéo làm đường"]);
    assert_eq!(
        titles(&get("sort=-title".into()).await.json()),
        ["Tôn giáo đoàn kết", "Gương sáng trưởng thôn", "Dân vận khéo làm đường"]
    );
    let first = get("limit=2&sort=-created_at".into()).await.json();
    assert_eq!(titles(&first), ["Gương sáng trưởng thôn", "Tôn giáo đoàn kết"]);
    let next = get(format!("limit=2&sort=-created_at&cursor={}", first["next_cursor"].as_str().unwrap())).await.json();
    assert_eq!(titles(&next), ["Dân vận khéo làm đường"]);
    assert_eq!(next["next_cursor"], Value::Null);
    for bad in
        ["status=approved", "year=1900", "sort=unit_id", "limit=500", "cursor=abc", "special_area=x", "colour=red"]
    {
        let res = get(bad.into()).await;
        assert_eq!(res.status, 400, "{bad}: {}", res.text());
    }
    let sibling = app.get("/api/v1/models", &fx.token(&app, "P2", &["viewer"])).await.expect(200).json();
    assert!(titles(&sibling).is_empty(), "another province sees none of them");

    // Sync: what changed since a moment, withdrawn models included as their own tombstones.
    let mark = mark_after(&get(String::new()).await.json());
    act(&app, &c2, religious["id"].as_str().unwrap(), "withdraw", 1, json!({})).await.expect(200);
    let synced = get(format!("updated_since={mark}")).await.expect(200).json();
    assert_eq!(titles(&synced), ["Tôn giáo đoàn kết"]);
    assert_eq!(synced["items"][0]["status"], "withdrawn");
    get("updated_since=2999-01-01T00:00:00Z".into()).await.problem(400, "invalid_updated_since");

    // After a reorganisation merges C2 into C1, C1's subtree with predecessors holds C2's models.
    let admin = fx.token(&app, "P1", &["admin"]);
    let c2_unit = app.get(&format!("/api/v1/units/{}", fx.id("C2")), &admin).await.expect(200).json();
    let close = json!({"closed_on": "2025-07-01", "successors": [{"unit_id": fx.id("C1"), "is_primary": true}]});
    let etag = format!("\"{}\"", c2_unit["version"]);
    app.post_with(&format!("/api/v1/units/{}/close", fx.id("C2")), &admin, &[("If-Match", &etag)], &close)
        .await
        .expect(200);
    let own = get(format!("ancestor_id={}", fx.id("C1"))).await.json();
    assert_eq!(titles(&own), ["Dân vận khéo làm đường", "Gương sáng trưởng thôn"]);
    let with_predecessors = get(format!("ancestor_id={}&include_predecessors=true", fx.id("C1"))).await.json();
    assert_eq!(titles(&with_predecessors), all);
    let c1_viewer = fx.token(&app, "C1", &["viewer"]);
    let read = app.get(&format!("/api/v1/models/{}", religious["id"].as_str().unwrap()), &c1_viewer).await;
    read.expect(200);

    // A change of title is searched at once: the index is kept in the write's transaction.
    let id = economy["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/models/{id}"), &c1, "\"1\"", &json!({"title": "Dân vận khéo nạo vét kênh"}))
        .await
        .expect(200);
    assert_eq!(titles(&get("q=kheo%20lam".into()).await.json()), Vec::<String>::new(), "the old title is gone");
    assert_eq!(titles(&get("q=nao%20vet".into()).await.json()), ["Dân vận khéo nạo vét kênh"]);
}

/// A list keeps to its viewer's scope by one of five plans (the whole tree for the root, the
/// scope index for a province or a commune, the subtree of a unit asked for, the owner index for a
/// small scope, a probe per row for another scope of more than a thousand units): each must give
/// exactly the models of the scope, page by page, and the scope index in every order the others
/// give.
#[actix_web::test]
async fn every_scope_plan_lists_exactly_the_models_of_the_scope() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    // 1,100 villages under C1: P1, D1 and C1 now see more than a thousand units each.
    let mut csv = String::from("code,name,level,division_type,parent_code\n");
    for k in 0..1100 {
        csv.push_str(&format!("C1-T{k},Thôn {k},village,thôn,C1\n"));
    }
    app.post_csv("/api/v1/units/import", &app.root_admin(), &csv).await.expect(200);
    let root = app.root_admin();
    let national = launched(&app, &fx, "VN", &campaign("01-KH/TW", "2023-01-01", "2025-12-31", None)).await;
    let national = national["id"].as_str().unwrap();
    let mut created = std::collections::HashMap::new();
    for (unit, n) in [("C1", 3), ("C3", 2), ("P2C1", 2)] {
        for i in 0..n {
            let mut body = model(national, &format!("{unit} mô hình {i}"));
            body["unit_id"] = json!(fx.id(unit));
            body["registered_level"] = json!("province");
            let m =
                app.post("/api/v1/models", &app.token("VN", "central", &["editor"]), &body).await.expect(201).json();
            created.insert(m["id"].as_str().unwrap().to_string(), unit);
        }
    }
    // Every page of one model, by cursor: the titles of the whole list, in its order.
    let pages = |token: String, query: String| {
        let app = &app;
        async move {
            let mut titles = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
                let page = app.get(&format!("/api/v1/models?limit=1{query}{after}"), &token).await.expect(200).json();
                titles
                    .extend(page["items"].as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_string()));
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_string()),
                    None => break,
                }
                assert!(titles.len() <= 20, "pages that never end: {titles:?}");
            }
            titles
        }
    };
    let list = |token: String, query: String| {
        let all = pages(token, query);
        async move {
            let mut titles = all.await;
            titles.sort();
            titles
        }
    };
    let of = |units: &[&str]| -> Vec<String> {
        let mut titles: Vec<String> = [("C1", 3), ("C3", 2), ("P2C1", 2)]
            .iter()
            .filter(|(u, _)| units.contains(u))
            .flat_map(|(u, n)| (0..*n).map(move |i| format!("{u} mô hình {i}")))
            .collect();
        titles.sort();
        titles
    };
    assert_eq!(created.len(), 7);
    assert_eq!(list(root.clone(), String::new()).await, of(&["C1", "C3", "P2C1"]), "the root: the whole tree");
    assert_eq!(list(fx.token(&app, "P1", &["viewer"]), String::new()).await, of(&["C1", "C3"]), "P1: its scope index");
    assert_eq!(list(fx.token(&app, "D1", &["viewer"]), String::new()).await, of(&["C1"]), "D1: a probe per row");
    assert_eq!(list(fx.token(&app, "D2", &["viewer"]), String::new()).await, of(&["C3"]), "D2: the owner index");
    assert_eq!(list(fx.token(&app, "P2", &["viewer"]), String::new()).await, of(&["P2C1"]), "P2: its scope index");
    assert_eq!(list(fx.token(&app, "C3", &["viewer"]), String::new()).await, of(&["C3"]), "C3: its scope index");
    assert_eq!(list(fx.token(&app, "C1", &["viewer"]), String::new()).await, of(&["C1"]), "C1: its scope index");
    let p1 = fx.id("P1").to_string();
    let by_ancestor = list(root.clone(), format!("&ancestor_id={p1}")).await;
    assert_eq!(by_ancestor, of(&["C1", "C3"]), "the root asking for P1's subtree");
    // One model edited moves in the orders by update and by title; the scope index follows.
    let edited = created.iter().find(|(_, u)| **u == "C3").map(|(id, _)| id.clone()).unwrap();
    let editor = app.token("VN", "central", &["editor"]);
    app.patch(&format!("/api/v1/models/{edited}"), &editor, "\"1\"", &json!({"title": "C3 mô hình đổi tên"}))
        .await
        .expect(200);
    for scope in ["P1", "C1"] {
        let viewer = fx.token(&app, scope, &["viewer"]);
        let id = fx.id(scope).to_string();
        for sort in ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"] {
            for filter in ["", "&q=mo%20hinh%200", "&field=economy", "&updated_since=2020-01-01T00:00:00Z"] {
                let query = format!("&sort={sort}{filter}");
                let indexed = pages(viewer.clone(), query.clone()).await;
                let read = pages(root.clone(), format!("{query}&ancestor_id={id}&include_predecessors=true")).await;
                assert_eq!(indexed, read, "{scope}: {query}");
                assert!(!indexed.is_empty(), "{scope}: {query}");
            }
        }
    }
    crate::reports::assert_counts_match_a_recount(&app);
    // A unit outside the viewer's scope is not a way in.
    let p2 = fx.id("P2").to_string();
    let outside = list(fx.token(&app, "P1", &["viewer"]), format!("&ancestor_id={p2}")).await;
    assert!(outside.is_empty(), "{outside:?}");
}
