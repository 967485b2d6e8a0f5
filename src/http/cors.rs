//! Cross-origin rules for browsers (actix-cors): the provincial portal's pages read the public
//! API from any reader's browser, and its staff pages call the authenticated API with a token
//! from the origins an operator lists.

use actix_cors::Cors;
use actix_web::http::header;

/// Headers a browser page may read from an answer, besides the safelisted ones: ours, and those
/// a resumable upload (tus-js-client) and a resumed download read.
const EXPOSED: [&str; 19] = [
    "etag",
    "location",
    "x-next-cursor",
    "retry-after",
    "x-request-id",
    "content-disposition",
    "idempotent-replayed",
    "idempotent-replay-withheld",
    "content-location",
    "content-range",
    "accept-ranges",
    "upload-offset",
    "upload-length",
    "upload-expires",
    "upload-metadata",
    "tus-resumable",
    "tus-version",
    "tus-extension",
    "tus-max-size",
];

/// `/api/v1/public/**`: any origin, no credentials, the ETag and cache headers readable, so a
/// page can poll with If-None-Match.
pub fn public() -> Cors {
    Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allowed_methods(["GET", "HEAD"])
        .allowed_headers([
            header::IF_NONE_MATCH,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::RANGE,
            header::IF_RANGE,
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            "etag",
            "cache-control",
            "x-request-id",
            "x-next-cursor",
            "content-disposition",
            "content-range",
            "accept-ranges",
        ])
        .max_age(86_400)
}

/// The authenticated API: the listed origins only, with the headers clients send and the ones
/// they must read. A request from another origin is answered without CORS headers, so the
/// browser refuses to hand it to the page (and a non-browser client is not affected).
pub fn authenticated(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::RANGE,
            header::IF_RANGE,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("tus-resumable"),
            header::HeaderName::from_static("upload-length"),
            header::HeaderName::from_static("upload-metadata"),
            header::HeaderName::from_static("upload-offset"),
        ])
        .expose_headers(EXPOSED)
        .block_on_origin_mismatch(false)
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// `https://portal.example.gov.vn, http://localhost:3000`: each an origin (a scheme, a host, a
/// port at most; no path), as a browser sends it.
pub fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let url = url::Url::parse(item).map_err(|_| format!("{item:?} is not an origin"))?;
        let origin = url.origin().ascii_serialization();
        if !matches!(url.scheme(), "http" | "https") || origin != item.trim_end_matches('/') {
            return Err(format!(
                "{item:?} is not an origin: give scheme://host[:port], e.g. https://portal.example.gov.vn"
            ));
        }
        out.push(origin);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_origins() {
        assert_eq!(
            parse_origins("https://portal.example.gov.vn, http://localhost:3000").unwrap(),
            ["https://portal.example.gov.vn", "http://localhost:3000"]
        );
        for bad in ["portal.example", "https://portal.example/path", "ftp://x.example", "*"] {
            assert!(parse_origins(bad).is_err(), "{bad}");
        }
    }
}
