//! A request body spooled to a temporary file while it is hashed: how a large binary body (an
//! attachment) is received, and kept for an idempotent request, without holding it in memory.
//! The file is removed when the spool is dropped, unless it is kept by renaming it
//! (`Spooled::file.persist`): a local attachment store takes its uploads that way, without a
//! second copy.

use std::io::{Read, Seek, SeekFrom, Write};

use actix_web::dev::Payload;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Bytes received so far, in a temporary file that disappears with it.
pub struct Spool {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    size: u64,
    limit: u64,
    /// For a file that is to be kept on this disk: how far its writeback has been started.
    written_back: Option<u64>,
}

/// How much a kept spool writes before it starts that part's writeback.
const WRITEBACK_STEP: u64 = 8 * 1024 * 1024;

/// A whole file, spooled and hashed.
pub struct Spooled {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub sha256: String,
}

impl Spool {
    /// A spool in the system's temporary folder (`TMPDIR`).
    pub fn new(limit: u64) -> Result<Spool, ApiError> {
        Self::made(tempfile::NamedTempFile::new(), limit, None)
    }

    /// A spool in `dir`, on the file system where the file is to be kept (and made durable):
    /// its writeback starts as it arrives.
    pub fn new_in(dir: &std::path::Path, limit: u64) -> Result<Spool, ApiError> {
        Self::made(tempfile::NamedTempFile::new_in(dir), limit, Some(0))
    }

    fn made(
        file: std::io::Result<tempfile::NamedTempFile>,
        limit: u64,
        written_back: Option<u64>,
    ) -> Result<Spool, ApiError> {
        let file = file.map_err(|e| ApiError::internal(format!("cannot make a spool file: {e}")))?;
        Ok(Spool { file, hasher: Sha256::new(), size: 0, limit, written_back })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn write(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        if self.size + chunk.len() as u64 > self.limit {
            return Err(ApiError::PayloadTooLarge { limit: self.limit as usize });
        }
        self.file.write_all(chunk).map_err(|e| ApiError::internal(format!("cannot spool an upload: {e}")))?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        if let Some(from) = self.written_back.filter(|from| self.size - from >= WRITEBACK_STEP) {
            start_writeback(self.file.as_file(), from, self.size - from);
            self.written_back = Some(self.size);
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Spooled, ApiError> {
        self.file.seek(SeekFrom::Start(0)).map_err(|e| ApiError::internal(e.to_string()))?;
        let sha256 = format!("{:x}", self.hasher.finalize());
        Ok(Spooled { file: self.file, size: self.size, sha256 })
    }

    /// Reads a request body into the spool to its end, and gives the spool back with how it
    /// went. The bytes are written and hashed on a blocking thread beside the worker that
    /// receives them, so a worker is never held by a disk write and receiving overlaps hashing.
    /// The server reads a body 8 KiB at a time; those chunks are gathered into `BATCH`es (at
    /// most `QUEUED` waiting) so that the writer makes one write for 32 of them. A body cut off
    /// (the client went away) is an error, and what arrived stays in the spool for the caller
    /// to keep or drop.
    pub async fn receive<S>(self, payload: &mut S) -> (Spool, Result<(), ApiError>)
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, actix_web::error::PayloadError>> + Unpin,
    {
        self.receive_with(payload, |e| {
            super::body_deadline::refusal(&e)
                .unwrap_or_else(|| ApiError::bad_request("body_incomplete", format!("the body ended early: {e}")))
        })
        .await
    }

    /// `receive` from any stream of bytes (the parts of an upload read back from the store),
    /// its errors told by `failed`.
    pub async fn receive_with<S, E>(
        self,
        payload: &mut S,
        failed: impl Fn(E) -> ApiError,
    ) -> (Spool, Result<(), ApiError>)
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    {
        const BATCH: usize = 256 * 1024;
        const QUEUED: usize = 4;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(QUEUED);
        let writer = actix_web::rt::task::spawn_blocking(move || {
            let mut spool = self;
            while let Some(chunk) = rx.blocking_recv() {
                if let Err(e) = spool.write(&chunk) {
                    return (spool, Err(e));
                }
            }
            (spool, Ok(()))
        });
        let mut read = Ok(());
        let mut batch = bytes::BytesMut::with_capacity(BATCH);
        while let Some(chunk) = payload.next().await {
            match chunk {
                Ok(chunk) => {
                    batch.extend_from_slice(&chunk);
                    // A send fails when the writer stopped (the body is over the limit): its
                    // error says why.
                    if batch.len() >= BATCH && tx.send(batch.split().freeze()).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    read = Err(failed(e));
                    break;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.send(batch.freeze()).await;
        }
        drop(tx);
        // The writer only fails by panicking, which is a bug to surface, not an answer to give.
        let (spool, written) = writer.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        (spool, written.and(read))
    }
}

/// Asks the kernel to start writing `len` bytes from `offset` to the disk, without waiting: the
/// final `sync_data` then finds most of the file written. A hint only: an error is ignored.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: sync_file_range reads only its integer arguments; the descriptor is open for the
    // call's duration (borrowed from `file`).
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset as i64, len as i64, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &std::fs::File, _: u64, _: u64) {}

impl Spooled {
    /// The spooled body as a request payload again, read from the file a chunk at a time.
    pub fn into_payload(self) -> Payload {
        let stream =
            futures_util::stream::unfold(Some(self.file), |file: Option<tempfile::NamedTempFile>| async move {
                let mut file = file?;
                let mut buf = vec![0u8; 64 * 1024];
                match file.read(&mut buf) {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(bytes::Bytes::from(buf)), Some(file)))
                    }
                    Err(e) => Some((Err(actix_web::error::PayloadError::Io(e)), None)),
                }
            });
        Payload::from(Box::pin(stream) as actix_http::BoxedPayloadStream)
    }
}
