//! What the public sees of a recognised model: what the movement publicises, nothing more (no
//! comments, no scores, no user ids, nothing about models not recognised).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::commendations::types::{Form, IssuingAuthority};
use crate::models::types::{Indicator, Person};
use crate::units::types::Level;
use crate::vocabulary::{Field, ModelKind, SpecialArea, Subject};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicUnit {
    pub id: String,
    pub name: String,
    pub level: Level,
}

/// An issued commendation, as the decision reads.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicCommendation {
    pub form: Form,
    pub recipient_subject: Subject,
    /// The individual, or the collective as the decision names it (absent: the model's unit).
    pub recipient_name: Option<String>,
    pub issuer_name: String,
    pub issuer_level: Level,
    pub authority_title: String,
    pub decision_number: String,
    pub decided_on: NaiveDate,
    pub reason: String,
}

str_enum! {
    /// Whether a commendation stands.
    pub enum RecordStatus {
        Issued = "issued",
        /// Revoked by a later decision: its certificate no longer stands.
        Revoked = "revoked",
    }
}

/// The decision that revoked a commendation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicRevocation {
    pub decision_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
}

/// A commendation's public verification record: what the QR code of its certificate opens, so
/// that anyone holding the paper can check it. Public data only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommendationRecord {
    pub id: String,
    pub status: RecordStatus,
    pub form: Form,
    pub recipient_subject: Subject,
    /// The collective as the decision names it, or the individual.
    pub recipient_name: String,
    /// An individual's position.
    pub recipient_position: Option<String>,
    /// The model's unit.
    pub unit: PublicUnit,
    pub model_title: String,
    pub issuer_name: String,
    pub issuer_level: Level,
    pub issuing_authority: IssuingAuthority,
    pub authority_title: String,
    pub decision_number: String,
    pub decided_on: NaiveDate,
    pub reason: String,
    /// Set when it was revoked.
    pub revocation: Option<PublicRevocation>,
}

/// A recognised "Dân vận khéo" model or exemplar, for the portal and the press.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicModel {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub unit: PublicUnit,
    pub subject: Subject,
    pub person: Option<Person>,
    pub kind: ModelKind,
    pub field: Option<Field>,
    pub special_areas: Vec<SpecialArea>,
    pub year: i32,
    pub objectives: Option<String>,
    pub indicators: Vec<Indicator>,
    pub replicated_from_id: Option<String>,
    /// How many recognised models replicate this one: public records only.
    pub replication_count: i64,
    /// When it was recognised.
    pub recognized_on: Option<NaiveDate>,
    pub commendations: Vec<PublicCommendation>,
    /// Its public photos and documents, oldest first.
    pub attachments: Vec<PublicAttachment>,
}

/// A public attachment of a recognised model: a photo is served without its location and
/// camera metadata. The URLs are stable and their answers cacheable.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicAttachment {
    pub id: String,
    pub title: String,
    pub kind: crate::attachments::types::AttachmentKind,
    /// What `url` serves: image/jpeg, image/png, image/webp, image/heic, application/pdf, or the
    /// DOCX and XLSX types.
    #[schema(value_type = String, example = "image/jpeg")]
    pub media_type: crate::attachments::types::MediaType,
    /// Bytes of what `url` serves.
    pub size: i64,
    /// SHA-256 of what `url` serves (its ETag).
    pub sha256: String,
    pub url: String,
    /// A small JPEG of a photo, for lists.
    pub preview_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicModelPage {
    pub items: Vec<PublicModel>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPublicModels {
    /// Models of this unit's subtree (a province, say), with those of units it succeeded.
    /// Its id or its code.
    pub unit_id: Option<String>,
    pub field: Option<Field>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    /// Matches title and description, ignoring case and Vietnamese diacritics.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// `created_at` (default), `updated_at`, `title`; prefix `-` for descending.
    #[param(pattern = "^(-?(created_at|updated_at|title))?$")]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

impl crate::http::export::Tabular for PublicModel {
    const COLUMNS: &'static [&'static str] = &[
        "title",
        "unit.name",
        "unit.level",
        "subject",
        "person.full_name",
        "kind",
        "field",
        "special_areas",
        "year",
        "recognized_on",
        "replication_count",
        "objectives",
        "commendations",
        "id",
    ];
}
crate::page!(PublicModelPage, PublicModel, "public-models");
