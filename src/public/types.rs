//! What the public sees of a recognised model: what the movement publicises, nothing more (no
//! comments, no scores, no user ids, nothing about models not recognised).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::commendations::types::Form;
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
