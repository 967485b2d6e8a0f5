//! Commendations as the API speaks of them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::units::types::Level;
use crate::vocabulary::Subject;

str_enum! {
    /// proposed → issued (issue) → revoked (revoke); a proposal may also be turned down (revoke).
    pub enum CommendationStatus {
        Proposed = "proposed",
        Issued = "issued",
        Revoked = "revoked",
    }
}

str_enum! {
    pub enum CommendationAction {
        Issue = "issue",
        Revoke = "revoke",
    }
}

str_enum! {
    /// Giấy khen (certificate of commendation) or bằng khen (certificate of merit).
    pub enum Form {
        GiayKhen = "giay_khen",
        BangKhen = "bang_khen",
    }
}

str_enum! {
    /// Which body of the issuing unit decided (see "Who a unit is").
    pub enum IssuingAuthority {
        PartyCommitteeStandingBoard = "party_committee_standing_board",
        MassMobilizationCommission = "mass_mobilization_commission",
        PeoplesCommitteeChair = "peoples_committee_chair",
        FatherlandFront = "fatherland_front",
        /// The head of an agency, a Party body, a school… that is a unit of its own.
        UnitHead = "unit_head",
    }
}

/// Who is commended: the collective (the model's unit, or a collective named on the decision) or
/// the individual of the model.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Recipient {
    pub subject: Subject,
    /// The unit commended, for a collective.
    pub unit_id: Option<String>,
    /// The individual's full name, or the name of the collective as the decision writes it.
    pub full_name: Option<String>,
}

/// The issuer as it was when the decision was issued: it reads right after a reorganisation.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssuerSnapshot {
    pub name: String,
    pub level: Level,
    /// As written on the decision, e.g. "Ban Dân vận Tỉnh ủy Lạng Sơn".
    pub authority_title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Revocation {
    pub reason: String,
    /// Absent when a proposal was turned down rather than an issued decision revoked.
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
}

/// A commendation (khen thưởng) of a recognised model.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Commendation {
    pub id: String,
    pub model_id: String,
    /// The finalised evaluation that recognised the achievement commended.
    pub evaluation_id: String,
    pub recipient: Recipient,
    pub form: Form,
    pub issuer_unit_id: String,
    pub issuing_authority: IssuingAuthority,
    /// Set when issued.
    pub issuer_snapshot: Option<IssuerSnapshot>,
    /// The decision that lists it: a draft it joined, or the decision that issued it.
    pub decision_id: Option<String>,
    /// The decision's number and date, once issued.
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub reason: String,
    pub amount_vnd: Option<i64>,
    pub status: CommendationStatus,
    pub allowed_actions: Vec<CommendationAction>,
    pub revocation: Option<Revocation>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// What an issued commendation was issued under: its issuer as it was, and its decision's number
/// and date.
pub struct IssuedUnder {
    pub issuer: IssuerSnapshot,
    pub decision_number: String,
    pub decided_on: NaiveDate,
}

impl Commendation {
    /// Takes the issuer and decision of an issued (or since revoked) commendation; a proposal has
    /// none, and asking is an internal error.
    pub fn take_issued(&mut self) -> Result<IssuedUnder, crate::error::ApiError> {
        match (self.issuer_snapshot.take(), self.decision_number.take(), self.decided_on) {
            (Some(issuer), Some(decision_number), Some(decided_on)) => {
                Ok(IssuedUnder { issuer, decision_number, decided_on })
            }
            _ => Err(crate::error::ApiError::internal("an issued commendation lacks its decision")),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommendationPage {
    pub items: Vec<Commendation>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "model_id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f80", "form": "giay_khen",
    "issuer_unit_id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f61", "issuing_authority": "mass_mobilization_commission",
    "authority_title": "Ban Dân vận Huyện ủy Bình Lục", "reason": "Có thành tích xuất sắc trong phong trào thi đua Dân vận khéo năm 2024"
}))]
pub struct ProposeCommendation {
    /// A recognised model of your subtree.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub model_id: String,
    /// The finalised evaluation that recognised the achievement; default: the model's standing one.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub evaluation_id: Option<String>,
    pub form: Form,
    /// A unit above the model's unit whose level may award `form`.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub issuer_unit_id: String,
    pub issuing_authority: IssuingAuthority,
    /// The authority's title as the decision will write it.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub authority_title: String,
    /// For a collective: the collective's name as the decision writes it (default: the unit).
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub recipient_name: Option<String>,
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    #[validate(range(min = 0, max = 1_000_000_000_000i64))]
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    pub amount_vnd: Option<i64>,
}

/// The decision that issues a commendation alone: a decision with one recipient is made and
/// issued with it. To commend many under one number, use `/decisions`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision_number": "125-QĐ/BDVHU", "decided_on": "2025-01-15"}))]
pub struct IssueCommendation {
    /// Unique for the issuer within the year of `decided_on`.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub decision_number: String,
    /// Not in the future.
    pub decided_on: NaiveDate,
    #[validate(range(min = 0, max = 1_000_000_000_000i64))]
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    pub amount_vnd: Option<i64>,
    /// Who signed the decision: printed under its certificate.
    #[validate(nested)]
    pub signer: Option<crate::decisions::types::Signer>,
}

/// Revoking an issued decision (its grounds, and the revoking decision), or turning down a
/// proposal (its grounds alone).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Thành tích kê khai không trung thực", "decision_number": "131-QĐ/BDVHU", "decided_on": "2025-03-01"}))]
pub struct RevokeCommendation {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommendations {
    pub model_id: Option<String>,
    /// Its id or its code.
    pub issuer_unit_id: Option<String>,
    pub status: Option<CommendationStatus>,
    pub form: Option<Form>,
    /// Only commendations changed at or after this instant (RFC 3339); sorts by `updated_at`.
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

impl crate::http::export::Tabular for Commendation {
    const COLUMNS: &'static [&'static str] = &[
        "form",
        "recipient.subject",
        "recipient.unit_id",
        "recipient.full_name",
        "issuer_unit_id",
        "issuing_authority",
        "issuer_snapshot.authority_title",
        "decision_number",
        "decided_on",
        "decision_id",
        "reason",
        "amount_vnd",
        "status",
        "revocation.reason",
        "revocation.decision_number",
        "revocation.decided_on",
        "model_id",
        "id",
    ];
}
crate::page!(CommendationPage, Commendation, "commendations");
