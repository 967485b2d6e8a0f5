//! Models as the API speaks of them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::units::types::Level;
use crate::vocabulary::{Field, ModelKind, SpecialArea, Subject};

str_enum! {
    /// draft → registered (submit) → in_progress (accept) → recognized | not_recognized (an
    /// evaluation is finalised); registered → returned (return) → registered (submit again);
    /// any status before the decision → withdrawn.
    pub enum ModelStatus {
        Draft = "draft",
        Registered = "registered",
        Returned = "returned",
        InProgress = "in_progress",
        Recognized = "recognized",
        NotRecognized = "not_recognized",
        Withdrawn = "withdrawn",
    }
}

str_enum! {
    pub enum ModelAction {
        Submit = "submit",
        Accept = "accept",
        Return = "return",
        Withdraw = "withdraw",
    }
}

/// The individual an exemplar (điển hình cá nhân) is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"full_name": "Nguyễn Thị Hoa", "position": "Bí thư Chi bộ thôn Đông"}))]
pub struct Person {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub full_name: String,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub position: String,
}

/// A measurable result the model aims at: households reached, money mobilised, km of road…
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Đường bê tông", "unit": "km", "target": 5.0, "actual": 3.2}))]
pub struct Indicator {
    /// Unique within the model; progress reports name it.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// What it is counted in: km, households, million VND…
    #[validate(length(max = 50))]
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    pub target: Option<f64>,
    /// The latest value: set at registration, then by each newer progress report.
    pub actual: Option<f64>,
}

/// One step of a model's life, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StatusChange {
    /// `create` for the first entry, else the action taken.
    pub action: String,
    pub from: Option<ModelStatus>,
    pub to: ModelStatus,
    pub at: DateTime<Utc>,
    /// The token subject of who acted.
    pub by: String,
    /// The unit they acted for.
    pub by_unit_id: String,
    pub comment: Option<String>,
}

/// A model (mô hình) or exemplar (điển hình) of skilful mass mobilisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Model {
    pub id: String,
    pub campaign_id: String,
    /// The owning unit.
    pub unit_id: String,
    pub title: String,
    pub description: Option<String>,
    pub subject: Subject,
    /// Present exactly when `subject` is `individual`.
    pub person: Option<Person>,
    pub kind: ModelKind,
    /// Present exactly when `kind` is `by_field`.
    pub field: Option<Field>,
    pub special_areas: Vec<SpecialArea>,
    /// The level it is registered with (the competent level), at or above the owner's.
    pub registered_level: Level,
    pub year: i32,
    pub objectives: Option<String>,
    pub indicators: Vec<Indicator>,
    /// The recognised model this one replicates.
    pub replicated_from_id: Option<String>,
    /// How many models (not withdrawn) replicate this one.
    pub replication_count: i64,
    /// How many photos and documents the model has (its own, not deleted).
    pub attachment_count: i64,
    pub status: ModelStatus,
    /// What may be done next (by someone with the role and scope for it).
    pub allowed_actions: Vec<ModelAction>,
    pub status_history: Vec<StatusChange>,
    /// The date of the latest progress report.
    pub latest_progress_on: Option<NaiveDate>,
    /// The day it was registered (its own date, not the day it was typed in); the day it was
    /// submitted when not given.
    pub registered_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelPage {
    pub items: Vec<Model>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "campaign_id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f70", "title": "Dân vận khéo trong xây dựng nông thôn mới",
    "subject": "collective", "kind": "by_field", "field": "economy", "special_areas": ["ethnic_minority"],
    "registered_level": "district", "year": 2024, "objectives": "Vận động nhân dân hiến đất làm đường",
    "indicators": [{"name": "Đường bê tông", "unit": "km", "target": 5.0}]
}))]
pub struct CreateModel {
    /// An active campaign launched by the owning unit or a unit above it.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub campaign_id: String,
    /// The owning unit: an active unit of your subtree (default: your own).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub unit_id: Option<String>,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    pub subject: Subject,
    /// Required for an individual; not allowed for a collective.
    #[validate(nested)]
    pub person: Option<Person>,
    pub kind: ModelKind,
    /// Required for a by-field model; not allowed for a comprehensive one.
    pub field: Option<Field>,
    #[serde(default)]
    #[validate(length(max = 6))]
    #[schema(max_items = 6)]
    pub special_areas: Vec<SpecialArea>,
    pub registered_level: Level,
    /// The day it was registered, when it is entered later (default: the day it is submitted).
    /// Today or earlier.
    pub registered_on: Option<NaiveDate>,
    /// The year it is registered for, within the campaign's period.
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub objectives: Option<String>,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub indicators: Vec<Indicator>,
    /// A recognised model this one replicates (nhân rộng).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub replicated_from_id: Option<String>,
}

/// A partial update (draft or returned models): only the fields present change; `null` clears.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Dân vận khéo trong hiến đất làm đường", "indicators": [{"name": "Đường bê tông", "unit": "km", "target": 6.0}]}))]
pub struct UpdateModel {
    #[validate(length(min = 1, max = 64))]
    pub campaign_id: Option<String>,
    #[validate(length(min = 1, max = 500))]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    pub subject: Option<Subject>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Person>)]
    pub person: Option<Option<Person>>,
    pub kind: Option<ModelKind>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Field>)]
    pub field: Option<Option<Field>>,
    #[validate(length(max = 6))]
    #[schema(max_items = 6)]
    pub special_areas: Option<Vec<SpecialArea>>,
    pub registered_level: Option<Level>,
    /// Corrects the day it was registered.
    pub registered_on: Option<NaiveDate>,
    #[validate(range(min = 2000, max = 2100))]
    pub year: Option<i32>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub objectives: Option<Option<String>>,
    #[validate(length(max = 50), nested)]
    pub indicators: Option<Vec<Indicator>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>)]
    pub replicated_from_id: Option<Option<String>>,
}

/// The body of a lifecycle action. `return` needs a comment saying what to change.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "Bổ sung số liệu hộ dân tham gia"}))]
pub struct ModelActionBody {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// An indicator's value as a progress report gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorValue {
    /// The name of one of the model's indicators.
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reported_on": "2024-06-30", "text": "Đã vận động 120 hộ hiến đất, làm 3,2 km đường",
    "indicator_values": [{"name": "Đường bê tông", "value": 3.2}]}))]
pub struct CreateProgress {
    /// Not in the future.
    pub reported_on: NaiveDate,
    #[validate(length(min = 1, max = 10000))]
    #[schema(min_length = 1, max_length = 10000)]
    pub text: String,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub indicator_values: Vec<IndicatorValue>,
}

/// A progress report on a model in progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    pub id: String,
    pub model_id: String,
    pub reported_on: NaiveDate,
    pub text: String,
    pub indicator_values: Vec<IndicatorValue>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressPage {
    pub items: Vec<Progress>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListModels {
    pub campaign_id: Option<String>,
    /// Owned by this unit.
    /// Its id or its code.
    pub unit_id: Option<String>,
    /// Owned by a unit of this subtree (the unit itself included).
    /// Its id or its code.
    pub ancestor_id: Option<String>,
    /// With `ancestor_id`: also models of units closed in a reorganisation whose records passed
    /// to a unit of the subtree.
    pub include_predecessors: Option<bool>,
    pub status: Option<ModelStatus>,
    pub kind: Option<ModelKind>,
    pub field: Option<Field>,
    pub subject: Option<Subject>,
    pub special_area: Option<SpecialArea>,
    pub registered_level: Option<Level>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// Matches title and description, ignoring case and Vietnamese diacritics.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only models changed at or after this instant (RFC 3339); sorts by `updated_at`. A
    /// withdrawn model comes back with `status: withdrawn`: it is its own tombstone.
    pub updated_since: Option<String>,
    /// `created_at` (default), `updated_at`, `title`; prefix `-` for descending.
    #[param(pattern = "^(-?(created_at|updated_at|title))?$")]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

/// Paging of a model's sub-lists (progress reports, replications).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

impl crate::http::export::Tabular for Model {
    const COLUMNS: &'static [&'static str] = &[
        "title",
        "unit_id",
        "subject",
        "person.full_name",
        "person.position",
        "kind",
        "field",
        "special_areas",
        "registered_level",
        "year",
        "status",
        "objectives",
        "description",
        "indicators",
        "replication_count",
        "attachment_count",
        "latest_progress_on",
        "registered_on",
        "campaign_id",
        "replicated_from_id",
        "created_at",
        "updated_at",
        "id",
    ];
}
crate::page!(ModelPage, Model, "models");

impl crate::http::export::Tabular for Progress {
    const COLUMNS: &'static [&'static str] =
        &["reported_on", "text", "indicator_values", "created_at", "model_id", "id"];
}
crate::page!(ProgressPage, Progress, "progress");

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportModelsParams {
    /// The campaign every row registers under: active, launched by each row's unit or above it.
    pub campaign_id: String,
    /// Check the file and report what would be created, creating nothing.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TemplateParams {
    /// Labels of the header row: vi (default) or en. Either language is accepted on import.
    pub lang: Option<crate::labels::Lang>,
}
