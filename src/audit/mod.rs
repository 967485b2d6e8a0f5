//! The audit log: every write records who, where, what, before and after, and the request id,
//! in the same transaction as the write (so a rolled-back change leaves no trace, and a committed
//! one always has its record).

mod handlers;
mod store;

pub use handlers::{list_audit_events, AuditEvent, AuditEventPage};

use crate::changes::{Change, Who};
use crate::db::Writes;

/// Adds the audit row of a change to the change's writes (`crate::changes::record` is how
/// producers get here).
pub fn insert(
    writes: &mut Writes<'_>,
    who: &Who<'_>,
    change: &Change<'_>,
    before: Option<String>,
    after: Option<String>,
) {
    store::insert(
        writes,
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
