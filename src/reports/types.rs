//! Report requests and answers: the contract of `/reports`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::campaigns::types::TargetMetric;
use crate::labels::Lang;
use crate::units::types::{Level, UnitKind};
use crate::vocabulary::SpecialArea;

str_enum! {
    /// What a model report groups by.
    pub enum ModelDimension {
        Field = "field",
        Kind = "kind",
        Subject = "subject",
        /// The level of the owning unit.
        Level = "level",
        RegisteredLevel = "registered_level",
        Status = "status",
        /// A model with several tags counts under each; totals still count it once.
        SpecialArea = "special_area",
        Year = "year",
        /// The root's children (a province sees each commune); the root's own models form a row of
        /// their own.
        Unit = "unit",
    }
}

str_enum! {
    /// What a commendation report groups by.
    pub enum CommendationDimension {
        Issuer = "issuer",
        IssuingAuthority = "issuing_authority",
        IssuerLevel = "issuer_level",
        Form = "form",
        Subject = "subject",
        /// The year of the decision.
        Year = "year",
        Status = "status",
        /// The root's child the commended model belongs to.
        Unit = "unit",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ModelReportQuery {
    /// The root of the report: a unit of your subtree (default: your unit).
    /// Its id or its code.
    pub unit_id: Option<String>,
    /// Also count what units closed in a reorganisation did, for the units that took on their
    /// records.
    pub include_predecessors: Option<bool>,
    /// Only models registered under this campaign.
    pub campaign_id: Option<String>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_from: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_to: Option<i32>,
    /// Comma-separated statuses, e.g. `registered,in_progress,recognized`. Default: registered
    /// and beyond (`registered,in_progress,recognized,not_recognized`): the movement's figures
    /// are of registered models, so drafts, returned and withdrawn models count only when named.
    #[param(
        pattern = r"^[\s,]*((draft|registered|returned|in_progress|recognized|not_recognized|withdrawn)(\s*,[\s,]*(draft|registered|returned|in_progress|recognized|not_recognized|withdrawn))*)?[\s,]*$"
    )]
    pub status: Option<String>,
    /// Comma-separated: `comprehensive`, `by_field`.
    #[param(pattern = r"^[\s,]*((comprehensive|by_field)(\s*,[\s,]*(comprehensive|by_field))*)?[\s,]*$")]
    pub kind: Option<String>,
    /// Comma-separated fields.
    #[param(
        pattern = r"^[\s,]*((economy|culture_society|defense_security|political_system|professional)(\s*,[\s,]*(economy|culture_society|defense_security|political_system|professional))*)?[\s,]*$"
    )]
    pub field: Option<String>,
    /// Comma-separated: `collective`, `individual`.
    #[param(pattern = r"^[\s,]*((collective|individual)(\s*,[\s,]*(collective|individual))*)?[\s,]*$")]
    pub subject: Option<String>,
    /// Comma-separated levels the models are registered with.
    #[param(
        pattern = r"^[\s,]*((central|province|district|commune|village)(\s*,[\s,]*(central|province|district|commune|village))*)?[\s,]*$"
    )]
    pub registered_level: Option<String>,
    /// Comma-separated levels of the owning units.
    #[param(
        pattern = r"^[\s,]*((central|province|district|commune|village)(\s*,[\s,]*(central|province|district|commune|village))*)?[\s,]*$"
    )]
    pub level: Option<String>,
    /// One special-area tag.
    pub special_area: Option<SpecialArea>,
    /// One or two comma-separated dimensions: field, kind, subject, level, registered_level,
    /// status, special_area, year, unit. Without it, only the total.
    #[param(example = "field,level")]
    #[param(
        pattern = r"^(\s*(field|kind|subject|level|registered_level|status|special_area|year|unit)(\s*,\s*(field|kind|subject|level|registered_level|status|special_area|year|unit))?\s*)?$"
    )]
    pub group_by: Option<String>,
    /// Labels (in JSON, CSV and XLSX): vi (default) or en.
    pub lang: Option<Lang>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommendationReportQuery {
    /// The root of the report: commendations of models of this unit's subtree (default: yours).
    /// Its id or its code.
    pub unit_id: Option<String>,
    /// Also count the models of units closed in a reorganisation whose records passed on.
    pub include_predecessors: Option<bool>,
    /// Only commendations of models of this campaign.
    pub campaign_id: Option<String>,
    /// Only those decided by this unit.
    /// Its id or its code.
    pub issuer_unit_id: Option<String>,
    /// Years of the decision.
    #[param(minimum = 2000, maximum = 2100)]
    pub year_from: Option<i32>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year_to: Option<i32>,
    /// Comma-separated: `giay_khen`, `bang_khen`.
    #[param(pattern = r"^[\s,]*((giay_khen|bang_khen)(\s*,[\s,]*(giay_khen|bang_khen))*)?[\s,]*$")]
    pub form: Option<String>,
    /// Comma-separated levels of the issuer.
    #[param(
        pattern = r"^[\s,]*((central|province|district|commune|village)(\s*,[\s,]*(central|province|district|commune|village))*)?[\s,]*$"
    )]
    pub issuer_level: Option<String>,
    /// Count revoked commendations too (left out by default). Proposals are never counted.
    pub include_revoked: Option<bool>,
    /// What is counted: `commendations` (the default: each recipient) or `decisions` (each
    /// decision once, however many recipients it lists).
    pub count: Option<CommendationCount>,
    /// One or two comma-separated dimensions: issuer, issuing_authority, issuer_level, form,
    /// subject, year, status, unit.
    #[param(example = "issuer_level,form")]
    #[param(
        pattern = r"^(\s*(issuer|issuing_authority|issuer_level|form|subject|year|status|unit)(\s*,\s*(issuer|issuing_authority|issuer_level|form|subject|year|status|unit))?\s*)?$"
    )]
    pub group_by: Option<String>,
    pub lang: Option<Lang>,
}

str_enum! {
    /// What a commendation report counts.
    pub enum CommendationCount {
        Commendations = "commendations",
        Decisions = "decisions",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TargetReportQuery {
    /// Measure one year only (models of that year; plans issued by its end). Default: the
    /// campaign's years up to `as_of`'s.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// The day measured: the units active on it at the target's level under the launcher, as
    /// the structure stood that day (a launcher closed since: on its last day), and the records as
    /// they stood that day (plans issued and not yet cancelled, models registered and not yet
    /// returned or withdrawn). Default: the end of the period asked for (31 December of `year`),
    /// else today.
    pub as_of: Option<chrono::NaiveDate>,
    /// A unit also counts the plans and models of the units whose records passed into it in a
    /// reorganisation (its primary predecessors).
    pub include_predecessors: Option<bool>,
    pub lang: Option<Lang>,
}

/// The unit a report is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportUnit {
    pub id: String,
    pub code: String,
    pub name: String,
    pub level: Level,
}

/// One value of one dimension: its code (`null` for "none": a comprehensive model has no field),
/// and its label in `lang`. For units, the code is the unit's code and `id` its id.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupValue {
    pub dimension: String,
    pub key: Option<String>,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRow {
    /// The row's value of each `group_by` dimension, in order.
    pub groups: Vec<GroupValue>,
    pub count: i64,
}

/// The total of each value of one dimension, across the other.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subtotal {
    pub dimension: String,
    pub rows: Vec<ReportRow>,
}

/// Counts grouped by up to two dimensions. Every combination of values appears, zeros included
/// (for `unit`: every active child; for `year`: the years asked for, else those with records).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "unit": {"id": "0193a5b0-0000-7000-8000-000000000001", "code": "01", "name": "Thành phố Hà Nội", "level": "province"},
    "group_by": ["field"],
    "rows": [
        {"groups": [{"dimension": "field", "key": "economy", "label": "Kinh tế"}], "count": 12},
        {"groups": [{"dimension": "field", "key": null, "label": "Không có"}], "count": 3}
    ],
    "subtotals": [],
    "total": 15
}))]
pub struct Report {
    pub unit: ReportUnit,
    pub group_by: Vec<String>,
    pub rows: Vec<ReportRow>,
    /// With two dimensions: the total of each value of each.
    pub subtotals: Vec<Subtotal>,
    /// Every record counted once.
    pub total: i64,
}

/// Progress against one target of a campaign, computed from the records.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetProgress {
    pub metric: TargetMetric,
    pub metric_label: String,
    pub level: Option<Level>,
    pub unit_kind: Option<UnitKind>,
    pub threshold: f64,
    pub comparison: crate::campaigns::types::Comparison,
    /// Units that had a plan / a registered model on `as_of`, as the records stood that day: a plan
    /// issued by then and not cancelled by then; a model registered by then (its `registered_on`)
    /// and not yet returned or withdrawn. For models per unit per year, the models.
    pub numerator: i64,
    /// Units of the level (and kind) under the launcher; for models per unit per year, units × years.
    pub denominator: i64,
    /// numerator / denominator; `null` when there is nothing to divide by.
    pub ratio: Option<f64>,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetCampaign {
    pub id: String,
    pub code: String,
    pub title: String,
    pub unit_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetReport {
    /// The day measured: records dated by it count.
    pub as_of: chrono::NaiveDate,
    /// The day whose structure counts: `as_of`, or the launcher's last day if it closed before.
    pub structure_on: chrono::NaiveDate,
    pub campaign: TargetCampaign,
    /// The years measured (a model's `year`): the one asked for, else the campaign's years up to
    /// `as_of`'s.
    pub year_from: i32,
    pub year_to: i32,
    pub targets: Vec<TargetProgress>,
}
