//! HTTP handlers for service accounts and `POST /oauth/token`.

use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, web, HttpMessage, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::{Json, MaybeJson};
use crate::http::pagination::Cursor;
use crate::AppState;

use super::service;
use super::types::*;

/// Create a service account bound to your unit or one below it, with roles (admin). The answer
/// holds its `client_secret`, shown this once.
#[utoipa::path(
    tag = "service-accounts",
    request_body = CreateServiceAccount,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created; store the secret now", body = ServiceAccountWithSecret,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The account's URL"),
                 ("Idempotent-Replay-Withheld" = String, description = "On an idempotent replay: `client_secret`, which is then null (never stored)"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/service-accounts")]
pub async fn create_service_account(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<CreateServiceAccount>,
) -> Result<HttpResponse, ApiError> {
    let (input, keyring) = (body.0, state.keyring.clone());
    let created =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::create(conn, &actor, input, &keyring)))
            .await?;
    let a = &created.service_account;
    let res = etag::created(format!("/api/v1/service-accounts/{}", a.id), a.version, &created);
    Ok(crate::http::idempotency::shows_secret(res, &["client_secret"]))
}

/// The service accounts of your subtree (admin), oldest first.
#[utoipa::path(
    tag = "service-accounts",
    params(ListServiceAccounts),
    responses(
        (status = 200, description = "A page of accounts", body = ServiceAccountPage),
        (status = 403, response = crate::openapi::Forbidden),
        crate::openapi::ListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/service-accounts")]
pub async fn list_service_accounts(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListServiceAccounts>,
) -> Result<HttpResponse, ApiError> {
    actor.require(crate::auth::Role::Admin)?;
    let q = query.into_inner();
    let (limit, lang) = (format.limit(q.limit)?, q.lang.unwrap_or_default());
    let cursor = q.cursor.as_deref().map(|c| Cursor::decode(c, "created_at")).transpose()?;
    let page = db::read(&state.pool, move |conn| {
        let (rows, next_cursor) =
            super::store::list(conn, &actor.unit_id, q.unit_id.as_deref(), q.status, limit, &cursor)?;
        Ok(ServiceAccountPage { items: service::load_page(conn, &rows)?, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

/// Read a service account of your subtree (admin).
#[utoipa::path(
    tag = "service-accounts",
    params(("id" = String, Path, description = "Account id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The account", body = ServiceAccount, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        (status = 403, response = crate::openapi::Forbidden),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/service-accounts/{id}")]
pub async fn get_service_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let a = db::run(&state.pool, move |conn| service::get(conn, &actor, &id)).await?;
    Ok(etag::respond(&req, StatusCode::OK, a.version, &a))
}

/// Rename it, or change its roles (admin): tokens already issued use the new roles at once.
#[utoipa::path(
    tag = "service-accounts",
    request_body = UpdateServiceAccount,
    params(("id" = String, Path, description = "Account id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The changed account", body = ServiceAccount, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/service-accounts/{id}")]
pub async fn update_service_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateServiceAccount>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    let a = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, a.version, &a))
}

async fn set_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    status: AccountStatus,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let a = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::set_status(conn, &actor, &id, &if_match, status))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, a.version, &a))
}

/// Disable an account (admin): its secrets get no tokens and its tokens are refused, at once.
#[utoipa::path(
    tag = "service-accounts",
    params(("id" = String, Path, description = "Account id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "Disabled", body = ServiceAccount, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/service-accounts/{id}/disable")]
pub async fn disable_service_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_status(req, state, actor, id.into_inner(), AccountStatus::Disabled).await
}

/// Enable a disabled account again (admin).
#[utoipa::path(
    tag = "service-accounts",
    params(("id" = String, Path, description = "Account id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "Enabled", body = ServiceAccount, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/service-accounts/{id}/enable")]
pub async fn enable_service_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_status(req, state, actor, id.into_inner(), AccountStatus::Active).await
}

/// Rotate the secret (admin): a new one, shown this once; the one in use keeps working for
/// `previous_valid_for_secs` (default a day) so scripts can move over. Never more than two work.
#[utoipa::path(
    tag = "service-accounts",
    request_body(content = Option<RotateSecret>, description = "Optional: how long the old secret keeps working"),
    params(("id" = String, Path, description = "Account id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The new secret", body = ServiceAccountWithSecret, headers(("ETag" = String, description = "The new version"),
         ("Idempotent-Replay-Withheld" = String, description = "On an idempotent replay: `client_secret`, which is then null (never stored)"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/service-accounts/{id}/secrets")]
pub async fn rotate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: MaybeJson<RotateSecret>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input, keyring) = (id.into_inner(), body.0.unwrap_or_default(), state.keyring.clone());
    let rotated = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::rotate(conn, &actor, &id, &if_match, input, &keyring))
    })
    .await?;
    let version = rotated.service_account.version;
    let res = etag::respond(&req, StatusCode::OK, version, &rotated);
    Ok(crate::http::idempotency::shows_secret(res, &["client_secret"]))
}

/// The client id and secret of a request: HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or
/// the body, not both.
fn client_credentials(req: &HttpRequest, form: &TokenRequest) -> Result<(String, String), ApiError> {
    let basic = match req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(value) => {
            let bad = || ApiError::oauth(401, "invalid_client", "the Authorization header is not HTTP Basic");
            let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")).ok_or_else(bad)?;
            let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).map_err(|_| bad())?).map_err(|_| bad())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
            let unescape = |s: &str| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                    .ok()
                    .and_then(|mut v| v.pop())
                    .map(|(_, v)| v)
                    .ok_or_else(bad)
            };
            Some((unescape(id)?, unescape(secret)?))
        }
        None => None,
    };
    match (basic, &form.client_id, &form.client_secret) {
        (Some(creds), None, None) => Ok(creds),
        (None, Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
        (Some(_), _, _) => Err(ApiError::oauth(400, "invalid_request", "send the client credentials one way, not two")),
        _ => Err(ApiError::oauth(401, "invalid_client", "client authentication is required")),
    }
}

/// OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for service accounts: a short-lived
/// bearer token the rest of the API takes. The body is `application/x-www-form-urlencoded`;
/// errors carry RFC 6749's `error` beside the problem fields. A wrong secret and an unknown
/// client take the same time and get the same answer.
#[utoipa::path(
    tag = "service-accounts",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A token", body = TokenResponse,
         headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope", body = crate::error::Problem, content_type = "application/json"),
        (status = 401, description = "invalid_client", body = crate::error::Problem, content_type = "application/json",
         headers(("WWW-Authenticate" = String, description = "Basic realm=\"dvk\""))),
        (status = 408, response = crate::openapi::RequestTimeout),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 429, response = crate::openapi::TooManyRequests),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(())
)]
#[post("/oauth/token")]
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    crate::http::json::require_content_type(&req, &["application/x-www-form-urlencoded"], false)?;
    // Read as every body is: refused past the limit, and past its deadline.
    let body = crate::http::json::read_body(&req, &mut payload, 4096).await?;
    let form: TokenRequest = serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::oauth(400, "invalid_request", "the body is not a valid form"))?;
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(ApiError::oauth(400, "unsupported_grant_type", format!("{other:?} is not supported")))
        }
        None => return Err(ApiError::oauth(400, "invalid_request", "grant_type is required")),
    }
    let (client_id, client_secret) = client_credentials(&req, &form)?;
    let shown_id: String = client_id.chars().filter(|c| !c.is_control()).take(64).collect();
    req.extensions_mut().insert(super::ClientId(shown_id.clone()));
    let address =
        crate::http::client_address::client_address(req.peer_addr(), req.headers(), &state.config.trusted_proxies)
            .map(|a| a.to_string())
            .unwrap_or_default();
    state
        .token_limits
        .admit(&address, &client_id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;

    // The connection is held to read the client, then to record the outcome; never while the
    // secret is checked.
    let lookup_id = client_id.clone();
    let subjects = crate::http::rate_limit::TokenLimits::keys(&address, &client_id);
    let (shared, limit) = (subjects.clone(), state.token_limits.failures_per_minute);
    let client = db::run(&state.pool, move |conn| {
        service::check_shared_failures(conn, &shared, limit, crate::db::now())?;
        service::load_client(conn, &lookup_id)
    })
    .await?;
    let hashes: Vec<String> = client.secrets.iter().map(|s| s.hash.clone()).collect();
    let (keyring, secret) = (state.keyring.clone(), client_secret.clone());
    let matched =
        web::block(crate::http::logging::blocking(move || super::secrets::matching(&keyring, &secret, &hashes)))
            .await
            .map_err(|_| ApiError::internal("the secret check stopped"))?;
    let outcome = service::grant(&client, matched, form.scope.as_deref(), &state.auth, state.config.access_token_secs);
    if matches!(&outcome, Err(ApiError::OAuth { error: "invalid_client", .. })) {
        state.token_limits.failed(&address, &client_id);
    }
    let rehashed = match &outcome {
        Ok(_) => service::rehash(&client, matched, &client_secret, &state.keyring),
        Err(_) => None,
    };
    let request = req.extensions().get::<crate::http::RequestId>().cloned();
    let (request_id, client_request_id) = request.map(|r| (r.id, r.client)).unwrap_or_default();
    let roles: Vec<&'static str> =
        outcome.as_ref().map(|(_, roles)| roles.iter().map(|r| r.as_str()).collect()).unwrap_or_default();
    let outcome_code = match &outcome {
        Ok(_) => "granted",
        Err(ApiError::OAuth { error, .. }) => error,
        Err(_) => "error",
    };
    let record = db::run(&state.pool, move |conn| {
        let sub = match &client.account {
            Some(a) => format!("{}{}", super::store::SUBJECT_PREFIX, a.id),
            None => "anonymous".to_string(),
        };
        let who = crate::changes::Who {
            sub: &sub,
            unit_id: client.account.as_ref().map(|a| a.unit_id.as_str()),
            request_id: &request_id,
            client_request_id: client_request_id.as_deref(),
        };
        let failure_subjects: &[String] = if limit > 0 { &subjects } else { &[] };
        let record = service::GrantRecord {
            client_id: &shown_id,
            outcome: outcome_code,
            roles,
            address: Some(&address),
            failure_subjects,
        };
        db::transaction(conn, |conn| service::record_grant(conn, &client, rehashed, &record, &who))
    })
    .await;
    if let Err(e) = record {
        // A token is not handed out unless its grant is on record.
        if outcome.is_ok() {
            return Err(e);
        }
        log::warn!("could not record a refused token request: {e}");
    }
    let (claims, roles) = outcome?;
    let lifetime = state.config.access_token_secs;
    let access_token = state.auth.sign(&claims).ok_or(ApiError::Unavailable)?;
    let scope = roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" ");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse { access_token, token_type: "Bearer", expires_in: lifetime, scope }))
}
