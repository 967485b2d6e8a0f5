//! An upload's bytes on their way to the store: spooled (`http::spool`, never held whole in
//! memory), then judged by what they are, then written to the store under their hash. Nothing here touches the database: the row that points at the
//! stored object is written after it, in the caller's transaction.

use std::io::{Seek, SeekFrom};

use sha2::{Digest, Sha256};

use crate::error::ApiError;
pub use crate::http::spool::Spooled;
use crate::storage::{blob_key, Storage};

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

/// The bytes of a file whose content the store already held, kept until its row commits
/// (`Storage::ensure`).
pub struct Kept(Option<Spooled>);

impl Kept {
    /// Once the row committed: the content is still there, or it is put back.
    pub async fn ensure(self, storage: &Storage, stored: &Stored) -> Result<(), ApiError> {
        if let Some(spooled) = self.0 {
            storage.ensure(&blob_key(&stored.sha256), spooled).await?;
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
        let mut head = vec![0u8; sniff::HEAD];
        let n = read_at_most(spooled.file.as_file(), &mut head)?;
        head.truncate(n);
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
    let kept = storage.put_spooled(&blob_key(&sha256), spooled).await?;
    Ok((Stored { media_type, size, sha256 }, Kept(kept)))
}

/// Stores bytes made here (a public copy, a preview) under their hash.
pub async fn store_bytes(storage: &Storage, bytes: Vec<u8>) -> Result<(String, u64), ApiError> {
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    storage.put_bytes(&blob_key(&sha256), bytes.into()).await?;
    Ok((sha256, size))
}

fn read_at_most(mut file: &std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
