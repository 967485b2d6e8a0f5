//! Attachments (the papers of a dossier, hồ sơ) as the API speaks of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

str_enum! {
    /// The record an attachment belongs to; who may read, add or delete it follows that record.
    pub enum ParentType {
        Model = "model",
        /// A progress report of a model.
        Progress = "progress",
        Campaign = "campaign",
        Decision = "decision",
    }
}

str_enum! {
    pub enum AttachmentKind {
        /// A photo of the work (JPEG, PNG, WebP, HEIC).
        Photo = "photo",
        /// A plan, a registration, a report (PDF, DOCX, XLSX, or a photo of a page).
        Document = "document",
        /// The signed scan of a decision (PDF or a photo).
        DecisionScan = "decision_scan",
        Other = "other",
    }
}

str_enum! {
    /// What the content is, read from its first bytes (never from its name or a header). Only
    /// these are accepted.
    pub enum MediaType {
        Jpeg = "image/jpeg",
        Png = "image/png",
        Webp = "image/webp",
        Heic = "image/heic",
        Pdf = "application/pdf",
        Docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}

impl MediaType {
    pub fn is_photo(self) -> bool {
        matches!(self, MediaType::Jpeg | MediaType::Png | MediaType::Webp | MediaType::Heic)
    }

    /// The file name extensions of this type; the first is the one a cleaned name gets.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaType::Jpeg => &["jpg", "jpeg"],
            MediaType::Png => &["png"],
            MediaType::Webp => &["webp"],
            MediaType::Heic => &["heic", "heif"],
            MediaType::Pdf => &["pdf"],
            MediaType::Docx => &["docx"],
            MediaType::Xlsx => &["xlsx"],
        }
    }
}

impl AttachmentKind {
    /// Whether content of `media` may be filed as this kind: a photo is a picture.
    pub fn takes(self, media: MediaType) -> bool {
        match self {
            AttachmentKind::Photo => media.is_photo(),
            AttachmentKind::DecisionScan => media.is_photo() || media == MediaType::Pdf,
            AttachmentKind::Document | AttachmentKind::Other => true,
        }
    }
}

/// An attachment: what it is, whose it is, and where its bytes are read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub id: String,
    pub parent_type: ParentType,
    pub parent_id: String,
    /// The unit of the record it belongs to.
    pub unit_id: String,
    pub title: String,
    pub kind: AttachmentKind,
    /// The name it was uploaded with, cleaned: no folders, no control characters, and the
    /// extension of what the content is.
    pub file_name: String,
    /// What the content is (read from its bytes): image/jpeg, image/png, image/webp, image/heic,
    /// application/pdf, or the DOCX and XLSX types.
    #[schema(value_type = String, example = "image/jpeg")]
    pub media_type: MediaType,
    /// Bytes.
    pub size: i64,
    /// Lower-case hex SHA-256 of the content; also its download's ETag.
    pub sha256: String,
    /// Shown on the public portal when its record is public (a recognised model). A public
    /// photo is shown without its location and camera metadata.
    pub public: bool,
    /// Where the content is downloaded (authenticated).
    pub content_url: String,
    /// Where the public reads it, when it is public and its record is shown publicly.
    pub public_url: Option<String>,
    /// A small JPEG preview of a public photo, when one could be made.
    pub preview_url: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when deleted: a deleted attachment is its own tombstone in sync lists.
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentPage {
    pub items: Vec<Attachment>,
    pub next_cursor: Option<String>,
}

impl crate::http::export::Tabular for Attachment {
    const COLUMNS: &'static [&'static str] = &[
        "parent_type",
        "parent_id",
        "title",
        "kind",
        "file_name",
        "media_type",
        "size",
        "public",
        "created_by",
        "created_at",
        "deleted_at",
        "sha256",
        "id",
    ];
}
crate::page!(AttachmentPage, Attachment, "attachments");

/// What an upload says of the attachment it makes (query parameters of `POST /attachments`,
/// `Upload-Metadata` of a resumable upload).
#[derive(Debug, Clone, Deserialize, Validate, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NewAttachment {
    pub parent_type: ParentType,
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub parent_id: String,
    #[validate(length(min = 1, max = 255))]
    #[param(min_length = 1, max_length = 255)]
    pub title: String,
    pub kind: AttachmentKind,
    /// The file's name as the device knows it (cleaned; the extension follows the content).
    #[validate(length(min = 1, max = 255))]
    #[param(min_length = 1, max_length = 255)]
    pub file_name: Option<String>,
    /// Default false.
    pub public: Option<bool>,
}

/// A change of title or of whether it is public (the content never changes: upload another).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAttachment {
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub title: Option<String>,
    pub public: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAttachments {
    /// With `parent_id`: the attachments of that record (which you must see). Without: those
    /// of every record of your subtree.
    pub parent_type: Option<ParentType>,
    pub parent_id: Option<String>,
    pub kind: Option<AttachmentKind>,
    /// Only attachments changed at or after this instant (RFC 3339), deleted ones included
    /// (with `deleted_at`); sorts by `updated_at`.
    pub updated_since: Option<String>,
    /// `created_at` (default), `updated_at`; prefix `-` for descending.
    #[param(pattern = "^(-?(created_at|updated_at))?$")]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Deleted attachments too (default: only with `updated_since`, for sync).
    pub include_deleted: Option<bool>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}
