//! Issue 14, each reproduction as it was reported, through the API on both databases: a small
//! workbook that declared a sheet of 17 billion cells, webhooks aimed at the server's own network,
//! an idempotent replay that skipped authorization and kept a secret, roles granted by an admin
//! who did not hold them, a flood of wrong client secrets, private replicas counted in public,
//! a client's request id standing in for the server's, token grants that left no trace, tokens
//! that never expire or name nobody, webhook secrets kept in plain text.

use actix_web::http::Method;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::commendations::recognised;
use crate::helpers::*;
use crate::models::district_campaign;
use crate::webhooks::Receiver;
use dvk::webhooks::delivery::Sending;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn all_roles() -> [&'static str; 5] {
    ["viewer", "editor", "reviewer", "approver", "admin"]
}

// 1. One small XLSX stopped the process.

/// A1:F2 holds a header and a row; one more cell sits at XFD1048576, the last cell of a sheet.
fn far_cell_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in ["unit_code", "title", "subject", "kind", "registered_level", "year"].iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
        sheet.write_string(1, col as u16, "x").unwrap();
    }
    sheet.write_string(1_048_575, 16_383, "far").unwrap();
    book.save_to_buffer().unwrap()
}

#[actix_web::test]
async fn a_workbook_that_declares_a_huge_sheet_is_refused_and_the_service_stays_up() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let editor = fx.token(&app, "C1", &["editor"]);
    let bytes = far_cell_workbook();
    assert!(bytes.len() < 16 * 1024, "a small file: {} bytes", bytes.len());
    let before = app.snapshot();
    // The campaign need not exist: the file is judged first, and judged safely.
    for campaign in ["x", "01900000-0000-7000-8000-000000000042"] {
        let path = format!("/api/v1/models/import?campaign_id={campaign}&dry_run=true");
        let res = app.request(Method::POST, &path, Some(&editor), &[], Some((XLSX, bytes.clone()))).await;
        let problem = res.problem(422, "sheet_too_large");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("16384 columns") && detail.contains("and 64 columns"), "names the limit: {detail}");
    }
    app.request(Method::GET, "/healthz", None, &[], None).await.expect(200);
    assert_eq!(app.snapshot(), before, "nothing changed");

    // A CSV line of commas is thousands of cells: refused by the same column limit.
    let wide = format!("{}\n{}\n", vec!["a"; 5000].join(","), vec!["b"; 5000].join(","));
    let res = app.post_csv("/api/v1/models/import?campaign_id=x&dry_run=true", &editor, &wide).await;
    res.problem(422, "too_many_columns");
    // The unit import's header: a list of a million columns is refused before it is copied.
    let header = format!(
        "code,name,level,parent_code,{}\nX1,Xã,commune,C1{}\n",
        vec!["z"; 20_000].join(","),
        ",".repeat(20_000)
    );
    app.post_csv("/api/v1/units/import", &app.root_admin(), &header).await.problem(422, "too_many_columns");
    assert_eq!(app.snapshot(), before);
}

// 2. Webhooks were an SSRF tool.

#[actix_web::test]
async fn webhooks_to_internal_addresses_are_refused_in_every_spelling() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let events = json!(["model.registered"]);
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:22/",
        "http://127.0.0.1:5432/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.5/hook",
        "http://192.168.1.10/",
        "http://100.64.1.1/",
        "http://[fd12::1]/",
        "http://localhost:9000/",
        "http://intranet/hook",
    ] {
        let res = app.post("/api/v1/webhooks", &admin, &json!({"url": url, "events": events})).await;
        let problem = res.problem(422, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
        assert_eq!(problem["errors"][0]["code"], "internal_address", "{url}: {problem}");
    }
    // Nor by PATCH, the route a replay would then re-send through.
    let ok =
        app.post("/api/v1/webhooks", &admin, &json!({"url": "https://portal.example/hook", "events": events})).await;
    let id = ok.expect(201).json()["webhook"]["id"].as_str().unwrap().to_string();
    let res =
        app.patch(&format!("/api/v1/webhooks/{id}"), &admin, "\"1\"", &json!({"url": "http://0x7f000001:5432/"})).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"][0]["code"], "internal_address");
}

#[actix_web::test]
async fn the_sender_checks_the_address_it_connects_to() {
    // The operator allows loopback, so the subscription is taken; the sender is then run with
    // the default policy, as a deployment that allows nothing would, and must not connect.
    let loopback = dvk::webhooks::network::NetworkPolicy::parse("127.0.0.0/8").unwrap();
    let allowed = loopback.clone();
    let app = TestApp::spawn_with(move |c| c.webhook_allow_networks = allowed).await;
    let fx = Fixture::load(&app).await;
    let receiver = Receiver::start(0).await;
    let admin = fx.token(&app, "D1", &["admin"]);
    let created = app
        .post("/api/v1/webhooks", &admin, &json!({"url": receiver.url, "events": ["model.registered"]}))
        .await
        .expect(201)
        .json();
    let hook = created["webhook"]["id"].as_str().unwrap().to_string();
    let campaign = district_campaign(&app, &fx).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let body = json!({"campaign_id": campaign, "title": "Thử", "subject": "collective", "kind": "comprehensive",
                      "registered_level": "district", "year": 2024});
    let m = app.post("/api/v1/models", &c1, &body).await.expect(201).json();
    crate::models::act(&app, &c1, m["id"].as_str().unwrap(), "submit", 1, json!({})).await.expect(200);

    let (pool, keys) = (app.state.pool.clone(), app.state.keyring.clone());
    let timeout = std::time::Duration::from_secs(5);
    let deny = dvk::webhooks::network::NetworkPolicy::default();
    let attempted = actix_web::web::block(move || {
        let how = Sending { schedule: &[0], timeout, lease_secs: 60, policy: &deny, keyring: &keys };
        dvk::webhooks::delivery::run_once(&pool, &how)
    })
    .await
    .unwrap();
    assert_eq!(attempted, 1);
    assert!(receiver.received().is_empty(), "nothing reached the loopback receiver");
    let log = app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &admin).await.expect(200).json();
    let error = log["items"][0]["last_error"].as_str().unwrap();
    assert!(error.contains("internal") && log["items"][0]["last_status"].is_null(), "{error}");

    // With loopback allowed, the same delivery goes out, signed with the sealed secret.
    let (pool, keys) = (app.state.pool.clone(), app.state.keyring.clone());
    actix_web::web::block(move || {
        let how = Sending { schedule: &[0], timeout, lease_secs: 60, policy: &loopback, keyring: &keys };
        dvk::webhooks::delivery::run_once(&pool, &how)
    })
    .await
    .unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let secret = created["secret"].as_str().unwrap();
    let ts: i64 = got[0].timestamp.parse().unwrap();
    assert_eq!(got[0].signature, dvk::webhooks::delivery::sign(secret, &got[0].id, ts, &got[0].body));

    // At rest the secret is sealed: the database holds no whsec_.
    let mut conn = app.state.pool.get().unwrap();
    let stored: String = dvk::db::schema::webhooks::table
        .find(&hook)
        .select(dvk::db::schema::webhooks::secret)
        .first(&mut conn)
        .unwrap();
    assert!(stored.starts_with("sealed:v1:test:") && !stored.contains(secret) && !stored.contains("whsec_"));
}

// 3. An idempotent replay skipped authorization and kept the secret.

#[actix_web::test]
async fn an_idempotent_replay_is_authorized_in_full_and_keeps_no_secret() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let p1_admin = fx.token(&app, "P1", &all_roles());
    let key = [("Idempotency-Key", "sa-create-1")];
    let body = json!({"name": "Đồng bộ", "roles": ["viewer"]});
    let first = app.post_with("/api/v1/service-accounts", &p1_admin, &key, &body).await;
    let secret = first.expect(201).json()["client_secret"].as_str().unwrap().to_string();

    // The same subject, key and body, with less authority than the first request had.
    let as_p1 = |change: &dyn Fn(&mut Value)| {
        let mut c = claims("P1", "province", &all_roles());
        change(&mut c);
        sign_hs256(&c)
    };
    let viewer = as_p1(&|c| c["roles"] = json!(["viewer"]));
    let res = app.post_with("/api/v1/service-accounts", &viewer, &key, &body).await;
    res.problem(403, "missing_role");
    assert!(res.header("idempotent-replayed").is_none());
    let unknown = as_p1(&|c| c["unit"] = json!("ZZ"));
    app.post_with("/api/v1/service-accounts", &unknown, &key, &body).await.problem(401, "unknown_unit");
    let lying = as_p1(&|c| c["level"] = json!("commune"));
    app.post_with("/api/v1/service-accounts", &lying, &key, &body).await.problem(401, "level_mismatch");
    let other_unit = as_p1(&|c| {
        c["unit"] = json!("P2");
    });
    let res = app.post_with("/api/v1/service-accounts", &other_unit, &key, &body).await;
    assert_eq!(res.status, 201, "another unit's authority is another key space: a new account, never the old one");
    assert_ne!(res.json()["client_secret"], secret.as_str());

    // The replay to the first caller answers as before, without the secret, and says so.
    let replay = app.post_with("/api/v1/service-accounts", &p1_admin, &key, &body).await;
    let replayed = replay.expect(201).json();
    assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(replay.header("idempotent-replay-withheld").as_deref(), Some("client_secret"));
    assert!(replayed["client_secret"].is_null());
    assert_eq!(replayed["service_account"]["id"], first.json()["service_account"]["id"]);
    let stored: Vec<Option<String>> = {
        let mut conn = app.state.pool.get().unwrap();
        dvk::db::schema::idempotency_keys::table
            .select(dvk::db::schema::idempotency_keys::body)
            .load(&mut conn)
            .unwrap()
    };
    assert!(!stored.is_empty() && stored.iter().flatten().all(|b| !b.contains("dvk_")), "no credential is stored");

    // The same key to another operation is another key.
    let hook = json!({"url": "https://portal.example/hook", "events": ["model.registered"]});
    let res = app.post_with("/api/v1/webhooks", &p1_admin, &key, &hook).await;
    assert!(res.expect(201).json()["secret"].as_str().unwrap().starts_with("whsec_"));

    // A service account's token, disabled since; a unit closed since.
    let (sa_id, sa_secret) = {
        let body = json!({"name": "Quản trị", "unit_id": fx.id("D1"), "roles": ["admin", "viewer"]});
        let created = app.post("/api/v1/service-accounts", &p1_admin, &body).await.expect(201).json();
        (
            created["service_account"]["id"].as_str().unwrap().to_string(),
            created["client_secret"].as_str().unwrap().to_string(),
        )
    };
    let form = format!("grant_type=client_credentials&client_id={sa_id}&client_secret={sa_secret}");
    let sa_token = token_form(&app, &[], &form).await.expect(200).json()["access_token"].as_str().unwrap().to_string();
    let sa_key = [("Idempotency-Key", "sa-create-2")];
    app.post_with("/api/v1/service-accounts", &sa_token, &sa_key, &body).await.expect(201);
    app.post_with(
        &format!("/api/v1/service-accounts/{sa_id}/disable"),
        &p1_admin,
        &[("If-Match", "\"1\"")],
        &json!({}),
    )
    .await
    .expect(200);
    app.post_with("/api/v1/service-accounts", &sa_token, &sa_key, &body).await.problem(401, "account_disabled");

    let v1_admin = fx.token(&app, "V1", &["admin", "viewer"]);
    let v1_key = [("Idempotency-Key", "sa-create-3")];
    app.post_with("/api/v1/service-accounts", &v1_admin, &v1_key, &body).await.expect(201);
    let d1_admin = fx.token(&app, "D1", &["admin"]);
    app.post_with(&format!("/api/v1/units/{}/close", fx.id("V1")), &d1_admin, &[("If-Match", "\"1\"")], &json!({}))
        .await
        .expect(200);
    app.state.unit_cache.clear();
    app.post_with("/api/v1/service-accounts", &v1_admin, &v1_key, &body).await.problem(401, "unit_closed");
}

// 4. Admins granted roles they did not hold.

#[actix_web::test]
async fn a_grantor_gives_only_the_roles_it_holds() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin_only = fx.token(&app, "P1", &["admin"]);
    let body = json!({"name": "Ký duyệt", "roles": ["approver"]});
    let res = app.post("/api/v1/service-accounts", &admin_only, &body).await;
    assert!(res.problem(403, "role_not_held")["detail"].as_str().unwrap().contains("approver"));

    let viewer_account = json!({"name": "Đọc", "roles": ["viewer"]});
    app.post("/api/v1/service-accounts", &admin_only, &viewer_account).await.problem(403, "role_not_held");
    let admin_viewer = fx.token(&app, "P1", &["admin", "viewer"]);
    let created = app.post("/api/v1/service-accounts", &admin_viewer, &viewer_account).await.expect(201).json();
    let path = format!("/api/v1/service-accounts/{}", created["service_account"]["id"].as_str().unwrap());
    // Adding a role needs it held; taking one away does not.
    app.patch(&path, &admin_viewer, "\"1\"", &json!({"roles": ["viewer", "approver"]}))
        .await
        .problem(403, "role_not_held");
    let full = fx.token(&app, "P1", &all_roles());
    app.patch(&path, &full, "\"1\"", &json!({"roles": ["viewer", "approver"]})).await.expect(200);
    app.patch(&path, &admin_viewer, "\"2\"", &json!({"roles": ["viewer"]})).await.expect(200);
    app.patch(&path, &full, "\"3\"", &json!({"roles": ["approver"]})).await.expect(200);
    // A new secret hands the account's roles to whoever holds it.
    let rotate = format!("{path}/secrets");
    app.post_with(&rotate, &admin_viewer, &[("If-Match", "\"4\"")], &json!({})).await.problem(403, "role_not_held");
    app.post_with(&rotate, &full, &[("If-Match", "\"4\"")], &json!({})).await.expect(200);
}

// 5 and 8. The token endpoint: keyed hashes, its own limits, every grant on record.

/// A client-credentials request as a script sends it, with `headers`.
async fn token_form(app: &TestApp, headers: &[(&str, &str)], form: &str) -> Resp {
    app.request(
        Method::POST,
        "/api/v1/oauth/token",
        None,
        headers,
        Some(("application/x-www-form-urlencoded", form.as_bytes().to_vec())),
    )
    .await
}

async fn token_request(app: &TestApp, form: &str) -> Resp {
    token_form(app, &[("X-Request-Id", "script-run-7")], form).await
}

/// The form of a client authentication that fails.
fn wrong_secret(client: &str) -> String {
    format!("grant_type=client_credentials&client_id={client}&client_secret=dvk_wrong")
}

#[actix_web::test]
async fn the_token_endpoint_limits_failures_and_records_every_grant() {
    let app = TestApp::spawn_with(|c| c.token_failures_per_minute = 3).await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &all_roles());
    let body = json!({"name": "Đồng bộ", "unit_id": fx.id("D1"), "roles": ["viewer"]});
    let created = app.post("/api/v1/service-accounts", &admin, &body).await.expect(201).json();
    let id = created["service_account"]["id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();

    // Kept as a keyed hash, not a password hash.
    let hashes: Vec<String> = {
        let mut conn = app.state.pool.get().unwrap();
        dvk::db::schema::service_account_secrets::table
            .select(dvk::db::schema::service_account_secrets::hash)
            .load(&mut conn)
            .unwrap()
    };
    assert!(hashes.iter().all(|h| h.starts_with("hmac-sha256:test:") && !h.contains(&secret)), "{hashes:?}");

    token_request(&app, &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"))
        .await
        .expect(200);
    let wrong = wrong_secret(&id);
    for _ in 0..3 {
        assert_eq!(token_request(&app, &wrong).await.expect(401).json()["error"], "invalid_client");
    }
    let res = token_request(&app, &wrong).await;
    res.problem(429, "rate_limited");
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));

    // Both outcomes are in the audit log, with the client, the outcome and the address; never the
    // secret. An unknown client's attempts are on the national record.
    let events = app.get(&format!("/api/v1/audit-events?resource_id={id}"), &admin).await.expect(200).json();
    let items = events["items"].as_array().unwrap();
    let granted = items.iter().find(|e| e["action"] == "oauth.token_granted").expect("the grant is recorded");
    assert_eq!(granted["actor_sub"], format!("sa:{id}"));
    assert_eq!(granted["after"]["client_id"], id.as_str());
    assert_eq!(granted["after"]["address"], "127.0.0.1");
    assert_eq!(granted["after"]["roles"], json!(["viewer"]));
    assert_eq!(granted["client_request_id"], "script-run-7");
    let refused = items.iter().filter(|e| e["action"] == "oauth.token_refused").count();
    assert_eq!(refused, 3, "the refused attempts, not the ones the limit stopped first");
    assert!(!events.to_string().contains(&secret) && !events.to_string().contains("dvk_wrong"));
    let lines = LOG_LINES.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.contains("dvk::access") && l.contains("oauth/token") && l.contains(&id)),
        "the access log names the client"
    );
}

#[actix_web::test]
async fn a_secret_hashed_with_argon2id_still_works_once_and_is_rehashed() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &all_roles());
    let body = json!({"name": "Cũ", "unit_id": fx.id("D1"), "roles": ["viewer"]});
    let created = app.post("/api/v1/service-accounts", &admin, &body).await.expect(201).json();
    let id = created["service_account"]["id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let argon2 = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19 * 1024, 2, 1, None).unwrap(),
    );
    let old =
        argon2.hash_password(secret.as_bytes(), &SaltString::encode_b64(&[9u8; 16]).unwrap()).unwrap().to_string();
    use dvk::db::schema::service_account_secrets as s;
    let mut conn = app.state.pool.get().unwrap();
    diesel::update(s::table.filter(s::account_id.eq(&id))).set(s::hash.eq(&old)).execute(&mut conn).unwrap();
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    token_request(&app, &form).await.expect(200);
    let now: String = s::table.filter(s::account_id.eq(&id)).select(s::hash).first(&mut conn).unwrap();
    assert!(now.starts_with("hmac-sha256:"), "{now}");
    token_request(&app, &form).await.expect(200);
}

// 6. The public view counted private replicas.

#[actix_web::test]
async fn public_figures_count_public_replicas_only() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = district_campaign(&app, &fx).await;
    let (model, _) = recognised(&app, &fx, &campaign).await;
    let public = format!("/api/v1/public/models/{model}");
    let read = app.request(Method::GET, &public, None, &[], None).await;
    assert_eq!(read.expect(200).json()["replication_count"], 0);
    let p2 = crate::campaigns::launched(
        &app,
        &fx,
        "P2",
        &crate::campaigns::campaign("01-KH/LS", "2024-01-01", "2025-12-31", None),
    )
    .await;
    let p2c1 = fx.token(&app, "P2C1", &["editor"]);
    let draft = json!({"campaign_id": p2["id"], "title": "Nhân rộng", "subject": "collective", "kind": "comprehensive",
                       "registered_level": "province", "year": 2024, "replicated_from_id": model});
    app.post("/api/v1/models", &p2c1, &draft).await.expect(201);
    let read = app.request(Method::GET, &public, None, &[], None).await;
    assert_eq!(read.expect(200).json()["replication_count"], 0, "a draft in another province is not public");
    // The owner's own view counts what it may see, the draft included.
    let owner = fx.token(&app, "C1", &["viewer"]);
    let own = app.get(&format!("/api/v1/models/{model}"), &owner).await.expect(200).json();
    assert!(own["replication_count"].as_i64().is_some());
}

// 7. The audit log's request id was the client's.

#[actix_web::test]
async fn the_audit_log_keeps_the_servers_request_id_and_the_clients_beside_it() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let campaign = district_campaign(&app, &fx).await;
    let c1 = fx.token(&app, "C1", &["editor"]);
    let body = json!({"campaign_id": campaign, "title": "Một", "subject": "collective", "kind": "comprehensive",
                      "registered_level": "district", "year": 2024});
    let first = app.post_with("/api/v1/models", &c1, &[("X-Request-Id", "shared-id-1")], &body).await;
    let first_id = first.expect(201).header("x-request-id").unwrap();
    assert_ne!(first_id, "shared-id-1", "the server names its own requests");
    assert_eq!(first.header("x-client-request-id").as_deref(), Some("shared-id-1"));
    let c2 = fx.token(&app, "C2", &["editor"]);
    let second = app.post_with("/api/v1/models", &c2, &[("X-Request-Id", "shared-id-1")], &body).await;
    let second_id = second.expect(201).header("x-request-id").unwrap();
    let admin = fx.token(&app, "P1", &["admin"]);
    let events = app.get("/api/v1/audit-events?resource_type=model", &admin).await.expect(200).json();
    let ids: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["request_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&first_id.as_str()) && ids.contains(&second_id.as_str()) && first_id != second_id);
    assert!(events["items"].as_array().unwrap().iter().all(|e| e["client_request_id"] == "shared-id-1"));
}

// 9. Tokens that never expire, or name nobody.

#[actix_web::test]
async fn tokens_must_name_someone_and_expire_soon_enough() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now().timestamp();
    let mut c = claims("VN", "central", &["viewer"]);
    c["exp"] = json!(9_990_000_000i64); // the year 2286
    app.get("/api/v1/units", &sign_hs256(&c)).await.problem(401, "token_lifetime_too_long");
    let mut c = claims("VN", "central", &["viewer"]);
    c.as_object_mut().unwrap().remove("iat");
    c["exp"] = json!(now + 2 * 86_400);
    app.get("/api/v1/units", &sign_hs256(&c)).await.problem(401, "token_lifetime_too_long");
    for sub in ["", "   "] {
        let mut c = claims("VN", "central", &["viewer"]);
        c["sub"] = json!(sub);
        app.get("/api/v1/units", &sign_hs256(&c)).await.problem(401, "invalid_subject");
    }
    let mut c = claims("VN", "central", &["viewer"]);
    c["exp"] = json!(now + 86_000);
    app.get("/api/v1/units", &sign_hs256(&c)).await.expect(200);
    let short = dvk::auth::mint_hs256(
        SECRET,
        &serde_json::from_value(
            json!({"sub": "x", "unit": "VN", "level": "central", "iss": "dvk", "aud": "dvk-api", "exp": now + 60}),
        )
        .unwrap(),
    );
    app.get("/api/v1/units", &short).await.expect(200);
}

#[actix_web::test]
async fn webhook_secrets_written_before_sealing_are_sealed_at_start() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "P1", &["admin"]);
    let created = app
        .post(
            "/api/v1/webhooks",
            &admin,
            &json!({"url": "https://portal.example/hook", "events": ["model.registered"]}),
        )
        .await
        .expect(201)
        .json();
    let id = created["webhook"]["id"].as_str().unwrap();
    use dvk::db::schema::webhooks as w;
    let mut conn = app.state.pool.get().unwrap();
    diesel::update(w::table.find(id))
        .set(w::secret.eq("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        .execute(&mut conn)
        .unwrap();
    let rotated = dvk::keyring::Keyring::parse(&format!(
        "{},{}",
        dvk::keyring::Keyring::generate_entry("next"),
        dvk::keyring::Keyring::generate_entry("test")
    ))
    .unwrap();
    assert_eq!(dvk::webhooks::reseal_secrets(&mut conn, &rotated).unwrap(), 1);
    let stored: String = w::table.find(id).select(w::secret).first(&mut conn).unwrap();
    assert!(stored.starts_with("sealed:v1:next:"));
    assert_eq!(rotated.open(&stored).as_deref(), Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(dvk::webhooks::reseal_secrets(&mut conn, &rotated).unwrap(), 0, "done once");
}

/// Behind a balancer every caller shares its address: with `DVK_TRUSTED_PROXIES` the token
/// endpoint's failure limit is per caller (the address the balancer forwarded for), and a caller
/// that is not behind a trusted proxy cannot escape the limit by naming another address in
/// `X-Forwarded-For`.
#[actix_web::test]
async fn behind_a_trusted_balancer_the_failure_limit_is_per_caller() {
    async fn attempt(app: &TestApp, forwarded_for: &str, client: &str) -> Resp {
        token_form(app, &[("X-Forwarded-For", forwarded_for)], &wrong_secret(client)).await
    }
    // The test's loopback stands for the balancer.
    let proxied = TestApp::spawn_with(|c| {
        c.token_failures_per_minute = 2;
        c.trusted_proxies = dvk::http::client_address::parse_trusted("127.0.0.1").unwrap();
    })
    .await;
    attempt(&proxied, "198.51.100.1", "unknown-1").await.expect(401);
    attempt(&proxied, "198.51.100.1", "unknown-2").await.expect(401);
    attempt(&proxied, "198.51.100.1", "unknown-3").await.problem(429, "rate_limited");
    attempt(&proxied, "198.51.100.2", "unknown-4").await.expect(401);
    // A forged entry to the left of the balancer's does not change who is calling.
    attempt(&proxied, "6.6.6.6, 198.51.100.1", "unknown-5").await.problem(429, "rate_limited");

    let direct = TestApp::spawn_with(|c| c.token_failures_per_minute = 2).await;
    attempt(&direct, "198.51.100.1", "unknown-1").await.expect(401);
    attempt(&direct, "198.51.100.2", "unknown-2").await.expect(401);
    attempt(&direct, "198.51.100.3", "unknown-3").await.problem(429, "rate_limited");
}

/// A flood of wrong secrets spread over two instances on one database is limited as one: the
/// failures each instance counts are the database's.
#[actix_web::test]
async fn the_failure_limit_holds_across_instances() {
    let first = TestApp::spawn_with(|c| c.token_failures_per_minute = 3).await;
    let second = first.spawn_beside(|c| c.token_failures_per_minute = 3).await;
    async fn attempt(app: &TestApp, client: &str) -> Resp {
        token_form(app, &[], &wrong_secret(client)).await
    }
    // Three failures of one client, alternating instances: neither saw three by itself.
    attempt(&first, "flooded").await.expect(401);
    attempt(&second, "flooded").await.expect(401);
    attempt(&first, "flooded").await.expect(401);
    let refused = attempt(&second, "flooded").await;
    refused.problem(429, "rate_limited");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    attempt(&first, "flooded").await.problem(429, "rate_limited");
}
