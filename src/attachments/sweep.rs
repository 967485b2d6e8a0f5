//! The sweep: removes from the store what no row points at. An upload writes its object before
//! its row commits, so an upload cut off (or refused after storing) leaves an object behind;
//! a deleted attachment leaves its content; an unfinished resumable upload expires.
//!
//! Objects written within the grace period are kept whatever the rows say: their rows may not
//! have committed yet. An upload writes its object afresh, or touches the copy already there,
//! before its row commits; an object is looked at again just before it is removed.

use chrono::Utc;
use futures_util::{StreamExt, TryStreamExt};

use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::storage::Storage;

use super::store;

#[derive(Debug, Default, serde::Serialize)]
pub struct Swept {
    /// Unfinished uploads past their expiry, dropped with their parts.
    pub expired_uploads: usize,
    /// Content no live attachment points at.
    pub blobs_removed: usize,
    pub blobs_kept: usize,
    /// Parts that no upload recorded (a request cut off before its part was recorded).
    pub stray_parts_removed: usize,
    /// Spool files of a local store left by a process killed while receiving.
    pub stale_spools_removed: usize,
}

pub async fn sweep(pool: &Pool, storage: &Storage, grace: chrono::Duration) -> Result<Swept, ApiError> {
    let mut swept = Swept::default();
    let now = db::now();
    loop {
        let expired = db::run(pool, move |conn| store::expired_uploads(conn, now)).await?;
        if expired.is_empty() {
            break;
        }
        for (id, keys) in expired {
            for key in keys {
                storage.delete(&key.as_str().into()).await?;
            }
            let upload_id = id.clone();
            db::run(pool, move |conn| db::transaction(conn, |conn| store::delete_upload(conn, &upload_id))).await?;
            swept.expired_uploads += 1;
        }
    }
    let settled = Utc::now() - grace;

    // Read a page at a time: a store of millions of objects is never listed into memory whole.
    let mut blobs =
        storage.objects(&"blobs".into()).try_filter(|m| std::future::ready(m.last_modified < settled)).chunks(300);
    while let Some(chunk) = blobs.next().await {
        let chunk = chunk.into_iter().collect::<Result<Vec<_>, _>>()?;
        let hashes: Vec<String> = chunk.iter().filter_map(|m| m.location.filename().map(str::to_string)).collect();
        let referenced = db::run(pool, move |conn| store::referenced(conn, &hashes)).await?;
        for meta in &chunk {
            match meta.location.filename() {
                Some(hash) if referenced.contains(hash) => swept.blobs_kept += 1,
                // Written or touched again since it was listed (an upload of the same content
                // on its way to a row): kept. An upload that touches it after this look puts it
                // back itself once its row committed (`Storage::ensure`).
                _ if storage.modified(&meta.location).await?.is_none_or(|at| at >= settled) => swept.blobs_kept += 1,
                _ => {
                    storage.delete(&meta.location).await?;
                    swept.blobs_removed += 1;
                }
            }
        }
    }

    // Parts are listed by upload: each upload's recorded parts are read once.
    let mut parts = storage.objects(&"uploads".into()).try_filter(|m| std::future::ready(m.last_modified < settled));
    let mut recorded: Option<(String, Vec<String>)> = None;
    while let Some(meta) = parts.try_next().await? {
        let key = meta.location.to_string();
        let Some(upload_id) = key.split('/').nth(1).map(str::to_string) else { continue };
        if recorded.as_ref().is_none_or(|(id, _)| *id != upload_id) {
            let asked = upload_id.clone();
            let keys = db::run(pool, move |conn| store::part_keys(conn, &asked)).await?;
            recorded = Some((upload_id, keys));
        }
        if !recorded.as_ref().is_some_and(|(_, keys)| keys.contains(&key)) {
            storage.delete(&meta.location).await?;
            swept.stray_parts_removed += 1;
        }
    }
    let before = std::time::SystemTime::now() - grace.to_std().unwrap_or_default();
    swept.stale_spools_removed = storage.remove_stale_spools(before)?;
    Ok(swept)
}
