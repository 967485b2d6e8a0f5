//! Webhook operations, and the hook that queues events from every recorded change.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::config::Config;
use crate::db::{DbConnection, Writes};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::AppState;

use super::store::{self, WebhookRow};
use super::types::*;

fn change<'a>(action: &'a str, row: &'a WebhookRow) -> Change<'a> {
    Change::new(action, "webhook", &row.id, Some(&row.unit_id))
}

/// Admins manage the subscriptions of their own unit and below; others do not learn they exist.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<WebhookRow, ApiError> {
    actor.require(Role::Admin)?;
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    crate::units::service::require_admin_over(conn, actor, &row.unit_id)?;
    Ok(row)
}

/// An http(s) URL with a host, not pointing at this service (which would deliver to itself), nor
/// at an internal address the operator has not allowed.
pub fn check_url(raw: &str, config: &Config) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::field("url", "invalid_url", m);
    let raw = raw.trim();
    // The WHATWG parser is the one the sender uses: `2130706433` and `0x7f000001` are the
    // address 127.0.0.1 to both.
    let url = url::Url::parse(raw).map_err(|_| bad("not a URL"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad("the URL must be http or https"));
    }
    let host = url.host().ok_or_else(|| bad("the URL needs a host"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("the URL must not carry credentials"));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let own = config.bind.rsplit_once(':');
    let own_port = own.and_then(|(_, p)| p.parse::<u16>().ok());
    let own_host = own.map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase());
    let local = match &host {
        url::Host::Ipv4(ip) => ip.is_loopback() || ip.is_unspecified(),
        url::Host::Ipv6(ip) => {
            ip.is_loopback() || ip.is_unspecified() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        url::Host::Domain(name) => name.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
    } || own_host.as_deref() == Some(host.to_string().trim_start_matches('[').trim_end_matches(']'));
    if local && Some(port) == own_port {
        return Err(ApiError::field("url", "self_url", "the URL points at this service"));
    }
    if let Some(why) = super::network::refuse_at_subscription(&url, &config.webhook_allow_networks) {
        return Err(ApiError::field("url", "internal_address", why));
    }
    Ok(raw.to_string())
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
    state: &AppState,
) -> Result<WebhookWithSecret, ApiError> {
    let config = &state.config;
    actor.require(Role::Admin)?;
    let unit_id = input.unit_id.clone().unwrap_or_else(|| actor.unit_id.clone());
    let unit = crate::units::service::visible(conn, actor, &unit_id)
        .map_err(|e| e.unresolved("unit_id", "unknown_unit", "no such unit, or it is outside your scope"))?;
    if !crate::tree::Subtree::of(&actor.unit_id).holds(conn, &unit.id)? {
        return Err(ApiError::field("unit_id", "outside_scope", "a subscription is for your unit or one below it"));
    }
    let url = check_url(&input.url, config)?;
    let now = crate::db::now();
    let secret = new_secret();
    let row = WebhookRow {
        id: uuid::Uuid::now_v7().to_string(),
        unit_id: unit.id,
        url,
        description: input.description,
        events: events_json(&input.events),
        secret: state.keyring.seal(&secret),
        status: WebhookStatus::Active,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    store::insert(conn, &row)?;
    let webhook = row.to_api()?;
    changes::record(conn, actor, change("webhook.create", &row), None::<&()>, Some(&webhook))?;
    Ok(WebhookWithSecret { webhook, secret })
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateWebhook,
    state: &AppState,
) -> Result<Webhook, ApiError> {
    let config = &state.config;
    let before_row = visible(conn, actor, id)?;
    let before = before_row.to_api()?;
    if_match.check(before.version, &before)?;
    let mut row = before_row.clone();
    if let Some(url) = input.url {
        row.url = check_url(&url, config)?;
    }
    if let Some(description) = input.description {
        row.description = description;
    }
    if let Some(events) = input.events {
        row.events = events_json(&events);
    }
    if let Some(status) = input.status {
        row.status = status;
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
    changes::record(conn, actor, change("webhook.update", &row), Some(&before), Some(&after))?;
    Ok(after)
}

/// Queues `event` about a record of `unit_id` for the subscribers that asked for it, in the
/// caller's transaction, after the change's own `writes` (sent with the question who subscribes).
pub fn queue(
    conn: &mut DbConnection,
    writes: Writes<'_>,
    event: EventType,
    resource_type: &str,
    resource_id: &str,
    unit_id: &str,
    object: Option<&serde_json::Value>,
) -> Result<(), ApiError> {
    let payload = serde_json::json!({
        "type": event.as_str(),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {"resource_type": resource_type, "id": resource_id, "object": object},
    });
    store::enqueue(conn, writes, event, resource_type, resource_id, unit_id, &payload.to_string())
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
    changes::record(conn, actor, change("webhook.replay", &hook), None::<&()>, Some(&delivery))?;
    Ok(delivery)
}
