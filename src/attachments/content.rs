//! An upload's bytes on their way to the store: spooled (`http::spool`, never held whole in
//! memory), then judged by what they are, then written to the store under their hash. Nothing here touches the database: the row that points at the
//! stored object is written after it, in the caller's transaction.

use std::io::{Read, Seek, SeekFrom};

use crate::error::ApiError;
pub use crate::http::spool::Spooled;
use crate::storage::{blob_key, Storage};
use object_store::path::Path;

use super::sniff;
use super::types::MediaType;

/// A spooled file and what its bytes say it is.
pub struct Judged {
    spooled: Spooled,
    pub media_type: MediaType,
}

/// A file stored under its hash.
#[derive(Clone, Debug)]
pub struct Stored {
    pub media_type: MediaType,
    pub size: u64,
    pub sha256: String,
}

/// The bytes of files whose content the store already held, each with its key, kept until the
/// row that points at them commits (`Storage::ensure`).
#[must_use = "call `ensure` once the row that points at the content has committed"]
pub struct Kept(Vec<(Path, Spooled)>);

impl Kept {
    pub fn nothing() -> Kept {
        Kept(Vec::new())
    }

    fn one(key: Path, spooled: Option<Spooled>) -> Kept {
        Kept(spooled.map(|s| (key, s)).into_iter().collect())
    }

    pub fn and(mut self, other: Kept) -> Kept {
        self.0.extend(other.0);
        self
    }

    /// Once the row committed: each content is still there, or it is put back.
    pub async fn ensure(self, storage: &Storage) -> Result<(), ApiError> {
        for (key, spooled) in self.0 {
            storage.ensure(&key, spooled).await?;
        }
        Ok(())
    }
}

/// Tells what a spooled file is from its bytes: 415 for anything but the accepted types.
pub async fn judge(spooled: Spooled) -> Result<Judged, ApiError> {
    if spooled.size == 0 {
        return Err(ApiError::unprocessable("empty_file", "the file is empty"));
    }
    let (spooled, media_type) = actix_web::web::block(move || {
        let mut head = Vec::with_capacity(sniff::HEAD);
        spooled.file.as_file().take(sniff::HEAD as u64).read_to_end(&mut head)?;
        let media = sniff::media_type(&head, || {
            let mut zip = spooled.file.as_file().try_clone()?;
            zip.seek(SeekFrom::Start(0))?;
            Ok(zip)
        });
        let mut spooled = spooled;
        spooled.file.as_file_mut().seek(SeekFrom::Start(0))?;
        Ok::<_, std::io::Error>((spooled, media))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::internal(format!("cannot read a spooled upload: {e}")))?;
    let Some(media_type) = media_type else {
        return Err(ApiError::UnsupportedMediaType {
            detail: "the content is not an accepted file: photos (JPEG, PNG, WebP, HEIC), PDF, DOCX or XLSX, \
                     told by the bytes themselves, not by the name or the Content-Type"
                .into(),
        });
    };
    Ok(Judged { spooled, media_type })
}

/// Keeps a judged file in the store under its hash: identical content lands on the same key,
/// so it is kept once. It is written even when already there: the fresh write keeps it out of
/// the sweep's reach (objects younger than its grace are kept) until this row commits.
pub async fn put(storage: &Storage, judged: Judged) -> Result<(Stored, Kept), ApiError> {
    let Judged { spooled, media_type } = judged;
    let (size, sha256) = (spooled.size, spooled.sha256.clone());
    let kept = keep(storage, spooled).await?;
    Ok((Stored { media_type, size, sha256 }, kept))
}

/// Stores bytes made here (a public copy, a preview) under their hash, as an upload is stored:
/// spooled and hashed once, off the worker.
pub async fn store_bytes(storage: &Storage, bytes: Vec<u8>) -> Result<(String, u64, Kept), ApiError> {
    let mut spool = storage.spool(bytes.len() as u64)?;
    let spooled = actix_web::web::block(move || {
        spool.write(&bytes)?;
        spool.finish()
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    let (sha256, size) = (spooled.sha256.clone(), spooled.size);
    let kept = keep(storage, spooled).await?;
    Ok((sha256, size, kept))
}

async fn keep(storage: &Storage, spooled: Spooled) -> Result<Kept, ApiError> {
    let key = blob_key(&spooled.sha256);
    let kept = storage.put_spooled(&key, spooled).await?;
    Ok(Kept::one(key, kept))
}
