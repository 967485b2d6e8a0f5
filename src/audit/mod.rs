//! The audit log: every write records who, where, what, before and after, and the request id,
//! in the same transaction as the write (so a rolled-back change leaves no trace, and a committed
//! one always has its record).

mod handlers;
pub mod store;

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
    store::insert(
        conn,
        store::AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: crate::db::now(),
            actor_sub: actor.sub.clone(),
            actor_unit_id: Some(actor.unit_id.clone()).filter(|u| !u.is_empty()),
            action: change.action.to_string(),
            resource_type: change.resource_type.to_string(),
            resource_id: change.resource_id.to_string(),
            unit_id: change.unit_id.map(str::to_string),
            before: before.and_then(|b| serde_json::to_string(b).ok()),
            after: after_value.map(|a| a.to_string()),
            request_id: Some(actor.request_id.clone()).filter(|r| !r.is_empty()),
        },
    )
}
