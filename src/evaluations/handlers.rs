//! HTTP handlers for evaluations.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::{Json, MaybeJson};
use crate::http::pagination::{self, Paging};
use crate::AppState;

use super::service;
use super::store;
use super::types::*;

/// Start an evaluation of a model in progress (reviewer of a unit above the model's owner), or a
/// correction of a finalised one (`supersedes_id`). Its criteria come from the campaign's set.
#[utoipa::path(
    tag = "evaluations",
    request_body = CreateEvaluation,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created as a draft", body = Evaluation,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The evaluation's URL"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/evaluations")]
pub async fn create_evaluation(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<CreateEvaluation>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let e =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::create(conn, &actor, input))).await?;
    Ok(etag::created(format!("/api/v1/evaluations/{}", e.id), e.version, &e))
}

/// Read an evaluation of a model you see.
#[utoipa::path(
    tag = "evaluations",
    params(("id" = String, Path, description = "Evaluation id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The evaluation", body = Evaluation, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/evaluations/{id}")]
pub async fn get_evaluation(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let e = db::run(&state.pool, move |conn| service::visible(conn, &actor, &id)?.to_api()).await?;
    Ok(etag::respond(&req, StatusCode::OK, e.version, &e))
}

/// List the evaluations of the models you see.
#[utoipa::path(
    tag = "evaluations",
    params(ListEvaluations),
    responses((status = 200, description = "A page of evaluations", body = EvaluationPage), crate::openapi::ListErrors),
    security(("bearer" = []))
)]
#[get("/evaluations")]
pub async fn list_evaluations(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListEvaluations>,
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
        evaluator_unit_id: q.evaluator_unit_id,
        status: q.status,
        review_kind: q.review_kind,
        year: pagination::year(q.year)?,
        updated_since,
        sort,
        sort_name,
        limit,
        cursor,
    };
    let page = db::read(&state.pool, move |conn| {
        // Tokens and spreadsheets name units by code: a unit filter takes either.
        let mut filter = filter;
        filter.evaluator_unit_id = crate::tree::resolve_opt(conn, filter.evaluator_unit_id.as_deref())?;
        let (rows, next_cursor) = store::list(conn, &filter)?;
        Ok(EvaluationPage { items: rows.iter().map(|r| r.to_api()).collect::<Result<_, _>>()?, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

/// Score a draft, or change its verdict, decision or comment (reviewer of the evaluating unit).
#[utoipa::path(
    tag = "evaluations",
    request_body = UpdateEvaluation,
    params(("id" = String, Path, description = "Evaluation id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The changed evaluation", body = Evaluation, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/evaluations/{id}")]
pub async fn update_evaluation(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateEvaluation>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    let e = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, e.version, &e))
}

async fn finalize(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    body: MaybeJson<FinalizeBody>,
    _: (),
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let comment = body.0.and_then(|b| b.comment);
    let e = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::finalize(conn, &actor, &id, &if_match, comment))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, e.version, &e))
}

crate::action_endpoint!(finalize_evaluation, "/evaluations/{id}/finalize", "evaluations", FinalizeBody, Evaluation, finalize, (),
    "Finalise a draft (approver of the evaluating unit): every required criterion scored, a verdict and a decision. In the same transaction the model becomes recognized or not_recognized, and a correction retires the evaluation it supersedes. Of two finalisations racing for the same model, review and year, one wins and the other gets 409.");
