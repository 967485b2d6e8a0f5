//! HTTP handlers for attachments: upload in one request, list, read, change, delete, download.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::Json;
use crate::http::pagination::{self, Paging};
use crate::AppState;

use super::content;
use super::service::{self, Access};
use super::store;
use super::types::*;

/// Upload a file and attach it to a record you may change, in one request. The body is the
/// file itself, whatever its `Content-Type`: what it is is read from its bytes. For a phone on
/// a weak network, the resumable upload (`/uploads`, tus 1.0) carries the same description.
#[utoipa::path(
    tag = "attachments",
    params(NewAttachment, crate::openapi::IdempotencyKeyHeader),
    request_body(content = crate::openapi::Binary, content_type = "application/octet-stream",
        description = "The file: a photo (JPEG, PNG, WebP, HEIC), PDF, DOCX or XLSX, at most DVK_ATTACHMENT_LIMIT bytes"),
    responses(
        (status = 201, description = "Attached", body = Attachment,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The attachment's URL"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/attachments")]
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    query: web::Query<NewAttachment>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let input = query.into_inner();
    let limit = state.config.attachment_limit;
    if crate::http::declared_length(&req).is_some_and(|len| len > limit) {
        return Err(ApiError::PayloadTooLarge { limit: limit as usize });
    }
    // Who may attach what is settled before a byte of the file is read.
    {
        let (actor, input) = (actor.clone(), input.clone());
        db::run(&state.pool, move |conn| service::check_new(conn, &actor, &input).map(drop)).await?;
    }
    let (spool, received) = state.storage.spool(limit)?.receive(&mut payload).await;
    received?;
    let attachment = save(&state, actor, input, spool.finish()?).await?;
    Ok(etag::created(format!("/api/v1/attachments/{}", attachment.id), attachment.version, &attachment))
}

/// A whole file received (in one request or resumed): judged, stored, then recorded. `done`
/// runs in the recording transaction (a resumable upload marks itself made there).
pub async fn save_with(
    state: &AppState,
    actor: Actor,
    input: NewAttachment,
    spooled: content::Spooled,
    done: impl FnOnce(&mut db::DbConnection, &Attachment) -> Result<(), ApiError> + Send + 'static,
) -> Result<Attachment, ApiError> {
    let judged = content::judge(spooled).await?;
    service::kind_fits(input.kind, judged.media_type)?;
    let (stored, kept) = content::put(&state.storage, judged).await?;
    let (copy, copy_kept) = if input.public == Some(true) {
        super::public::make(&state.storage, stored.media_type, &stored.sha256, state.config.attachment_limit).await?
    } else {
        (None, content::Kept::nothing())
    };
    let recorded = stored.clone();
    let attachment = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| {
            let attachment = service::create(conn, &actor, &input, &recorded, copy.as_ref())?;
            done(conn, &attachment)?;
            Ok(attachment)
        })
    })
    .await?;
    kept.and(copy_kept).ensure(&state.storage).await?;
    Ok(attachment)
}

async fn save(
    state: &AppState,
    actor: Actor,
    input: NewAttachment,
    spooled: content::Spooled,
) -> Result<Attachment, ApiError> {
    save_with(state, actor, input, spooled, |_, _| Ok(())).await
}

/// List attachments: those of one record (`parent_type` and `parent_id`), or those of every
/// record of your subtree; with `updated_since`, what changed, deleted ones included.
#[utoipa::path(
    tag = "attachments",
    params(ListAttachments),
    responses((status = 200, description = "A page of attachments", body = AttachmentPage), crate::openapi::SubListErrors),
    security(("bearer" = []))
)]
#[get("/attachments")]
pub async fn list_attachments(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListAttachments>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let lang = q.lang.unwrap_or_default();
    let Paging { sort, sort_name, cursor, limit, updated_since } = Paging::parse(
        q.sort.as_deref(),
        "created_at",
        pagination::TIME_SORTS,
        q.cursor.as_deref(),
        format.limit(q.limit)?,
        q.updated_since.as_deref(),
    )?;
    let parent = match (q.parent_type, q.parent_id) {
        (Some(t), Some(id)) => Some((t, id)),
        (None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                "parent_incomplete",
                "parent_type and parent_id are given together, or neither",
            ))
        }
    };
    let filter = store::Filter {
        viewer: parent.is_none().then(|| actor.unit_id.clone()),
        include_deleted: q.include_deleted.unwrap_or(updated_since.is_some()),
        parent,
        kind: q.kind,
        updated_since,
        sort,
        sort_name,
        limit,
        cursor,
    };
    let page = db::read(&state.pool, move |conn| {
        // The record named is looked at first: one the actor does not see is a 404.
        let known = match &filter.parent {
            Some((t, id)) => Some(((*t, id.clone()), service::parent(conn, &actor, *t, id, Access::Read)?)),
            None => None,
        };
        let (rows, next_cursor) = store::list(conn, &filter)?;
        Ok(AttachmentPage { items: service::listed(conn, &actor, &rows, known)?, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

/// Read an attachment's description (a deleted one too: it says when it was deleted).
#[utoipa::path(
    tag = "attachments",
    params(("id" = String, Path, description = "Attachment id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The attachment", body = Attachment, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/attachments/{id}")]
pub async fn get_attachment(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let a = db::run(&state.pool, move |conn| {
        let (row, parent) = service::visible(conn, &actor, &id)?;
        Ok(row.to_api(service::shown(&row, &parent)))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, a.version, &a))
}

/// Change an attachment's title, or make it public or not (whoever may change its record). A
/// photo made public is shown without its location and camera metadata.
#[utoipa::path(
    tag = "attachments",
    request_body = UpdateAttachment,
    params(("id" = String, Path, description = "Attachment id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The attachment", body = Attachment, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/attachments/{id}")]
pub async fn update_attachment(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateAttachment>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    // A photo made public for the first time needs its cleaned copy, made outside the
    // transaction (it reads and writes the store).
    let (copy, kept) = if input.public == Some(true) {
        let (actor, id, if_match) = (actor.clone(), id.clone(), if_match.clone());
        let row = db::run(&state.pool, move |conn| service::held_for_change(conn, &actor, &id, &if_match)).await?;
        match row.public_sha256 {
            None => {
                super::public::make(&state.storage, row.media_type, &row.sha256, state.config.attachment_limit).await?
            }
            Some(_) => (None, content::Kept::nothing()),
        }
    } else {
        (None, content::Kept::nothing())
    };
    let a = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input, copy.as_ref()))
    })
    .await?;
    kept.ensure(&state.storage).await?;
    Ok(etag::respond(&req, StatusCode::OK, a.version, &a))
}

/// Delete an attachment (whoever may change its record). It stays as a tombstone with
/// `deleted_at`, for sync and the audit log; its content is no longer served.
#[utoipa::path(
    tag = "attachments",
    params(("id" = String, Path, description = "Attachment id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The tombstone", body = Attachment, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[delete("/attachments/{id}")]
pub async fn delete_attachment(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner();
    let a =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::delete(conn, &actor, &id, &if_match)))
            .await?;
    Ok(etag::respond(&req, StatusCode::OK, a.version, &a))
}

/// Download an attachment's content, as uploaded. `ETag` is the content's SHA-256; a `Range`
/// of one span is answered 206, so a download cut off resumes.
#[utoipa::path(
    tag = "attachments",
    params(("id" = String, Path, description = "Attachment id"), crate::openapi::IfNoneMatchHeader,
        ("Range" = Option<String>, Header, description = "One span: bytes=first-last, bytes=first-, bytes=-suffix")),
    responses(
        (status = 200, description = "The content", content_type = "application/octet-stream", body = crate::openapi::Binary,
         headers(("ETag" = String, description = "The content's SHA-256"),
                 ("Content-Disposition" = String, description = "attachment, with the file's name (RFC 6266)"))),
        (status = 206, description = "The span asked for", content_type = "application/octet-stream", body = crate::openapi::Binary),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        (status = 416, description = "The range is outside the content"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/attachments/{id}/content")]
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let row = db::run(&state.pool, move |conn| service::visible(conn, &actor, &id).map(|(row, _)| row)).await?;
    if row.deleted_at.is_some() {
        return Err(ApiError::NotFound);
    }
    let file = super::download::File {
        sha256: row.sha256.clone(),
        size: Some(row.size as u64),
        media_type: row.media_type,
        name: row.file_name.clone(),
        inline: false,
        cache: "private, no-cache",
    };
    super::download::respond(&req, &state.storage, file).await
}

/// A public attachment of a record the portal shows (a recognised model): photos without
/// their location and camera metadata. The URL is stable and the answer cacheable; `ETag` is
/// the content's SHA-256.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Attachment id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The content", content_type = "application/octet-stream", body = crate::openapi::Binary,
         headers(("ETag" = String, description = "The content's SHA-256"), ("Cache-Control" = String, description = "public, an hour"))),
        (status = 206, description = "The span asked for", content_type = "application/octet-stream", body = crate::openapi::Binary),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        (status = 416, description = "The range is outside the content"),
        crate::openapi::PublicReadErrors,
    ),
    security(())
)]
#[get("/attachments/{id}/content")]
pub async fn public_content(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let file = public_file(&state, id.into_inner(), false).await?;
    super::download::respond(&req, &state.storage, file).await
}

/// A small JPEG preview (at most 480 pixels on its longer side) of a public photo, for lists.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Attachment id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The preview", content_type = "image/jpeg", body = crate::openapi::Binary,
         headers(("ETag" = String, description = "The preview's SHA-256"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::PublicReadErrors,
    ),
    security(())
)]
#[get("/attachments/{id}/preview")]
pub async fn public_preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let file = public_file(&state, id.into_inner(), true).await?;
    super::download::respond(&req, &state.storage, file).await
}

async fn public_file(state: &AppState, id: String, preview: bool) -> Result<super::download::File, ApiError> {
    let (row, shown) = db::read(&state.pool, move |conn| {
        let row = store::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let shown = service::shown(&row, &service::public_parent(conn, &row)?);
        Ok((row, shown))
    })
    .await?;
    if !shown {
        return Err(ApiError::NotFound);
    }
    // An hour: a photo made private, or a model no longer recognised, leaves shared caches
    // within it.
    let cache = "public, max-age=3600";
    if preview {
        let sha256 = row.preview_sha256.clone().ok_or(ApiError::NotFound)?;
        return Ok(super::download::File {
            size: None,
            sha256,
            media_type: MediaType::Jpeg,
            name: format!("{}-preview.jpg", row.file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or(&row.file_name)),
            inline: true,
            cache,
        });
    }
    let (sha256, size) = match (&row.public_sha256, row.public_size) {
        (Some(sha), Some(size)) => (sha.clone(), size as u64),
        _ => (row.sha256.clone(), row.size as u64),
    };
    Ok(super::download::File {
        sha256,
        size: Some(size),
        media_type: row.media_type,
        name: row.file_name.clone(),
        inline: row.media_type.is_photo(),
        cache,
    })
}
