//! The security table: every operation of the document that takes a bearer token is called with
//! each kind of bad token, and with a token that lacks the role. Each answer must be the
//! documented refusal (401, or 403/404 for a wrong role or scope), a problem document that says
//! nothing more, and never a 5xx.

use actix_web::http::Method;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::*;

/// A documented path with every `{parameter}` replaced by `id`.
fn with_ids(path: &str, id: &str) -> String {
    let mut concrete = path.to_string();
    while let (Some(a), Some(b)) = (concrete.find('{'), concrete.find('}')) {
        concrete.replace_range(a..=b, id);
    }
    concrete
}

/// Every operation with bearer security: (method, path with ids filled in, documented statuses).
fn operations() -> Vec<(Method, String, Vec<u16>)> {
    let doc: Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let bearer = op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if !bearer {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = with_ids(path, "01900000-0000-7000-8000-000000000042");
            let documented = op["responses"].as_object().unwrap().keys().filter_map(|k| k.parse().ok()).collect();
            out.push((method, concrete, documented));
        }
    }
    out
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[actix_web::test]
async fn every_operation_refuses_every_bad_token() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let admin = fx.token(&app, "D1", &["admin"]);
    app.post_with(&format!("/api/v1/units/{}/close", fx.id("V1")), &admin, &[("If-Match", "\"1\"")], &json!({}))
        .await
        .expect(200);
    let now = chrono::Utc::now().timestamp();
    let all_roles = ["viewer", "editor", "reviewer", "approver", "admin"];
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims("P1", "province", &all_roles);
        change(&mut c);
        sign_hs256(&c)
    };
    let public_key = std::fs::read(fixture_path("rsa-public.pem")).unwrap();
    let mut confused = Header::new(Algorithm::HS256);
    confused.kid = Some("test-rsa".into());
    let tokens: Vec<(&str, Option<String>, &str)> = vec![
        ("no token", None, "missing_token"),
        ("expired", Some(with(&|c| c["exp"] = json!(now - 3600))), "token_expired"),
        ("not yet valid", Some(with(&|c| c["nbf"] = json!(now + 3600))), "token_not_yet_valid"),
        (
            "alg none",
            Some(format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims("P1", "province", &all_roles))
            )),
            "invalid_token",
        ),
        (
            "HS256 keyed with the RS256 public key",
            Some(
                jsonwebtoken::encode(
                    &confused,
                    &claims("P1", "province", &all_roles),
                    &EncodingKey::from_secret(&public_key),
                )
                .unwrap(),
            ),
            "unsupported_algorithm",
        ),
        ("wrong audience", Some(with(&|c| c["aud"] = json!("another-api"))), "invalid_audience"),
        ("wrong issuer", Some(with(&|c| c["iss"] = json!("someone-else"))), "invalid_issuer"),
        ("a level that lies", Some(with(&|c| c["level"] = json!("central"))), "level_mismatch"),
        ("a closed unit", Some(fx.token(&app, "V1", &all_roles)), "unit_closed"),
        ("an unknown unit", Some(with(&|c| c["unit"] = json!("NOWHERE"))), "unknown_unit"),
        ("garbage", Some("not.a.jwt".into()), "invalid_token"),
    ];
    let ops = operations();
    assert!(ops.len() > 50, "{} operations", ops.len());
    for (method, path, documented) in &ops {
        assert!(documented.contains(&401), "{method} {path} does not document 401");
        for (what, token, code) in &tokens {
            let mut headers: Vec<(&str, String)> = vec![("If-Match", "\"1\"".into())];
            if let Some(t) = token {
                headers.push(("Authorization", format!("Bearer {t}")));
            }
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = matches!(*method, Method::POST | Method::PATCH).then(|| ("application/json", b"{}".to_vec()));
            let res = app.request(method.clone(), path, None, &headers, body).await;
            assert_eq!(res.status, 401, "{method} {path} with {what}: {}", res.text());
            assert!(res.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")), "{method} {path}");
            if *method == Method::HEAD {
                continue; // a HEAD answer has no body to read
            }
            let p = res.json();
            assert_eq!(p["code"], *code, "{method} {path} with {what}");
            assert!(res.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")), "{method} {path}");
            let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["type", "title", "status", "detail", "code"], "{method} {path}: only the problem");
        }
    }
}

#[actix_web::test]
async fn every_operation_answers_a_stranger_with_a_documented_refusal() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    // A viewer of another province: no role to write, and nothing of P1's to see.
    let stranger = fx.token(&app, "P2", &["viewer"]);
    for (method, path, documented) in operations() {
        let body = matches!(method, Method::POST | Method::PATCH).then(|| ("application/json", b"{}".to_vec()));
        let auth = format!("Bearer {stranger}");
        let headers = [("If-Match", "\"1\""), ("Authorization", auth.as_str())];
        let res = app.request(method.clone(), &path, None, &headers, body).await;
        assert!(res.status < 500, "{method} {path}: {} {}", res.status, res.text());
        assert!(
            documented.contains(&res.status),
            "{method} {path} answered {} (documented: {documented:?}): {}",
            res.status,
            res.text()
        );
        if res.status >= 400 {
            assert_eq!(res.header("content-type").as_deref(), Some("application/problem+json"), "{method} {path}");
        }
    }
}

/// Every byte but the unreserved ones, percent-encoded: the value arrives exactly as written.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Hostile text in every query parameter of every read: SQL and LIKE metacharacters, NUL, bidi
/// overrides, combining marks, full-width letters, emoji, numbers out of range, a tampered
/// cursor, and a 4 KiB value. Each answer is documented (a 400 problem, or a page), never a 5xx,
/// and reading changes nothing.
#[actix_web::test]
async fn every_query_parameter_takes_hostile_text_without_a_server_error() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let token = fx.token(&app, "VN", &["viewer", "editor", "reviewer", "approver", "admin"]);
    let long = "đ".repeat(2048);
    let hostile: Vec<&str> = vec![
        "' OR '1'='1",
        "1; DROP TABLE models; --",
        "%",
        "_",
        "\\",
        "%_\\%",
        "\u{0}",
        "\u{202E}lanif\u{202C}",
        "d\u{0301}\u{0300}an",
        "Ｄân ｖận",
        "😀",
        "-1",
        "99999999999999999999",
        "eyJzb3J0IjoiY3JlYXRlZF9hdCIsImlkIjoiJyBPUiAxPTEgLS0ifQ",
        "../../etc/passwd",
        &long,
    ];
    let doc: Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let before = app.snapshot();
    let mut calls = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let documented: Vec<u16> = op["responses"].as_object().unwrap().keys().filter_map(|k| k.parse().ok()).collect();
        let concrete = with_ids(path, fx.id("P1"));
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for param in params.iter().filter(|p| p["in"] == "query") {
            let name = param["name"].as_str().unwrap();
            for value in &hostile {
                let url = format!("{concrete}?{}={}", encode(name), encode(value));
                let res = app.get(&url, &token).await;
                calls += 1;
                assert!(res.status < 500, "GET {path}?{name}={value:?}: {} {}", res.status, res.text());
                assert!(
                    documented.contains(&res.status),
                    "GET {path}?{name}={value:?} answered {} (documented: {documented:?}): {}",
                    res.status,
                    res.text()
                );
                if res.status >= 400 {
                    let problem = res.json();
                    assert_eq!(problem["status"], res.status, "{path}?{name}");
                    assert!(problem["code"].is_string(), "{path}?{name}: {}", res.text());
                }
            }
        }
    }
    assert!(calls > 1000, "{calls} calls: the document lists the query parameters");
    assert_eq!(app.snapshot(), before, "reading changes nothing");
}

/// Mass assignment: fields a caller may not set (id, status, version, the author, the unit's
/// place in the tree…) sent to every write are refused by name, and nothing is written.
#[actix_web::test]
async fn every_write_refuses_fields_it_does_not_take() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let token = fx.token(&app, "VN", &["viewer", "editor", "reviewer", "approver", "admin"]);
    let doc: Value = serde_json::from_str(&dvk::openapi::document_json()).unwrap();
    let schema_of = |op: &Value| -> Option<Value> {
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        let name = schema["$ref"].as_str()?.rsplit('/').next()?;
        Some(doc["components"]["schemas"][name].clone())
    };
    let injected = ["id", "status", "version", "created_by", "created_at", "is_admin", "roles"];
    let before = app.snapshot();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !matches!(method.as_str(), "post" | "patch" | "put") {
                continue;
            }
            let Some(schema) = schema_of(op) else { continue };
            let takes = |field: &str| schema["properties"].get(field).is_some();
            let extra: Vec<&str> = injected.iter().copied().filter(|f| !takes(f)).collect();
            let mut body = serde_json::Map::new();
            for field in &extra {
                body.insert(field.to_string(), json!("injected"));
            }
            let concrete = with_ids(path, fx.id("P1"));
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let auth = format!("Bearer {token}");
            let headers = [("If-Match", "\"1\""), ("Authorization", auth.as_str())];
            let bytes = Value::Object(body).to_string().into_bytes();
            let res = app.request(m, &concrete, None, &headers, Some(("application/json", bytes))).await;
            assert!(
                matches!(res.status, 400 | 422),
                "{method} {path} with {extra:?} answered {}: {}",
                res.status,
                res.text()
            );
            let named = extra.iter().any(|f| res.text().contains(f));
            assert!(named, "{method} {path}: the refusal names the field: {}", res.text());
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} writes checked");
    assert_eq!(app.snapshot(), before, "nothing was written");
}

/// U+0000 in a body is refused the same way on both databases (PostgreSQL text cannot hold it),
/// and nothing is written.
#[actix_web::test]
async fn a_nul_character_in_a_body_is_refused() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let before = app.snapshot();
    let body =
        json!({"code": "NUL1", "name": "Tỉnh\u{0}X", "kind": "locality", "level": "province", "parent_id": ROOT_ID});
    let res = app.post("/api/v1/units", &fx.token(&app, "VN", &["admin"]), &body).await;
    let problem = res.problem(422, "validation_failed");
    assert_eq!(
        (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
        (Some("name"), Some("invalid_characters"))
    );
    assert_eq!(app.snapshot(), before);
}
