//! The audit log: every write, in the same transaction, readable by admins of the subtree.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn writes_are_audited_with_actor_before_after_and_request_id() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let c1 = format!("/api/v1/units/{}", fx.id("C1"));
    let res = app
        .request(
            Method::PATCH,
            &c1,
            Some(&admin),
            &[("If-Match", "\"1\""), ("X-Request-Id", "req-audit-1")],
            Some(("application/json", json!({"name": "Xã Đồng Du Mới"}).to_string().into_bytes())),
        )
        .await;
    res.expect(200);
    let events = app.get(&format!("/api/v1/audit-events?resource_id={}", fx.id("C1")), &admin).await.expect(200).json();
    let e = &events["items"][0];
    assert_eq!(e["action"], "unit.update");
    assert_eq!(e["actor_sub"], "user-of-P1");
    assert_eq!(e["actor_unit_id"], fx.id("P1"));
    assert_eq!(e["request_id"], res.header("x-request-id").unwrap().as_str(), "the server's id");
    assert_eq!(e["client_request_id"], "req-audit-1", "the client's, beside it");
    assert_eq!(e["before"]["name"], "Xã Đồng Du");
    assert_eq!(e["after"]["name"], "Xã Đồng Du Mới");
    // A refused write leaves no trace.
    app.patch(&c1, &admin, "\"1\"", &json!({"name": "stale"})).await.expect(412);
    let again = app.get(&format!("/api/v1/audit-events?resource_id={}", fx.id("C1")), &admin).await.expect(200).json();
    assert_eq!(again["items"].as_array().unwrap().len(), 1);
    // The import that built the fixture is there for the root's admins.
    let imports = app.get("/api/v1/audit-events?action=unit.import", &app.root_admin()).await.expect(200).json();
    assert_eq!(imports["items"][0]["after"]["report"]["created"], 13);
    // Only admins, only their subtree.
    app.get("/api/v1/audit-events", &fx.token(&app, "P1", &["viewer", "editor"])).await.problem(403, "missing_role");
    let p2 = app.get("/api/v1/audit-events", &fx.token(&app, "P2", &["admin"])).await.expect(200).json();
    assert!(p2["items"].as_array().unwrap().iter().all(|e| e["resource_id"] != fx.id("C1")));
    assert_eq!(p2["items"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn audit_pages_newest_first() {
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    for i in 0..5 {
        app.post("/api/v1/units", &t, &json!({"code": format!("A{i}"), "name": "Tỉnh", "kind": "locality", "level": "province", "parent_id": ROOT_ID}))
            .await
            .expect(201);
    }
    let first = app.get("/api/v1/audit-events?limit=3", &t).await.expect(200).json();
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    assert_eq!(first["items"][0]["after"]["code"], "A4");
    let next = first["next_cursor"].as_str().unwrap();
    let second = app.get(&format!("/api/v1/audit-events?limit=3&cursor={next}"), &t).await.expect(200).json();
    let codes: Vec<_> = second["items"].as_array().unwrap().iter().map(|e| e["after"]["code"].clone()).collect();
    assert_eq!(codes, vec![json!("A1"), json!("A0")]);
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
}
