//! What every resource shares: request ids, JSON and query parsing, pagination, ETags,
//! idempotency, rate limiting and search folding. Written once, used by every resource.

pub mod body_deadline;
pub mod client_address;
pub mod cors;
pub mod etag;
pub mod export;
pub mod idempotency;
pub mod json;
pub mod logging;
pub mod pagination;
pub mod rate_limit;
pub mod reads;
pub mod sheet;
pub mod spool;
pub mod text;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

/// The id of the request: always made here (a fresh UUID), so that it names one request of
/// one caller in the audit log; a sane `X-Request-Id` of the caller is kept beside it as
/// `client`, for tracing across systems, but never stands in for it.
#[derive(Clone, Debug)]
pub struct RequestId {
    pub id: String,
    pub client: Option<String>,
}

/// A client's own request id, echoed back.
pub static X_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-client-request-id");

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The body's length as the request declares it (`Content-Length`), to refuse what is too large
/// before reading it; actix has already refused a malformed one.
pub fn declared_length(req: &actix_web::HttpRequest) -> Option<u64> {
    req.headers().get(actix_web::http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn acceptable_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let client = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_string);
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId { id: id.clone(), client: client.clone() });
    let mut res = logging::scope(id.clone(), next.call(req)).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    if let Some(value) = client.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(X_CLIENT_REQUEST_ID.clone(), value);
    }
    Ok(res)
}
