//! What the public sees of a photo: the photo without its location and camera metadata, and a
//! small preview for lists and the portal. Both are made once, when a photo is first made
//! public, and stored under their own hashes beside the original (which staff still download
//! whole).

use std::io::Cursor;

use futures_util::StreamExt;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::error::ApiError;
use crate::storage::{blob_key, Storage};

use super::content;
use super::types::MediaType;

/// The longer side of a preview, in pixels.
const PREVIEW_SIDE: u32 = 480;
/// The most a photo's decoding may take: a 50-megapixel photo (a phone's largest) in RGB.
const DECODE_MEMORY: u64 = 192 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct PublicCopy {
    pub sha256: String,
    pub size: u64,
    /// Absent when the photo cannot be decoded here (HEIC: no decoder in the build).
    pub preview_sha256: Option<String>,
}

/// Makes and stores the public copy of a photo stored under `sha256`, with what protects it
/// from the sweep until the row pointing at it commits (`Kept::ensure`); `None` for anything
/// that is not a photo (documents are published as they are).
pub async fn make(
    storage: &Storage,
    media: MediaType,
    sha256: &str,
    limit: u64,
) -> Result<(Option<PublicCopy>, content::Kept), ApiError> {
    if !media.is_photo() {
        return Ok((None, content::Kept::nothing()));
    }
    // Decoding a photo takes a core and up to `DECODE_MEMORY`: two at a time, the rest wait.
    static MAKING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _turn = MAKING.acquire().await.map_err(|e| ApiError::internal(e.to_string()))?;
    let original = read_all(storage, sha256, limit).await?;
    let (cleaned, preview) = actix_web::web::block(move || {
        let cleaned = super::strip::strip(media, &original);
        let preview = preview(media, &original);
        (cleaned, preview)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let Some(cleaned) = cleaned else {
        return Err(ApiError::unprocessable(
            "photo_unreadable",
            "the photo's metadata could not be read, so it cannot be made public without risk of showing where it \
             was taken",
        ));
    };
    let (sha256, size, kept) = content::store_bytes(storage, cleaned).await?;
    let (preview_sha256, kept) = match preview {
        Some(bytes) => {
            let (preview_sha256, _, preview_kept) = content::store_bytes(storage, bytes).await?;
            (Some(preview_sha256), kept.and(preview_kept))
        }
        None => (None, kept),
    };
    Ok((Some(PublicCopy { sha256, size, preview_sha256 }), kept))
}

/// A stored photo, read whole (photos are bounded by the attachment limit).
async fn read_all(storage: &Storage, sha256: &str, limit: u64) -> Result<Vec<u8>, ApiError> {
    let mut stream = storage.get(&blob_key(sha256), None).await?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::PayloadTooLarge { limit: limit as usize });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A JPEG preview, upright, at most `PREVIEW_SIDE` on its longer side; `None` when the photo
/// cannot be decoded, or claims a picture too large to decode safely.
pub fn preview(media: MediaType, bytes: &[u8]) -> Option<Vec<u8>> {
    let format = match media {
        MediaType::Jpeg => image::ImageFormat::Jpeg,
        MediaType::Png => image::ImageFormat::Png,
        MediaType::Webp => image::ImageFormat::WebP,
        _ => return None,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(DECODE_MEMORY);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let orientation = decoder.orientation().ok()?;
    let mut picture = DynamicImage::from_decoder(decoder).ok()?;
    picture.apply_orientation(orientation);
    let small = picture.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&small).ok()?;
    Some(out)
}
