//! Decisions (quyết định khen thưởng) as the API speaks of them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::commendations::types::{Commendation, Form, IssuerSnapshot, IssuingAuthority};

str_enum! {
    /// draft → issued (issue) → revoked (revoke); a draft may also be abandoned (revoke).
    pub enum DecisionStatus {
        /// Commendations join or leave it; nothing is awarded yet.
        Draft = "draft",
        /// Every commendation of it was issued with it, at once.
        Issued = "issued",
        Revoked = "revoked",
    }
}

str_enum! {
    pub enum DecisionAction {
        Issue = "issue",
        Revoke = "revoke",
    }
}

/// Who signed the decision, as it is written under it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    /// e.g. "Nguyễn Văn A"
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// e.g. "Phó Trưởng ban Thường trực"
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub position: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionRevocation {
    pub reason: String,
    /// The revoking decision (absent when a draft was abandoned).
    pub number: Option<String>,
    pub decided_on: Option<NaiveDate>,
}

/// How many a decision commends, by subject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Recipients {
    pub collectives: i64,
    pub individuals: i64,
}

/// A decision of an authority of an issuer unit, commending one or many recipients under one
/// number and date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwardDecision {
    pub id: String,
    pub issuer_unit_id: String,
    pub issuing_authority: IssuingAuthority,
    /// As written on the decision, e.g. "Ban Thường vụ Đảng ủy Khối các cơ quan tỉnh".
    pub authority_title: String,
    pub form: Form,
    /// The decision's number, e.g. "13-QĐ/ĐUK": unique for the issuer within the year of `decided_on`.
    pub number: String,
    /// The date the decision was signed (not the date it was typed in): the date reports count by.
    pub decided_on: NaiveDate,
    /// What it is about (trích yếu), e.g. "Khen thưởng các tập thể, cá nhân điển hình Dân vận
    /// khéo năm 2020".
    pub summary: Option<String>,
    pub signer: Option<Signer>,
    /// The issuer as it was when the decision was issued.
    pub issuer_snapshot: Option<IssuerSnapshot>,
    pub status: DecisionStatus,
    pub allowed_actions: Vec<DecisionAction>,
    /// Its commendations not revoked, by subject.
    pub recipients: Recipients,
    pub revocation: Option<DecisionRevocation>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A decision with the commendations it lists (those of models you see).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwardDecisionWithCommendations {
    #[serde(flatten)]
    pub decision: AwardDecision,
    pub commendations: Vec<Commendation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AwardDecisionPage {
    pub items: Vec<AwardDecision>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "issuing_authority": "party_committee_standing_board", "authority_title": "Ban Thường vụ Đảng ủy Khối các cơ quan tỉnh",
    "form": "giay_khen", "number": "13-QĐ/ĐUK", "decided_on": "2020-10-12",
    "summary": "Khen thưởng tập thể, cá nhân điển hình Dân vận khéo năm 2020",
    "signer": {"name": "Nguyễn Văn A", "position": "Phó Bí thư Thường trực"}
}))]
pub struct CreateDecision {
    pub issuing_authority: IssuingAuthority,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub authority_title: String,
    /// A form your unit's level may award.
    pub form: Form,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub number: String,
    /// Not in the future, not before 2000.
    pub decided_on: NaiveDate,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub summary: Option<String>,
    #[validate(nested)]
    pub signer: Option<Signer>,
}

/// A draft's header; `null` clears `summary` or `signer`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDecision {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub authority_title: Option<String>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub number: Option<String>,
    pub decided_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<Signer>)]
    pub signer: Option<Option<Signer>>,
}

/// A proposed commendation to list in a draft decision.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCommendation {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub commendation_id: String,
}

/// Revoking an issued decision (its grounds and the revoking decision), which revokes every
/// commendation of it; or abandoning a draft (its grounds alone), which frees its proposals.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Thành tích kê khai không trung thực", "number": "20-QĐ/ĐUK", "decided_on": "2021-03-01"}))]
pub struct RevokeDecision {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub number: Option<String>,
    pub decided_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDecisions {
    /// Decisions of this issuer unit.
    /// Its id or its code.
    pub issuer_unit_id: Option<String>,
    pub issuing_authority: Option<IssuingAuthority>,
    pub form: Option<Form>,
    /// The year of `decided_on`.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    pub status: Option<DecisionStatus>,
    /// Only decisions changed at or after this instant (RFC 3339); sorts by `updated_at`.
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

impl crate::http::export::Tabular for AwardDecision {
    const COLUMNS: &'static [&'static str] = &[
        "number",
        "decided_on",
        "issuer_unit_id",
        "issuing_authority",
        "authority_title",
        "form",
        "summary",
        "signer.name",
        "signer.position",
        "recipients.collectives",
        "recipients.individuals",
        "status",
        "revocation.reason",
        "revocation.number",
        "revocation.decided_on",
        "id",
    ];
}
crate::page!(AwardDecisionPage, AwardDecision, "decisions");
