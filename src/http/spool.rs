//! A request body spooled to an unnamed temporary file while it is hashed: how a large binary
//! body (an attachment) is received, and kept for an idempotent request, without holding it in
//! memory.

use std::io::{Read, Seek, SeekFrom, Write};

use actix_web::dev::Payload;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// Bytes received so far, in a temporary file that disappears with it.
pub struct Spool {
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

/// A whole file, spooled and hashed.
pub struct Spooled {
    pub file: std::fs::File,
    pub size: u64,
    pub sha256: String,
}

impl Spool {
    pub fn new(limit: u64) -> Result<Spool, ApiError> {
        let file = tempfile::tempfile().map_err(|e| ApiError::internal(format!("cannot make a spool file: {e}")))?;
        Ok(Spool { file, hasher: Sha256::new(), size: 0, limit })
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
        Ok(())
    }

    pub fn finish(mut self) -> Result<Spooled, ApiError> {
        self.file.seek(SeekFrom::Start(0)).map_err(|e| ApiError::internal(e.to_string()))?;
        let sha256 = format!("{:x}", self.hasher.finalize());
        Ok(Spooled { file: self.file, size: self.size, sha256 })
    }

    /// Reads a request body into the spool to its end. A body cut off (the client went away)
    /// is an error, and what was read stays in the spool for the caller to keep or drop.
    pub async fn read_payload<S, E>(&mut self, payload: &mut S) -> Result<(), ApiError>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request("body_incomplete", format!("the body ended early: {e}")))?;
            self.write(&chunk)?;
        }
        Ok(())
    }
}

impl Spooled {
    /// The spooled body as a request payload again, read from the file a chunk at a time.
    pub fn into_payload(self) -> Payload {
        let stream = futures_util::stream::unfold(Some(self.file), |file| async move {
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
