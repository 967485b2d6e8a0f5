//! Resumable uploads, by the tus 1.0 protocol (core, with the creation, creation-with-upload,
//! termination and expiration extensions): a phone that loses its network at 90 % asks where
//! the server stopped (`HEAD`) and sends the rest from that byte (`PATCH`).
//!
//! Every PATCH's bytes become a part object in the store, recorded in the transaction that
//! moves the offset on, so any instance behind a balancer continues an upload, and a request
//! cut off keeps what arrived. When the last byte arrives, the parts are read back in order into
//! one file, which is judged and stored like any upload, and the attachment is made.

use actix_web::http::header::{self, HeaderName};
use actix_web::http::StatusCode;
use actix_web::{delete, patch, post, route, web, HttpRequest, HttpResponse};
use base64::Engine;

use crate::auth::Actor;
use crate::db;
use crate::error::{ApiError, FieldError};
use crate::storage::upload_prefix;
use crate::AppState;

use super::service;
use super::store::{self, PartRow, UploadRow};
use super::types::{AttachmentKind, NewAttachment, ParentType};
use crate::StrEnum;

pub static TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
static TUS_VERSION: HeaderName = HeaderName::from_static("tus-version");
static TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
static TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
static UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
static UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
static UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
static UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const VERSION: &str = "1.0.0";
const OFFSET_STREAM: &str = "application/offset+octet-stream";
/// The most parts (PATCHes that brought bytes) one upload is kept in: a phone cut off a
/// thousand times has other troubles, and a client sending a byte at a time is refused.
const MAX_PARTS: i64 = 1000;
/// How long an unfinished upload is kept.
const EXPIRES_HOURS: i64 = 24;
/// The most unfinished uploads one caller keeps open: each holds up to the attachment limit
/// in parts until it expires.
const MAX_OPEN_UPLOADS: i64 = 20;
/// How long the request making the attachment holds that step (it reads the whole file back
/// and stores it): past that, an instance that died in it no longer blocks a retry.
const FINISH_LEASE_SECS: i64 = 300;

/// Every answer under `/uploads` but discovery says which tus version it speaks, refusals
/// included (tus 1.0: "MUST be included in every request and response except OPTIONS").
pub async fn tus_resumable_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let tus = req.path().starts_with("/api/v1/uploads") && req.method() != actix_web::http::Method::OPTIONS;
    let mut res = next.call(req).await?;
    if tus {
        res.headers_mut().insert(TUS_RESUMABLE.clone(), header::HeaderValue::from_static(VERSION));
    }
    Ok(res)
}

/// A tus answer: never cached, never compressed (`tus_resumable_header` names the version).
fn tus(code: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::build(code);
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        // Nothing to compress, and a HEAD answer must not claim an encoding of no body.
        .insert_header(header::ContentEncoding::Identity);
    res
}

/// A tus request names the protocol's version: none is a bad request (400), another than
/// 1.0.0 is refused with 412 and the version this server speaks, as tus asks.
fn require_tus(req: &HttpRequest) -> Result<(), ApiError> {
    match req.headers().get(&TUS_RESUMABLE).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(VERSION) => Ok(()),
        None | Some("") => Err(ApiError::bad_request(
            "tus_resumable_required",
            "Tus-Resumable: 1.0.0 is required on every tus request",
        )),
        Some(_) => Err(ApiError::TusVersion),
    }
}

fn header_u64(req: &HttpRequest, name: &HeaderName) -> Result<Option<u64>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => {
            v.to_str().ok().and_then(|s| s.parse().ok()).map(Some).ok_or_else(|| {
                ApiError::bad_request("invalid_header", format!("{name} must be a non-negative integer"))
            })
        }
    }
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs; what the attachment will be.
pub fn parse_metadata(raw: &str) -> Result<NewAttachment, ApiError> {
    let mut pairs = std::collections::HashMap::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = item.split_once(' ').unwrap_or((item, ""));
        let value = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|v| String::from_utf8(v).ok())
            .ok_or_else(|| {
                ApiError::field(key, "invalid_metadata", "Upload-Metadata values are base64 of UTF-8 text")
            })?;
        pairs.insert(key.to_string(), value);
    }
    let mut errors = Vec::new();
    let mut take = |key: &str| pairs.remove(key);
    let parent_type = enum_field::<ParentType>("parent_type", take("parent_type"), &mut errors);
    let kind = enum_field::<AttachmentKind>("kind", take("kind"), &mut errors);
    let parent_id = take("parent_id").unwrap_or_default();
    let title = take("title").unwrap_or_default();
    let file_name = take("file_name").or_else(|| take("filename"));
    let public = match take("public").as_deref() {
        None | Some("false") => Some(false),
        Some("true") => Some(true),
        Some(_) => {
            errors.push(FieldError::new("public", "invalid_value", "true or false"));
            None
        }
    };
    // Other keys (a client's own, such as filetype) are ignored: tus clients add them freely.
    ApiError::unless_any(errors)?;
    Ok(NewAttachment {
        parent_type: parent_type.unwrap_or(ParentType::Model),
        parent_id,
        title,
        kind: kind.unwrap_or(AttachmentKind::Other),
        file_name,
        public,
    })
}

fn enum_field<E: StrEnum>(field: &str, raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<E> {
    match raw.as_deref().map(E::parse) {
        Some(Some(v)) => Some(v),
        Some(None) => {
            errors.push(FieldError::new(field, "invalid_value", format!("one of {}", E::names())));
            None
        }
        None => {
            errors.push(FieldError::new(field, "required", "is required in Upload-Metadata"));
            None
        }
    }
}

/// Who an upload belongs to: only they continue, read or end it.
fn owner(actor: &Actor) -> String {
    format!("{}|{}", actor.sub, actor.unit_id)
}

/// What this server takes (tus discovery).
#[utoipa::path(
    options,
    path = "/uploads",
    tag = "attachments",
    responses((status = 204, description = "The tus versions, extensions and largest size",
        headers(("Tus-Version" = String, description = "1.0.0"), ("Tus-Extension" = String, description = "creation,creation-with-upload,termination,expiration"),
                ("Tus-Max-Size" = u64, description = "DVK_ATTACHMENT_LIMIT"))),
        crate::openapi::ReadErrors),
    security(("bearer" = []))
)]
#[route("/uploads", method = "OPTIONS")]
pub async fn discover(state: web::Data<AppState>, _actor: Actor) -> HttpResponse {
    tus(StatusCode::NO_CONTENT)
        .insert_header((TUS_VERSION.clone(), VERSION))
        .insert_header((TUS_EXTENSION.clone(), "creation,creation-with-upload,termination,expiration"))
        .insert_header((TUS_MAX_SIZE.clone(), state.config.attachment_limit.to_string()))
        .finish()
}

/// Start a resumable upload (tus creation). `Upload-Length` is the file's size;
/// `Upload-Metadata` says what the attachment will be: `parent_type`, `parent_id`, `title`,
/// `kind`, and optionally `file_name` and `public`, each base64. Checked at once: a record you may
/// not change is refused before a byte is sent. A body (`application/offset+octet-stream`) is
/// the first part. A caller keeps at most 20 unfinished uploads open (409
/// `too_many_open_uploads`): finish or end one first.
#[utoipa::path(
    tag = "attachments",
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "The file's size in bytes"),
        ("Upload-Metadata" = String, Header, description = "parent_type, parent_id, title, kind, file_name, public: `key base64,key base64`"),
        crate::openapi::IdempotencyKeyHeader,
    ),
    responses(
        (status = 201, description = "Created: send the bytes to Location with PATCH",
         headers(("Location" = String, description = "The upload's URL"), ("Upload-Offset" = u64, description = "Bytes received"),
                 ("Upload-Expires" = String, description = "When an unfinished upload is dropped"))),
        (status = 412, description = "Another tus version"),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/uploads")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_tus(&req)?;
    let limit = state.config.attachment_limit;
    let length = header_u64(&req, &UPLOAD_LENGTH)?.ok_or_else(|| {
        ApiError::bad_request("upload_length_required", "Upload-Length is required (deferred lengths are not taken)")
    })?;
    if length > limit {
        return Err(ApiError::PayloadTooLarge { limit: limit as usize });
    }
    if length == 0 {
        return Err(ApiError::unprocessable("empty_file", "the file is empty"));
    }
    let metadata = req.headers().get(&UPLOAD_METADATA).and_then(|v| v.to_str().ok()).unwrap_or("");
    let input = parse_metadata(metadata)?;
    let now = db::now();
    let row = UploadRow {
        id: uuid::Uuid::now_v7().to_string(),
        subject: owner(&actor),
        parent_type: input.parent_type,
        parent_id: input.parent_id.clone(),
        title: input.title.clone(),
        kind: input.kind,
        file_name: input.file_name.clone().unwrap_or_default(),
        public: input.public.unwrap_or(false),
        length: length as i64,
        received: 0,
        attachment_id: None,
        created_at: now,
        expires_at: now + chrono::Duration::hours(EXPIRES_HOURS),
        parts: 0,
        finishing_until: None,
    };
    {
        let (actor, row) = (actor.clone(), row.clone());
        db::run(&state.pool, move |conn| {
            db::transaction(conn, |conn| {
                service::check_new(conn, &actor, &input)?;
                db::serialize_on(conn, &format!("uploads|{}", row.subject))?;
                if store::open_uploads(conn, &row.subject, now)? >= MAX_OPEN_UPLOADS {
                    return Err(ApiError::conflict(
                        "too_many_open_uploads",
                        format!(
                            "you have {MAX_OPEN_UPLOADS} unfinished uploads: finish one, or end it (DELETE), \
                             before you start another"
                        ),
                    ));
                }
                store::insert_upload(conn, &row)
            })
        })
        .await?;
    }
    let location = format!("/api/v1/uploads/{}", row.id);
    let mut received = 0;
    let mut made = None;
    if req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) == Some(OFFSET_STREAM) {
        match receive(state.clone(), actor, row.clone(), payload).await {
            Ok(outcome) => {
                received = outcome.received;
                made = outcome.attachment_id;
            }
            // The upload exists whatever befell its first bytes: say where, so that it resumes.
            Err(e) => {
                let mut res = actix_web::ResponseError::error_response(&e);
                if let Ok(value) = header::HeaderValue::from_str(&location) {
                    res.headers_mut().insert(header::LOCATION, value);
                }
                return Ok(res);
            }
        }
    }
    let mut res = progress(StatusCode::CREATED, received, row.expires_at, made.as_deref());
    res.headers_mut().insert(
        header::LOCATION,
        header::HeaderValue::from_str(&location).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    Ok(res)
}

/// Where an upload stands, as tus says it: the offset, when it expires, and the attachment it
/// made, if it is whole.
fn progress(
    code: StatusCode,
    received: i64,
    expires_at: chrono::NaiveDateTime,
    attachment_id: Option<&str>,
) -> HttpResponse {
    let mut res = tus(code);
    res.insert_header((UPLOAD_OFFSET.clone(), received.to_string())).insert_header((
        UPLOAD_EXPIRES.clone(),
        header::HttpDate::from(std::time::SystemTime::from(expires_at.and_utc())).to_string(),
    ));
    if let Some(id) = attachment_id {
        res.insert_header((header::CONTENT_LOCATION, format!("/api/v1/attachments/{id}")));
    }
    res.finish()
}

/// The caller's own unfinished (or just finished) upload.
async fn own(state: &AppState, actor: &Actor, id: String) -> Result<UploadRow, ApiError> {
    let subject = owner(actor);
    let row = db::run(&state.pool, move |conn| store::find_upload(conn, &id)).await?.ok_or(ApiError::NotFound)?;
    if row.subject != subject || row.expires_at < db::now() {
        return Err(ApiError::NotFound);
    }
    Ok(row)
}

/// Where an upload stands (tus HEAD): `Upload-Offset` is the byte to send next. Once the
/// attachment is made, `Content-Location` names it.
#[utoipa::path(
    head,
    path = "/uploads/{id}",
    tag = "attachments",
    params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses(
        (status = 200, description = "Where it stands",
         headers(("Upload-Offset" = u64, description = "Bytes received"), ("Upload-Length" = u64, description = "The file's size"),
                 ("Content-Location" = String, description = "The attachment, once made"))),
        (status = 412, description = "Another tus version"),
        crate::openapi::SubListErrors,
    ),
    security(("bearer" = []))
)]
#[route("/uploads/{id}", method = "HEAD")]
pub async fn upload_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_tus(&req)?;
    let row = own(&state, &actor, id.into_inner()).await?;
    let mut res = progress(StatusCode::OK, row.received, row.expires_at, row.attachment_id.as_deref());
    res.headers_mut().insert(UPLOAD_LENGTH.clone(), header::HeaderValue::from(row.length));
    Ok(res)
}

/// Send bytes from `Upload-Offset` on (tus PATCH, `application/offset+octet-stream`). A request
/// cut off keeps what arrived: ask `HEAD` where to go on from; bytes past `Upload-Length` are
/// refused (413) and none of them kept. The last byte makes the attachment
/// (`Content-Location`). If the content is refused there (415, 422, or 403 when the record no
/// longer takes it), the upload ends with that answer: `HEAD` then answers 404. If that step
/// failed for a passing cause (the store was away, 503), an empty PATCH at the end tries it
/// again; 409 `upload_finishing` while another request is at it. An upload is kept in at most
/// 1,000 parts (409 `too_many_parts`).
#[utoipa::path(
    tag = "attachments",
    params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes start: the offset HEAD gave")),
    request_body(content = crate::openapi::Binary, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Received",
         headers(("Upload-Offset" = u64, description = "Bytes received now"), ("Content-Location" = String, description = "The attachment, when this was the last part"))),
        (status = 412, description = "Another tus version"),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/uploads/{id}")]
pub async fn append(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_tus(&req)?;
    if req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some(OFFSET_STREAM) {
        return Err(ApiError::UnsupportedMediaType { detail: format!("a tus PATCH is sent as {OFFSET_STREAM}") });
    }
    let offset = header_u64(&req, &UPLOAD_OFFSET)?
        .ok_or_else(|| ApiError::bad_request("upload_offset_required", "Upload-Offset is required"))?;
    let row = own(&state, &actor, id.into_inner()).await?;
    // Every byte arrived but the attachment was not made (the store or the database failed at
    // the last step): an empty PATCH at the end tries that step again.
    if row.attachment_id.is_none() && row.received == row.length && offset == row.length as u64 {
        let attachment_id = finish(&state, actor, &row).await?;
        return Ok(progress(StatusCode::NO_CONTENT, row.length, row.expires_at, Some(&attachment_id)));
    }
    if row.attachment_id.is_some() || offset != row.received as u64 {
        return Err(ApiError::conflict(
            "upload_offset_mismatch",
            format!("the upload is at byte {} of {}; ask HEAD and send from there", row.received, row.length),
        ));
    }
    if row.parts >= MAX_PARTS {
        return Err(ApiError::conflict(
            "too_many_parts",
            format!("an upload is kept in at most {MAX_PARTS} parts; end it (DELETE) and start again"),
        ));
    }
    if crate::http::declared_length(&req)
        .is_some_and(|n| offset.checked_add(n).is_none_or(|end| end > row.length as u64))
    {
        return Err(ApiError::bad_request("beyond_upload_length", "these bytes go past Upload-Length"));
    }
    let expires_at = row.expires_at;
    let outcome = receive(state, actor, row, payload).await?;
    Ok(progress(StatusCode::NO_CONTENT, outcome.received, expires_at, outcome.attachment_id.as_deref()))
}

/// End an upload and drop what it received (tus termination).
#[utoipa::path(
    tag = "attachments",
    params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 204, description = "Ended"), (status = 412, description = "Another tus version"), crate::openapi::SubListErrors),
    security(("bearer" = []))
)]
#[delete("/uploads/{id}")]
pub async fn terminate(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_tus(&req)?;
    let row = own(&state, &actor, id.into_inner()).await?;
    end(&state, row.id).await?;
    Ok(tus(StatusCode::NO_CONTENT).finish())
}

/// Drops an upload and its parts.
async fn end(state: &AppState, upload_id: String) -> Result<(), ApiError> {
    let keys = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| {
            let keys = store::part_keys(conn, &upload_id)?;
            store::delete_upload(conn, &upload_id)?;
            Ok(keys)
        })
    })
    .await?;
    for key in keys {
        // What is not removed now, the sweep removes.
        let _ = state.storage.delete(&key.as_str().into()).await;
    }
    Ok(())
}

struct Outcome {
    received: i64,
    attachment_id: Option<String>,
}

/// Reads a PATCH body into a new part and records it; when the upload is whole, makes the
/// attachment. Runs as a task of its own, so that bytes read before the client went away are
/// kept even though nobody waits for the answer.
async fn receive(
    state: web::Data<AppState>,
    actor: Actor,
    row: UploadRow,
    mut payload: web::Payload,
) -> Result<Outcome, ApiError> {
    let task = actix_web::rt::spawn(async move {
        let room = (row.length - row.received) as u64;
        let (spool, read) = state.storage.spool(room)?.receive(&mut payload).await;
        let got = spool.size();
        let mut received = row.received;
        // Bytes past Upload-Length say the client's idea of the file is wrong: none of that
        // body is kept. A body cut off keeps what arrived.
        let overlong = matches!(read, Err(ApiError::PayloadTooLarge { .. }));
        if got > 0 && !overlong {
            let key = format!("{}/{:020}-{}", upload_prefix(&row.id), row.received, uuid::Uuid::new_v4().simple());
            let part =
                PartRow { upload_id: row.id.clone(), start_offset: row.received, size: got as i64, object_key: key };
            let spooled = spool.finish()?;
            state.storage.put_spooled(&part.object_key.as_str().into(), spooled).await?;
            let recorded = {
                let part = part.clone();
                db::run(&state.pool, move |conn| db::transaction(conn, |conn| store::add_part(conn, &part, MAX_PARTS)))
                    .await
            };
            if !matches!(recorded, Ok(true)) {
                let _ = state.storage.delete(&part.object_key.as_str().into()).await;
                recorded?;
                return Err(ApiError::conflict(
                    "upload_offset_mismatch",
                    "another request moved this upload on first; ask HEAD and send from there",
                ));
            }
            received += got as i64;
        }
        read?;
        let attachment_id = if received == row.length { Some(finish(&state, actor, &row).await?) } else { None };
        Ok(Outcome { received, attachment_id })
    });
    task.await.map_err(|e| ApiError::internal(format!("an upload's task failed: {e}")))?
}

/// Makes the attachment of a whole upload, one request at a time. A refusal (the content is not
/// an accepted file, the record may no longer take it) is final, so the upload ends with it: its
/// last step, which reads the whole file back, cannot be asked for again and again. A passing
/// failure (the store or the database away) leaves it whole, for an empty PATCH to retry.
async fn finish(state: &web::Data<AppState>, actor: Actor, row: &UploadRow) -> Result<String, ApiError> {
    let (upload_id, now) = (row.id.clone(), db::now());
    let until = now + chrono::Duration::seconds(FINISH_LEASE_SECS);
    if !db::run(&state.pool, move |conn| store::claim_finish(conn, &upload_id, now, until)).await? {
        return Err(ApiError::conflict(
            "upload_finishing",
            "another request is making the attachment from this upload; ask HEAD in a moment",
        ));
    }
    match make(state, actor, row).await {
        Ok(attachment_id) => Ok(attachment_id),
        Err(e) => {
            // The refusal is the answer, whatever befalls the cleanup: the sweep ends an upload
            // left behind, and a lease left behind lapses.
            if actix_web::ResponseError::status_code(&e).is_client_error() {
                let _ = end(state, row.id.clone()).await;
            } else {
                let upload_id = row.id.clone();
                let _ = db::run(&state.pool, move |conn| store::release_finish(conn, &upload_id)).await;
            }
            Err(e)
        }
    }
}

/// Reads the parts back in order into one file and makes the attachment.
async fn make(state: &web::Data<AppState>, actor: Actor, row: &UploadRow) -> Result<String, ApiError> {
    let upload_id = row.id.clone();
    let parts = db::run(&state.pool, move |conn| store::parts(conn, &upload_id)).await?;
    // Written off the worker, like a request's body.
    let mut spool = state.storage.spool(row.length as u64)?;
    for part in &parts {
        let mut stream = state.storage.get(&part.object_key.as_str().into(), None).await?;
        let (read, result) = spool.receive_with(&mut stream, ApiError::from).await;
        result?;
        spool = read;
    }
    if spool.size() != row.length as u64 {
        return Err(ApiError::internal(format!(
            "upload {}: parts hold {} of {} bytes",
            row.id,
            spool.size(),
            row.length
        )));
    }
    let input = NewAttachment {
        parent_type: row.parent_type,
        parent_id: row.parent_id.clone(),
        title: row.title.clone(),
        kind: row.kind,
        file_name: Some(row.file_name.clone()).filter(|n| !n.is_empty()),
        public: Some(row.public),
    };
    let upload_id = row.id.clone();
    let attachment = super::handlers::save_with(state, actor, input, spool.finish()?, move |conn, attachment| {
        if store::complete_upload(conn, &upload_id, &attachment.id)? {
            Ok(())
        } else {
            Err(ApiError::conflict("upload_complete", "the upload was already made into an attachment"))
        }
    })
    .await?;
    for part in parts {
        let _ = state.storage.delete(&part.object_key.as_str().into()).await;
    }
    Ok(attachment.id)
}
