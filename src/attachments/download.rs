//! Sending stored content: streamed from the store (never read whole), named for the browser
//! (RFC 6266), never sniffed into something else, with one-span `Range` for resumed downloads.

use actix_web::body::SizedStream;
use actix_web::http::header::{self, ContentEncoding, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;

use crate::error::ApiError;
use crate::storage::{blob_key, Storage};

use super::types::MediaType;

/// What to send.
pub struct File {
    pub sha256: String,
    /// Known for stored attachments; a preview's is not kept (it is then sent without ranges).
    pub size: Option<u64>,
    pub media_type: MediaType,
    pub name: String,
    /// Shown in the page (a public photo) rather than saved.
    pub inline: bool,
    pub cache: &'static str,
}

pub async fn respond(req: &HttpRequest, storage: &Storage, file: File) -> Result<HttpResponse, ApiError> {
    let tag = format!("\"{}\"", file.sha256);
    let matches = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|raw| raw.trim() == "*" || raw.split(',').any(|t| t.trim().trim_start_matches("W/") == tag))
    };
    let mut res = HttpResponse::build(StatusCode::OK);
    res.insert_header((header::ETAG, tag.clone()))
        .insert_header((header::CACHE_CONTROL, file.cache))
        // Bytes already compressed (photos, PDF, Office files) are sent as they are.
        .insert_header(ContentEncoding::Identity)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Opened directly in a browser, the content runs nothing and reaches nothing.
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; img-src 'self'; sandbox"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            super::sniff::content_disposition(if file.inline { "inline" } else { "attachment" }, &file.name),
        ));
    if matches(header::IF_NONE_MATCH) {
        return Ok(res.status(StatusCode::NOT_MODIFIED).finish());
    }
    res.content_type(file.media_type.as_str());
    // A range applies only to the version the caller holds (If-Range), when the size is known.
    let if_range_holds = req.headers().get(header::IF_RANGE).is_none() || matches(header::IF_RANGE);
    let range = match (req.headers().get(header::RANGE), file.size) {
        (Some(raw), Some(size)) if if_range_holds => parse_range(raw, size)?,
        _ => None,
    };
    if let Some(size) = file.size {
        res.insert_header((header::ACCEPT_RANGES, "bytes"));
        if let Some(r) = &range {
            res.status(StatusCode::PARTIAL_CONTENT)
                .insert_header((header::CONTENT_RANGE, format!("bytes {}-{}/{size}", r.start, r.end - 1)));
        }
    }
    let stream = storage
        .get(&blob_key(&file.sha256), range.clone())
        .await?
        .map(|chunk| chunk.map_err(|e| actix_web::error::ErrorServiceUnavailable(e.to_string())));
    Ok(match (range, file.size) {
        (Some(r), _) => res.body(SizedStream::new(r.end - r.start, stream)),
        (None, Some(size)) => res.body(SizedStream::new(size, stream)),
        (None, None) => res.streaming(stream),
    })
}

/// One span of `Range: bytes=…` as a half-open range; `None` to send the whole (several spans,
/// another unit, or a header that does not parse: RFC 9110 lets a server ignore those); 416
/// when the span starts past the end.
pub fn parse_range(raw: &HeaderValue, size: u64) -> Result<Option<std::ops::Range<u64>>, ApiError> {
    let Some(spec) = raw.to_str().ok().and_then(|s| s.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else { return Ok(None) };
        if suffix == 0 {
            return Err(ApiError::RangeNotSatisfiable { size });
        }
        size.saturating_sub(suffix)..size
    } else {
        let Ok(start) = first.parse::<u64>() else { return Ok(None) };
        let end = match last {
            "" => size,
            last => match last.parse::<u64>() {
                Ok(last) if last >= start => last.saturating_add(1).min(size),
                _ => return Ok(None),
            },
        };
        start..end
    };
    if range.start >= size {
        return Err(ApiError::RangeNotSatisfiable { size });
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(raw: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, u16> {
        parse_range(&HeaderValue::from_str(raw).unwrap(), size).map_err(|e| {
            use actix_web::ResponseError;
            e.status_code().as_u16()
        })
    }

    #[test]
    fn one_span_is_read_every_way_it_is_written() {
        assert_eq!(range("bytes=0-99", 1000), Ok(Some(0..100)));
        assert_eq!(range("bytes=900-", 1000), Ok(Some(900..1000)));
        assert_eq!(range("bytes=-100", 1000), Ok(Some(900..1000)));
        assert_eq!(range("bytes=990-2000", 1000), Ok(Some(990..1000)));
        assert_eq!(range("bytes=-5000", 1000), Ok(Some(0..1000)));
        assert_eq!(range("bytes=0-18446744073709551615", 1000), Ok(Some(0..1000)));
    }

    #[test]
    fn what_cannot_be_served_is_416_and_what_is_not_understood_is_the_whole() {
        assert_eq!(range("bytes=1000-", 1000), Err(416));
        assert_eq!(range("bytes=-0", 1000), Err(416));
        assert_eq!(range("bytes=0-1,5-9", 1000), Ok(None));
        assert_eq!(range("items=0-1", 1000), Ok(None));
        assert_eq!(range("bytes=9-1", 1000), Ok(None));
        assert_eq!(range("bytes=x-", 1000), Ok(None));
    }
}
