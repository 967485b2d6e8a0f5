//! Bearer-token authentication and the authenticated caller (`Actor`).
//!
//! Tokens come from an identity provider (HS256 with `DVK_JWT_SECRET`, or RS256/ES256 keys from a
//! JWKS file chosen by `kid`) or from `dvk token` in development. A token names its unit by code;
//! the unit must be active and at the level the token claims.

mod keys;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{dev::Payload, get, http::header, web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

pub use keys::{mint_hs256, Authenticator, KeyError};

use crate::error::ApiError;
use crate::http::RequestId;
use crate::tree::Level;
use crate::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Editor,
    Reviewer,
    Approver,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Viewer, Role::Editor, Role::Reviewer, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The claims dvk reads. `exp`, `iss`, `aud` and `sub` are required; roles it does not know are
/// ignored (an identity provider may carry roles of other systems).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub unit: String,
    pub level: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub sub: String,
    pub name: Option<String>,
    pub unit_id: String,
    pub unit_code: String,
    pub level: Level,
    pub roles: Vec<Role>,
    /// The server's id of the request (what the audit log records).
    pub request_id: String,
    /// The caller's own `X-Request-Id`, if it sent a sane one.
    pub client_request_id: Option<String>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// 403 unless the caller holds `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.has(role) {
            Ok(())
        } else {
            Err(ApiError::forbidden("missing_role", format!("this action needs the {} role", role.as_str())))
        }
    }
}

/// What the token's unit code resolves to.
#[derive(Debug, Clone)]
pub struct UnitRef {
    pub id: String,
    pub level: Level,
    pub active: bool,
}

/// A short-lived cache of unit code → unit, so that authenticating a request does not cost a
/// database round trip each time. Per instance: a unit closed on another instance stops
/// authenticating here within `TTL`.
#[derive(Default)]
pub struct UnitCache {
    entries: Mutex<HashMap<String, (Instant, Option<UnitRef>)>>,
}

impl UnitCache {
    const TTL: Duration = Duration::from_secs(2);

    fn get(&self, code: &str) -> Option<Option<UnitRef>> {
        let entries = self.entries.lock().ok()?;
        entries.get(code).filter(|(at, _)| at.elapsed() < Self::TTL).map(|(_, u)| u.clone())
    }

    fn put(&self, code: &str, unit: Option<UnitRef>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.retain(|_, (at, _)| at.elapsed() < Self::TTL);
            }
            entries.insert(code.to_string(), (Instant::now(), unit));
        }
    }

    /// Forget everything: called after writes that close or change units.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The public keys of the tokens this server issues (RFC 7517), for clients and gateways that
/// check them. Empty when it signs with a shared secret.
#[utoipa::path(
    tag = "service-accounts",
    responses((status = 200, description = "A JWK set", body = Object,
               example = json!({"keys": [{"kty": "RSA", "kid": "dvk-1", "use": "sig", "alg": "RS256", "n": "qtuH…", "e": "AQAB"}]}))),
    security(())
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.auth.public_jwks())
}

/// The bearer token of a request, if it carries one.
pub fn bearer_token(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value =
        value.to_str().map_err(|_| ApiError::unauthorized("invalid_token", "the Authorization header is not valid"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::unauthorized("invalid_token", "expected `Authorization: Bearer <token>`")),
    }
}

/// The claims of the request's token when it verifies; kept on the request so that the rate
/// limiter, the idempotency layer and the handler verify it once between them.
pub fn verified_claims(req: &HttpRequest, state: &AppState) -> Option<Claims> {
    if let Some(claims) = req.extensions().get::<Claims>() {
        return Some(claims.clone());
    }
    let token = bearer_token(req).ok()??;
    let claims = state.auth.verify(token).ok()?;
    req.extensions_mut().insert(claims.clone());
    Some(claims)
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Actor, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            if let Some(actor) = req.extensions().get::<Actor>() {
                return Ok(actor.clone());
            }
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::internal("application state missing"))?
                .clone();
            let claims = match req.extensions().get::<Claims>() {
                Some(claims) => claims.clone(),
                None => {
                    let token = bearer_token(&req)?.ok_or_else(|| {
                        ApiError::unauthorized("missing_token", "this operation needs a bearer token")
                    })?;
                    state.auth.verify(token)?
                }
            };
            let unit = match state.unit_cache.get(&claims.unit) {
                Some(unit) => unit,
                None => {
                    let code = claims.unit.clone();
                    let unit =
                        crate::db::run(&state.pool, move |conn| crate::tree::unit_ref_by_code(conn, &code)).await?;
                    state.unit_cache.put(&claims.unit, unit.clone());
                    unit
                }
            };
            let unit = match unit {
                Some(u) if u.active => u,
                Some(_) => return Err(ApiError::unauthorized("unit_closed", "the token's unit is closed")),
                None => return Err(ApiError::unauthorized("unknown_unit", "the token's unit is not known")),
            };
            if claims.level != unit.level.as_str() {
                return Err(ApiError::unauthorized("level_mismatch", "the token's level is not the level of its unit"));
            }
            let (request_id, client_request_id) =
                req.extensions().get::<RequestId>().map(|r| (r.id.clone(), r.client.clone())).unwrap_or_default();
            let mut roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
            // A service account's token works while the account is active, with the roles it
            // has now: disabling it or taking a role away takes effect on the next request.
            if let Some(account) = claims.sub.strip_prefix(crate::service_accounts::SUBJECT_PREFIX) {
                let account = account.to_string();
                let current =
                    crate::db::run(&state.pool, move |conn| crate::service_accounts::current_roles(conn, &account))
                        .await?;
                match current {
                    Some((unit_id, granted)) if unit_id == unit.id => roles.retain(|r| granted.contains(r)),
                    _ => {
                        return Err(ApiError::unauthorized(
                            "account_disabled",
                            "the token's service account is disabled or gone",
                        ))
                    }
                }
            }
            roles.sort_by_key(|r| *r as u8);
            roles.dedup();
            let actor = Actor {
                sub: claims.sub,
                name: claims.name,
                unit_id: unit.id,
                unit_code: claims.unit,
                level: unit.level,
                roles,
                request_id,
                client_request_id,
            };
            req.extensions_mut().insert(actor.clone());
            Ok(actor)
        })
    }
}
