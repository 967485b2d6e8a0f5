//! All the SQL of attachments and of resumable uploads.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{attachments, unit_lineage, upload_parts, uploads};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort, TimeSort};

use super::types::{Attachment, AttachmentKind, MediaType, ParentType};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = attachments, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct AttachmentRow {
    pub id: String,
    pub parent_type: ParentType,
    pub parent_id: String,
    pub unit_id: String,
    pub title: String,
    pub kind: AttachmentKind,
    pub file_name: String,
    pub media_type: MediaType,
    pub size: i64,
    pub sha256: String,
    pub public: bool,
    pub public_sha256: Option<String>,
    pub public_size: Option<i64>,
    pub preview_sha256: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<String>,
    pub version: i64,
}

impl AttachmentRow {
    /// `shown`: whether the public sees it now (public, not deleted, its record shown publicly).
    pub fn to_api(&self, shown: bool) -> Attachment {
        let public_url = shown.then(|| format!("/api/v1/public/attachments/{}/content", self.id));
        let preview_url =
            (shown && self.preview_sha256.is_some()).then(|| format!("/api/v1/public/attachments/{}/preview", self.id));
        Attachment {
            id: self.id.clone(),
            parent_type: self.parent_type,
            parent_id: self.parent_id.clone(),
            unit_id: self.unit_id.clone(),
            title: self.title.clone(),
            kind: self.kind,
            file_name: self.file_name.clone(),
            media_type: self.media_type,
            size: self.size,
            sha256: self.sha256.clone(),
            public: self.public,
            content_url: format!("/api/v1/attachments/{}/content", self.id),
            public_url,
            preview_url,
            created_by: self.created_by.clone(),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            deleted_at: self.deleted_at.map(|t| t.and_utc()),
            version: self.version,
        }
    }
}

pub fn insert(conn: &mut DbConnection, row: &AttachmentRow) -> Result<(), ApiError> {
    diesel::insert_into(attachments::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<AttachmentRow>, ApiError> {
    Ok(attachments::table.find(id).select(AttachmentRow::as_select()).first(conn).optional()?)
}

/// Writes `row` if the stored one is still at `expected_version`; false when someone else got
/// there first.
pub fn update(conn: &mut DbConnection, row: &AttachmentRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(attachments::table.find(&row.id).filter(attachments::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

pub struct Filter {
    /// Units whose attachments are listed: the viewer's subtree (no parent named).
    pub viewer: Option<String>,
    pub parent: Option<(ParentType, String)>,
    pub kind: Option<AttachmentKind>,
    pub include_deleted: bool,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: Sort<TimeSort>,
    pub sort_name: String,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<AttachmentRow>, Option<String>), ApiError> {
    let after = pagination::time_after(&f.cursor)?;
    let rows: Vec<AttachmentRow> = crate::with_backend!(conn, |c| {
        let mut q = attachments::table.into_boxed();
        if let Some(viewer) = &f.viewer {
            q = q.filter(
                attachments::unit_id.eq_any(
                    unit_lineage::table
                        .filter(unit_lineage::ancestor_id.eq(viewer.clone()))
                        .select(unit_lineage::descendant_id),
                ),
            );
        }
        if let Some((parent_type, parent_id)) = &f.parent {
            q = q
                .filter(attachments::parent_type.eq(parent_type.as_str()))
                .filter(attachments::parent_id.eq(parent_id.clone()));
        }
        if let Some(kind) = f.kind {
            q = q.filter(attachments::kind.eq(kind.as_str()));
        }
        if !f.include_deleted {
            q = q.filter(attachments::deleted_at.is_null());
        }
        if let Some(since) = f.updated_since {
            q = q.filter(attachments::updated_at.ge(since));
        }
        let desc = f.sort.descending;
        let q = match f.sort.field {
            TimeSort::CreatedAt => crate::keyset!(q, attachments::created_at, attachments::id, after, desc),
            TimeSort::UpdatedAt => crate::keyset!(q, attachments::updated_at, attachments::id, after, desc),
        };
        q.limit(f.limit + 1).select(AttachmentRow::as_select()).load(c)
    })?;
    Ok(pagination::finish_page(rows, f.limit, |last| Cursor {
        sort: f.sort_name.clone(),
        key: Some(f.sort.field.key(&last.created_at, &last.updated_at)),
        id: last.id.clone(),
    }))
}

/// The public, live attachments of these records, oldest first.
pub fn public_of(
    conn: &mut DbConnection,
    parent_type: ParentType,
    parent_ids: &[String],
) -> Result<Vec<AttachmentRow>, ApiError> {
    let mut out = Vec::new();
    for chunk in parent_ids.chunks(500) {
        out.extend(
            attachments::table
                .filter(attachments::parent_type.eq(parent_type.as_str()))
                .filter(attachments::parent_id.eq_any(chunk))
                .filter(attachments::public.eq(true))
                .filter(attachments::deleted_at.is_null())
                .order((attachments::created_at.asc(), attachments::id.asc()))
                .select(AttachmentRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// Which of these content hashes a live attachment still points at (its content, its public
/// copy or its preview); the sweep keeps those.
pub fn referenced(conn: &mut DbConnection, hashes: &[String]) -> Result<std::collections::HashSet<String>, ApiError> {
    let mut out = std::collections::HashSet::new();
    for chunk in hashes.chunks(300) {
        let live = || attachments::table.filter(attachments::deleted_at.is_null());
        out.extend(live().filter(attachments::sha256.eq_any(chunk)).select(attachments::sha256).load::<String>(conn)?);
        out.extend(
            live()
                .filter(attachments::public_sha256.eq_any(chunk))
                .select(attachments::public_sha256)
                .load::<Option<String>>(conn)?
                .into_iter()
                .flatten(),
        );
        out.extend(
            live()
                .filter(attachments::preview_sha256.eq_any(chunk))
                .select(attachments::preview_sha256)
                .load::<Option<String>>(conn)?
                .into_iter()
                .flatten(),
        );
    }
    Ok(out)
}

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone)]
#[diesel(table_name = uploads, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct UploadRow {
    pub id: String,
    pub subject: String,
    pub parent_type: ParentType,
    pub parent_id: String,
    pub title: String,
    pub kind: AttachmentKind,
    pub file_name: String,
    pub public: bool,
    pub length: i64,
    pub received: i64,
    pub attachment_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    /// How many parts are recorded.
    pub parts: i64,
    /// While a request makes the attachment from the parts: until when it holds that step.
    pub finishing_until: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = upload_parts, treat_none_as_default_value = false)]
pub struct PartRow {
    pub upload_id: String,
    pub start_offset: i64,
    pub size: i64,
    pub object_key: String,
}

pub fn insert_upload(conn: &mut DbConnection, row: &UploadRow) -> Result<(), ApiError> {
    diesel::insert_into(uploads::table).values(row).execute(conn)?;
    Ok(())
}

pub fn find_upload(conn: &mut DbConnection, id: &str) -> Result<Option<UploadRow>, ApiError> {
    Ok(uploads::table.find(id).select(UploadRow::as_select()).first(conn).optional()?)
}

/// Records a part received at the upload's current offset `at`, unless the upload already has
/// `max_parts`: false when another request moved the offset first or took the last part (its
/// part is then not recorded, and the caller removes its object).
pub fn add_part(conn: &mut DbConnection, part: &PartRow, max_parts: i64) -> Result<bool, ApiError> {
    let n = diesel::update(
        uploads::table
            .find(&part.upload_id)
            .filter(uploads::received.eq(part.start_offset))
            .filter(uploads::parts.lt(max_parts))
            .filter(uploads::attachment_id.is_null()),
    )
    .set((uploads::received.eq(part.start_offset + part.size), uploads::parts.eq(uploads::parts + 1)))
    .execute(conn)?;
    if n == 1 {
        diesel::insert_into(upload_parts::table).values(part).execute(conn)?;
    }
    Ok(n == 1)
}

/// The caller's uploads not yet made into an attachment nor expired: they hold parts.
pub fn open_uploads(conn: &mut DbConnection, subject: &str, now: NaiveDateTime) -> Result<i64, ApiError> {
    Ok(uploads::table
        .filter(uploads::subject.eq(subject))
        .filter(uploads::expires_at.gt(now))
        .filter(uploads::attachment_id.is_null())
        .count()
        .get_result(conn)?)
}

/// Takes the last step of a whole upload (making its attachment) until `until`: false while
/// another request holds it, or once it is made.
pub fn claim_finish(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        uploads::table
            .find(id)
            .filter(uploads::attachment_id.is_null())
            .filter(uploads::received.eq(uploads::length))
            .filter(uploads::finishing_until.is_null().or(uploads::finishing_until.lt(now))),
    )
    .set(uploads::finishing_until.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives the last step back after it failed for a passing cause, so that it can be retried.
pub fn release_finish(conn: &mut DbConnection, id: &str) -> Result<(), ApiError> {
    diesel::update(uploads::table.find(id)).set(uploads::finishing_until.eq(None::<NaiveDateTime>)).execute(conn)?;
    Ok(())
}

pub fn parts(conn: &mut DbConnection, upload_id: &str) -> Result<Vec<PartRow>, ApiError> {
    Ok(upload_parts::table
        .filter(upload_parts::upload_id.eq(upload_id))
        .order(upload_parts::start_offset.asc())
        .select(PartRow::as_select())
        .load(conn)?)
}

/// Marks the upload as made into `attachment_id`, once: false if it already was.
pub fn complete_upload(conn: &mut DbConnection, id: &str, attachment_id: &str) -> Result<bool, ApiError> {
    let n = diesel::update(uploads::table.find(id).filter(uploads::attachment_id.is_null()))
        .set(uploads::attachment_id.eq(attachment_id))
        .execute(conn)?;
    diesel::delete(upload_parts::table.filter(upload_parts::upload_id.eq(id))).execute(conn)?;
    Ok(n == 1)
}

pub fn delete_upload(conn: &mut DbConnection, id: &str) -> Result<(), ApiError> {
    diesel::delete(upload_parts::table.filter(upload_parts::upload_id.eq(id))).execute(conn)?;
    diesel::delete(uploads::table.find(id)).execute(conn)?;
    Ok(())
}

/// Uploads past their expiry, with their parts' keys: the sweep removes both.
pub fn expired_uploads(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let ids: Vec<String> =
        uploads::table.filter(uploads::expires_at.lt(now)).select(uploads::id).limit(1000).load(conn)?;
    let mut out = Vec::new();
    for id in ids {
        let keys = upload_parts::table
            .filter(upload_parts::upload_id.eq(&id))
            .select(upload_parts::object_key)
            .load::<String>(conn)?;
        out.push((id, keys));
    }
    Ok(out)
}

/// Whether a live upload's parts use this key (the sweep keeps them).
pub fn part_keys(conn: &mut DbConnection, upload_id: &str) -> Result<Vec<String>, ApiError> {
    Ok(upload_parts::table.filter(upload_parts::upload_id.eq(upload_id)).select(upload_parts::object_key).load(conn)?)
}
