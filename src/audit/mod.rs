//! The audit log: every write records who, where, what, before and after, and the request id,
//! in the same transaction as the write (so a rolled-back change leaves no trace, and a committed
//! one always has its record).

mod handlers;
mod store;

pub use handlers::{list_audit_events, AuditEvent, AuditEventPage};

use serde::Serialize;

use crate::auth::Actor;
use crate::db::DbConnection;
use crate::error::ApiError;

/// One change to record.
pub struct Change<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    /// The unit the resource belongs to: whose admins may read the event.
    pub unit_id: Option<&'a str>,
}

pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    change: Change<'_>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), ApiError> {
    let after_value = after.and_then(|a| serde_json::to_value(a).ok());
    // Changes that make a webhook event queue it here, in the same transaction.
    crate::webhooks::service::on_change(conn, &change, after_value.as_ref())?;
    let who = Who {
        sub: &actor.sub,
        unit_id: Some(actor.unit_id.as_str()).filter(|u| !u.is_empty()),
        request_id: &actor.request_id,
        client_request_id: actor.client_request_id.as_deref(),
    };
    insert(conn, &who, &change, before.and_then(|b| serde_json::to_string(b).ok()), after_value.map(|a| a.to_string()))
}

/// Who did something, for events that have no authenticated actor (a token request).
pub struct Who<'a> {
    pub sub: &'a str,
    pub unit_id: Option<&'a str>,
    pub request_id: &'a str,
    pub client_request_id: Option<&'a str>,
}

/// Records an event that changes no resource and sends no webhook: a token granted or refused.
pub fn record_event<A: Serialize>(
    conn: &mut DbConnection,
    who: &Who<'_>,
    change: Change<'_>,
    after: &A,
) -> Result<(), ApiError> {
    insert(conn, who, &change, None, serde_json::to_string(after).ok())
}

fn insert(
    conn: &mut DbConnection,
    who: &Who<'_>,
    change: &Change<'_>,
    before: Option<String>,
    after: Option<String>,
) -> Result<(), ApiError> {
    store::insert(
        conn,
        store::AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: crate::db::now(),
            actor_sub: who.sub.to_string(),
            actor_unit_id: who.unit_id.map(str::to_string),
            action: change.action.to_string(),
            resource_type: change.resource_type.to_string(),
            resource_id: change.resource_id.to_string(),
            unit_id: change.unit_id.map(str::to_string),
            before,
            after,
            request_id: Some(who.request_id.to_string()).filter(|r| !r.is_empty()),
            client_request_id: who.client_request_id.map(str::to_string),
        },
    )
}
