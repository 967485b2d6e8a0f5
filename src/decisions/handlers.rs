//! HTTP handlers for decisions.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::Json;
use crate::http::pagination::{self, Paging};
use crate::AppState;

use super::service;
use super::store;
use super::types::*;

/// Make a draft decision of your unit (approver): its authority, form, number, date, summary and
/// signer. Proposals join it while it is a draft; issuing it issues them all.
#[utoipa::path(
    tag = "decisions",
    request_body = CreateDecision,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "The draft decision", body = AwardDecision,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The decision's URL"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/decisions")]
pub async fn create_decision(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<CreateDecision>,
) -> Result<HttpResponse, ApiError> {
    let (input, today) = (body.0, db::today());
    let d = db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::create(conn, &actor, input, today)))
        .await?;
    Ok(etag::created(format!("/api/v1/decisions/{}", d.id), d.version, &d))
}

/// List the decisions of issuers in your subtree, and those that commend a model you see.
#[utoipa::path(
    tag = "decisions",
    params(ListDecisions),
    responses((status = 200, description = "A page of decisions", body = AwardDecisionPage), crate::openapi::ListErrors),
    security(("bearer" = []))
)]
#[get("/decisions")]
pub async fn list_decisions(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListDecisions>,
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
        issuer_unit_id: q.issuer_unit_id,
        issuing_authority: q.issuing_authority,
        form: q.form,
        year: pagination::year(q.year)?,
        status: q.status,
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
        Ok(AwardDecisionPage { items: service::load_all(conn, &rows)?, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

/// Read a decision with the commendations it lists (those of models you see).
#[utoipa::path(
    tag = "decisions",
    params(("id" = String, Path, description = "Decision id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The decision", body = AwardDecisionWithCommendations, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/decisions/{id}")]
pub async fn get_decision(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let d = db::run(&state.pool, move |conn| {
        let row = service::visible(conn, &actor, &id)?;
        service::with_commendations(conn, &actor, &row)
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, d.decision.version, &d))
}

/// Change a draft's number, date, authority title, summary or signer (approver of the issuer).
#[utoipa::path(
    tag = "decisions",
    request_body = UpdateDecision,
    params(("id" = String, Path, description = "Decision id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The changed draft", body = AwardDecision, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/decisions/{id}")]
pub async fn update_decision(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateDecision>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input, today) = (id.into_inner(), body.0, db::today());
    let d = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input, today))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, d.version, &d))
}

/// List a proposal in a draft decision (approver of the issuer): a proposal to this issuer, with
/// the decision's authority and form, not listed in another decision.
#[utoipa::path(
    tag = "decisions",
    request_body = AddCommendation,
    params(("id" = String, Path, description = "Decision id"), crate::openapi::IfMatchHeader, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The draft with its commendations", body = AwardDecisionWithCommendations,
         headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/decisions/{id}/commendations")]
pub async fn add_commendation(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<AddCommendation>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    let d = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::add(conn, &actor, &id, &if_match, input))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, d.decision.version, &d))
}

/// Take a proposal out of a draft decision (approver of the issuer).
#[utoipa::path(
    tag = "decisions",
    params(
        ("id" = String, Path, description = "Decision id"),
        ("commendation_id" = String, Path, description = "Commendation id"),
        crate::openapi::IfMatchHeader,
    ),
    responses(
        (status = 200, description = "The draft with its commendations", body = AwardDecisionWithCommendations,
         headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[delete("/decisions/{id}/commendations/{commendation_id}")]
pub async fn remove_commendation(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, commendation_id) = path.into_inner();
    let d = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::remove(conn, &actor, &id, &commendation_id, &if_match))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, d.decision.version, &d))
}

/// Issue the decision (approver of the issuer): draft → issued, and every commendation it lists
/// proposed → issued, in one transaction, each checked on its own. If one cannot be issued,
/// nothing is, and the answer (422 `decision_not_issuable`) names each that failed.
#[utoipa::path(
    tag = "decisions",
    params(("id" = String, Path, description = "Decision id"), crate::openapi::IfMatchHeader, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The issued decision with its commendations", body = AwardDecisionWithCommendations,
         headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/decisions/{id}/issue")]
pub async fn issue_decision(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, today) = (id.into_inner(), db::today());
    let d = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::issue(conn, &actor, &id, &if_match, today))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, d.decision.version, &d))
}

/// Revoke an issued decision with its grounds and the revoking decision, which revokes every
/// commendation of it still standing; or abandon a draft with its grounds, which frees its
/// proposals (approver of the issuer).
#[utoipa::path(
    tag = "decisions",
    request_body = RevokeDecision,
    params(("id" = String, Path, description = "Decision id"), crate::openapi::IfMatchHeader, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The revoked decision with its commendations", body = AwardDecisionWithCommendations,
         headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[post("/decisions/{id}/revoke")]
pub async fn revoke_decision(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<RevokeDecision>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input, today) = (id.into_inner(), body.0, db::today());
    let d = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::revoke(conn, &actor, &id, &if_match, input, today))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, d.decision.version, &d))
}
