//! The public read API: a portal polls recognised models and their commendations with no token,
//! sees nothing else, and gets 304 while nothing changed.

use actix_web::http::Method;
use serde_json::json;

use crate::commendations::{decide, proposal, recognised};
use crate::evaluations::model_in_progress;
use crate::helpers::*;
use crate::models::district_campaign;

async fn public_get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Resp {
    app.request(Method::GET, path, None, headers, None).await
}

#[actix_web::test]
async fn a_portal_polls_recognised_models_without_a_token() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign_id = district_campaign(&app, &fx).await;
    let (model_id, _) = recognised(&app, &fx, &campaign_id).await;
    let pending = model_in_progress(&app, &fx, &campaign_id).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let proposed = app
        .post(
            "/api/v1/commendations",
            &c1,
            &proposal(&fx, &model_id, "giay_khen", "D1", "Ban Dân vận Huyện ủy Bình Lục"),
        )
        .await
        .expect(201)
        .json();
    let commendation_id = proposed["id"].as_str().unwrap().to_string();

    let res = public_get(&app, "/api/v1/public/models", &[]).await;
    let page = res.expect(200).json();
    assert_eq!(res.header("cache-control").as_deref(), Some("public, max-age=60"));
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the recognised model");
    assert_eq!(items[0]["id"], model_id.as_str());
    assert_eq!(items[0]["unit"]["name"], "Xã Đồng Du");
    assert!(items[0]["recognized_on"].is_string());
    assert_eq!(items[0]["commendations"], json!([]), "a proposal is not public");
    // Nothing that is not meant to be public: no user ids, comments, history, scores or versions.
    let text = res.text();
    for hidden in ["user-of-", "status_history", "score", "version", "comment", "created_by"] {
        assert!(!text.contains(hidden), "the public page shows {hidden}: {text}");
    }
    public_get(&app, &format!("/api/v1/public/models/{pending}"), &[]).await.problem(404, "not_found");

    // A poller holding the ETag gets 304 until a commendation is issued.
    let etag = res.header("etag").unwrap();
    public_get(&app, "/api/v1/public/models", &[("If-None-Match", &etag)]).await.expect(304);
    let decision = json!({"decision_number": "125-QĐ/BDVHU", "decided_on": "2025-01-15"});
    decide(&app, &fx.token(&app, "D1", &["approver"]), &commendation_id, "issue", 1, decision).await.expect(200);
    let res = public_get(&app, "/api/v1/public/models", &[("If-None-Match", &etag)]).await;
    let page = res.expect(200).json();
    let c = &page["items"][0]["commendations"][0];
    assert_eq!(
        (c["form"].as_str(), c["issuer_name"].as_str(), c["decision_number"].as_str()),
        (Some("giay_khen"), Some("Huyện Bình Lục"), Some("125-QĐ/BDVHU"))
    );
    let one = public_get(&app, &format!("/api/v1/public/models/{model_id}"), &[]).await.expect(200).json();
    assert_eq!(one["commendations"][0]["authority_title"], "Ban Dân vận Huyện ủy Bình Lục");

    // Filters: a province, a field, a year, a search.
    let count = |path: String| {
        let app = &app;
        async move { public_get(app, &path, &[]).await.expect(200).json()["items"].as_array().unwrap().len() }
    };
    assert_eq!(count(format!("/api/v1/public/models?unit_id={}", fx.id("P1"))).await, 1);
    assert_eq!(count(format!("/api/v1/public/models?unit_id={}", fx.id("P2"))).await, 0);
    assert_eq!(count("/api/v1/public/models?year=2024".into()).await, 1);
    assert_eq!(count("/api/v1/public/models?year=2023".into()).await, 0);
    assert_eq!(count("/api/v1/public/models?field=economy".into()).await, 0, "it is a comprehensive model");
    assert_eq!(count("/api/v1/public/models?q=khu%20DAN%20cu%20van%20hoa".into()).await, 1);
    public_get(&app, "/api/v1/public/models?limit=500", &[]).await.problem(400, "invalid_limit");
    public_get(&app, "/api/v1/public/models?status=draft", &[]).await.problem(400, "invalid_query");
}
