//! A change is recorded once, in the writer's transaction: its audit row says who did what, with
//! what before and after; and when it is a change subscribers hear of, its webhook event is
//! queued beside it. The producer names the event (`Change::announcing`): nothing downstream
//! guesses it from the action's name, and a rolled-back change leaves neither row.

use serde::Serialize;

use crate::auth::Actor;
use crate::db::{DbConnection, Writes};
use crate::error::ApiError;
use crate::webhooks::types::EventType;

/// One change to record.
pub struct Change<'a> {
    /// What was done, as the audit log names it: `model.submit`, `unit.close`…
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
    /// The unit the resource belongs to: whose admins may read the record, whose subscribers
    /// (and those of the units above it) hear of its event.
    pub unit_id: Option<&'a str>,
    /// The event this change makes, if any; its payload is the change's `after`.
    pub event: Option<EventType>,
}

impl<'a> Change<'a> {
    pub fn new(action: &'a str, resource_type: &'a str, resource_id: &'a str, unit_id: Option<&'a str>) -> Self {
        Change { action, resource_type, resource_id, unit_id, event: None }
    }

    /// The change makes `event` (when `Some`): subscribers hear of it.
    pub fn announcing(self, event: impl Into<Option<EventType>>) -> Self {
        Change { event: event.into(), ..self }
    }
}

/// Who did something, for changes that have no authenticated actor (a token request).
pub struct Who<'a> {
    pub sub: &'a str,
    pub unit_id: Option<&'a str>,
    pub request_id: &'a str,
    pub client_request_id: Option<&'a str>,
}

/// Records a change by an authenticated actor: the audit row, and the event it makes.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    actor: &Actor,
    change: Change<'_>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), ApiError> {
    let after = after.map(serde_json::to_value).transpose().map_err(|e| ApiError::internal(e.to_string()))?;
    // The rows go with the question who hears of the change: one round trip on PostgreSQL.
    let mut writes = Writes::default();
    crate::http::idempotency::mark_committed(&mut writes, change.resource_type, change.resource_id);
    let who = Who {
        sub: &actor.sub,
        unit_id: Some(actor.unit_id.as_str()).filter(|u| !u.is_empty()),
        request_id: &actor.request_id,
        client_request_id: actor.client_request_id.as_deref(),
    };
    let before = before.map(serde_json::to_string).transpose().map_err(|e| ApiError::internal(e.to_string()))?;
    crate::audit::insert(&mut writes, &who, &change, before, after.as_ref().map(|a| a.to_string()));
    match (change.event, change.unit_id) {
        (Some(event), Some(unit_id)) => crate::webhooks::service::queue(
            conn,
            writes,
            event,
            change.resource_type,
            change.resource_id,
            unit_id,
            after.as_ref(),
        ),
        _ => Ok(writes.run(conn)?),
    }
}

/// Records something that changes no resource and makes no event: a token granted or refused.
pub fn record_event<A: Serialize>(
    conn: &mut DbConnection,
    who: &Who<'_>,
    change: Change<'_>,
    after: &A,
) -> Result<(), ApiError> {
    let after = serde_json::to_string(after).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut writes = Writes::default();
    crate::audit::insert(&mut writes, who, &change, None, Some(after));
    Ok(writes.run(conn)?)
}
