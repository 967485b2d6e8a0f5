//! `Idempotency-Key` on POST: the first response is stored (in the database, so every instance
//! sees it) and replayed for 24 hours; the same key with another request is 422; a retry that
//! arrives while the first is still running is 409.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys as ik;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::AppState;

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const TTL_HOURS: i64 = 24;
/// A pending key older than this belongs to a request that died; a retry may take it over.
const ABANDONED_AFTER_SECS: i64 = 300;
/// Response headers worth replaying.
const KEPT_HEADERS: [header::HeaderName; 2] = [header::LOCATION, header::ETAG];

enum Begin {
    Proceed,
    Replay { status: u16, content_type: Option<String>, headers: Vec<(String, String)>, body: String },
}

pub async fn idempotency(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST || !req.headers().contains_key(&IDEMPOTENCY_KEY) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let key = match req.headers().get(&IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()) {
        Some(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_string(),
        _ => {
            let err = ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
            );
            return Ok(req.error_response(err));
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Without a valid token the request fails with 401 anyway; there is no subject to key on.
    let Some(claims) = crate::auth::verified_claims(req.request(), &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let subject = format!("{}|{}", claims.iss, claims.sub);

    let (http_req, mut payload) = req.into_parts();
    let body = match super::json::read_body(&http_req, &mut payload, state.config.import_limit).await {
        Ok(body) => body,
        Err(e) => return Ok(ServiceResponse::new(http_req, actix_web::ResponseError::error_response(&e))),
    };
    let hash = request_hash(&http_req, &body);

    let begin = {
        let (subject, key, hash) = (subject.clone(), key.clone(), hash.clone());
        db::run(&state.pool, move |conn| begin(conn, &subject, &key, &hash)).await
    };
    match begin {
        Err(e) => return Ok(ServiceResponse::new(http_req, actix_web::ResponseError::error_response(&e))),
        Ok(Begin::Replay { status, content_type, headers, body }) => {
            let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
            if let Some(ct) = content_type {
                res.insert_header((header::CONTENT_TYPE, ct));
            }
            for (name, value) in headers {
                if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
                    res.insert_header((n, v));
                }
            }
            res.insert_header((IDEMPOTENT_REPLAYED.clone(), "true"));
            return Ok(ServiceResponse::new(http_req, res.body(body)));
        }
        Ok(Begin::Proceed) => {}
    }

    let req = ServiceRequest::from_parts(http_req, bytes_to_payload(body));
    let res = next.call(req).await?;
    let status = res.status();
    let (http_req, res) = res.into_parts();
    let (head, res_body) = res.into_parts();
    let bytes =
        actix_web::body::to_bytes(res_body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let keep = storable(status) && std::str::from_utf8(&bytes).is_ok();
    let content_type = head.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|h| head.headers().get(h).and_then(|v| v.to_str().ok()).map(|v| (h.to_string(), v.to_string())))
        .collect();
    let stored_body = String::from_utf8_lossy(&bytes).into_owned();
    let finish = db::run(&state.pool, move |conn| {
        if keep {
            diesel::update(ik::table.find((&subject, &key)))
                .set((
                    ik::state.eq("done"),
                    ik::status.eq(status.as_u16() as i32),
                    ik::content_type.eq(content_type),
                    ik::headers.eq(serde_json::to_string(&headers).ok()),
                    ik::body.eq(stored_body),
                ))
                .execute(conn)?;
        } else {
            diesel::delete(ik::table.find((&subject, &key))).execute(conn)?;
        }
        Ok(())
    })
    .await;
    if let Err(e) = finish {
        log::warn!("could not record an idempotency key: {e}");
    }
    Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes))))
}

/// Successes and definite refusals are replayed; transient failures (401, 408, 409, 429, 5xx)
/// are not, so the client's retry runs again.
fn storable(status: StatusCode) -> bool {
    status.is_success() || (status.is_client_error() && !matches!(status.as_u16(), 401 | 408 | 409 | 429))
}

fn request_hash(req: &actix_web::HttpRequest, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update([0]);
    h.update(req.path().as_bytes());
    h.update([0]);
    h.update(req.query_string().as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn begin(conn: &mut DbConnection, subject: &str, key: &str, hash: &str) -> Result<Begin, ApiError> {
    db::transaction(conn, |conn| {
        let now = db::now();
        diesel::delete(ik::table.filter(ik::created_at.lt(now - chrono::Duration::hours(TTL_HOURS)))).execute(conn)?;
        let existing = ik::table
            .find((subject, key))
            .select((ik::request_hash, ik::state, ik::status, ik::content_type, ik::headers, ik::body, ik::created_at))
            .first::<(String, String, Option<i32>, Option<String>, Option<String>, Option<String>, chrono::NaiveDateTime)>(conn)
            .optional()?;
        match existing {
            None => {
                diesel::insert_into(ik::table)
                    .values((
                        ik::subject.eq(subject),
                        ik::idem_key.eq(key),
                        ik::request_hash.eq(hash),
                        ik::state.eq("pending"),
                        ik::created_at.eq(now),
                    ))
                    .execute(conn)
                    .map_err(|e| match e {
                        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                            in_use()
                        }
                        other => other.into(),
                    })?;
                Ok(Begin::Proceed)
            }
            Some((stored_hash, _, _, _, _, _, _)) if stored_hash != hash => Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request; use a new key for a new request",
            )),
            Some((_, state, _, _, _, _, created)) if state == "pending" => {
                if (now - created).num_seconds() > ABANDONED_AFTER_SECS {
                    diesel::update(ik::table.find((subject, key))).set(ik::created_at.eq(now)).execute(conn)?;
                    Ok(Begin::Proceed)
                } else {
                    Err(in_use())
                }
            }
            Some((_, _, status, content_type, headers, body, _)) => Ok(Begin::Replay {
                status: status.unwrap_or(200) as u16,
                content_type,
                headers: headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default(),
                body: body.unwrap_or_default(),
            }),
        }
    })
}

fn in_use() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being processed; retry after it completes",
    )
}

fn bytes_to_payload(buf: bytes::Bytes) -> Payload {
    let (_, mut pl) = actix_http::h1::Payload::create(true);
    pl.unread_data(buf);
    Payload::from(pl)
}
