//! Units through the API: create, read, change, close, list, search, page, sync, ancestors, scope.

use serde_json::{json, Value};

use crate::helpers::*;

fn codes(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap().to_string()).collect()
}

#[actix_web::test]
async fn a_fresh_database_holds_the_root_unit() {
    let app = TestApp::spawn().await;
    let page = app.get("/api/v1/units", &app.root_admin()).await;
    let page = page.expect(200).json();
    assert_eq!(codes(&page), vec!["VN"]);
    assert_eq!(page["items"][0]["level"], "central");
    assert_eq!(page["items"][0]["id"], ROOT_ID);
    assert_eq!(page["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn an_admin_creates_reads_and_caches_a_unit() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "P1-BDV", "name": "Ban Dân vận Tỉnh ủy", "kind": "party_body", "level": "province", "parent_id": fx.id("P1")}),
        )
        .await;
    let unit = res.expect(201).json();
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    let location = res.header("location").unwrap();
    assert_eq!(location, format!("/api/v1/units/{}", unit["id"].as_str().unwrap()));
    assert_eq!(unit["status"], "active");
    assert_eq!(unit["version"], 1);

    let viewer = fx.token(&app, "P1", &["viewer"]);
    let read = app.get(&location, &viewer).await;
    assert_eq!(read.expect(200).json(), unit);
    let cached =
        app.request(actix_web::http::Method::GET, &location, Some(&viewer), &[("If-None-Match", "\"1\"")], None).await;
    cached.expect(304);
    assert!(cached.body.is_empty());
}

#[actix_web::test]
async fn bad_unit_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let before = app.snapshot();
    let base =
        json!({"code": "X1", "name": "Xã Mới", "kind": "locality", "level": "commune", "parent_id": fx.id("D1")});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (with("status", json!("closed")), 422, "validation_failed"),
        (with("id", json!("0190c000-0000-7000-8000-00000000dead")), 422, "validation_failed"),
        (with("version", json!(9)), 422, "validation_failed"),
        (with("level", json!("hamlet")), 422, "validation_failed"),
        (with("kind", json!(7)), 422, "validation_failed"),
        (with("name", json!("x".repeat(256))), 422, "validation_failed"),
        (with("name", json!("   ")), 422, "validation_failed"),
        (with("code", json!("'; DROP TABLE units;--")), 422, "validation_failed"),
        (with("level", json!("province")), 422, "validation_failed"),
        (with("parent_id", json!(fx.id("P2"))), 422, "validation_failed"),
        (with("parent_id", json!("no-such-unit")), 422, "validation_failed"),
        (with("code", json!("C1")), 409, "code_taken"),
    ];
    for (body, status, code) in cases {
        let res = app.post("/api/v1/units", &admin, &body).await;
        let problem = res.problem(status, code);
        if status == 422 {
            assert!(!problem["errors"].as_array().unwrap().is_empty(), "{problem}");
        }
    }
    let unknown = app.post("/api/v1/units", &admin, &with("status", json!("closed"))).await.json();
    assert_eq!(unknown["errors"][0]["field"], "status");
    assert_eq!(unknown["errors"][0]["code"], "unknown_field");
    let missing = app.post("/api/v1/units", &admin, &json!({"code": "X"})).await.json();
    assert_eq!(missing["errors"][0]["code"], "required");
    // A locality under a body, a body above its parent.
    let res = app
        .post("/api/v1/units", &admin, &with("parent_id", json!(fx.id("P1-BLOC"))))
        .await
        .problem(422, "validation_failed");
    assert_eq!(res["errors"][0]["code"], "locality_under_body");
    // Roles and scope.
    app.post("/api/v1/units", &fx.token(&app, "P1", &["editor", "viewer"]), &base).await.problem(403, "missing_role");
    app.post("/api/v1/units", &fx.token(&app, "P2", &["admin"]), &base).await.problem(422, "validation_failed");
    assert_eq!(app.snapshot(), before, "refused requests must change nothing");
}

#[actix_web::test]
async fn patch_needs_if_match_and_refuses_stale_versions() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let path = format!("/api/v1/units/{}", fx.id("C1"));
    let body = json!({"name": "Xã Đồng Du Mới", "short_name": "Đồng Du"});

    let res = app
        .request(
            actix_web::http::Method::PATCH,
            &path,
            Some(&admin),
            &[],
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    res.problem(428, "if_match_required");
    let stale = app.patch(&path, &admin, "\"7\"", &body).await.problem(412, "version_mismatch");
    assert_eq!(stale["current"]["version"], 1, "412 carries the current version so a client can merge");

    let res = app.patch(&path, &admin, "\"1\"", &body).await;
    let unit = res.expect(200).json();
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(unit["name"], "Xã Đồng Du Mới");
    assert_eq!(unit["short_name"], "Đồng Du");
    let cleared = app.patch(&path, &admin, "\"2\"", &json!({"short_name": null})).await.expect(200).json();
    assert_eq!(cleared["short_name"], Value::Null);
    assert_eq!(cleared["version"], 3);
    // Not a field one may set.
    app.patch(&path, &admin, "\"3\"", &json!({"level": "village"})).await.problem(422, "validation_failed");
    app.patch(&path, &admin, "\"3\"", &json!({"version": 10})).await.problem(422, "validation_failed");
    // Admins change units strictly below their own.
    let p1 = format!("/api/v1/units/{}", fx.id("P1"));
    app.patch(&p1, &admin, "\"1\"", &json!({"name": "x"})).await.problem(403, "outside_scope");
    app.patch(&path, &fx.token(&app, "P1", &["editor"]), "\"3\"", &json!({"name": "x"}))
        .await
        .problem(403, "missing_role");
    // Out of scope: not found, not forbidden.
    app.patch(&path, &fx.token(&app, "P2", &["admin"]), "\"3\"", &json!({"name": "x"})).await.problem(404, "not_found");
}

#[actix_web::test]
async fn moving_a_unit_moves_its_subtree() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let c1 = format!("/api/v1/units/{}", fx.id("C1"));
    // Into its own subtree: refused.
    let res =
        app.patch(&c1, &admin, "\"1\"", &json!({"parent_id": fx.id("V1")})).await.problem(422, "validation_failed");
    assert_eq!(res["errors"][0]["code"], "cycle");
    let moved = app.patch(&c1, &admin, "\"1\"", &json!({"parent_id": fx.id("D2")})).await.expect(200).json();
    assert_eq!(moved["parent_id"], fx.id("D2"));
    let under_d2 = app.get(&format!("/api/v1/units?ancestor_id={}", fx.id("D2")), &admin).await.expect(200).json();
    assert_eq!(codes(&under_d2), vec!["C1", "C3", "D2", "V1"]);
    let ancestors =
        app.get(&format!("/api/v1/units/{}/ancestors", fx.id("V1")), &app.root_admin()).await.expect(200).json();
    assert_eq!(codes(&ancestors), vec!["VN", "P1", "D2", "C1"]);
}

#[actix_web::test]
async fn closing_a_unit_closes_its_subtree_and_its_tokens() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let c1_user = fx.token(&app, "C1", &["viewer"]);
    app.get("/api/v1/units", &c1_user).await.expect(200);
    let d1 = format!("/api/v1/units/{}", fx.id("D1"));
    let close = format!("{d1}/close");
    app.post(&close, &admin, &json!({})).await.problem(428, "if_match_required");
    let future = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive().to_string();
    app.post_with(&close, &admin, &[("If-Match", "\"1\"")], &json!({"closed_on": future}))
        .await
        .problem(422, "validation_failed");
    let res = app
        .post_with(
            &close,
            &admin,
            &[("If-Match", "\"1\"")],
            &json!({"closed_on": "2025-07-01", "successors": [{"unit_id": fx.id("D2"), "is_primary": true}], "reason": "sáp nhập"}),
        )
        .await;
    let closed = res.expect(200).json();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_on"], "2025-07-01");
    assert_eq!(closed["successor_ids"], json!([fx.id("D2")]));
    assert_eq!(closed["primary_successor_id"], fx.id("D2"));
    // No active unit stays under a closed one.
    let under =
        app.get(&format!("/api/v1/units?ancestor_id={}&status=active", fx.id("D1")), &admin).await.expect(200).json();
    assert_eq!(codes(&under), Vec::<String>::new());
    let c1 = app.get(&format!("/api/v1/units/{}", fx.id("C1")), &admin).await.expect(200).json();
    assert_eq!(c1["status"], "closed");
    assert_eq!(c1["closed_on"], "2025-07-01");
    // Its people's tokens stop working; the closed unit cannot be changed or closed again.
    app.get("/api/v1/units", &c1_user).await.problem(401, "unit_closed");
    app.patch(&d1, &admin, "\"2\"", &json!({"name": "x"})).await.problem(409, "unit_closed");
    app.post_with(&close, &admin, &[("If-Match", "\"2\"")], &json!({})).await.problem(409, "unit_closed");
    // The successor's people see the predecessor's subtree when they ask for predecessors.
    let d2_user = fx.token(&app, "D2", &["viewer"]);
    let with = app.get(&format!("/api/v1/units?ancestor_id={}&include_predecessors=true", fx.id("D2")), &d2_user).await;
    assert_eq!(codes(&with.expect(200).json()), vec!["C1", "C2", "C3", "D1", "D2", "V1"]);
    let without = app.get(&format!("/api/v1/units?ancestor_id={}", fx.id("D2")), &d2_user).await.expect(200).json();
    assert_eq!(codes(&without), vec!["C3", "D2"]);
}

#[actix_web::test]
async fn lists_filter_search_sort_and_page() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p1 = fx.token(&app, "P1", &["viewer"]);
    let get = |q: String| {
        let app = &app;
        let p1 = p1.clone();
        async move { app.get(&format!("/api/v1/units?{q}"), &p1).await.expect(200).json() }
    };
    assert_eq!(codes(&get(String::new()).await), vec!["C1", "C2", "C3", "D1", "D2", "P1", "P1-BASE", "P1-BLOC", "V1"]);
    assert_eq!(codes(&get(format!("parent_id={}", fx.id("P1"))).await), vec!["D1", "D2", "P1-BLOC"]);
    assert_eq!(codes(&get(format!("ancestor_id={}", fx.id("D1"))).await), vec!["C1", "C2", "D1", "V1"]);
    assert_eq!(codes(&get("level=commune".into()).await), vec!["C1", "C2", "C3", "P1-BASE"]);
    assert_eq!(codes(&get("kind=party_body".into()).await), vec!["P1-BASE", "P1-BLOC"]);
    assert_eq!(codes(&get("status=closed".into()).await), Vec::<String>::new());
    // Search ignores case and diacritics, and đ folds to d.
    for q in ["dong%20du", "%C4%90%E1%BB%92NG%20DU", "%C4%91%E1%BB%93ng%20du"] {
        assert_eq!(codes(&get(format!("q={q}")).await), vec!["C1"], "q={q}");
    }
    // "đông" and "Dong" find both Xã Đồng Du and Thôn Đông.
    for q in ["%C4%91%C3%B4ng", "Dong"] {
        assert_eq!(codes(&get(format!("q={q}")).await), vec!["C1", "V1"], "q={q}");
    }
    assert_eq!(codes(&get("q=binh%20luc".into()).await), vec!["D1"]);
    assert_eq!(codes(&get("q=%25".into()).await), Vec::<String>::new(), "LIKE wildcards are literal");
    assert_eq!(codes(&get("q=_".into()).await), Vec::<String>::new());
    // Sorts.
    assert_eq!(codes(&get("sort=-code&limit=3".into()).await), vec!["V1", "P1-BLOC", "P1-BASE"]);
    let by_name = codes(&get("sort=name".into()).await);
    assert_eq!(by_name.first().map(String::as_str), Some("P1-BASE"), "Chi bộ… sorts first");
    // Pages of 2 add up to the whole list, each unit once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=2&sort=name&cursor={c}"),
            None => "limit=2&sort=name".into(),
        };
        let page = get(q).await;
        seen.extend(codes(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, by_name);
    // Scope: another province's units are invisible, even when asked for by id.
    let p2 = fx.token(&app, "P2", &["viewer"]);
    let other = app.get(&format!("/api/v1/units?ancestor_id={}", fx.id("P1")), &p2).await.expect(200).json();
    assert_eq!(codes(&other), Vec::<String>::new());
    app.get(&format!("/api/v1/units/{}", fx.id("C1")), &p2).await.problem(404, "not_found");
    app.get(&format!("/api/v1/units/{}/ancestors", fx.id("C1")), &p2).await.problem(404, "not_found");
    app.get("/api/v1/units/not-a-uuid", &p2).await.problem(404, "not_found");
}

#[actix_web::test]
async fn bad_list_parameters_are_400s() {
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    app.get("/api/v1/units?limit=0", &t).await.problem(400, "invalid_limit");
    app.get("/api/v1/units?limit=201", &t).await.problem(400, "invalid_limit");
    app.get("/api/v1/units?limit=99999999999999999999", &t).await.problem(400, "invalid_query");
    app.get("/api/v1/units?sort=password", &t).await.problem(400, "invalid_sort");
    app.get("/api/v1/units?level=hamlet", &t).await.problem(400, "invalid_query");
    app.get("/api/v1/units?colour=red", &t).await.problem(400, "invalid_query");
    app.get("/api/v1/units?cursor=garbage", &t).await.problem(400, "invalid_cursor");
    app.get("/api/v1/units?cursor=eyJzIjoiY29kZSIsImkiOjF9", &t).await.problem(400, "invalid_cursor");
    // A cursor made for one sort is not valid for another.
    let fx = Fixture::load(&app).await;
    let _ = fx;
    let page = app.get("/api/v1/units?limit=1", &t).await.expect(200).json();
    let cursor = page["next_cursor"].as_str().unwrap();
    app.get(&format!("/api/v1/units?limit=1&sort=name&cursor={cursor}"), &t).await.problem(400, "invalid_cursor");
    app.get("/api/v1/units?updated_since=yesterday", &t).await.problem(400, "invalid_updated_since");
    app.get("/api/v1/units?updated_since=2999-01-01T00:00:00Z", &t).await.problem(400, "invalid_updated_since");
}

#[actix_web::test]
async fn updated_since_returns_what_changed_including_closures() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let all = app.get("/api/v1/units?updated_since=2000-01-01T00:00:00Z&limit=200", &admin).await.expect(200).json();
    assert_eq!(all["items"].as_array().unwrap().len(), 9);
    let mark = mark_after(&all);
    app.patch(&format!("/api/v1/units/{}", fx.id("C2")), &admin, "\"1\"", &json!({"name": "Xã An Đổ Mới"}))
        .await
        .expect(200);
    app.post_with(&format!("/api/v1/units/{}/close", fx.id("C3")), &admin, &[("If-Match", "\"1\"")], &json!({}))
        .await
        .expect(200);
    let changed = app.get(&format!("/api/v1/units?updated_since={mark}"), &admin).await.expect(200).json();
    assert_eq!(codes(&changed), vec!["C2", "C3"], "in the order they changed");
    assert_eq!(changed["items"][1]["status"], "closed", "a closed unit is its own tombstone");
}

#[actix_web::test]
async fn ancestors_stop_at_what_the_caller_may_see() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let path = format!("/api/v1/units/{}/ancestors", fx.id("V1"));
    let from_root = app.get(&path, &app.root_admin()).await.expect(200).json();
    assert_eq!(codes(&from_root), vec!["VN", "P1", "D1", "C1"]);
    let from_p1 = app.get(&path, &fx.token(&app, "P1", &["viewer"])).await.expect(200).json();
    assert_eq!(codes(&from_p1), vec!["P1", "D1", "C1"]);
    let from_c1 = app.get(&path, &fx.token(&app, "C1", &["viewer"])).await.expect(200).json();
    assert_eq!(codes(&from_c1), vec!["C1"]);
}

/// Issue 15 §4: tokens and spreadsheets carry codes. `/units?code=` takes exact codes, repeated;
/// every filter that takes a unit takes its code as well as its id.
#[actix_web::test]
async fn units_are_found_by_their_codes_everywhere_a_unit_is_asked_for() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = app.root_admin();
    let page = app.get("/api/v1/units?code=P1&code=P2C1&code=NONE", &admin).await.expect(200).json();
    let mut codes: Vec<&str> = page["items"].as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(codes, ["P1", "P2C1"]);
    // Exact, not a search: "P1" does not find "P1-BLOC".
    let one = app.get("/api/v1/units?code=P1", &admin).await.expect(200).json();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    // Scope still holds: a province sees its own codes only.
    let p2 = fx.token(&app, "P2", &["viewer"]);
    let seen = app.get("/api/v1/units?code=P1&code=P2C1", &p2).await.expect(200).json();
    assert_eq!(seen["items"].as_array().unwrap().len(), 1);
    let too_many = (0..101).map(|i| format!("code=X{i}")).collect::<Vec<_>>().join("&");
    app.get(&format!("/api/v1/units?{too_many}"), &admin).await.problem(400, "invalid_query");

    // A code wherever a unit is asked for answers as its id does.
    for (by_code, by_id) in [
        ("/api/v1/units?ancestor_id=D1".to_string(), format!("/api/v1/units?ancestor_id={}", fx.id("D1"))),
        ("/api/v1/units?parent_id=P1".to_string(), format!("/api/v1/units?parent_id={}", fx.id("P1"))),
        ("/api/v1/models?ancestor_id=D1".to_string(), format!("/api/v1/models?ancestor_id={}", fx.id("D1"))),
        ("/api/v1/campaigns?unit_id=P1".to_string(), format!("/api/v1/campaigns?unit_id={}", fx.id("P1"))),
        ("/api/v1/reports/models?unit_id=D1".to_string(), format!("/api/v1/reports/models?unit_id={}", fx.id("D1"))),
        (
            "/api/v1/commendations?issuer_unit_id=D1".to_string(),
            format!("/api/v1/commendations?issuer_unit_id={}", fx.id("D1")),
        ),
    ] {
        let a = app.get(&by_code, &admin).await.expect(200).json();
        let b = app.get(&by_id, &admin).await.expect(200).json();
        assert_eq!(a, b, "{by_code}");
    }
    let d1_units = app.get("/api/v1/units?ancestor_id=D1", &admin).await.expect(200).json();
    assert_eq!(d1_units["items"].as_array().unwrap().len(), 4, "D1, C1, C2 and V1");
}

/// Issue 15 §3: a unit list says when a unit came into being; a record of it cannot be older.
#[actix_web::test]
async fn records_are_dated_within_their_units_life() {
    let app = TestApp::spawn().await;
    Fixture::load(&app).await;
    let csv = "code,name,level,parent_code,division_type,established_on\nC9,Xã Tân Lập,commune,D1,xã,2024-01-01\n";
    app.post_csv("/api/v1/units/import", &app.root_admin(), csv).await.expect(200);
    let page = app.get("/api/v1/units?code=C9", &app.root_admin()).await.expect(200).json();
    assert_eq!(page["items"][0]["established_on"], "2024-01-01");
    let editor = app.token("C9", "commune", &["editor"]);
    let mut plan = crate::campaigns::campaign("01-KH/ĐU", "2024-01-01", "2025-12-31", None);
    plan["issued_on"] = json!("2023-06-01");
    let res = app.post("/api/v1/campaigns", &editor, &plan).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "before_unit");
    plan["issued_on"] = json!("2024-02-01");
    app.post("/api/v1/campaigns", &editor, &plan).await.expect(201);
    let bad = "code,name,level,parent_code,established_on\nC8,Xã Sau,commune,D1,01/02/2024\n";
    let res = app.post_csv("/api/v1/units/import", &app.root_admin(), bad).await;
    assert_eq!(res.problem(422, "invalid_file")["errors"][0]["code"], "invalid_date");
}
