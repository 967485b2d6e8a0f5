//! What every resource shares: request ids, JSON and query parsing, pagination, ETags,
//! idempotency, rate limiting and search folding. Written once, used by every resource.

pub mod etag;
pub mod export;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod rate_limit;
pub mod sheet;
pub mod text;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

/// The id of the request: the caller's `X-Request-Id` when it is sane, else a fresh UUID.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn acceptable_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    Ok(res)
}
