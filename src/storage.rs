//! Where attachment bytes live: a local directory (the embedded default) or an S3-compatible
//! object store (`s3://bucket/prefix`, endpoint and credentials from the usual `AWS_*`
//! variables), behind `object_store`'s one interface.
//!
//! Content is addressed by its SHA-256 (`blobs/ab/abcd…`): identical files are stored once, and
//! an object, once written, never changes, so it is written before the row that points at it
//! commits and a sweep removes what no row points at. The parts of resumable uploads live under
//! `uploads/<id>/`, so every instance behind a balancer sees them.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

/// Where a local store spools its uploads (kept out of the sweep's prefixes).
const SPOOL: &str = "spool";

/// Parts of a multipart write: S3's smallest part is 5 MiB; at most two are held at once.
const PART: usize = 5 * 1024 * 1024;
/// What is read from the spool file at a time.
const READ: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Storage {
    inner: Arc<dyn ObjectStore>,
    /// The folder of a local store: uploads are spooled inside it and renamed into place.
    local_root: Option<std::path::PathBuf>,
    /// The setting, for logs and errors (no credentials are in it).
    pub describe: String,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.describe)
    }
}

/// The store failed or could not be reached: the request is answered 503 and changes nothing.
#[derive(Debug, thiserror::Error)]
#[error("attachment storage: {0}")]
pub struct StorageError(pub String);

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        StorageError(e.to_string())
    }
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        StorageError(e.to_string())
    }
}

impl From<StorageError> for crate::error::ApiError {
    fn from(e: StorageError) -> Self {
        log::error!("{e}");
        crate::error::ApiError::StorageUnavailable
    }
}

/// An object's key for content with this SHA-256 (lower-case hex), in a folder of its first two
/// digits.
pub fn blob_key(sha256: &str) -> Path {
    Path::from(format!("blobs/{}/{}", sha256.get(..2).unwrap_or("00"), sha256))
}

/// The folder of a resumable upload's parts.
pub fn upload_prefix(upload_id: &str) -> Path {
    Path::from(format!("uploads/{upload_id}"))
}

/// Up to `at_most` bytes of `file` from where it stands (fewer only at its end), read on the
/// blocking pool; the file is handed back for the next read.
async fn read_some(file: std::fs::File, at_most: usize) -> Result<(std::fs::File, Vec<u8>), StorageError> {
    actix_web::web::block(move || {
        let mut buf = Vec::with_capacity(at_most);
        (&file).take(at_most as u64).read_to_end(&mut buf)?;
        Ok::<_, std::io::Error>((file, buf))
    })
    .await
    .map_err(|e| StorageError(e.to_string()))?
    .map_err(StorageError::from)
}

impl Storage {
    /// Opens the store a `DVK_STORAGE` setting names: `s3://bucket[/prefix]`, or a directory
    /// (made if missing).
    pub fn open(setting: &str) -> Result<Storage, String> {
        let mut local_root = None;
        let inner: Arc<dyn ObjectStore> = if let Some(rest) = setting.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err("DVK_STORAGE: s3://bucket[/prefix] names no bucket".into());
            }
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| format!("DVK_STORAGE {setting}: {e}"))?;
            match prefix.trim_matches('/') {
                "" => Arc::new(s3),
                prefix => Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)),
            }
        } else {
            let dir = setting.strip_prefix("file://").unwrap_or(setting);
            std::fs::create_dir_all(std::path::Path::new(dir).join(SPOOL))
                .map_err(|e| format!("DVK_STORAGE {dir}: cannot make the directory: {e}"))?;
            local_root = Some(std::fs::canonicalize(dir).map_err(|e| format!("DVK_STORAGE {dir}: {e}"))?);
            Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| format!("DVK_STORAGE {dir}: {e}"))?,
            )
        };
        Ok(Storage { inner, local_root, describe: setting.to_string() })
    }

    /// A spool for an upload bound for this store: inside a local store's folder (so that it is
    /// renamed into place, never copied), or in the system's temporary folder.
    pub fn spool(&self, limit: u64) -> Result<crate::http::spool::Spool, crate::error::ApiError> {
        match &self.local_root {
            Some(root) => crate::http::spool::Spool::new_in(&root.join(SPOOL), limit),
            None => crate::http::spool::Spool::new(limit),
        }
    }

    /// Keeps a spooled file under `key`: renamed into a local store (written once, and on the
    /// disk, name included, before this returns: the row that points at it commits next),
    /// written to any other (an S3 PUT is durable when it answers). Content already kept under
    /// its key in a local store is not replaced (keys are hashes): the copy there is touched
    /// instead, so that the sweep's grace counts from now.
    ///
    /// When a local store already held the content, the spool is handed back unused: the caller
    /// keeps it until its row has committed and then checks, with `ensure`, that the copy it
    /// touched was not swept in between.
    pub async fn put_spooled(
        &self,
        key: &Path,
        spooled: crate::http::spool::Spooled,
    ) -> Result<Option<crate::http::spool::Spooled>, StorageError> {
        if let Some(root) = &self.local_root {
            let dest = root.join(key.as_ref());
            let kept = actix_web::web::block(move || -> std::io::Result<Option<crate::http::spool::Spooled>> {
                let dir = dest.parent().unwrap_or(std::path::Path::new("."));
                std::fs::create_dir_all(dir)?;
                if let Ok(existing) = std::fs::File::options().append(true).open(&dest) {
                    existing.set_modified(std::time::SystemTime::now())?;
                    return Ok(Some(spooled));
                }
                // On the disk before a row can point at it, and so is its name.
                spooled.file.as_file().sync_data()?;
                spooled.file.persist_noclobber(&dest).map(drop).or_else(|e| match e.error.kind() {
                    // Another upload of the same content got there first.
                    std::io::ErrorKind::AlreadyExists => Ok(()),
                    _ => Err(e.error),
                })?;
                std::fs::File::open(dir)?.sync_all()?;
                Ok(None)
            })
            .await
            .map_err(|e| StorageError(e.to_string()))?;
            return Ok(kept?);
        }
        self.put_file(key, spooled.file.into_file(), spooled.size).await?;
        Ok(None)
    }

    /// After a row that points at `key` committed: if the object a concurrent sweep removed in
    /// the moment between its checks and that commit, `spooled` (the same bytes) puts it back.
    pub async fn ensure(&self, key: &Path, spooled: crate::http::spool::Spooled) -> Result<(), StorageError> {
        if self.modified(key).await?.is_none() {
            log::warn!("{key} was swept while a row that points at it committed; stored again");
            self.put_spooled(key, spooled).await?;
        }
        Ok(())
    }

    /// Writes `len` bytes of `file` (read from its start) under `key`, in parts for large
    /// files: never more than two parts in memory. The file is read on the blocking pool, not
    /// on the worker.
    pub async fn put_file(&self, key: &Path, file: std::fs::File, len: u64) -> Result<(), StorageError> {
        if len <= PART as u64 {
            let (_, buf) = read_some(file, len as usize).await?;
            self.inner.put(key, PutPayload::from(buf)).await?;
            return Ok(());
        }
        let upload = self.inner.put_multipart(key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut file = file;
        loop {
            let (rest, buf) = read_some(file, READ).await?;
            if buf.is_empty() {
                break;
            }
            file = rest;
            writer.wait_for_capacity(1).await?;
            writer.write(&buf);
        }
        writer.finish().await?;
        Ok(())
    }

    /// The object's bytes, as a stream, from `start` (a range request's first byte) to `end`
    /// (exclusive); `None` for the whole object.
    pub async fn get(
        &self,
        key: &Path,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let options = object_store::GetOptions { range: range.map(Into::into), ..Default::default() };
        let result = self.inner.get_opts(key, options).await?;
        Ok(result.into_stream().map(|r| r.map_err(StorageError::from)).boxed())
    }

    /// When the object was last written (or touched); `None` when it is gone.
    pub async fn modified(&self, key: &Path) -> Result<Option<chrono::DateTime<chrono::Utc>>, StorageError> {
        match self.inner.head(key).await {
            Ok(meta) => Ok(Some(meta.last_modified)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an object; one already gone is not an error.
    pub async fn delete(&self, key: &Path) -> Result<(), StorageError> {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes spool files of a local store older than `before`: left by a process that was
    /// killed while receiving (a running one removes its own). How many went.
    pub fn remove_stale_spools(&self, before: std::time::SystemTime) -> Result<usize, StorageError> {
        let Some(root) = &self.local_root else { return Ok(0) };
        let mut removed = 0;
        for entry in std::fs::read_dir(root.join(SPOOL))? {
            let entry = entry?;
            if entry.metadata()?.modified()? < before {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The objects under `prefix`, as the store lists them (a page at a time).
    pub fn objects(&self, prefix: &Path) -> BoxStream<'static, Result<ObjectMeta, StorageError>> {
        self.inner.list(Some(prefix)).map(|r| r.map_err(StorageError::from)).boxed()
    }
}
