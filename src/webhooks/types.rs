//! Webhooks and their deliveries: the contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

str_enum! {
    /// What a subscription may ask for. Each is sent for records of the subscriber's subtree.
    pub enum EventType {
        CampaignLaunched = "campaign.launched",
        ModelRegistered = "model.registered",
        ModelRecognized = "model.recognized",
        ModelNotRecognized = "model.not_recognized",
        CommendationIssued = "commendation.issued",
        CommendationRevoked = "commendation.revoked",
        /// A decision issued: each of its commendations also sends `commendation.issued`.
        DecisionIssued = "decision.issued",
        /// A decision revoked, or a draft abandoned.
        DecisionRevoked = "decision.revoked",
        /// A unit closed (with its successors named) or a reorganisation applied.
        UnitReorganized = "unit.reorganized",
        /// A photo or document attached to a model, progress report, campaign or decision.
        AttachmentAdded = "attachment.added",
        AttachmentDeleted = "attachment.deleted",
    }
}

str_enum! {
    pub enum WebhookStatus {
        Active = "active",
        /// Nothing new is queued for it; what is queued stays.
        Disabled = "disabled",
    }
}

str_enum! {
    pub enum DeliveryStatus {
        /// Waiting for its first attempt or its next retry.
        Pending = "pending",
        Delivered = "delivered",
        /// Every retry of the schedule failed; replay it to try again.
        Failed = "failed",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    /// Events of this unit's subtree are sent.
    pub unit_id: String,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<EventType>,
    pub status: WebhookStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A subscription with its signing secret (`whsec_…`), shown on creation only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    /// The signing secret (`whsec_…`). `null` on an idempotent replay
    /// (`Idempotent-Replay-Withheld: secret`): secrets are not kept for replays; if the first
    /// answer was lost, delete nothing and rotate by subscribing anew.
    #[schema(value_type = Option<String>)]
    pub secret: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://congthongtin.hanoi.gov.vn/dvk/webhook", "events": ["model.recognized", "commendation.issued"]}))]
pub struct CreateWebhook {
    /// A unit of your subtree (default: yours).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub unit_id: Option<String>,
    /// An http(s) URL that is not this service.
    #[validate(length(min = 1, max = 2048))]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub events: Vec<EventType>,
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    #[validate(length(min = 1, max = 2048))]
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    pub events: Option<Vec<EventType>>,
    pub status: Option<WebhookStatus>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    /// The `webhook-id` header: the same on every attempt and replay of this event.
    pub event_id: String,
    pub event_type: EventType,
    pub resource_type: String,
    pub resource_id: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When it is tried next (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status on the last attempt.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The body sent: `{type, timestamp, data}`.
    pub payload: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    pub items: Vec<Webhook>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooks {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    pub status: Option<DeliveryStatus>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

impl crate::http::export::Tabular for Webhook {
    const COLUMNS: &'static [&'static str] =
        &["url", "unit_id", "events", "status", "description", "created_at", "updated_at", "id"];
}
crate::page!(WebhookPage, Webhook, "webhooks");

impl crate::http::export::Tabular for Delivery {
    const COLUMNS: &'static [&'static str] = &[
        "created_at",
        "event_type",
        "resource_type",
        "resource_id",
        "status",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "event_id",
        "id",
    ];
}
crate::page!(DeliveryPage, Delivery, "deliveries");
