//! HTTP handlers for campaigns.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::{Json, MaybeJson};
use crate::http::pagination::{self, Paging};
use crate::http::text;
use crate::AppState;

use super::service;
use super::store;
use super::types::*;

/// Launch a campaign (as a draft) for your own unit (editor).
#[utoipa::path(
    tag = "campaigns",
    request_body = CreateCampaign,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created as a draft", body = Campaign,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The campaign's URL"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/campaigns")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<CreateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let c =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::create(conn, &actor, input))).await?;
    Ok(etag::created(format!("/api/v1/campaigns/{}", c.id), c.version, &c))
}

/// Read a campaign: visible to the launching unit and those above it, and, once launched, to the
/// launcher's whole subtree.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = String, Path, description = "Campaign id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The campaign", body = Campaign, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/campaigns/{id}")]
pub async fn get_campaign(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let c = db::run(&state.pool, move |conn| service::visible(conn, &actor, &id)?.to_api()).await?;
    Ok(etag::respond(&req, StatusCode::OK, c.version, &c))
}

/// List the campaigns you may see.
#[utoipa::path(
    tag = "campaigns",
    params(ListCampaigns),
    responses(
        (status = 200, description = "A page of campaigns", body = CampaignPage),
        crate::openapi::ListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/campaigns")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListCampaigns>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let Paging { sort, sort_name, cursor, limit, updated_since } = Paging::parse(
        q.sort.as_deref(),
        "created_at",
        store::SORTS,
        q.cursor.as_deref(),
        format.limit(q.limit)?,
        q.updated_since.as_deref(),
    )?;
    let lang = q.lang.unwrap_or_default();
    let filter = store::Filter {
        viewer: actor.unit_id.clone(),
        unit_id: q.unit_id,
        ancestor_id: q.ancestor_id,
        include_predecessors: q.include_predecessors.unwrap_or(false),
        status: q.status,
        year: pagination::year(q.year)?,
        parent_campaign_id: q.parent_campaign_id,
        q: text::search_query(q.q)?,
        updated_since,
        cursor,
        sort,
        sort_name,
        limit,
    };
    let page = db::read(&state.pool, move |conn| {
        // Tokens and spreadsheets name units by code: a unit filter takes either.
        let mut filter = filter;
        filter.unit_id = crate::tree::resolve_opt(conn, filter.unit_id.as_deref())?;
        filter.ancestor_id = crate::tree::resolve_opt(conn, filter.ancestor_id.as_deref())?;
        let (rows, next_cursor) = store::list(conn, &filter)?;
        Ok(CampaignPage { items: rows.iter().map(|r| r.to_api()).collect::<Result<_, _>>()?, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

/// Change a draft or active campaign of your unit (editor). Once launched, its period and parent
/// are fixed.
#[utoipa::path(
    tag = "campaigns",
    request_body = UpdateCampaign,
    params(("id" = String, Path, description = "Campaign id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The changed campaign", body = Campaign, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/campaigns/{id}")]
pub async fn update_campaign(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    let c = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, c.version, &c))
}

async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    body: MaybeJson<ActionComment>,
    action: CampaignAction,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let comment = body.0.and_then(|b| b.comment);
    let c = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::act(conn, &actor, &id, &if_match, action, comment))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, c.version, &c))
}

crate::action_endpoint!(
    launch_campaign,
    "/campaigns/{id}/launch",
    "campaigns",
    ActionComment,
    Campaign,
    act,
    CampaignAction::Launch,
    "Launch a draft campaign (editor of its unit): draft → active. Only an active campaign takes models."
);
crate::action_endpoint!(
    close_campaign,
    "/campaigns/{id}/close",
    "campaigns",
    ActionComment,
    Campaign,
    act,
    CampaignAction::Close,
    "Close an active campaign (editor of its unit): active → closed."
);
crate::action_endpoint!(
    cancel_campaign,
    "/campaigns/{id}/cancel",
    "campaigns",
    ActionComment,
    Campaign,
    act,
    CampaignAction::Cancel,
    "Cancel a draft or active campaign (editor of its unit)."
);
