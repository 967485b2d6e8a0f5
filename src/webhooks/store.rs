//! All the SQL of webhooks, the outbox and deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::schema::{unit_tree, webhook_deliveries as deliveries, webhook_events as events, webhooks};
use crate::db::{self, DbConnection, Writes};
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor};

use super::types::*;

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = webhooks, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct WebhookRow {
    pub id: String,
    pub unit_id: String,
    pub url: String,
    pub description: Option<String>,
    pub events: String,
    pub secret: String,
    pub status: WebhookStatus,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl WebhookRow {
    pub fn events(&self) -> Result<Vec<EventType>, ApiError> {
        crate::db::parse_json_column("webhooks.events", &self.events)
    }

    pub fn to_api(&self) -> Result<Webhook, ApiError> {
        Ok(Webhook {
            id: self.id.clone(),
            unit_id: self.unit_id.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            events: self.events()?,
            status: self.status,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
        })
    }
}

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub event_type: EventType,
    pub resource_type: String,
    pub resource_id: String,
    pub payload: String,
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = deliveries, treat_none_as_default_value = false)]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_seq: i64,
    pub resource_id: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn to_delivery(d: &DeliveryRow, e: &EventRow) -> Result<Delivery, ApiError> {
    let status = d.status;
    Ok(Delivery {
        id: d.id.clone(),
        webhook_id: d.webhook_id.clone(),
        event_id: e.id.clone(),
        event_type: e.event_type,
        resource_type: e.resource_type.clone(),
        resource_id: e.resource_id.clone(),
        status,
        attempts: d.attempts,
        next_attempt_at: (status == DeliveryStatus::Pending).then(|| d.next_attempt_at.and_utc()),
        last_attempt_at: d.last_attempt_at.map(|t| t.and_utc()),
        last_status: d.last_status,
        last_error: d.last_error.clone(),
        delivered_at: d.delivered_at.map(|t| t.and_utc()),
        created_at: d.created_at.and_utc(),
        payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
    })
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<WebhookRow>, ApiError> {
    Ok(webhooks::table.find(id).select(WebhookRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &WebhookRow) -> Result<(), ApiError> {
    diesel::insert_into(webhooks::table).values(row).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConnection, row: &WebhookRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(webhooks::table.find(&row.id).filter(webhooks::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// Subscriptions of `viewer`'s subtree, oldest first.
pub fn list(
    conn: &mut DbConnection,
    viewer: &str,
    limit: i64,
    cursor: &Option<Cursor>,
) -> Result<(Vec<WebhookRow>, Option<String>), ApiError> {
    let after = pagination::time_after(cursor)?;
    let rows: Vec<WebhookRow> = crate::with_backend!(conn, |c| {
        let scope =
            unit_tree::table.filter(unit_tree::ancestor_id.eq(viewer.to_string())).select(unit_tree::descendant_id);
        let q = webhooks::table.filter(webhooks::unit_id.eq_any(scope)).into_boxed();
        let q = crate::keyset!(q, webhooks::created_at, webhooks::id, after.clone(), false);
        q.limit(limit + 1).select(WebhookRow::as_select()).load(c)
    })?;
    Ok(pagination::finish_page(rows, limit, |r| Cursor {
        sort: "created_at".into(),
        key: Some(pagination::timestamp_key(&r.created_at)),
        id: r.id.clone(),
    }))
}

/// Writes an event to the outbox and a delivery for each active subscription of a unit at or
/// above `unit_id` that asks for it. In the caller's transaction.
pub fn enqueue(
    conn: &mut DbConnection,
    writes: Writes<'_>,
    event_type: EventType,
    resource_type: &str,
    resource_id: &str,
    unit_id: &str,
    payload: &str,
) -> Result<(), ApiError> {
    let subscribers: Vec<(String, String)> = writes.then_load(
        conn,
        webhooks::table
            .inner_join(unit_tree::table.on(unit_tree::ancestor_id.eq(webhooks::unit_id)))
            .filter(unit_tree::descendant_id.eq(unit_id))
            .filter(webhooks::status.eq(WebhookStatus::Active.as_str()))
            .select((webhooks::id, webhooks::events)),
    )?;
    let wanted: Vec<String> = subscribers
        .into_iter()
        .filter(|(_, events)| serde_json::from_str::<Vec<EventType>>(events).is_ok_and(|e| e.contains(&event_type)))
        .map(|(id, _)| id)
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let now = crate::db::now();
    let seq: i64 = diesel::insert_into(events::table)
        .values((
            events::id.eq(format!("msg_{}", uuid::Uuid::now_v7().simple())),
            events::event_type.eq(event_type.as_str()),
            events::resource_type.eq(resource_type),
            events::resource_id.eq(resource_id),
            events::unit_id.eq(unit_id),
            events::payload.eq(payload),
            events::created_at.eq(now),
        ))
        .returning(events::seq)
        .get_result(conn)?;
    for webhook_id in wanted {
        insert_delivery(conn, &webhook_id, seq, resource_id, now)?;
    }
    Ok(())
}

pub fn insert_delivery(
    conn: &mut DbConnection,
    webhook_id: &str,
    event_seq: i64,
    resource_id: &str,
    now: NaiveDateTime,
) -> Result<DeliveryRow, ApiError> {
    let row = DeliveryRow {
        id: uuid::Uuid::now_v7().to_string(),
        webhook_id: webhook_id.to_string(),
        event_seq,
        resource_id: resource_id.to_string(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_attempt_at: None,
        last_status: None,
        last_error: None,
        delivered_at: None,
        created_at: now,
    };
    diesel::insert_into(deliveries::table).values(&row).execute(conn)?;
    Ok(row)
}

/// A delivery and the event it sends.
pub type DeliveryWithEvent = (DeliveryRow, EventRow);

/// One delivery with its event.
pub fn delivery(conn: &mut DbConnection, id: &str) -> Result<Option<DeliveryWithEvent>, ApiError> {
    Ok(deliveries::table
        .inner_join(events::table)
        .filter(deliveries::id.eq(id))
        .select((DeliveryRow::as_select(), EventRow::as_select()))
        .first(conn)
        .optional()?)
}

/// A subscription's deliveries, newest first.
pub fn list_deliveries(
    conn: &mut DbConnection,
    webhook_id: &str,
    status: Option<DeliveryStatus>,
    limit: i64,
    cursor: &Option<Cursor>,
) -> Result<(Vec<DeliveryWithEvent>, Option<String>), ApiError> {
    let after = pagination::time_after(cursor)?;
    let rows: Vec<DeliveryWithEvent> = crate::with_backend!(conn, |c| {
        let mut q = deliveries::table
            .inner_join(events::table)
            .filter(deliveries::webhook_id.eq(webhook_id.to_string()))
            .into_boxed();
        if let Some(s) = status {
            q = q.filter(deliveries::status.eq(s.as_str()));
        }
        let q = crate::keyset!(q, deliveries::created_at, deliveries::id, after.clone(), true);
        q.limit(limit + 1).select((DeliveryRow::as_select(), EventRow::as_select())).load(c)
    })?;
    Ok(pagination::finish_page(rows, limit, |(d, _)| Cursor {
        sort: "-created_at".into(),
        key: Some(pagination::timestamp_key(&d.created_at)),
        id: d.id.clone(),
    }))
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    id: String,
}

/// A due delivery, ready to send: where, what and with which secret.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery_id: String,
    pub attempts: i32,
    /// Until when this claim holds it: the claim's mark, which its attempt is recorded under.
    pub leased_until: NaiveDateTime,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub payload: String,
}

/// Takes up to `limit` due deliveries for `lease` (another instance skips them meanwhile; if this
/// one dies they come due again): the oldest pending delivery of each (subscription, resource)
/// only, so a resource's events arrive in order. On PostgreSQL, `SKIP LOCKED` lets several
/// instances claim side by side.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Due>, ApiError> {
    // Most polls find nothing: a read first, so they take no write lock.
    let any: Option<String> = deliveries::table
        .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(deliveries::next_attempt_at.le(now))
        .select(deliveries::id)
        .first(conn)
        .optional()?;
    if any.is_none() {
        return Ok(vec![]);
    }
    db::transaction(conn, |conn| {
        let lock = if conn.backend() == db::Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = db::placeholders(
            conn.backend(),
            &format!(
                "SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= ? \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id \
                   AND e.resource_id = d.resource_id AND e.status = 'pending' AND e.event_seq < d.event_seq) \
                 ORDER BY d.event_seq LIMIT ?{lock}"
            ),
        );
        let ids: Vec<Claimed> = diesel::sql_query(sql).bind::<Timestamp, _>(now).bind::<BigInt, _>(limit).load(conn)?;
        let ids: Vec<String> = ids.into_iter().map(|c| c.id).collect();
        if ids.is_empty() {
            return Ok(vec![]);
        }
        diesel::update(deliveries::table.filter(deliveries::id.eq_any(&ids)))
            .set(deliveries::next_attempt_at.eq(lease_until))
            .execute(conn)?;
        let rows: Vec<(String, i32, String, String, String, String, i64)> = deliveries::table
            .inner_join(events::table)
            .inner_join(webhooks::table)
            .filter(deliveries::id.eq_any(&ids))
            .select((
                deliveries::id,
                deliveries::attempts,
                webhooks::url,
                webhooks::secret,
                events::id,
                events::payload,
                events::seq,
            ))
            .load(conn)?;
        let mut rows = rows;
        rows.sort_by_key(|r| r.6);
        Ok(rows
            .into_iter()
            .map(|(delivery_id, attempts, url, secret, event_id, payload, _)| Due {
                delivery_id,
                attempts,
                leased_until: lease_until,
                url,
                secret,
                event_id,
                payload,
            })
            .collect())
    })
}

/// Records the attempt of claim `due`: delivered, or pending again at `retry_at`, or failed for
/// good (`None`). Only while the claim still holds (the delivery pending, with the attempts and
/// the lease it was claimed with): a sender that outlived its lease, whose delivery another
/// instance has taken over, records nothing. Whether it was recorded.
pub fn record_attempt(
    conn: &mut DbConnection,
    due: &Due,
    at: NaiveDateTime,
    status_code: Option<i32>,
    error: Option<String>,
    retry_at: Option<NaiveDateTime>,
) -> Result<bool, ApiError> {
    let delivered = error.is_none();
    let status = match (delivered, retry_at) {
        (true, _) => DeliveryStatus::Delivered,
        (false, Some(_)) => DeliveryStatus::Pending,
        (false, None) => DeliveryStatus::Failed,
    };
    let held = deliveries::table
        .find(&due.delivery_id)
        .filter(deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(deliveries::attempts.eq(due.attempts))
        .filter(deliveries::next_attempt_at.eq(due.leased_until));
    let n = diesel::update(held)
        .set((
            deliveries::status.eq(status.as_str()),
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::last_attempt_at.eq(Some(at)),
            deliveries::last_status.eq(status_code),
            deliveries::last_error.eq(error),
            deliveries::delivered_at.eq(delivered.then_some(at)),
            deliveries::next_attempt_at.eq(retry_at.unwrap_or(at)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Seals every signing secret that is not sealed under the current key: plain ones (written
/// before secrets were sealed) and ones under an older key of the ring. Run at start-up.
pub fn reseal_secrets(conn: &mut DbConnection, keyring: &crate::keyring::Keyring) -> Result<usize, String> {
    let rows: Vec<(String, String)> =
        webhooks::table.select((webhooks::id, webhooks::secret)).load(conn).map_err(|e| e.to_string())?;
    let mut resealed = 0;
    for (id, stored) in rows {
        if keyring.is_current_seal(&stored) {
            continue;
        }
        let plain = if stored.starts_with("sealed:") {
            keyring.open(&stored).ok_or_else(|| {
                format!("webhook {id}'s signing secret is sealed under a key DVK_DATA_KEYS does not list; add that key back")
            })?
        } else {
            stored
        };
        diesel::update(webhooks::table.find(&id))
            .set(webhooks::secret.eq(keyring.seal(&plain)))
            .execute(conn)
            .map_err(|e| e.to_string())?;
        resealed += 1;
    }
    if resealed > 0 {
        log::info!("sealed {resealed} webhook signing secrets under the current data key");
    }
    Ok(resealed)
}
