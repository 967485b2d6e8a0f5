//! `Idempotency-Key` on POST: the first response is stored (in the database, so every instance
//! sees it) and replayed for 24 hours; the same key with another request is 422; a retry that
//! arrives while the first is still running is 409.
//!
//! A running request holds its key for a short lease (`LEASE_SECS`), renewed while it runs: when
//! the request dies with its instance (killed, or its database failed over), a retry takes the
//! key over once the lease ends. The write's own transaction marks the key with what it changed
//! (`mark_committed`, called by `changes::record`), so a retry after a crash between the commit
//! and the stored answer is told where the result is (409 `idempotency_key_answer_lost`, with
//! `Location`) and never runs the write twice.
//!
//! A key belongs to who sent it and to what it was sent to: the token's subject, the authority
//! it carries (unit, level, roles, all checked in full before any stored answer is looked at)
//! and the operation. A replay therefore never answers a caller the first request would not
//! have answered. A response that carries a credential is stored without it: its replay has
//! the field `null` and says which in `Idempotent-Replay-Withheld`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::auth::Actor;
use crate::db::schema::idempotency_keys as ik;
use crate::db::{self, DbConnection, Writes};
use crate::error::ApiError;
use crate::AppState;

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
pub static REPLAY_WITHHELD: HeaderName = HeaderName::from_static("idempotent-replay-withheld");

/// Put on a response whose named top-level fields hold a credential shown once: they are not
/// stored for a replay.
#[derive(Clone, Copy, Debug)]
pub struct WithholdOnReplay(pub &'static [&'static str]);

/// Marks a response that shows a credential once: not cached by anyone, and not stored whole
/// for an idempotent replay.
pub fn shows_secret(mut res: HttpResponse, fields: &'static [&'static str]) -> HttpResponse {
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.extensions_mut().insert(WithholdOnReplay(fields));
    res
}

/// Where a key belongs: who, with what authority, to which operation.
#[derive(Clone, Debug)]
pub struct Scope {
    subject: String,
    authority: String,
    operation: String,
}

const TTL_HOURS: i64 = 24;
/// Operations whose body is a file: spooled, not read into memory.
const STREAMED_BODIES: [&str; 2] = ["POST /api/v1/attachments", "POST /api/v1/uploads"];
/// How long a running request holds its key without renewing it; it renews every third of it.
const LEASE_SECS: i64 = 15;
/// A stored answer that could not be written (the database went away) is tried again this often,
/// this many times, so the key is freed soon after the database is back rather than at the lease.
const FINISH_RETRY: std::time::Duration = std::time::Duration::from_secs(1);
const FINISH_ATTEMPTS: u32 = 30;
/// Response headers worth replaying: ours, and what a resumable upload's creation answers.
const KEPT_HEADERS: [header::HeaderName; 7] = [
    header::LOCATION,
    header::ETAG,
    header::CONTENT_LOCATION,
    HeaderName::from_static("tus-resumable"),
    HeaderName::from_static("upload-offset"),
    HeaderName::from_static("upload-expires"),
    HeaderName::from_static("upload-length"),
];
/// Request headers that say what a request is, beside its body: a resumable upload's creation
/// names its file's size and what it will be attached to in them.
const MEANINGFUL_HEADERS: [&str; 2] = ["upload-length", "upload-metadata"];

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
    // Without a bearer token there is no subject to key on: the operation answers for itself
    // (401, or the token endpoint's own authentication).
    if !matches!(crate::auth::bearer_token(req.request()), Ok(Some(_))) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // Authenticated in full (signature, unit, level, account) before a stored answer is read.
    let actor = match <Actor as actix_web::FromRequest>::extract(req.request()).await {
        Ok(actor) => actor,
        Err(e) => return Ok(req.error_response(e)),
    };
    let Some(claims) = crate::auth::verified_claims(req.request(), &state) else {
        return Ok(req.error_response(ApiError::unauthorized("invalid_token", "the token is not valid")));
    };
    let scope = Scope {
        subject: format!("{}|{}", claims.iss, actor.sub),
        authority: format!(
            "{}|{}|{}",
            actor.unit_id,
            actor.level.as_str(),
            actor.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
        ),
        operation: format!("{} {}", req.method(), req.match_pattern().unwrap_or_else(|| req.path().to_string())),
    };

    let (http_req, mut payload) = req.into_parts();
    // A file upload is spooled to disk while it is hashed, not held in memory; its request is
    // known by the body's digest.
    let streamed = STREAMED_BODIES.contains(&scope.operation.as_str());
    let read = if streamed {
        let spool = match super::spool::Spool::new(state.config.attachment_limit) {
            Ok(spool) => spool,
            Err(e) => return Ok(ServiceResponse::new(http_req, actix_web::ResponseError::error_response(&e))),
        };
        let (spool, received) = spool.receive(&mut payload).await;
        match received.and_then(|()| spool.finish()) {
            Ok(spooled) => Ok((request_hash(&http_req, spooled.sha256.as_bytes()), spooled.into_payload())),
            Err(e) => Err(e),
        }
    } else {
        super::json::read_body(&http_req, &mut payload, state.config.import_limit)
            .await
            .map(|body| (request_hash(&http_req, &body), bytes_to_payload(body)))
    };
    let (hash, body) = match read {
        Ok(read) => read,
        Err(e) => return Ok(ServiceResponse::new(http_req, actix_web::ResponseError::error_response(&e))),
    };

    let begin = {
        let (scope, key, hash) = (scope.clone(), key.clone(), hash.clone());
        db::run(&state.pool, move |conn| begin(conn, &scope, &key, &hash)).await
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

    let req = ServiceRequest::from_parts(http_req, body);
    let claim = Claim { scope: scope.clone(), key: key.clone() };
    let res = held(&state, claim.clone(), CLAIM.scope(claim, next.call(req))).await?;
    let withheld = res.response().extensions().get::<WithholdOnReplay>().copied();
    let status = res.status();
    let (http_req, res) = res.into_parts();
    let (head, res_body) = res.into_parts();
    let bytes =
        actix_web::body::to_bytes(res_body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let keep = storable(status) && std::str::from_utf8(&bytes).is_ok();
    let content_type = head.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|h| head.headers().get(h).and_then(|v| v.to_str().ok()).map(|v| (h.to_string(), v.to_string())))
        .collect();
    let mut stored_body = String::from_utf8_lossy(&bytes).into_owned();
    if let Some(WithholdOnReplay(fields)) = withheld {
        stored_body = withhold(&stored_body, fields);
        headers.push((REPLAY_WITHHELD.to_string(), fields.join(", ")));
    }
    let answer = Answer {
        claim: Claim { scope, key },
        stored: keep.then(|| (status.as_u16() as i32, content_type, serde_json::to_string(&headers).ok(), stored_body)),
    };
    if let Err(e) = answer.clone().record(&state).await {
        log::warn!("could not record an idempotency key: {e}; trying again each second");
        let pool = state.clone();
        actix_web::rt::spawn(async move {
            for _ in 0..FINISH_ATTEMPTS {
                actix_web::rt::time::sleep(FINISH_RETRY).await;
                if answer.clone().record(&pool).await.is_ok() {
                    return;
                }
            }
            log::warn!("gave up recording an idempotency key; it is freed when its lease ends");
        });
    }
    Ok(ServiceResponse::new(http_req, head.set_body(BoxBody::new(bytes))))
}

/// A key as one request holds it.
#[derive(Clone, Debug)]
pub struct Claim {
    scope: Scope,
    key: String,
}

tokio::task_local! {
    /// The key the request being handled holds, for `mark_committed` in its write transaction.
    static CLAIM: Claim;
}

thread_local! {
    static BLOCKING_CLAIM: std::cell::RefCell<Option<Claim>> = const { std::cell::RefCell::new(None) };
}

/// Wraps blocking database work so that a write in it marks the request's key (`mark_committed`).
pub fn carried<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let claim = CLAIM.try_with(Claim::clone).ok();
    move || {
        let previous = BLOCKING_CLAIM.with(|slot| slot.replace(claim));
        let out = f();
        BLOCKING_CLAIM.with(|slot| *slot.borrow_mut() = previous);
        out
    }
}

/// Called in a write's transaction (by `changes::record`): the key of the request making it, if
/// any, names what it changed, committed or rolled back with the write itself. The first change
/// names the request's result (what a create made, what an action acted on).
pub fn mark_committed(writes: &mut Writes<'_>, resource_type: &str, resource_id: &str) {
    let Some(Claim { scope, key }) = BLOCKING_CLAIM.with(|slot| slot.borrow().clone()) else {
        return;
    };
    writes.push(
        diesel::update(
            ik::table
                .find((scope.subject, scope.authority, scope.operation, key))
                .filter(ik::state.eq("pending"))
                .filter(ik::committed_resource.is_null()),
        )
        .set(ik::committed_resource.eq(format!("{resource_type}/{resource_id}"))),
    );
}

/// Where a committed change's resource is read: `model/{id}` → `/api/v1/models/{id}`. Changes
/// with no resource of their own to read (an import, a reorganisation) have none.
fn resource_path(resource: &str) -> Option<String> {
    let (kind, id) = resource.split_once('/')?;
    let collection = match kind {
        "model" => "models",
        "campaign" => "campaigns",
        "evaluation" => "evaluations",
        "commendation" => "commendations",
        "decision" => "decisions",
        "unit" => "units",
        "webhook" => "webhooks",
        "service_account" => "service-accounts",
        _ => return None,
    };
    Some(format!("/api/v1/{collection}/{id}"))
}

/// Runs the request, renewing its key's lease while it runs.
async fn held<F: std::future::Future>(state: &web::Data<AppState>, claim: Claim, request: F) -> F::Output {
    let renew_every = std::time::Duration::from_secs((LEASE_SECS / 3) as u64);
    let mut request = std::pin::pin!(request);
    loop {
        match actix_web::rt::time::timeout(renew_every, &mut request).await {
            Ok(out) => return out,
            Err(_) => {
                let Claim { scope, key } = claim.clone();
                let renewed = db::run(&state.pool, move |conn| {
                    diesel::update(ik::table.find((&scope.subject, &scope.authority, &scope.operation, &key)))
                        .set(ik::held_until.eq(db::now() + chrono::Duration::seconds(LEASE_SECS)))
                        .execute(conn)?;
                    Ok(())
                })
                .await;
                if let Err(e) = renewed {
                    log::warn!("could not renew an idempotency key's lease: {e}");
                }
            }
        }
    }
}

/// What a finished request leaves under its key: its answer to replay, or nothing (the key is
/// freed for a retry).
#[derive(Clone)]
struct Answer {
    claim: Claim,
    stored: Option<(i32, Option<String>, Option<String>, String)>,
}

impl Answer {
    async fn record(self, state: &AppState) -> Result<(), ApiError> {
        db::run(&state.pool, move |conn| {
            let Claim { scope, key } = &self.claim;
            let row = ik::table.find((&scope.subject, &scope.authority, &scope.operation, key));
            match self.stored {
                Some((status, content_type, headers, body)) => {
                    diesel::update(row)
                        .set((
                            ik::state.eq("done"),
                            ik::status.eq(status),
                            ik::content_type.eq(content_type),
                            ik::headers.eq(headers),
                            ik::body.eq(body),
                        ))
                        .execute(conn)?;
                }
                // A transient failure is not kept for a replay, but a write it made is: a key
                // that names a committed change stays, for its retry to be told where it went.
                None => {
                    diesel::delete(row.filter(ik::committed_resource.is_null())).execute(conn)?;
                    diesel::update(row.filter(ik::committed_resource.is_not_null()))
                        .set(ik::held_until.eq(db::now()))
                        .execute(conn)?;
                }
            }
            Ok(())
        })
        .await
    }
}

/// Successes and definite refusals are replayed; transient failures (401, 408, 409, 429, 5xx)
/// are not, and neither is a 428, which asks for the same request with If-Match: the client's
/// retry runs again.
fn storable(status: StatusCode) -> bool {
    status.is_success() || (status.is_client_error() && !matches!(status.as_u16(), 401 | 408 | 409 | 428 | 429))
}

fn request_hash(req: &actix_web::HttpRequest, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update([0]);
    h.update(req.path().as_bytes());
    h.update([0]);
    h.update(req.query_string().as_bytes());
    h.update([0]);
    // The version a change is made against is part of the request: the same key with another
    // If-Match is another request.
    h.update(req.headers().get(header::IF_MATCH).map(|v| v.as_bytes()).unwrap_or_default());
    h.update([0]);
    // Only when present, so that the hash of every other request is what it always was.
    for name in MEANINGFUL_HEADERS {
        if let Some(value) = req.headers().get(name) {
            h.update(name.as_bytes());
            h.update([0]);
            h.update(value.as_bytes());
            h.update([0]);
        }
    }
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The body with `fields` set to null: what is stored of a response that shows a credential.
fn withhold(body: &str, fields: &[&str]) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut object)) => {
            for field in fields {
                if let Some(value) = object.get_mut(*field) {
                    *value = serde_json::Value::Null;
                }
            }
            serde_json::Value::Object(object).to_string()
        }
        // Not the object it should be: keep nothing rather than something that may hold it.
        _ => String::new(),
    }
}

fn begin(conn: &mut DbConnection, scope: &Scope, key: &str, hash: &str) -> Result<Begin, ApiError> {
    db::transaction(conn, |conn| {
        let now = db::now();
        let lease = now + chrono::Duration::seconds(LEASE_SECS);
        diesel::delete(ik::table.filter(ik::created_at.lt(now - chrono::Duration::hours(TTL_HOURS)))).execute(conn)?;
        let row = ik::table.find((&scope.subject, &scope.authority, &scope.operation, key));
        let existing = row.select(Stored::as_select()).first::<Stored>(conn).optional()?;
        let Some(stored) = existing else {
            diesel::insert_into(ik::table)
                .values((
                    ik::subject.eq(&scope.subject),
                    ik::authority.eq(&scope.authority),
                    ik::operation.eq(&scope.operation),
                    ik::idem_key.eq(key),
                    ik::request_hash.eq(hash),
                    ik::state.eq("pending"),
                    ik::created_at.eq(now),
                    ik::held_until.eq(lease),
                ))
                .execute(conn)
                .map_err(|e| match e {
                    diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                        in_use(chrono::Duration::seconds(1))
                    }
                    other => other.into(),
                })?;
            return Ok(Begin::Proceed);
        };
        if stored.request_hash != hash {
            return Err(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request; use a new key for a new request",
            ));
        }
        if stored.state == "done" {
            return Ok(Begin::Replay {
                status: stored.status.unwrap_or(200) as u16,
                content_type: stored.content_type,
                headers: stored.headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default(),
                body: stored.body.unwrap_or_default(),
            });
        }
        // Pending: held by a running request until its lease ends (keys written before leases
        // existed: five minutes after they were taken).
        let held_until = stored.held_until.unwrap_or(stored.created_at + chrono::Duration::seconds(300));
        if held_until > now {
            return Err(in_use(held_until - now));
        }
        match stored.committed_resource {
            // The request that held it died after its write committed, before its answer was
            // stored: the write is not run again.
            Some(resource) => Err(ApiError::AnswerLost { location: resource_path(&resource) }),
            // It died before committing anything: this retry runs the request.
            None => {
                diesel::update(row).set(ik::held_until.eq(lease)).execute(conn)?;
                Ok(Begin::Proceed)
            }
        }
    })
}

/// A key as the table holds it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = ik)]
struct Stored {
    request_hash: String,
    state: String,
    status: Option<i32>,
    content_type: Option<String>,
    headers: Option<String>,
    body: Option<String>,
    created_at: chrono::NaiveDateTime,
    held_until: Option<chrono::NaiveDateTime>,
    committed_resource: Option<String>,
}

/// 409 with `Retry-After`: when the request holding the key should have finished, or have lost
/// its hold on it.
fn in_use(held_for: chrono::Duration) -> ApiError {
    let secs = (held_for.num_milliseconds() + 999) / 1000;
    ApiError::KeyInUse { retry_after_secs: secs.clamp(1, LEASE_SECS) as u64 }
}

fn bytes_to_payload(buf: bytes::Bytes) -> Payload {
    let (_, mut pl) = actix_http::h1::Payload::create(true);
    pl.unread_data(buf);
    Payload::from(pl)
}
