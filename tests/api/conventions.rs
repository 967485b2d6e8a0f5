//! The conventions every resource shares: request ids, problem+json, body limits, media types,
//! idempotency keys, rate limits, health.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::*;

fn new_unit(code: &str) -> serde_json::Value {
    json!({"code": code, "name": format!("Tỉnh {code}"), "kind": "locality", "level": "province", "parent_id": ROOT_ID})
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    // The server names every request itself; a caller's own id is echoed beside it.
    let res = app.request(Method::GET, "/healthz", None, &[("X-Request-Id", "abc-123")], None).await;
    assert_eq!(res.header("x-request-id").map(|v| v.len()), Some(36));
    assert_eq!(res.header("x-client-request-id").as_deref(), Some("abc-123"));
    let res = app.request(Method::GET, "/api/v1/units", None, &[], None).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.header("x-request-id").map(|v| v.len()), Some(36), "a fresh UUID");
    // A request id that could forge log lines is replaced.
    let res = app.request(Method::GET, "/healthz", None, &[("X-Request-Id", "a b\"c")], None).await;
    assert_ne!(res.header("x-request-id").as_deref(), Some("a b\"c"));
    assert_eq!(res.header("x-client-request-id"), None);
}

#[actix_web::test]
async fn unknown_paths_and_health() {
    let app = TestApp::spawn().await;
    app.request(Method::GET, "/nope", None, &[], None).await.problem(404, "not_found");
    app.get("/api/v1/nope", &app.root_admin()).await.problem(404, "not_found");
    assert_eq!(app.request(Method::GET, "/healthz", None, &[], None).await.expect(200).json()["status"], "ok");
    assert_eq!(app.request(Method::GET, "/readyz", None, &[], None).await.expect(200).json()["status"], "ready");
}

#[actix_web::test]
async fn bodies_must_be_json_of_bounded_size_and_depth() {
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    let before = app.snapshot();
    let post = |ct: &'static str, body: Vec<u8>| {
        let app = &app;
        let t = t.clone();
        async move { app.request(Method::POST, "/api/v1/units", Some(&t), &[], Some((ct, body))).await }
    };
    post("text/plain", new_unit("A").to_string().into_bytes()).await.problem(415, "unsupported_media_type");
    post("application/json", b"{\"code\": ".to_vec()).await.problem(400, "malformed_json");
    post("application/json", format!("{} {{}}", new_unit("A")).into_bytes()).await.problem(400, "malformed_json");
    post("application/json", b"[1,2]".to_vec()).await.problem(422, "validation_failed");
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let res = post("application/json", deep.into_bytes()).await;
    assert!([400, 413, 422].contains(&res.status), "deep JSON is refused cleanly, not a crash: {}", res.status);
    let mut big = new_unit("BIG");
    big["name"] = json!("x".repeat(1024 * 1024 + 10));
    post("application/json", big.to_string().into_bytes()).await.problem(413, "payload_too_large");
    assert_eq!(app.snapshot(), before);
}

#[actix_web::test]
async fn idempotency_keys_replay_the_first_response() {
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    let first = app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "key-1")], &new_unit("P9")).await;
    let unit = first.expect(201).json();
    let again = app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "key-1")], &new_unit("P9")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json(), unit);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    let list = app.get("/api/v1/units?q=P9", &t).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "created once");
    // The same key with another body is a client error; another user's same key is theirs alone.
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "key-1")], &new_unit("P8"))
        .await
        .problem(422, "idempotency_key_reused");
    let other = sign_hs256(&{
        let mut c = claims("VN", "central", &["admin"]);
        c["sub"] = json!("someone-else");
        c
    });
    app.post_with("/api/v1/units", &other, &[("Idempotency-Key", "key-1")], &new_unit("P7")).await.expect(201);
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "")], &new_unit("P6"))
        .await
        .problem(400, "invalid_idempotency_key");
    let long = "k".repeat(256);
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", &long)], &new_unit("P6"))
        .await
        .problem(400, "invalid_idempotency_key");
    // Refusals are replayed too: the retry of a bad request is the same bad request.
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "key-2")], &json!({"code": "P5"}))
        .await
        .problem(422, "validation_failed");
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "key-2")], &json!({"code": "P5"}))
        .await
        .problem(422, "validation_failed");
}

/// What the server keys a POST of `body` to `path` under (method, path, query, If-Match, body).
fn request_hash(path: &str, body: &serde_json::Value) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(format!("POST\0{path}\0\0\0{body}"));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The root admin's key `key`, as a request that died left it: pending, held until `held_until`,
/// having committed `committed` (or nothing).
fn died_holding(app: &TestApp, key: &str, hash: &str, held_until: chrono::NaiveDateTime, committed: Option<String>) {
    use diesel::prelude::*;
    use dvk::db::schema::idempotency_keys as ik;
    let mut conn = app.state.pool.get().unwrap();
    diesel::delete(ik::table.filter(ik::idem_key.eq(key))).execute(&mut conn).unwrap();
    diesel::insert_into(ik::table)
        .values((
            ik::subject.eq("dvk|user-of-VN"),
            ik::authority.eq(format!("{ROOT_ID}|central|viewer,admin")),
            ik::operation.eq("POST /api/v1/units"),
            ik::idem_key.eq(key),
            ik::request_hash.eq(hash),
            ik::state.eq("pending"),
            ik::created_at.eq(dvk::db::now()),
            ik::held_until.eq(held_until),
            ik::committed_resource.eq(committed),
        ))
        .execute(&mut conn)
        .unwrap();
}

/// A request that died holding its key (its instance killed, or its database failed over) is
/// retried with the same key: while its lease runs the retry is told to wait; after it, the retry
/// runs the request if nothing was committed, and if the write had committed before its answer
/// was stored, the retry is told where the result is and the write is not run twice.
#[actix_web::test]
async fn a_key_whose_request_died_is_taken_over_when_its_lease_ends() {
    use diesel::prelude::*;
    use dvk::db::schema::idempotency_keys as ik;
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    let now = dvk::db::now();
    let count = |list: serde_json::Value| list["items"].as_array().unwrap().len();

    let early = new_unit("P3");
    died_holding(&app, "held", &request_hash("/api/v1/units", &early), now + chrono::Duration::seconds(60), None);
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "held")], &early)
        .await
        .problem(409, "idempotency_key_in_use");
    died_holding(&app, "died-early", &request_hash("/api/v1/units", &early), now - chrono::Duration::seconds(1), None);
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "died-early")], &early).await.expect(201);
    assert_eq!(count(app.get("/api/v1/units?code=P3", &t).await.expect(200).json()), 1);

    // A real request's write names what it changed, in its own transaction.
    let late = new_unit("P2");
    let made = app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "died-late")], &late).await;
    let id = made.expect(201).json()["id"].as_str().unwrap().to_string();
    let committed: Option<String> = {
        let mut conn = app.state.pool.get().unwrap();
        ik::table.filter(ik::idem_key.eq("died-late")).select(ik::committed_resource).first(&mut conn).unwrap()
    };
    assert_eq!(committed.as_deref(), Some(format!("unit/{id}").as_str()));
    // As if its instance had died between the commit and the stored answer.
    died_holding(
        &app,
        "died-late",
        &request_hash("/api/v1/units", &late),
        now - chrono::Duration::seconds(1),
        committed,
    );
    let retry = app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "died-late")], &late).await;
    retry.problem(409, "idempotency_key_answer_lost");
    assert_eq!(retry.header("location"), Some(format!("/api/v1/units/{id}")));
    assert_eq!(count(app.get("/api/v1/units?code=P2", &t).await.expect(200).json()), 1, "not run twice");
}

#[actix_web::test]
async fn a_retry_while_the_first_request_runs_is_a_conflict() {
    use diesel::prelude::*;
    use dvk::db::schema::idempotency_keys as ik;
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    {
        // The first request is "still running": its key is pending.
        let mut conn = app.state.pool.get().unwrap();
        diesel::insert_into(ik::table)
            .values((
                ik::subject.eq("dvk|user-of-VN"),
                ik::authority.eq(format!("{ROOT_ID}|central|viewer,admin")),
                ik::operation.eq("POST /api/v1/units"),
                ik::idem_key.eq("busy"),
                ik::request_hash.eq("whatever"),
                ik::state.eq("pending"),
                ik::created_at.eq(dvk::db::now()),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    let res = app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "busy")], &new_unit("P4")).await;
    // Another body under the same key is 422 first; the same body while pending is 409.
    res.problem(422, "idempotency_key_reused");
    // Learn the real hash of this request by sending it under a fresh key.
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "probe")], &new_unit("P4")).await.expect(201);
    {
        let mut conn = app.state.pool.get().unwrap();
        let hash: String =
            ik::table.filter(ik::idem_key.eq("probe")).select(ik::request_hash).first(&mut conn).unwrap();
        diesel::update(ik::table.filter(ik::idem_key.eq("busy")))
            .set(ik::request_hash.eq(hash))
            .execute(&mut conn)
            .unwrap();
    }
    app.post_with("/api/v1/units", &t, &[("Idempotency-Key", "busy")], &new_unit("P4"))
        .await
        .problem(409, "idempotency_key_in_use");
}

#[actix_web::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit_per_second = 1;
        c.rate_limit_burst = 3;
    })
    .await;
    let t = app.root_admin();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.get("/api/v1/units", &t).await);
    }
    assert!(statuses[..3].iter().all(|r| r.status == 200));
    let limited = statuses.last().unwrap();
    limited.problem(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry));
    // Another subject has its own budget; health checks are never limited.
    let other = sign_hs256(&{
        let mut c = claims("VN", "central", &["viewer"]);
        c["sub"] = json!("another-script");
        c
    });
    app.get("/api/v1/units", &other).await.expect(200);
    for _ in 0..5 {
        app.request(Method::GET, "/healthz", None, &[], None).await.expect(200);
    }
}

#[actix_web::test]
async fn responses_compress_when_asked() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, "/openapi.json", None, &[("Accept-Encoding", "gzip")], None).await;
    res.expect(200);
    // awc decompresses; the header tells what was sent.
    assert_eq!(res.header("content-encoding").as_deref(), Some("gzip"));
}

#[actix_web::test]
async fn imports_take_files_larger_than_a_json_body_up_to_their_own_limit() {
    let app = TestApp::spawn_with(|c| {
        c.body_limit = 512;
        c.import_limit = 4096;
    })
    .await;
    let admin = app.root_admin();
    let rows = |n: usize| {
        let mut csv = String::from("code,name,level,division_type,parent_code\n");
        for i in 0..n {
            csv.push_str(&format!("T{i:03},Tỉnh thử nghiệm số {i},province,tỉnh,\n"));
        }
        csv
    };
    let padded = format!("{{\"code\": \"X1\"{}}}", " ".repeat(600));
    let raw = app
        .request(Method::POST, "/api/v1/units", Some(&admin), &[], Some(("application/json", padded.into_bytes())))
        .await;
    raw.problem(413, "payload_too_large");
    let medium = rows(20);
    assert!(medium.len() > 512 && medium.len() < 4096);
    let before = app.snapshot();
    let large = rows(200);
    assert!(large.len() > 4096);
    app.post_csv("/api/v1/units/import", &admin, &large).await.problem(413, "payload_too_large");
    assert_eq!(app.snapshot(), before, "a refused file changes nothing");
    let report = app.post_csv("/api/v1/units/import", &admin, &medium).await.expect(200).json();
    assert_eq!(report["created"], 20);
}

#[actix_web::test]
async fn metrics_count_requests_by_route() {
    let app = TestApp::spawn().await;
    let admin = app.root_admin();
    for _ in 0..3 {
        app.get(&format!("/api/v1/units/{ROOT_ID}"), &admin).await.expect(200);
    }
    app.get("/api/v1/units/nope", &admin).await.expect(404);
    let res = app.request(Method::GET, "/metrics", None, &[], None).await;
    let text = res.expect(200).text();
    assert!(res.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    assert!(
        text.contains(r#"dvk_http_requests_total{method="GET",route="/api/v1/units/{id}",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains(r#"dvk_http_requests_total{method="GET",route="/api/v1/units/{id}",status="404"} 1"#));
    assert!(text.contains(
        r#"dvk_http_request_duration_seconds_count{method="GET",route="/api/v1/units/{id}",status="200"} 3"#
    ));
    assert!(text.contains("dvk_db_pool_max_size 4"));
    assert!(text.contains("dvk_http_requests_in_flight 1"), "the scrape itself: {text}");
    assert!(text.contains("dvk_webhook_backlog 0"));
    assert!(!text.contains(&admin), "no token in the metrics");

    let guarded = TestApp::spawn_with(|c| c.metrics_token = Some("scrape-secret-0123456789".into())).await;
    guarded.request(Method::GET, "/metrics", None, &[], None).await.problem(401, "invalid_token");
    guarded.get("/metrics", "wrong").await.problem(401, "invalid_token");
    guarded.get("/metrics", "scrape-secret-0123456789").await.expect(200);
}

#[actix_web::test]
async fn an_optional_body_may_be_absent_or_null() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let editor = fx.token(&app, "P1", &["editor"]);
    let body = crate::campaigns::campaign("01-KH/X", "2025-01-01", "2025-12-31", None);
    let id = app.post("/api/v1/campaigns", &editor, &body).await.expect(201).json()["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/campaigns/{id}/launch");
    let auth = format!("Bearer {editor}");
    let headers = [("If-Match", "\"1\""), ("Authorization", auth.as_str())];
    let res = app.request(Method::POST, &path, None, &headers, Some(("application/json", b"null".to_vec()))).await;
    assert_eq!(res.expect(200).json()["status"], "active");
}

/// What each connection is set to when the pool opens it. SQLite: WAL, so readers run beside the
/// writer (once silently off: a multi-statement PRAGMA ran only its first statement). PostgreSQL:
/// a plan per execution, so a search or a large scope is not served by a generic plan.
#[actix_web::test]
async fn connections_are_set_up_for_concurrent_readers_and_value_specific_plans() {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let app = TestApp::spawn().await;
    let mut conn = app.state.pool.get().unwrap();
    let read = |conn: &mut dvk::db::DbConnection, sql: &str| -> String {
        diesel::sql_query(sql).get_result::<Setting>(conn).unwrap().value
    };
    match &mut *conn {
        dvk::db::DbConnection::Sqlite(_) => {
            assert_eq!(read(&mut conn, "SELECT journal_mode AS value FROM pragma_journal_mode"), "wal");
            assert_eq!(read(&mut conn, "SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous"), "1");
            assert_eq!(read(&mut conn, "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys"), "1");
        }
        dvk::db::DbConnection::Postgresql(_) => {
            assert_eq!(read(&mut conn, "SELECT current_setting('plan_cache_mode') AS value"), "force_custom_plan");
        }
    }
}

/// Issue 16: a method a known path does not serve is 405 with `Allow` (RFC 9110 §15.5.6), on
/// every path of the document; an unknown path stays 404.
#[actix_web::test]
async fn methods_a_path_does_not_serve_answer_405_with_allow() {
    let app = TestApp::spawn().await;
    let admin = app.root_admin();
    let doc: serde_json::Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let mut refused = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let served: Vec<String> = item.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
        let mut concrete = path.clone();
        while let (Some(a), Some(b)) = (concrete.find('{'), concrete.find('}')) {
            concrete.replace_range(a..=b, "01900000-0000-7000-8000-000000000042");
        }
        for method in ["TRACE", "PUT", "DELETE", "PATCH", "POST", "GET"] {
            if served.iter().any(|m| m == method) {
                continue;
            }
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let res = app.request(m, &concrete, Some(&admin), &[], None).await;
            // A path that another template also matches may be served by it (GET /units/import
            // is the unit whose id is "import"): only refusals are checked here.
            if res.status == 405 {
                let allow = res.header("allow").unwrap_or_default();
                for m in &served {
                    assert!(allow.contains(m.as_str()), "{method} {path}: Allow {allow:?} lacks {m}");
                }
                assert_eq!(res.json()["code"], "method_not_allowed");
                refused += 1;
            } else {
                assert!(res.status < 500, "{method} {path}: {}", res.status);
            }
        }
    }
    assert!(refused > 150, "{refused} refusals");
    let res = app.request(Method::TRACE, "/api/v1/units", Some(&admin), &[], None).await;
    res.problem(405, "method_not_allowed");
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
    let res = app
        .request(Method::DELETE, "/api/v1/models/01900000-0000-7000-8000-000000000042", Some(&admin), &[], None)
        .await;
    assert_eq!(res.expect(405).header("allow").as_deref(), Some("GET, PATCH"));
    app.request(Method::PUT, "/healthz", None, &[], None).await.problem(405, "method_not_allowed");
    // The most literal template names the resource: /units/import is not the unit "import".
    let res = app.request(Method::DELETE, "/api/v1/units/import", Some(&admin), &[], None).await;
    assert_eq!(res.expect(405).header("allow").as_deref(), Some("POST"));
    // An empty paging value is the parameter left out, on every list.
    for list in ["units", "models", "campaigns", "evaluations", "commendations", "decisions"] {
        let path = format!("/api/v1/{list}?sort=&cursor=&updated_since=");
        app.get(&path, &admin).await.expect(200);
    }
    app.request(Method::TRACE, "/api/v1/nothing-here", Some(&admin), &[], None).await.problem(404, "not_found");
}

/// Issue 16: a browser may read the public API from any page, and the authenticated API from the
/// portal's origins only: preflights name what is allowed, answers name what a page may read.
#[actix_web::test]
async fn browsers_read_the_public_api_anywhere_and_the_rest_from_listed_origins() {
    let app = TestApp::spawn_with(|c| c.cors_origins = vec!["https://portal.example.gov.vn".into()]).await;
    let any = ("Origin", "https://bao.example.vn");
    // The public feed: any origin, no credentials, its ETag readable.
    let pre = app
        .request(
            Method::OPTIONS,
            "/api/v1/public/models",
            None,
            &[any, ("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Headers", "if-none-match")],
            None,
        )
        .await;
    assert!(pre.status == 200 || pre.status == 204, "{}", pre.status);
    assert_eq!(pre.header("access-control-allow-origin").as_deref(), Some("*"));
    let feed = app.request(Method::GET, "/api/v1/public/models", None, &[any], None).await;
    feed.expect(200);
    assert_eq!(feed.header("access-control-allow-origin").as_deref(), Some("*"));
    let exposed = feed.header("access-control-expose-headers").unwrap_or_default().to_lowercase();
    assert!(exposed.contains("etag") && exposed.contains("cache-control"), "{exposed}");
    assert!(feed.header("access-control-allow-credentials").is_none());

    // The authenticated API: the portal's origin, with the headers clients send and read.
    let portal = ("Origin", "https://portal.example.gov.vn");
    let pre = app
        .request(
            Method::OPTIONS,
            "/api/v1/reports/models",
            None,
            &[
                portal,
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "authorization, if-none-match"),
            ],
            None,
        )
        .await;
    assert!(pre.status == 200 || pre.status == 204, "{}", pre.status);
    assert_eq!(pre.header("access-control-allow-origin").as_deref(), Some("https://portal.example.gov.vn"));
    let allowed = pre.header("access-control-allow-headers").unwrap_or_default().to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("if-none-match"), "{allowed}");
    let pre = app
        .request(
            Method::OPTIONS,
            "/api/v1/models",
            None,
            &[
                portal,
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "authorization, content-type, idempotency-key, if-match, x-request-id",
                ),
            ],
            None,
        )
        .await;
    assert!(pre.status == 200 || pre.status == 204, "{}", pre.status);
    let report = app.request(Method::GET, "/api/v1/reports/models", Some(&app.root_admin()), &[portal], None).await;
    report.expect(200);
    assert_eq!(report.header("access-control-allow-origin").as_deref(), Some("https://portal.example.gov.vn"));
    assert!(report.header("vary").unwrap_or_default().to_lowercase().contains("origin"));
    let exposed = report.header("access-control-expose-headers").unwrap_or_default().to_lowercase();
    for h in ["etag", "location", "x-next-cursor", "retry-after", "x-request-id"] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
    // A resumable upload from the portal's page (tus-js-client): its headers go both ways.
    let pre = app
        .request(
            Method::OPTIONS,
            "/api/v1/uploads/01900000-0000-7000-8000-000000000042",
            None,
            &[
                portal,
                ("Access-Control-Request-Method", "PATCH"),
                ("Access-Control-Request-Headers", "authorization, content-type, tus-resumable, upload-offset"),
            ],
            None,
        )
        .await;
    assert!(pre.status == 200 || pre.status == 204, "{} {}", pre.status, pre.text());
    let allowed = pre.header("access-control-allow-headers").unwrap_or_default().to_lowercase();
    assert!(allowed.contains("tus-resumable") && allowed.contains("upload-offset"), "{allowed}");
    for h in ["upload-offset", "upload-length", "tus-resumable", "content-location", "content-range"] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }

    // Another origin gets no CORS headers: its browser keeps the answer from the page.
    let other = app.request(Method::GET, "/api/v1/reports/models", Some(&app.root_admin()), &[any], None).await;
    other.expect(200);
    assert!(other.header("access-control-allow-origin").is_none());
    let pre = app
        .request(
            Method::OPTIONS,
            "/api/v1/reports/models",
            None,
            &[any, ("Access-Control-Request-Method", "GET")],
            None,
        )
        .await;
    assert!(pre.header("access-control-allow-origin").is_none());
}

/// A change retried under the same Idempotency-Key after a 428 (the If-Match it lacked now given)
/// runs, instead of replaying the 428: found by schemathesis with every check.
#[actix_web::test]
async fn a_retry_with_the_if_match_it_lacked_is_not_a_replay_of_the_428() {
    let app = TestApp::spawn().await;
    let t = app.root_admin();
    let created = app.post("/api/v1/units", &t, &new_unit("P7")).await.expect(201).json();
    let close = format!("/api/v1/units/{}/close", created["id"].as_str().unwrap());
    let key = ("Idempotency-Key", "close-p7");
    app.post_with(&close, &t, &[key], &json!({})).await.problem(428, "if_match_required");
    let res = app.post_with(&close, &t, &[key, ("If-Match", "\"1\"")], &json!({})).await;
    assert_eq!(res.expect(200).json()["status"], "closed");
    assert!(res.header("idempotent-replayed").is_none());
}
