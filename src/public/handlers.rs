//! The public read API: no token, only what the movement publicises, cacheable.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::db;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::pagination::{self, Paging};
use crate::http::text;
use crate::models::types::ModelStatus;
use crate::AppState;

use super::store;
use super::types::*;

/// How long shared caches may keep a public answer.
const MAX_AGE_SECS: u32 = 60;

/// Recognised models and their issued commendations, for the portal and the press. No token;
/// `Cache-Control: public`, and an ETag over the answer so a poller gets 304 while nothing changed.
#[utoipa::path(
    tag = "public",
    params(ListPublicModels, crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "A page of recognised models", body = PublicModelPage,
         headers(("ETag" = String, description = "A digest of this answer"), ("Cache-Control" = String, description = "public, max-age=60"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 429, response = crate::openapi::TooManyRequests),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(())
)]
#[get("/models")]
pub async fn list_public_models(
    req: HttpRequest,
    state: web::Data<AppState>,
    format: crate::http::export::Format,
    query: web::Query<ListPublicModels>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let lang = q.lang.unwrap_or_default();
    let Paging { sort, sort_name, cursor, limit, .. } = Paging::parse(
        q.sort.as_deref(),
        "created_at",
        crate::models::SORTS,
        q.cursor.as_deref(),
        format.limit(q.limit)?,
        None,
    )?;
    let (year, search) = (pagination::year(q.year)?, text::search_query(q.q)?);
    let page = db::read(&state.pool, move |conn| {
        // The public sees what the root sees, narrowed to recognised models.
        let root = crate::tree::root_id(conn)?;
        let filter = crate::models::Filter {
            ancestor_id: crate::tree::resolve_opt(conn, q.unit_id.as_deref())?,
            include_predecessors: true,
            status: Some(ModelStatus::Recognized),
            field: q.field,
            year,
            q: search,
            sort,
            sort_name,
            cursor,
            ..crate::models::Filter::visible_to(&root, crate::tree::Level::Central, limit)
        };
        let (items, next_cursor) = crate::models::list(conn, &filter)?;
        Ok(PublicModelPage { items: store::publish(conn, items)?, next_cursor })
    })
    .await?;
    if format.is_spreadsheet() {
        return crate::http::export::respond(&state.pool, format, lang, page).await;
    }
    Ok(etag::respond_public(&req, MAX_AGE_SECS, &page))
}

/// One recognised model and its issued commendations. No token; cacheable like the list.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Model id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The recognised model", body = PublicModel,
         headers(("ETag" = String, description = "A digest of this answer"), ("Cache-Control" = String, description = "public, max-age=60"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::PublicReadErrors,
    ),
    security(())
)]
#[get("/models/{id}")]
pub async fn get_public_model(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let model = db::read(&state.pool, move |conn| {
        let row = crate::models::find(conn, &id)?
            .filter(|m| m.status == ModelStatus::Recognized)
            .ok_or(ApiError::NotFound)?;
        let model = crate::models::to_api(conn, &row)?;
        store::publish(conn, vec![model])?.pop().ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(etag::respond_public(&req, MAX_AGE_SECS, &model))
}

/// A commendation's verification record: what the QR code on its certificate opens. Anyone may
/// check it, from a browser too; a revoked commendation shows as revoked, with the revoking
/// decision. Proposals are not public.
#[utoipa::path(
    tag = "public",
    params(("id" = String, Path, description = "Commendation id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The commendation as its decision reads, and whether it stands", body = CommendationRecord,
         headers(("ETag" = String, description = "A digest of this answer"), ("Cache-Control" = String, description = "public, max-age=60"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::PublicReadErrors,
    ),
    security(())
)]
#[get("/commendations/{id}")]
pub async fn get_public_commendation(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let record =
        db::read(&state.pool, move |conn| store::commendation_record(conn, &id)?.ok_or(ApiError::NotFound)).await?;
    Ok(etag::respond_public(&req, MAX_AGE_SECS, &record))
}
