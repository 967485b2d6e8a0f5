//! Evaluations as the API speaks of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::vocabulary::ReviewKind;

str_enum! {
    /// draft → finalized (finalize). A finalised evaluation never changes; a correction is a new
    /// evaluation that supersedes it.
    pub enum EvaluationStatus {
        Draft = "draft",
        Finalized = "finalized",
    }
}

str_enum! {
    /// Xếp loại: how well the model did.
    pub enum Verdict {
        Excellent = "excellent",
        Good = "good",
        Pass = "pass",
        Fail = "fail",
    }
}

str_enum! {
    /// Whether the model is recognised as a "Dân vận khéo" model.
    pub enum Decision {
        Recognize = "recognize",
        NotRecognize = "not_recognize",
    }
}

/// One criterion of the campaign's set, with its score once given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScoredCriterion {
    pub code: String,
    pub title: String,
    pub max_score: f64,
    pub required: bool,
    /// 0 to `max_score`; absent until scored.
    pub score: Option<f64>,
    pub note: Option<String>,
}

/// A score for one criterion of the set, by its code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "TC1", "score": 28.5, "note": "12/12 tổ chức hoàn thành tốt nhiệm vụ"}))]
pub struct Score {
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
    pub score: f64,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// An evaluation (đánh giá, bình xét) of a model by a unit above it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Evaluation {
    pub id: String,
    pub model_id: String,
    /// The unit that evaluates: a unit above the model's owner.
    pub evaluator_unit_id: String,
    pub review_kind: ReviewKind,
    pub year: i32,
    /// The campaign's criteria set it scores against.
    pub criteria_set_code: String,
    pub criteria: Vec<ScoredCriterion>,
    /// The sum of the scores given.
    pub total_score: f64,
    pub verdict: Option<Verdict>,
    pub decision: Option<Decision>,
    pub comment: Option<String>,
    pub status: EvaluationStatus,
    /// The finalised evaluation this one corrects.
    pub supersedes_id: Option<String>,
    /// The evaluation that corrected this one; a superseded evaluation no longer stands.
    pub superseded_by_id: Option<String>,
    /// When it was finalised in this system.
    pub finalized_at: Option<DateTime<Utc>>,
    /// The day of the evaluation (its meeting, its minutes): its own date, however late it is
    /// typed in; the day it is finalised when not given.
    pub evaluated_on: Option<chrono::NaiveDate>,
    /// The token subject of the approver who finalised it.
    pub finalized_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationPage {
    pub items: Vec<Evaluation>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "model_id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f80", "review_kind": "annual", "year": 2024,
    "scores": [{"code": "TC1", "score": 28.5}], "verdict": "good", "decision": "recognize"
}))]
pub struct CreateEvaluation {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub model_id: String,
    /// Required unless `supersedes_id` names the evaluation corrected (its review and year are kept).
    pub review_kind: Option<ReviewKind>,
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// The campaign's criteria set; may be left out when exactly one set fits the model.
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub criteria_set_code: Option<String>,
    #[serde(default)]
    #[validate(length(max = 100), nested)]
    #[schema(max_items = 100)]
    pub scores: Vec<Score>,
    pub verdict: Option<Verdict>,
    pub decision: Option<Decision>,
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub comment: Option<String>,
    /// The day of the evaluation, when it is entered later (default: the day it is
    /// finalised). Today or earlier.
    pub evaluated_on: Option<chrono::NaiveDate>,
    /// A finalised, standing evaluation of the same model that this one corrects.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub supersedes_id: Option<String>,
}

/// A partial update of a draft: scores given here replace those of the same criteria.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scores": [{"code": "TC2", "score": 40}], "verdict": "excellent"}))]
pub struct UpdateEvaluation {
    #[validate(length(max = 100), nested)]
    #[schema(max_items = 100)]
    pub scores: Option<Vec<Score>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Verdict>)]
    pub verdict: Option<Option<Verdict>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Decision>)]
    pub decision: Option<Option<Decision>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub comment: Option<Option<String>>,
}

/// The body of `finalize`: nothing, or a comment for the record.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinalizeBody {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEvaluations {
    pub model_id: Option<String>,
    /// Its id or its code.
    pub evaluator_unit_id: Option<String>,
    pub status: Option<EvaluationStatus>,
    pub review_kind: Option<ReviewKind>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// Only evaluations changed at or after this instant (RFC 3339); sorts by `updated_at`.
    pub updated_since: Option<String>,
    /// `created_at` (default) or `updated_at`; prefix `-` for descending.
    #[param(pattern = "^(-?(created_at|updated_at))?$")]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

impl crate::http::export::Tabular for Evaluation {
    const COLUMNS: &'static [&'static str] = &[
        "model_id",
        "evaluator_unit_id",
        "review_kind",
        "year",
        "criteria_set_code",
        "total_score",
        "verdict",
        "decision",
        "status",
        "comment",
        "evaluated_on",
        "finalized_at",
        "supersedes_id",
        "superseded_by_id",
        "criteria",
        "id",
    ];
}
crate::page!(EvaluationPage, Evaluation, "evaluations");
