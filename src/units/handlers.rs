//! HTTP handlers for units: parse, authorise, call the operation, shape the response.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use crate::auth::{Actor, Role};
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::{self, Json};
use crate::http::pagination::Paging;
use crate::http::text;
use crate::AppState;

use super::import;
use super::service;
use super::store;
use super::types::*;

fn location(id: &str) -> String {
    format!("/api/v1/units/{id}")
}

/// Create a unit under a unit of your subtree.
#[utoipa::path(
    tag = "units",
    request_body = CreateUnit,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created", body = Unit,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The unit's URL"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/units")]
pub async fn create_unit(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<CreateUnit>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let unit =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::create(conn, &actor, input))).await?;
    Ok(etag::created(location(&unit.id), unit.version, &unit))
}

/// Read a unit of your subtree (or of a predecessor whose records passed to it).
#[utoipa::path(
    tag = "units",
    params(("id" = String, Path, description = "Unit id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The unit", body = Unit, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/units/{id}")]
pub async fn get_unit(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let unit = db::run(&state.pool, move |conn| {
        let row = service::visible(conn, &actor, &id)?;
        store::load_unit(conn, row)
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, unit.version, &unit))
}

/// List units of your subtree, filtered, sorted, a page at a time.
#[utoipa::path(
    tag = "units",
    params(ListUnits),
    responses(
        (status = 200, description = "A page of units", body = UnitPage),
        crate::openapi::ListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: crate::http::json::RepeatableQuery<ListUnits>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    if query.code.len() > 100 || query.code.iter().any(|c| c.is_empty() || c.chars().count() > 32) {
        return Err(ApiError::bad_request("invalid_query", "give 1 to 100 codes of 1 to 32 characters"));
    }
    let Paging { sort, sort_name, cursor, limit, updated_since } = Paging::parse(
        query.sort.as_deref(),
        "code",
        store::SORTS,
        query.cursor.as_deref(),
        format.limit(query.limit)?,
        query.updated_since.as_deref(),
    )?;
    let filter = store::Filter {
        viewer: actor.unit_id.clone(),
        codes: query.code,
        parent_id: query.parent_id,
        ancestor_id: query.ancestor_id,
        include_predecessors: query.include_predecessors.unwrap_or(false),
        level: query.level,
        kind: query.kind,
        status: query.status,
        q: text::search_query(query.q)?,
        updated_since,
        sort,
        sort_name,
        limit,
        cursor,
    };
    let (items, next_cursor) = db::read(&state.pool, move |conn| store::list(conn, &filter)).await?;
    let lang = query.lang.unwrap_or_default();
    crate::http::export::respond(&state.pool, format, lang, UnitPage { items, next_cursor }).await
}

/// The ancestors of a unit that you may see, from the top down to its parent.
#[utoipa::path(
    tag = "units",
    params(("id" = String, Path, description = "Unit id")),
    responses(
        (status = 200, description = "Ancestors, highest first", body = UnitList),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/units/{id}/ancestors")]
pub async fn unit_ancestors(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let items = db::read(&state.pool, move |conn| {
        let row = service::visible(conn, &actor, &id)?;
        let rows = crate::tree::Sight::of(&actor.unit_id).ancestors_of(conn, &row.id)?;
        store::to_units(conn, rows)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UnitList { items }))
}

/// Change a unit's code, names, kind or parent (admin, strictly below your unit).
#[utoipa::path(
    tag = "units",
    request_body = UpdateUnit,
    params(("id" = String, Path, description = "Unit id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The changed unit", body = Unit, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/units/{id}")]
pub async fn update_unit(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateUnit>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    let unit = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input))
    })
    .await?;
    state.unit_cache.clear();
    Ok(etag::respond(&req, StatusCode::OK, unit.version, &unit))
}

/// Close a unit (admin, strictly below your unit), naming its successors. Every descendant closes
/// with it: no active unit stays under a closed one.
#[utoipa::path(
    tag = "units",
    request_body = CloseUnit,
    params(("id" = String, Path, description = "Unit id"), crate::openapi::IfMatchHeader, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The closed unit", body = Unit, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/units/{id}/close")]
pub async fn close_unit(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<CloseUnit>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    let today = db::today();
    let unit = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::close(conn, &actor, &id, &if_match, input, today))
    })
    .await?;
    state.unit_cache.clear();
    Ok(etag::respond(&req, StatusCode::OK, unit.version, &unit))
}

/// Load an official unit list (`text/csv`, the layout of the national lists:
/// `code,name,level,division_type,parent_code`, optional `short_name`, `kind`). Rows whose code an
/// active unit holds update it; the others are created; an empty `parent_code` means your own
/// unit. All rows or none; errors name the row and column. The same file again changes nothing.
#[utoipa::path(
    tag = "units",
    request_body(content = String, content_type = "text/csv", description = "The unit list",
        example = "code,name,level,division_type,parent_code\n01,Thành phố Hà Nội,province,thành phố trung ương,\n00004,Phường Ba Đình,commune,phường,01\n"),
    params(ImportParams, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "What the import did (or would do)", body = ImportReport),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 408, response = crate::openapi::RequestTimeout),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::Unprocessable),
        (status = 429, response = crate::openapi::TooManyRequests),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[post("/units/import")]
pub async fn import_units(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    params: web::Query<ImportParams>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    json::require_content_type(&req, &["text/csv"], false)?;
    let body = json::read_body(&req, &mut payload, state.config.import_limit).await?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::unprocessable("invalid_encoding", "the file must be UTF-8"))?;
    let dry_run = params.dry_run.unwrap_or(false);
    let report = db::run(&state.pool, move |conn| {
        let lines = import::parse_units_csv(&text)?;
        let run = |conn: &mut db::DbConnection| import::import_units(conn, &actor, &lines);
        let mut report = if dry_run { db::rolled_back(conn, run)? } else { db::transaction(conn, run)? };
        report.dry_run = dry_run;
        Ok(report)
    })
    .await?;
    state.unit_cache.clear();
    Ok(HttpResponse::Ok().json(report))
}

/// Apply a reorganisation (admin): the new unit list, the succession pairs and the effective
/// date, in one atomic step. Predecessors with a successor of the same code, level and name carry
/// on (moved under their new parent); the others close on the date, pointing at their successors;
/// descendants not carried on close with them. Running it again changes nothing.
#[utoipa::path(
    tag = "units",
    request_body = Reorganize,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "What the reorganisation did (or would do)", body = ReorganizeReport),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 408, response = crate::openapi::RequestTimeout),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::Unprocessable),
        (status = 429, response = crate::openapi::TooManyRequests),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[post("/units/reorganize")]
pub async fn reorganize_units(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    json::require_content_type(&req, &["application/json"], false)?;
    let body = json::read_body(&req, &mut payload, state.config.import_limit).await?;
    let input: Reorganize = json::parse_json(&body)?;
    let report = db::run(&state.pool, move |conn| {
        let lines = import::parse_units_csv(&input.units_csv)?;
        let pairs = import::parse_successions_csv(&input.successors_csv)?;
        let run = |conn: &mut db::DbConnection| import::reorganize(conn, &actor, input.effective_on, &lines, &pairs);
        let mut report = if input.dry_run { db::rolled_back(conn, run)? } else { db::transaction(conn, run)? };
        report.dry_run = input.dry_run;
        Ok(report)
    })
    .await?;
    state.unit_cache.clear();
    Ok(HttpResponse::Ok().json(report))
}
