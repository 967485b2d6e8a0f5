//! Campaigns as the API speaks of them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::units::types::{Level, UnitKind};
use crate::vocabulary::{Field, ModelKind, ReviewKind, Subject};

str_enum! {
    /// draft → active (launch) → closed (close); draft or active → cancelled (cancel).
    pub enum CampaignStatus {
        Draft = "draft",
        Active = "active",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

str_enum! {
    pub enum CampaignAction {
        Launch = "launch",
        Close = "close",
        Cancel = "cancel",
    }
}

str_enum! {
    /// What a target measures; progress is computed from the records, never typed in.
    pub enum TargetMetric {
        /// Share of the units of `level` (and `unit_kind`) under the launcher that launched a
        /// campaign implementing this one.
        UnitsWithPlanRatio = "units_with_plan_ratio",
        /// Share of those units with at least one registered model.
        UnitsWithModelRatio = "units_with_model_ratio",
        /// Models each unit builds a year, at least.
        ModelsPerUnitPerYear = "models_per_unit_per_year",
    }
}

/// A directive the campaign implements (a document of a higher body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "23-KL/TW", "date": "2021-01-15", "issuer": "Ban Bí thư", "title": "Kết luận về phong trào thi đua Dân vận khéo"}))]
pub struct Directive {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub number: String,
    pub date: NaiveDate,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub issuer: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
}

/// A measurable aim: "100% of communes have a plan", "over 75% of villages build a model",
/// "each unit builds at least 1 model a year".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"metric": "units_with_plan_ratio", "level": "commune", "threshold": 1.0}))]
pub struct Target {
    pub metric: TargetMetric,
    /// The level of the units counted (required for the ratios).
    pub level: Option<Level>,
    /// Only units of this kind ("over 80% of agencies").
    pub unit_kind: Option<UnitKind>,
    /// A share in 0–1 for the ratios; a count (0–1000) for models per unit per year.
    pub threshold: f64,
    /// `gte` (the default): at least the threshold, as plans write "đạt 100 %"; `gt`: more
    /// than it, as they write "trên 80 %".
    #[serde(default)]
    pub comparison: Comparison,
}

str_enum! {
    /// How a target's threshold is compared.
    #[derive(Default)]
    pub enum Comparison {
        /// At least the threshold ("đạt").
        #[default]
        Gte = "gte",
        /// More than the threshold ("trên").
        Gt = "gt",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "mid_term", "due_on": "2024-06-30"}))]
pub struct ReviewPoint {
    pub kind: ReviewKind,
    pub due_on: NaiveDate,
}

/// One criterion an evaluation scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "TC1", "title": "100% tổ chức hoàn thành tốt nhiệm vụ", "max_score": 30, "required": true}))]
pub struct Criterion {
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// Above 0, at most 1000.
    pub max_score: f64,
    /// A required criterion must be scored before an evaluation is finalised.
    #[serde(default)]
    pub required: bool,
}

/// Which models a criteria set is for; an absent value matches any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    pub subject: Option<Subject>,
    pub kind: Option<ModelKind>,
}

/// A named list of criteria that evaluations under the campaign use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriteriaSet {
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    #[serde(default)]
    pub applies_to: AppliesTo,
    #[validate(length(min = 1, max = 100), nested)]
    #[schema(min_items = 1, max_items = 100)]
    pub criteria: Vec<Criterion>,
}

/// An emulation campaign or implementation plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Campaign {
    pub id: String,
    /// The document number, e.g. `07-KH/BCĐ`.
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    /// The unit that launched it.
    pub unit_id: String,
    /// The campaign of a unit above that this one implements.
    pub parent_campaign_id: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub fields: Vec<Field>,
    pub directives: Vec<Directive>,
    pub targets: Vec<Target>,
    pub review_points: Vec<ReviewPoint>,
    pub criteria_sets: Vec<CriteriaSet>,
    pub status: CampaignStatus,
    /// What may be done next.
    pub allowed_actions: Vec<CampaignAction>,
    /// The day the plan's document was issued (its own date, not the day it was typed in):
    /// targets count plans by it. The day of launch when not given.
    pub issued_on: Option<NaiveDate>,
    /// When it was launched in this system.
    pub launched_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignPage {
    pub items: Vec<Campaign>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "07-KH/BDV", "title": "Dân vận khéo 2023–2025", "starts_on": "2023-01-01", "ends_on": "2025-12-31",
    "fields": ["economy", "culture_society"],
    "directives": [{"number": "23-KL/TW", "date": "2021-01-15", "issuer": "Ban Bí thư", "title": "Kết luận 23"}],
    "targets": [{"metric": "units_with_plan_ratio", "level": "commune", "threshold": 1.0}],
    "review_points": [{"kind": "final", "due_on": "2025-12-15"}]
}))]
pub struct CreateCampaign {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// The launching unit: the caller's own (the default).
    pub unit_id: Option<String>,
    pub parent_campaign_id: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The day the plan's document was issued, when it is entered later (default: the day it is
    /// launched). Today or earlier.
    pub issued_on: Option<NaiveDate>,
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub directives: Vec<Directive>,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub targets: Vec<Target>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub review_points: Vec<ReviewPoint>,
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub criteria_sets: Vec<CriteriaSet>,
}

/// A partial update (draft or active campaigns): only the fields present change; `null` clears.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCampaign {
    #[validate(length(min = 1, max = 64))]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 500))]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_campaign_id: Option<Option<String>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// Corrects the day the plan's document was issued.
    pub issued_on: Option<NaiveDate>,
    pub fields: Option<Vec<Field>>,
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub directives: Option<Vec<Directive>>,
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    pub targets: Option<Vec<Target>>,
    #[validate(length(max = 50))]
    #[schema(max_items = 50)]
    pub review_points: Option<Vec<ReviewPoint>>,
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub criteria_sets: Option<Vec<CriteriaSet>>,
}

/// The body of a lifecycle action: an optional comment for the record.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionComment {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCampaigns {
    /// Launched by this unit.
    /// Its id or its code.
    pub unit_id: Option<String>,
    /// Launched by a unit of this subtree.
    /// Its id or its code.
    pub ancestor_id: Option<String>,
    /// With `unit_id` or `ancestor_id`: also the campaigns of units closed in a reorganisation
    /// whose records passed into them (a closed district's plans, for the province that took it
    /// over).
    pub include_predecessors: Option<bool>,
    pub status: Option<CampaignStatus>,
    /// Running at some time in this year (its period overlaps the year).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    pub parent_campaign_id: Option<String>,
    /// Matches code, title and description, ignoring case and diacritics.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only campaigns changed at or after this instant (RFC 3339); sorts by `updated_at`.
    pub updated_since: Option<String>,
    /// `created_at` (default), `updated_at`, `starts_on`, `title`; `-` for descending.
    #[param(pattern = "^(-?(created_at|updated_at|starts_on|title))?$")]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

impl crate::http::export::Tabular for Campaign {
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "title",
        "unit_id",
        "parent_campaign_id",
        "issued_on",
        "starts_on",
        "ends_on",
        "fields",
        "status",
        "description",
        "id",
    ];
}
crate::page!(CampaignPage, Campaign, "campaigns");
