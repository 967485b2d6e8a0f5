//! Authentication: every kind of bad token is a 401 with WWW-Authenticate, and reveals nothing.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::*;

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

#[actix_web::test]
async fn bad_tokens_are_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let fx = Fixture::load(&app).await;
    let good = claims("VN", "central", &["admin"]);
    let secret = EncodingKey::from_secret(SECRET.as_bytes());
    let rsa_public = std::fs::read(fixture_path("rsa-public.pem")).unwrap();
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let past = chrono::Utc::now().timestamp() - 3600;
    // Close a unit so that its token is refused.
    app.post_with(
        &format!("/api/v1/units/{}/close", fx.id("C2")),
        &app.root_admin(),
        &[("If-Match", "\"1\"")],
        &json!({}),
    )
    .await
    .expect(200);
    let cases: Vec<(&str, String, &str)> = vec![
        ("garbage", "not.a.token".into(), "invalid_token"),
        ("alg none", format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&good)), "invalid_token"),
        (
            "wrong secret",
            sign(Algorithm::HS256, None, &EncodingKey::from_secret(b"another-secret-another-secret-000"), &good),
            "invalid_token",
        ),
        ("expired", sign(Algorithm::HS256, None, &secret, &with(good.clone(), "exp", json!(past))), "token_expired"),
        (
            "not yet valid",
            sign(Algorithm::HS256, None, &secret, &with(good.clone(), "nbf", json!(past + 7200 + 600))),
            "token_not_yet_valid",
        ),
        ("no exp", sign(Algorithm::HS256, None, &secret, &without(good.clone(), "exp")), "invalid_token"),
        ("no sub", sign(Algorithm::HS256, None, &secret, &without(good.clone(), "sub")), "invalid_token"),
        (
            "wrong iss",
            sign(Algorithm::HS256, None, &secret, &with(good.clone(), "iss", json!("evil"))),
            "invalid_issuer",
        ),
        (
            "wrong aud",
            sign(Algorithm::HS256, None, &secret, &with(good.clone(), "aud", json!("other-api"))),
            "invalid_audience",
        ),
        ("unknown kid", sign(Algorithm::HS256, Some("nope"), &secret, &good), "unknown_key"),
        (
            "HS256 keyed with the RSA public key",
            sign(Algorithm::HS256, Some("test-rsa"), &EncodingKey::from_secret(&rsa_public), &good),
            "unsupported_algorithm",
        ),
        (
            "unknown unit",
            sign(Algorithm::HS256, None, &secret, &with(good.clone(), "unit", json!("ZZ"))),
            "unknown_unit",
        ),
        ("closed unit", app.token("C2", "commune", &["admin"]), "unit_closed"),
        ("level that lies", app.token("C1", "province", &["admin"]), "level_mismatch"),
    ];
    for (what, token, code) in cases {
        let res = app.get("/api/v1/units", &token).await;
        assert_eq!(res.status, 401, "{what}: {}", res.text());
        res.problem(401, code);
        let challenge = res.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
        assert!(!res.text().contains("units"), "{what}: a 401 reveals nothing of the resource");
    }
    let none = app.request(actix_web::http::Method::GET, "/api/v1/units", None, &[], None).await;
    none.problem(401, "missing_token");
    let basic = app
        .request(actix_web::http::Method::GET, "/api/v1/units", None, &[("Authorization", "Basic dXNlcjpwYXNz")], None)
        .await;
    basic.problem(401, "invalid_token");
}

#[actix_web::test]
async fn rs256_and_es256_tokens_from_the_jwks_are_accepted() {
    let app = TestApp::spawn().await;
    let good = claims("VN", "central", &["viewer"]);
    let rsa = EncodingKey::from_rsa_pem(&std::fs::read(fixture_path("rsa-private.pem")).unwrap()).unwrap();
    let ec = EncodingKey::from_ec_pem(&std::fs::read(fixture_path("ec-private.pem")).unwrap()).unwrap();
    app.get("/api/v1/units", &sign(Algorithm::RS256, Some("test-rsa"), &rsa, &good)).await.expect(200);
    app.get("/api/v1/units", &sign(Algorithm::ES256, Some("test-ec"), &ec, &good)).await.expect(200);
    // A key is bound to its algorithm and to its kid.
    app.get("/api/v1/units", &sign(Algorithm::RS256, Some("test-ec"), &rsa, &good))
        .await
        .problem(401, "unsupported_algorithm");
    app.get("/api/v1/units", &sign(Algorithm::RS256, None, &rsa, &good)).await.expect(401);
    app.get("/api/v1/units", &sign(Algorithm::RS384, Some("test-rsa"), &rsa, &good))
        .await
        .problem(401, "unsupported_algorithm");
}

#[actix_web::test]
async fn roles_the_api_does_not_know_are_ignored() {
    let app = TestApp::spawn().await;
    let token = sign_hs256(&claims("VN", "central", &["viewer", "superuser", "root"]));
    app.get("/api/v1/units", &token).await.expect(200);
    let res = app
        .post(
            "/api/v1/units",
            &token,
            &json!({"code": "X", "name": "X", "kind": "other", "level": "province", "parent_id": ROOT_ID}),
        )
        .await;
    res.problem(403, "missing_role");
}
