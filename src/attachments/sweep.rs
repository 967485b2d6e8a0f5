//! The sweep: removes from the store what no row points at. An upload writes its object before
//! its row commits, so an upload cut off (or refused after storing) leaves an object behind;
//! a deleted attachment leaves its content; an unfinished resumable upload expires.
//!
//! Objects written within the grace period are kept whatever the rows say: their rows may not
//! have committed yet. An upload writes its object afresh, or touches the copy already there,
//! before its row commits; an object is looked at again just before it is removed.

use chrono::Utc;

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

    let blobs: Vec<_> =
        storage.list(&"blobs".into()).await?.into_iter().filter(|m| m.last_modified < settled).collect();
    for chunk in blobs.chunks(300) {
        let hashes: Vec<String> = chunk.iter().filter_map(|m| m.location.filename().map(str::to_string)).collect();
        let asked = hashes.clone();
        let referenced = db::run(pool, move |conn| store::referenced(conn, &asked)).await?;
        for meta in chunk {
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

    let parts: Vec<_> =
        storage.list(&"uploads".into()).await?.into_iter().filter(|m| m.last_modified < settled).collect();
    for meta in parts {
        let key = meta.location.to_string();
        let Some(upload_id) = key.split('/').nth(1).map(str::to_string) else { continue };
        let recorded = db::run(pool, move |conn| store::part_keys(conn, &upload_id)).await?;
        if !recorded.contains(&key) {
            storage.delete(&meta.location).await?;
            swept.stray_parts_removed += 1;
        }
    }
    let before = std::time::SystemTime::now() - grace.to_std().unwrap_or_default();
    swept.stale_spools_removed = storage.remove_stale_spools(before)?;
    Ok(swept)
}
