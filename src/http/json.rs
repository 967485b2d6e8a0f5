//! JSON bodies and query strings, parsed at the edge into typed values or a clear problem.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};
use crate::AppState;

/// A JSON request body: `application/json`, at most `DVK_BODY_LIMIT` bytes, no unknown fields
/// (the types say `deny_unknown_fields`), then checked by its `Validate` rules.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            require_content_type(&req, &["application/json"], true)?;
            let limit = req.app_data::<web::Data<AppState>>().map(|s| s.config.body_limit).unwrap_or(1024 * 1024);
            let body = read_body(&req, &mut payload, limit).await?;
            let value = parse_json::<T>(&body)?;
            value.validate().map_err(|e| ApiError::validation(field_errors(&e)))?;
            if holds_nul(&body) {
                return Err(ApiError::validation(vec![FieldError::new(
                    nul_path(&body),
                    "invalid_characters",
                    "must not contain the NUL character (U+0000)",
                )]));
            }
            Ok(Json(value))
        })
    }
}

/// 415 unless the request's media type is one of `accepted` (or, with `plus_json`, any `+json`).
pub fn require_content_type(req: &HttpRequest, accepted: &[&str], plus_json: bool) -> Result<(), ApiError> {
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    if accepted.contains(&media.as_str()) || (plus_json && media.ends_with("+json")) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType { detail: format!("the body must be sent as {}", accepted.join(" or ")) })
    }
}

/// Reads a whole body, refusing (413) as soon as it passes `limit`.
pub async fn read_body<S>(req: &HttpRequest, payload: &mut S, limit: usize) -> Result<bytes::Bytes, ApiError>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    if super::declared_length(req).is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            super::body_deadline::refusal(&e)
                .unwrap_or_else(|| ApiError::bad_request("invalid_body", "the request body could not be read"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Syntax first, on its own: serde reports some type errors (a number where an enum belongs)
    // as syntax errors, and a client should learn which of the two it made.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Err(ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        let (code, field) = if let Some(rest) = message.strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or("");
            ("unknown_field", if path.ends_with(name) { path.clone() } else { join_path(&path, name) })
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            ("required", join_path(&path, rest.split('`').next().unwrap_or("")))
        } else if message.starts_with("unknown variant") {
            ("invalid_enum", path.clone())
        } else if message.starts_with("invalid type") || message.starts_with("expected value") {
            ("invalid_type", path.clone())
        } else {
            ("invalid_value", path.clone())
        };
        let field = if field == "." || field.is_empty() { "body".to_string() } else { field };
        ApiError::validation(vec![FieldError::new(field, code, message)])
    })
}

/// Whether a JSON text holds U+0000 in a string: PostgreSQL cannot store it, and a body should
/// be refused the same way on both databases. In valid JSON it can only be the escape `\u0000`
/// (an escaped backslash before `u0000` is text, not the character).
fn holds_nul(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            if body[i + 1..].starts_with(b"u0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Where the first string holding U+0000 is, as `indicators[0].name`.
fn nul_path(body: &[u8]) -> String {
    fn find(v: &serde_json::Value, path: String) -> Option<String> {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => Some(path),
            serde_json::Value::Array(items) => {
                items.iter().enumerate().find_map(|(i, item)| find(item, format!("{path}[{i}]")))
            }
            serde_json::Value::Object(fields) => fields.iter().find_map(|(k, item)| {
                if k.contains('\0') {
                    return Some(join_path(&path, k));
                }
                find(item, join_path(&path, k))
            }),
            _ => None,
        }
    }
    serde_json::from_slice(body).ok().and_then(|v| find(&v, String::new())).unwrap_or_else(|| "body".into())
}

fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_string()
    } else if field.is_empty() {
        path.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Flattens validator's nested errors into one list with dotted paths.
pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errors, "", &mut out);
    out
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| describe(e));
                    out.push(FieldError::new(path.clone(), &e.code, message));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn describe(e: &validator::ValidationError) -> String {
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            _ => "invalid length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (None, Some(max)) => format!("must be at most {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            _ => "out of range".into(),
        },
        other => format!("invalid ({other})"),
    }
}

/// Query-string and path errors as problems: 400 for a bad query, 404 for a path that names nothing.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let message = err.to_string();
        let message = message.trim_start_matches("Query deserialize error: ").to_string();
        ApiError::BadRequest {
            code: "invalid_query",
            detail: format!("the query string is not valid: {message}"),
            errors: vec![FieldError::new("query", "invalid_query", message)],
        }
        .into()
    })
}

/// A query string whose parameters may repeat (`?code=01&code=79` into a `Vec`): parsed with
/// serde_html_form, which reads repeated keys as a list (serde_urlencoded, behind `web::Query`,
/// refuses them). Errors are the same 400 `invalid_query` as every other query.
pub struct RepeatableQuery<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for RepeatableQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(serde_html_form::from_str::<T>(req.query_string()).map(RepeatableQuery).map_err(|err| {
            let message = err.to_string();
            ApiError::BadRequest {
                code: "invalid_query",
                detail: format!("the query string is not valid: {message}"),
                errors: vec![FieldError::new("query", "invalid_query", message)],
            }
        }))
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into())
}

/// For PATCH fields where `null` means "clear it": absent → `None`, null → `Some(None)`.
pub fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(de).map(Some)
}

/// An optional JSON body: none at all is `None`; a body that is there must be valid.
pub struct MaybeJson<T>(pub Option<T>);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for MaybeJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = req.app_data::<web::Data<AppState>>().map(|s| s.config.body_limit).unwrap_or(1024 * 1024);
            let body = read_body(&req, &mut payload, limit).await?;
            if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
                return Ok(MaybeJson(None));
            }
            require_content_type(&req, &["application/json"], true)?;
            let value = parse_json::<T>(&body)?;
            value.validate().map_err(|e| ApiError::validation(field_errors(&e)))?;
            Ok(MaybeJson(Some(value)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{holds_nul, nul_path};

    #[test]
    fn nul_is_found_only_where_json_means_it() {
        assert!(holds_nul(br#"{"name": "a\u0000b"}"#));
        assert!(holds_nul(br#"{"a\u0000": 1}"#));
        assert!(!holds_nul(br#"{"name": "a\\u0000b"}"#), "an escaped backslash, then text");
        assert!(holds_nul(br#"{"name": "a\\\u0000b"}"#), "an escaped backslash, then the character");
        assert!(!holds_nul(br#"{"name": "\u0001"}"#));
        assert_eq!(nul_path(br#"{"a": 1, "indicators": [{"name": "x"}, {"name": "y\u0000"}]}"#), "indicators[1].name");
    }
}
