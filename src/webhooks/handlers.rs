//! HTTP handlers for webhooks and their deliveries.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::Json;
use crate::http::pagination::Cursor;
use crate::AppState;

use super::service;
use super::store;
use super::types::*;

/// Subscribe a URL to events of your unit's subtree, or of a unit below it (admin). The answer
/// holds the signing secret, shown this once.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhook,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Subscribed; keep the secret to verify signatures", body = WebhookWithSecret,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The subscription's URL"),
                 ("Idempotent-Replay-Withheld" = String, description = "On an idempotent replay: `secret`, which is then null (never stored)"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let (input, shared) = (body.0, state.clone());
    let created =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::create(conn, &actor, input, &shared)))
            .await?;
    let w = &created.webhook;
    let res = etag::created(format!("/api/v1/webhooks/{}", w.id), w.version, &created);
    Ok(crate::http::idempotency::shows_secret(res, &["secret"]))
}

/// The subscriptions of your subtree (admin).
#[utoipa::path(
    tag = "webhooks",
    params(ListWebhooks),
    responses(
        (status = 200, description = "A page of subscriptions", body = WebhookPage),
        (status = 403, response = crate::openapi::Forbidden),
        crate::openapi::ListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListWebhooks>,
) -> Result<HttpResponse, ApiError> {
    actor.require(crate::auth::Role::Admin)?;
    let q = query.into_inner();
    let (limit, lang) = (format.limit(q.limit)?, q.lang.unwrap_or_default());
    let cursor = q.cursor.as_deref().map(|c| Cursor::decode(c, "created_at")).transpose()?;
    let page = db::read(&state.pool, move |conn| {
        let (rows, next_cursor) = store::list(conn, &actor.unit_id, limit, &cursor)?;
        Ok(WebhookPage { items: rows.iter().map(|r| r.to_api()).collect::<Result<_, _>>()?, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

/// Read a subscription of your subtree (admin).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The subscription", body = Webhook, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        (status = 403, response = crate::openapi::Forbidden),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let w = db::run(&state.pool, move |conn| service::visible(conn, &actor, &id)?.to_api()).await?;
    Ok(etag::respond(&req, StatusCode::OK, w.version, &w))
}

/// Change the URL, the events or the description, or disable it (`status`) (admin).
#[utoipa::path(
    tag = "webhooks",
    request_body = UpdateWebhook,
    params(("id" = String, Path, description = "Subscription id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The changed subscription", body = Webhook, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input, shared) = (id.into_inner(), body.0, state.clone());
    let w = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input, &shared))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, w.version, &w))
}

/// A subscription's deliveries, newest first: each event, its attempts, the receiver's last
/// answer, and when it is tried next (admin).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id"), ListDeliveries),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        (status = 403, response = crate::openapi::Forbidden),
        crate::openapi::SubListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    id: web::Path<String>,
    query: web::Query<ListDeliveries>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), query.into_inner());
    let (limit, lang) = (format.limit(q.limit)?, q.lang.unwrap_or_default());
    let cursor = q.cursor.as_deref().map(|c| Cursor::decode(c, "-created_at")).transpose()?;
    let page = db::read(&state.pool, move |conn| {
        let hook = service::visible(conn, &actor, &id)?;
        let (rows, next_cursor) = store::list_deliveries(conn, &hook.id, q.status, limit, &cursor)?;
        let items = rows.iter().map(|(d, e)| store::to_delivery(d, e)).collect::<Result<_, _>>()?;
        Ok(DeliveryPage { items, next_cursor })
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, page).await
}

/// Send a delivered or failed event again (admin): a new delivery of the same event, with the
/// same `webhook-id`, due now.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path, description = "Subscription id"), ("delivery_id" = String, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued", body = Delivery),
        (status = 403, response = crate::openapi::Forbidden),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay_delivery(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let d = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::replay(conn, &actor, &id, &delivery_id))
    })
    .await?;
    Ok(HttpResponse::Accepted().json(d))
}
