//! HTTP handlers for commendations.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::Json;
use crate::http::pagination::{self, Paging};
use crate::AppState;

use super::service::{self, Decided};
use super::store;
use super::types::*;

/// Propose a commendation of a recognised model of your subtree (editor) to a unit above it whose
/// level may award the form. One achievement is commended once.
#[utoipa::path(
    tag = "commendations",
    request_body = ProposeCommendation,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Proposed", body = Commendation,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The commendation's URL"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/commendations")]
pub async fn propose_commendation(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<ProposeCommendation>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let c =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::propose(conn, &actor, input))).await?;
    Ok(etag::created(format!("/api/v1/commendations/{}", c.id), c.version, &c))
}

/// Read a commendation of a model you see.
#[utoipa::path(
    tag = "commendations",
    params(("id" = String, Path, description = "Commendation id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The commendation", body = Commendation, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/commendations/{id}")]
pub async fn get_commendation(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let c = db::run(&state.pool, move |conn| service::visible(conn, &actor, &id)?.to_api()).await?;
    Ok(etag::respond(&req, StatusCode::OK, c.version, &c))
}

/// List the commendations of the models you see.
#[utoipa::path(
    tag = "commendations",
    params(ListCommendations),
    responses((status = 200, description = "A page of commendations", body = CommendationPage), crate::openapi::ListErrors),
    security(("bearer" = []))
)]
#[get("/commendations")]
pub async fn list_commendations(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListCommendations>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let Paging { sort, sort_name, cursor, limit, updated_since } = Paging::parse(
        q.sort.as_deref(),
        "created_at",
        pagination::TIME_SORTS,
        q.cursor.as_deref(),
        format.limit(q.limit)?,
        q.updated_since.as_deref(),
    )?;
    let lang = q.lang.unwrap_or_default();
    let filter = store::Filter {
        viewer: actor.unit_id.clone(),
        model_id: q.model_id,
        issuer_unit_id: q.issuer_unit_id,
        status: q.status,
        form: q.form,
        updated_since,
        sort,
        sort_name,
        limit,
        cursor,
    };
    let page = db::read(&state.pool, move |conn| {
        // Tokens and spreadsheets name units by code: a unit filter takes either.
        let mut filter = filter;
        filter.issuer_unit_id = crate::tree::resolve_opt(conn, filter.issuer_unit_id.as_deref())?;
        let (rows, next_cursor) = store::list(conn, &filter)?;
        Ok(CommendationPage { items: rows.iter().map(|r| r.to_api()).collect::<Result<_, _>>()?, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    decided: Decided,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let today = db::today();
    let c = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::act(conn, &actor, &id, &if_match, decided, today))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, c.version, &c))
}

/// Issue a proposed commendation by decision (approver of the issuing unit): proposed → issued.
/// The issuer's name, level and authority title are kept with it.
#[utoipa::path(
    tag = "commendations",
    request_body = IssueCommendation,
    params(("id" = String, Path, description = "Commendation id"), crate::openapi::IfMatchHeader, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The issued commendation", body = Commendation, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/commendations/{id}/issue")]
pub async fn issue_commendation(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<IssueCommendation>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, actor, id.into_inner(), Decided::Issue(body.0)).await
}

/// Revoke an issued commendation with its grounds and the revoking decision, or turn down a
/// proposal with its grounds (approver of the issuing unit): → revoked. The achievement is then
/// free for a correct commendation.
#[utoipa::path(
    tag = "commendations",
    request_body = RevokeCommendation,
    params(("id" = String, Path, description = "Commendation id"), crate::openapi::IfMatchHeader, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The revoked commendation", body = Commendation, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/commendations/{id}/revoke")]
pub async fn revoke_commendation(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<RevokeCommendation>,
) -> Result<HttpResponse, ApiError> {
    act(req, state, actor, id.into_inner(), Decided::Revoke(body.0)).await
}
