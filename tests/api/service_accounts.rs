//! Service accounts through the API: created by an admin, a token by the client-credentials
//! grant, used like any other; wrong secrets, unknown clients, disabled accounts, rotation with
//! two secrets at once, narrowed scopes, and the server's own signing key published as a JWKS.

use actix_web::http::Method;
use base64::Engine;
use serde_json::{json, Value};

use crate::helpers::*;

async fn token_request(app: &TestApp, headers: &[(&str, &str)], form: &str) -> Resp {
    app.request(
        Method::POST,
        "/api/v1/oauth/token",
        None,
        headers,
        Some(("application/x-www-form-urlencoded", form.as_bytes().to_vec())),
    )
    .await
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

/// An account of D1 with `roles`, made by P1's admin: (id, secret).
async fn account(app: &TestApp, fx: &Fixture, roles: &[&str]) -> (String, String) {
    let admin = fx.token(app, "P1", &["admin", "viewer", "editor", "reviewer", "approver"]);
    let body = json!({"name": "Đồng bộ cổng thông tin huyện", "unit_id": fx.id("D1"), "roles": roles});
    let created = app.post("/api/v1/service-accounts", &admin, &body).await.expect(201).json();
    (created["service_account"]["id"].as_str().unwrap().into(), created["client_secret"].as_str().unwrap().into())
}

async fn access_token(app: &TestApp, id: &str, secret: &str) -> String {
    let res = token_request(app, &[("Authorization", &basic(id, secret))], "grant_type=client_credentials").await;
    res.expect(200).json()["access_token"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn a_script_gets_a_token_and_uses_it() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin", "viewer", "editor", "reviewer", "approver"]);
    let body = json!({"name": "Script", "unit_id": fx.id("D1"), "roles": ["viewer", "editor", "viewer"]});
    let res = app.post("/api/v1/service-accounts", &admin, &body).await;
    let created = res.expect(201).json();
    let account = &created["service_account"];
    let id = account["id"].as_str().unwrap();
    assert_eq!(res.header("location"), Some(format!("/api/v1/service-accounts/{id}")));
    assert_eq!(account["client_id"], id);
    assert_eq!(account["roles"], json!(["viewer", "editor"]));
    assert_eq!(account["status"], "active");
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("dvk_"));
    assert_eq!(account["secrets"][0]["hint"], secret[secret.len() - 4..]);
    // Read back: never the secret or its hash.
    let read = app.get(&format!("/api/v1/service-accounts/{id}"), &admin).await;
    read.expect(200);
    assert!(!read.text().contains(secret) && !read.text().contains("argon2"));

    // Basic authentication, as RFC 6749 asks servers to support; or both in the body.
    let res = token_request(&app, &[("Authorization", &basic(id, secret))], "grant_type=client_credentials").await;
    let granted = res.expect(200).json();
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(granted["token_type"], "Bearer");
    assert_eq!(granted["expires_in"], 900);
    assert_eq!(granted["scope"], "viewer editor");
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    token_request(&app, &[], &form).await.expect(200);

    // The token acts as a D1 user with the account's roles.
    let token = granted["access_token"].as_str().unwrap();
    let units = app.get("/api/v1/units", token).await.expect(200).json();
    assert!(units["items"].as_array().unwrap().iter().all(|u| u["code"] != "P1"), "D1's subtree only");
    let campaign =
        json!({"code": "01-KH/HU", "title": "Dân vận khéo huyện", "starts_on": "2025-01-01", "ends_on": "2025-12-31"});
    let created = app.post("/api/v1/campaigns", token, &campaign).await.expect(201).json();
    let audit = app.get(&format!("/api/v1/audit-events?resource_id={}", created["id"].as_str().unwrap()), &admin).await;
    assert_eq!(audit.expect(200).json()["items"][0]["actor_sub"], format!("sa:{id}"));

    // A narrower scope gives a narrower token.
    let res =
        token_request(&app, &[("Authorization", &basic(id, secret))], "grant_type=client_credentials&scope=viewer")
            .await;
    let viewer = res.expect(200).json()["access_token"].as_str().unwrap().to_string();
    app.post("/api/v1/campaigns", &viewer, &campaign).await.problem(403, "missing_role");
    let events = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &admin).await.expect(200).json();
    let actions: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.last(), Some(&"service_account.create"));
    assert_eq!(actions.iter().filter(|a| **a == "oauth.token_granted").count(), 3, "each grant is on record");
}

#[actix_web::test]
async fn bad_clients_learn_nothing_and_disabled_accounts_stop_at_once() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let (id, secret) = account(&app, &fx, &["viewer"]).await;
    let token = access_token(&app, &id, &secret).await;
    app.get("/api/v1/units", &token).await.expect(200);

    // A wrong secret and an unknown client: the same answer, after the same work (as many keyed
    // hashes checked: an unknown client's are decoys).
    let checked = |auth: String| {
        let app = &app;
        async move {
            let before = app.state.keyring.checks_made();
            let res = token_request(app, &[("Authorization", &auth)], "grant_type=client_credentials").await;
            (res, app.state.keyring.checks_made() - before)
        }
    };
    let (wrong, checks_wrong) = checked(basic(&id, "dvk_wrong")).await;
    let (unknown, checks_unknown) = checked(basic("01900000-0000-7000-8000-000000000999", "dvk_wrong")).await;
    let p = wrong.expect(401).json();
    assert_eq!(wrong.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(wrong.header("www-authenticate").as_deref(), Some("Basic realm=\"dvk\""));
    assert_eq!(p["error"], "invalid_client");
    assert_eq!(p["code"], "invalid_client");
    assert_eq!(unknown.expect(401).json(), p);
    assert!(checks_wrong > 0, "a secret was checked");
    assert_eq!(checks_wrong, checks_unknown, "an unknown client costs what a wrong secret costs");

    let auth = basic(&id, &secret);
    let p = token_request(&app, &[("Authorization", &auth)], "").await.expect(400).json();
    assert_eq!(p["error"], "invalid_request");
    let p = token_request(&app, &[("Authorization", &auth)], "grant_type=password").await.expect(400).json();
    assert_eq!(p["error"], "unsupported_grant_type");
    let p = token_request(&app, &[("Authorization", &auth)], "grant_type=client_credentials&scope=admin").await;
    assert_eq!(p.expect(400).json()["error"], "invalid_scope");
    let twice = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    assert_eq!(
        token_request(&app, &[("Authorization", &auth)], &twice).await.expect(400).json()["error"],
        "invalid_request"
    );
    let json_body =
        app.request(Method::POST, "/api/v1/oauth/token", None, &[], Some(("application/json", b"{}".to_vec()))).await;
    json_body.problem(415, "unsupported_media_type");

    // Disabled: the token in hand stops working, and no new one is given.
    let admin = fx.token(&app, "P1", &["admin", "viewer", "editor", "reviewer", "approver"]);
    let path = format!("/api/v1/service-accounts/{id}");
    let disabled = app.post_with(&format!("{path}/disable"), &admin, &[("If-Match", "\"1\"")], &json!({})).await;
    assert_eq!(disabled.expect(200).json()["status"], "disabled");
    app.get("/api/v1/units", &token).await.problem(401, "account_disabled");
    assert_eq!(
        token_request(&app, &[("Authorization", &auth)], "grant_type=client_credentials").await.expect(401).json()
            ["error"],
        "invalid_client"
    );
    app.post_with(&format!("{path}/enable"), &admin, &[("If-Match", "\"2\"")], &json!({})).await.expect(200);
    app.get("/api/v1/units", &token).await.expect(200);
    // A role taken away is gone from tokens already issued.
    app.patch(&path, &admin, "\"3\"", &json!({"roles": ["editor"]})).await.expect(200);
    let campaign = json!({"code": "02-KH/HU", "title": "x", "starts_on": "2025-01-01", "ends_on": "2025-12-31"});
    let token_now = access_token(&app, &id, &secret).await;
    app.post("/api/v1/campaigns", &token_now, &campaign).await.expect(201);
}

#[actix_web::test]
async fn rotation_keeps_two_secrets_at_most() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let (id, first) = account(&app, &fx, &["viewer"]).await;
    let admin = fx.token(&app, "P1", &["admin", "viewer", "editor", "reviewer", "approver"]);
    let rotate = |version: i64, body: Value| {
        let (app, admin, id) = (&app, admin.clone(), id.clone());
        async move {
            let etag = format!("\"{version}\"");
            let res = app
                .post_with(&format!("/api/v1/service-accounts/{id}/secrets"), &admin, &[("If-Match", &etag)], &body)
                .await;
            res.expect(200).json()
        }
    };
    let second = rotate(1, json!({})).await;
    assert_eq!(second["service_account"]["secrets"].as_array().unwrap().len(), 2);
    let second = second["client_secret"].as_str().unwrap().to_string();
    access_token(&app, &id, &first).await;
    access_token(&app, &id, &second).await;
    // A third: the first stops at once; the second keeps working for its grace period.
    let third = rotate(2, json!({"previous_valid_for_secs": 3600})).await;
    let third = third["client_secret"].as_str().unwrap().to_string();
    let res = token_request(&app, &[("Authorization", &basic(&id, &first))], "grant_type=client_credentials").await;
    assert_eq!(res.expect(401).json()["error"], "invalid_client");
    access_token(&app, &id, &second).await;
    access_token(&app, &id, &third).await;
    // With no grace period the old ones stop now.
    let fourth = rotate(3, json!({"previous_valid_for_secs": 0})).await;
    assert_eq!(fourth["service_account"]["secrets"].as_array().unwrap().len(), 1);
    let res = token_request(&app, &[("Authorization", &basic(&id, &third))], "grant_type=client_credentials").await;
    res.expect(401);
    access_token(&app, &id, fourth["client_secret"].as_str().unwrap()).await;
    let p = app
        .post_with(
            &format!("/api/v1/service-accounts/{id}/secrets"),
            &admin,
            &[("If-Match", "\"4\"")],
            &json!({"previous_valid_for_secs": -1}),
        )
        .await;
    p.problem(422, "validation_failed");
}

#[actix_web::test]
async fn only_admins_above_an_account_see_it() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let (id, _) = account(&app, &fx, &["viewer"]).await;
    let path = format!("/api/v1/service-accounts/{id}");
    app.get(&path, &fx.token(&app, "D1", &["viewer"])).await.problem(403, "missing_role");
    app.get(&path, &fx.token(&app, "C1", &["admin"])).await.problem(404, "not_found");
    app.get(&path, &fx.token(&app, "P2", &["admin"])).await.problem(404, "not_found");
    app.get(&path, &fx.token(&app, "D1", &["admin"])).await.expect(200);
    let list = app.get("/api/v1/service-accounts", &fx.token(&app, "P1", &["admin"])).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let outside = json!({"name": "x", "unit_id": fx.id("P2"), "roles": ["viewer"]});
    let p = app
        .post(
            "/api/v1/service-accounts",
            &fx.token(&app, "P1", &["admin", "viewer", "editor", "reviewer", "approver"]),
            &outside,
        )
        .await;
    assert_eq!(p.problem(422, "validation_failed")["errors"][0]["field"], "unit_id");
    let no_roles = json!({"name": "x", "roles": []});
    app.post("/api/v1/service-accounts", &fx.token(&app, "P1", &["admin"]), &no_roles)
        .await
        .problem(422, "validation_failed");
    let bad_role = json!({"name": "x", "roles": ["root"]});
    app.post("/api/v1/service-accounts", &fx.token(&app, "P1", &["admin"]), &bad_role)
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn the_server_signs_with_its_own_key_and_publishes_it() {
    let app = TestApp::spawn_with(|c| {
        c.jwt_signing_key = Some(fixture_path("rsa-private.pem"));
        c.jwt_signing_kid = "dvk-test".into();
    })
    .await;
    let fx = Fixture::load(&app).await;
    let jwks = app.request(Method::GET, "/.well-known/jwks.json", None, &[], None).await.expect(200).json();
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(fixture_path("jwks.json")).unwrap()).unwrap();
    assert_eq!(jwks["keys"][0]["kid"], "dvk-test");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    assert_eq!(jwks["keys"][0]["n"], fixture["keys"][0]["n"], "the public part of the configured private key");
    assert_eq!(jwks["keys"][0]["e"], "AQAB");
    let (id, secret) = account(&app, &fx, &["viewer"]).await;
    let token = access_token(&app, &id, &secret).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!((header.alg, header.kid.as_deref()), (jsonwebtoken::Algorithm::RS256, Some("dvk-test")));
    app.get("/api/v1/units", &token).await.expect(200);

    // With a shared secret there is nothing to publish.
    let hs = TestApp::spawn().await;
    let empty = hs.request(Method::GET, "/.well-known/jwks.json", None, &[], None).await.expect(200).json();
    assert_eq!(empty, json!({"keys": []}));
}

#[actix_web::test]
async fn no_secret_or_token_in_any_log_line() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let (id, secret) = account(&app, &fx, &["viewer"]).await;
    let token = access_token(&app, &id, &secret).await;
    app.get("/api/v1/units?q=ha", &token).await.expect(200);
    token_request(&app, &[("Authorization", &basic(&id, "dvk_wrong_secret"))], "grant_type=client_credentials")
        .await
        .expect(401);
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    token_request(&app, &[], &form).await.expect(200);
    let admin = fx.token(&app, "P1", &["admin", "viewer", "editor", "reviewer", "approver"]);
    let hook = app
        .post(
            "/api/v1/webhooks",
            &admin,
            &json!({"url": "https://portal.example/hook", "events": ["model.registered"]}),
        )
        .await
        .expect(201)
        .json();
    let hook_secret = hook["secret"].as_str().unwrap().to_string();
    app.get("/api/v1/units", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.").await.expect(401);
    let lines = LOG_LINES.lock().unwrap().clone();
    assert!(lines.iter().any(|l| l.contains("dvk::access")), "the access log is captured");
    for line in &lines {
        for secret in [secret.as_str(), token.as_str(), admin.as_str(), hook_secret.as_str(), "eyJ", "whsec_"] {
            assert!(!line.contains(secret), "a log line holds a secret: {line}");
        }
    }
}
