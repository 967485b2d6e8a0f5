//! ETags from resource versions: `If-None-Match` on reads (304), `If-Match` on writes (412 when
//! stale, 428 when missing).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// What a write's `If-Match` header allows.
#[derive(Debug, Clone, PartialEq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Reads `If-Match`; a write without it is refused with 428.
    pub fn required(req: &HttpRequest) -> Result<IfMatch, ApiError> {
        let raw = req
            .headers()
            .get(header::IF_MATCH)
            .ok_or(ApiError::PreconditionRequired)?
            .to_str()
            .map_err(|_| ApiError::PreconditionFailed { current: None })?;
        if raw.trim() == "*" {
            return Ok(IfMatch::Any);
        }
        Ok(IfMatch::Versions(raw.split(',').filter_map(parse_tag).collect()))
    }

    /// 412, with the current representation, unless `version` is what the caller read.
    pub fn check<T: Serialize>(&self, version: i64, current: &T) -> Result<(), ApiError> {
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::Versions(v) if v.contains(&version) => Ok(()),
            IfMatch::Versions(_) => Err(ApiError::PreconditionFailed { current: serde_json::to_value(current).ok() }),
        }
    }
}

/// `"7"` or `W/"7"` → 7. If-Match uses strong comparison, but our tags are strong anyway.
fn parse_tag(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    raw.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

fn none_match(req: &HttpRequest, version: i64) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|raw| raw.trim() == "*" || raw.split(',').filter_map(parse_tag).any(|v| v == version))
}

/// A single resource with its ETag; 304 when the caller already has this version.
pub fn respond<T: Serialize>(req: &HttpRequest, status: StatusCode, version: i64, body: &T) -> HttpResponse {
    if status == StatusCode::OK && none_match(req, version) {
        return HttpResponse::NotModified().insert_header((header::ETAG, etag(version))).finish();
    }
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(body)
}

/// 201 with `Location` and `ETag`.
pub fn created<T: Serialize>(location: String, version: i64, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// A public, cacheable representation: its ETag is a digest of the body itself (it may gather
/// several records, none of whose versions alone says when it changed), shared caches may keep it
/// for `max_age` seconds, and `If-None-Match` with the same digest gets 304.
pub fn respond_public<T: Serialize>(req: &HttpRequest, max_age: u32, body: &T) -> HttpResponse {
    respond_digest(req, format!("public, max-age={max_age}"), body)
}

/// A computed answer (a report) whose ETag is a digest of itself: a poller with `If-None-Match`
/// gets 304 until a figure changes. Only the caller's own caches may keep it.
pub fn respond_private<T: Serialize>(req: &HttpRequest, body: &T) -> HttpResponse {
    respond_digest(req, "private, no-cache".into(), body)
}

fn respond_digest<T: Serialize>(req: &HttpRequest, cache: String, body: &T) -> HttpResponse {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(body).unwrap_or_default();
    let digest: String = Sha256::digest(&json).iter().take(16).map(|b| format!("{b:02x}")).collect();
    let tag = format!("\"{digest}\"");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|raw| raw.split(',').any(|t| t.trim().trim_start_matches("W/") == tag));
    if matches {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, cache))
        .content_type("application/json")
        .body(json)
}
