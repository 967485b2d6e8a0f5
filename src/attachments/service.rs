//! Attachment rules, each inside the caller's transaction: who may read, add or delete follows
//! the record the attachment belongs to.

use chrono::NaiveDateTime;

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::models::types::ModelStatus;
use crate::webhooks::types::EventType;

use super::content::Stored;
use super::store::{self, AttachmentRow};
use super::types::{Attachment, AttachmentKind, MediaType, NewAttachment, ParentType, UpdateAttachment};

/// The record an attachment belongs to, as far as its attachments care.
#[derive(Debug, Clone)]
pub struct Parent {
    pub unit_id: String,
    /// Whether the public portal shows the record (a recognised model, or a progress report of
    /// one), and so its public attachments.
    pub shown_publicly: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Whoever sees the record sees its attachments.
    Read,
    /// Whoever may change the record adds and deletes its attachments: editors for models,
    /// progress reports and campaigns (of the launching unit), approvers of the issuer for
    /// decisions.
    Write,
}

/// The record `parent_type`/`parent_id`, if the actor may read it (or, for `Write`, change its
/// papers); 404 when it is not there or not theirs to see.
pub fn parent(
    conn: &mut DbConnection,
    actor: &Actor,
    parent_type: ParentType,
    parent_id: &str,
    access: Access,
) -> Result<Parent, ApiError> {
    let write = access == Access::Write;
    match parent_type {
        ParentType::Model | ParentType::Progress => {
            let model_id = if parent_type == ParentType::Progress {
                crate::models::find_progress(conn, parent_id)?.ok_or(ApiError::NotFound)?.model_id
            } else {
                parent_id.to_string()
            };
            let model = crate::models::service::visible(conn, actor, &model_id)?;
            if write {
                actor.require(Role::Editor)?;
            }
            Ok(Parent { unit_id: model.unit_id, shown_publicly: model.status == ModelStatus::Recognized })
        }
        ParentType::Campaign => {
            let campaign = crate::campaigns::service::visible(conn, actor, parent_id)?;
            if write {
                crate::campaigns::service::require_own(conn, actor, &campaign)?;
            }
            Ok(Parent { unit_id: campaign.unit_id, shown_publicly: false })
        }
        ParentType::Decision => {
            let decision = crate::decisions::service::visible(conn, actor, parent_id)?;
            if write {
                crate::decisions::service::require_issuer(actor, &decision)?;
            }
            Ok(Parent { unit_id: decision.issuer_unit_id, shown_publicly: false })
        }
    }
}

/// Checks an upload's description before a byte of it is read: valid, and a record the actor
/// may add papers to. Then checked again when it is saved.
pub fn check_new(conn: &mut DbConnection, actor: &Actor, input: &NewAttachment) -> Result<Parent, ApiError> {
    validator::Validate::validate(input).map_err(|e| ApiError::validation(crate::http::json::field_errors(&e)))?;
    parent(conn, actor, input.parent_type, &input.parent_id, Access::Write)
        .map_err(|e| e.unresolved("parent_id", "unknown_parent", "no such record, or it is outside your scope"))
}

/// Content of `media` may be filed as `kind` (a photo is a picture): checked before the bytes
/// are stored, and again when the row is written.
pub fn kind_fits(kind: AttachmentKind, media: MediaType) -> Result<(), ApiError> {
    if kind.takes(media) {
        return Ok(());
    }
    Err(ApiError::field("kind", "kind_mismatch", format!("a {kind} is a picture; this content is {media}")))
}

/// A stored file made into an attachment of its record, audited and announced.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    input: &NewAttachment,
    stored: &Stored,
    public_copy: Option<&super::public::PublicCopy>,
) -> Result<Attachment, ApiError> {
    let parent = check_new(conn, actor, input)?;
    kind_fits(input.kind, stored.media_type)?;
    let now = crate::db::now();
    let row = AttachmentRow {
        id: uuid::Uuid::now_v7().to_string(),
        parent_type: input.parent_type,
        parent_id: input.parent_id.clone(),
        unit_id: parent.unit_id.clone(),
        title: title(&input.title)?,
        kind: input.kind,
        file_name: super::sniff::clean_file_name(input.file_name.as_deref(), stored.media_type),
        media_type: stored.media_type,
        size: stored.size as i64,
        sha256: stored.sha256.clone(),
        public: input.public.unwrap_or(false),
        public_sha256: public_copy.map(|c| c.sha256.clone()),
        public_size: public_copy.map(|c| c.size as i64),
        preview_sha256: public_copy.and_then(|c| c.preview_sha256.clone()),
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
        deleted_by: None,
        version: 1,
    };
    store::insert(conn, &row)?;
    count_changed(conn, &row)?;
    let out = row.to_api(shown(&row, &parent));
    changes::record(
        conn,
        actor,
        Change::new("attachment.add", "attachment", &row.id, Some(&row.unit_id)).announcing(EventType::AttachmentAdded),
        None::<&Attachment>,
        Some(&out),
    )?;
    Ok(out)
}

/// A model shows how many attachments it has: its version moves when that changes.
fn count_changed(conn: &mut DbConnection, row: &AttachmentRow) -> Result<(), ApiError> {
    if row.parent_type == ParentType::Model {
        crate::models::touch(conn, &[row.parent_id.as_str()], row.updated_at)?;
    }
    Ok(())
}

fn title(raw: &str) -> Result<String, ApiError> {
    crate::units::rules::clean_text("title", raw, 255).map_err(|e| ApiError::validation(vec![e]))
}

/// Whether the public sees this attachment now.
pub fn shown(row: &AttachmentRow, parent: &Parent) -> bool {
    row.public && row.deleted_at.is_none() && parent.shown_publicly && row.public_copy_ready()
}

impl AttachmentRow {
    /// A public photo is shown only as its cleaned copy.
    pub fn public_copy_ready(&self) -> bool {
        !self.media_type.is_photo() || self.public_sha256.is_some()
    }
}

/// A page of rows as the actor may see them: a row whose record the actor does not see (a
/// predecessor's decision is in a unit's subtree, not in its sight) is left out. Each record is
/// looked at once, however many of its attachments are on the page; `known` is one already
/// looked at.
pub fn listed(
    conn: &mut DbConnection,
    actor: &Actor,
    rows: &[AttachmentRow],
    known: Option<((ParentType, String), Parent)>,
) -> Result<Vec<Attachment>, ApiError> {
    let mut records: std::collections::HashMap<(ParentType, String), Option<Parent>> =
        known.into_iter().map(|(key, parent)| (key, Some(parent))).collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let key = (row.parent_type, row.parent_id.clone());
        if !records.contains_key(&key) {
            let record = match parent(conn, actor, row.parent_type, &row.parent_id, Access::Read) {
                Ok(parent) => Some(parent),
                Err(ApiError::NotFound | ApiError::Forbidden { .. }) => None,
                Err(e) => return Err(e),
            };
            records.insert(key.clone(), record);
        }
        if let Some(parent) = &records[&key] {
            out.push(row.to_api(shown(row, parent)));
        }
    }
    Ok(out)
}

/// The attachment and its record, if the actor sees the record; deleted ones included (their
/// metadata is their tombstone).
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<(AttachmentRow, Parent), ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let parent = parent(conn, actor, row.parent_type, &row.parent_id, Access::Read)?;
    Ok((row, parent))
}

/// The record of an attachment as the public sees it: shown only when it is a recognised model
/// (or a progress report of one).
pub fn public_parent(conn: &mut DbConnection, row: &AttachmentRow) -> Result<Parent, ApiError> {
    let model_id = match row.parent_type {
        ParentType::Model => Some(row.parent_id.clone()),
        ParentType::Progress => crate::models::find_progress(conn, &row.parent_id)?.map(|p| p.model_id),
        ParentType::Campaign | ParentType::Decision => None,
    };
    let recognised = match model_id {
        Some(id) => crate::models::find(conn, &id)?.is_some_and(|m| m.status == ModelStatus::Recognized),
        None => false,
    };
    Ok(Parent { unit_id: row.unit_id.clone(), shown_publicly: recognised })
}

/// A live attachment the actor may change.
fn changeable(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<(AttachmentRow, Parent), ApiError> {
    let (row, _) = visible(conn, actor, id)?;
    if row.deleted_at.is_some() {
        return Err(ApiError::conflict("attachment_deleted", "the attachment is deleted"));
    }
    let parent = parent(conn, actor, row.parent_type, &row.parent_id, Access::Write)?;
    Ok((row, parent))
}

/// The attachment, if the actor may change it at the version they hold: checked before a
/// photo's public copy is made (work that only a change earns).
pub fn held_for_change(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
) -> Result<AttachmentRow, ApiError> {
    held(conn, actor, id, if_match).map(|(row, _, _)| row)
}

/// A live attachment the actor may change, at the version they hold: its row, its record, and
/// how the API shows it now.
fn held(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
) -> Result<(AttachmentRow, Parent, Attachment), ApiError> {
    let (row, parent) = changeable(conn, actor, id)?;
    let shown_now = row.to_api(shown(&row, &parent));
    if_match.check(row.version, &shown_now)?;
    Ok((row, parent, shown_now))
}

/// Writes `row` as the next version of `before` (at `now`); 412 when someone else got there
/// first.
fn write_next(
    conn: &mut DbConnection,
    row: &mut AttachmentRow,
    before: i64,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    row.updated_at = now;
    row.version = before + 1;
    if !store::update(conn, row, before)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    Ok(())
}

/// A new title, or public or not. A photo made public gets its cleaned copy (made by the
/// caller, outside the transaction, and passed in) the first time.
pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateAttachment,
    public_copy: Option<&super::public::PublicCopy>,
) -> Result<Attachment, ApiError> {
    validator::Validate::validate(&input).map_err(|e| ApiError::validation(crate::http::json::field_errors(&e)))?;
    let (before_row, parent, before) = held(conn, actor, id, if_match)?;
    let mut row = before_row.clone();
    if let Some(title) = input.title {
        row.title = self::title(&title)?;
    }
    if let Some(public) = input.public {
        row.public = public;
    }
    if let (Some(copy), None) = (public_copy, &row.public_sha256) {
        row.public_sha256 = Some(copy.sha256.clone());
        row.public_size = Some(copy.size as i64);
        row.preview_sha256 = copy.preview_sha256.clone();
    }
    if row == before_row {
        return Ok(before);
    }
    write_next(conn, &mut row, before_row.version, crate::db::now())?;
    let out = row.to_api(shown(&row, &parent));
    changes::record(
        conn,
        actor,
        Change::new("attachment.update", "attachment", &row.id, Some(&row.unit_id)),
        Some(&before),
        Some(&out),
    )?;
    Ok(out)
}

/// Deletes an attachment: its row stays as a tombstone (for sync and the audit log); its bytes
/// go with the next sweep, unless another attachment holds the same content.
pub fn delete(conn: &mut DbConnection, actor: &Actor, id: &str, if_match: &IfMatch) -> Result<Attachment, ApiError> {
    let (before_row, _, before) = held(conn, actor, id, if_match)?;
    let mut row = before_row.clone();
    let now = crate::db::now();
    row.deleted_at = Some(now);
    row.deleted_by = Some(actor.sub.clone());
    write_next(conn, &mut row, before_row.version, now)?;
    count_changed(conn, &row)?;
    let out = row.to_api(false);
    changes::record(
        conn,
        actor,
        Change::new("attachment.delete", "attachment", &row.id, Some(&row.unit_id))
            .announcing(EventType::AttachmentDeleted),
        Some(&before),
        Some(&out),
    )?;
    Ok(out)
}
