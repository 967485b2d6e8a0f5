//! `GET /audit-events`: the audit log of your subtree, for admins.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Actor, Role};
use crate::db;
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor};
use crate::AppState;

use super::store;

/// One recorded change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    /// Who: the token's `sub`.
    pub actor_sub: String,
    /// The unit the actor acted for.
    pub actor_unit_id: Option<String>,
    /// What, e.g. `unit.create`, `unit.close`, `unit.import`, `unit.reorganize`.
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    /// The unit the resource belongs to.
    pub unit_id: Option<String>,
    /// The resource before the change (null for creations).
    pub before: Option<Value>,
    /// The resource after the change.
    pub after: Option<Value>,
    /// The server's id of the request that made the change: the `X-Request-Id` of its answer.
    pub request_id: Option<String>,
    /// The `X-Request-Id` the client sent with it, if any: the client's word, not unique.
    pub client_request_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAuditEvents {
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
    pub actor_sub: Option<String>,
    /// Only events at or after this instant (RFC 3339).
    pub since: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

/// The audit log of your subtree, newest first (admin).
#[utoipa::path(
    tag = "audit",
    params(ListAuditEvents),
    responses(
        (status = 200, description = "A page of audit events", body = AuditEventPage),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 429, response = crate::openapi::TooManyRequests),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListAuditEvents>,
) -> Result<HttpResponse, ApiError> {
    actor.require(Role::Admin)?;
    let q = query.into_inner();
    let lang = q.lang.unwrap_or_default();
    let filter = store::Filter {
        viewer: actor.unit_id.clone(),
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        action: q.action,
        actor_sub: q.actor_sub,
        since: pagination::updated_since(q.since.as_deref()).map_err(|_| {
            ApiError::bad_request("invalid_since", "since must be an RFC 3339 timestamp, not in the future")
        })?,
        limit: format.limit(q.limit)?,
        cursor: q.cursor.as_deref().map(|c| Cursor::decode(c, "-occurred_at")).transpose()?,
    };
    let (rows, next_cursor) = db::read(&state.pool, move |conn| store::list(conn, &filter)).await?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let items = rows
        .into_iter()
        .map(|r| AuditEvent {
            id: r.id,
            occurred_at: r.occurred_at.and_utc(),
            actor_sub: r.actor_sub,
            actor_unit_id: r.actor_unit_id,
            action: r.action,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            unit_id: r.unit_id,
            before: parse(r.before),
            after: parse(r.after),
            request_id: r.request_id,
            client_request_id: r.client_request_id,
        })
        .collect();
    crate::http::export::respond(&state.pool, format, lang, AuditEventPage { items, next_cursor }).await
}

impl crate::http::export::Tabular for AuditEvent {
    const COLUMNS: &'static [&'static str] = &[
        "occurred_at",
        "actor_sub",
        "actor_unit_id",
        "action",
        "resource_type",
        "resource_id",
        "unit_id",
        "request_id",
        "client_request_id",
        "id",
    ];
}
crate::page!(AuditEventPage, AuditEvent, "audit-events");
