//! Webhook operations, and the hook that queues events from every recorded change.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

use crate::audit::{self, Change};
use crate::auth::{Actor, Role};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::etag::IfMatch;

use super::store::{self, WebhookRow};
use super::types::*;

fn change<'a>(action: &'a str, row: &'a WebhookRow) -> Change<'a> {
    Change { action, resource_type: "webhook", resource_id: &row.id, unit_id: Some(&row.unit_id) }
}

/// Admins manage the subscriptions of their own unit and below; others do not learn they exist.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<WebhookRow, ApiError> {
    actor.require(Role::Admin)?;
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    crate::units::service::require_admin_over(conn, actor, &row.unit_id)?;
    Ok(row)
}

/// An http(s) URL with a host, not pointing at this service (which would deliver to itself).
pub fn check_url(raw: &str, own_bind: &str) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::field("url", "invalid_url", m);
    let uri: actix_web::http::Uri = raw.trim().parse().map_err(|_| bad("not a URL"))?;
    let scheme = uri.scheme_str().unwrap_or("");
    if scheme != "http" && scheme != "https" {
        return Err(bad("the URL must be http or https"));
    }
    let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| bad("the URL needs a host"))?;
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(bad("the URL must not carry credentials"));
    }
    let port = uri.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
    let own_port = own_bind.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1" | "0.0.0.0" | "::")
        || host.starts_with("127.")
        || own_bind.rsplit_once(':').is_some_and(|(h, _)| h.eq_ignore_ascii_case(&host));
    if local && Some(port) == own_port {
        return Err(ApiError::field("url", "self_url", "the URL points at this service"));
    }
    Ok(raw.trim().to_string())
}

fn events_json(events: &[EventType]) -> String {
    let mut events = events.to_vec();
    events.sort();
    events.dedup();
    crate::db::json_column(&events)
}

/// A Standard Webhooks secret: `whsec_` and 24 random bytes in base64.
fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    input: CreateWebhook,
    own_bind: &str,
) -> Result<WebhookWithSecret, ApiError> {
    actor.require(Role::Admin)?;
    let unit_id = input.unit_id.clone().unwrap_or_else(|| actor.unit_id.clone());
    let unit = crate::units::service::visible(conn, actor, &unit_id)
        .map_err(|e| e.unresolved("unit_id", "unknown_unit", "no such unit, or it is outside your scope"))?;
    if !crate::units::store::is_within(conn, &actor.unit_id, &unit.id)? {
        return Err(ApiError::field("unit_id", "outside_scope", "a subscription is for your unit or one below it"));
    }
    let url = check_url(&input.url, own_bind)?;
    let now = crate::db::now();
    let row = WebhookRow {
        id: uuid::Uuid::now_v7().to_string(),
        unit_id: unit.id,
        url,
        description: input.description,
        events: events_json(&input.events),
        secret: new_secret(),
        status: WebhookStatus::Active.as_str().into(),
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    store::insert(conn, &row)?;
    let webhook = row.to_api()?;
    audit::record(conn, actor, change("webhook.create", &row), None::<&()>, Some(&webhook))?;
    Ok(WebhookWithSecret { webhook, secret: row.secret })
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateWebhook,
    own_bind: &str,
) -> Result<Webhook, ApiError> {
    let before_row = visible(conn, actor, id)?;
    let before = before_row.to_api()?;
    if_match.check(before.version, &before)?;
    let mut row = before_row.clone();
    if let Some(url) = input.url {
        row.url = check_url(&url, own_bind)?;
    }
    if let Some(description) = input.description {
        row.description = description;
    }
    if let Some(events) = input.events {
        row.events = events_json(&events);
    }
    if let Some(status) = input.status {
        row.status = status.as_str().into();
    }
    if row == before_row {
        return Ok(before);
    }
    row.updated_at = crate::db::now();
    row.version += 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    let after = row.to_api()?;
    audit::record(conn, actor, change("webhook.update", &row), Some(&before), Some(&after))?;
    Ok(after)
}

/// Queues the event a recorded change makes, if any: called by `audit::record`, in the same
/// transaction as the change.
pub fn on_change(
    conn: &mut DbConnection,
    change: &Change<'_>,
    after: Option<&serde_json::Value>,
) -> Result<(), ApiError> {
    let (Some(event), Some(unit_id)) = (EventType::of_change(change.action), change.unit_id) else { return Ok(()) };
    let payload = serde_json::json!({
        "type": event.as_str(),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {"resource_type": change.resource_type, "id": change.resource_id, "object": after},
    });
    store::enqueue(conn, event, change.resource_type, change.resource_id, unit_id, &payload.to_string())
}

/// Sends an event again: a new pending delivery of it, due now.
pub fn replay(
    conn: &mut DbConnection,
    actor: &Actor,
    webhook_id: &str,
    delivery_id: &str,
) -> Result<Delivery, ApiError> {
    let hook = visible(conn, actor, webhook_id)?;
    let (old, event) =
        store::delivery(conn, delivery_id)?.filter(|(d, _)| d.webhook_id == hook.id).ok_or(ApiError::NotFound)?;
    let fresh = store::insert_delivery(conn, &hook.id, event.seq, &old.resource_id, crate::db::now())?;
    let delivery = store::to_delivery(&fresh, &event)?;
    audit::record(conn, actor, change("webhook.replay", &hook), None::<&()>, Some(&delivery))?;
    Ok(delivery)
}
