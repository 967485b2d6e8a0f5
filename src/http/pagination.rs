//! Keyset pagination with opaque cursors, and `sort` parameters.
//!
//! A cursor is the sort key and id of the last item of a page, in URL-safe base64 JSON. It is
//! opaque to clients; a cursor that does not decode, or that was made for another sort, is a 400,
//! never a 500. Pages are stable under inserts: a row inserted while a client pages is either
//! before the cursor (seen by a later sync) or after it (seen on a later page), never twice.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The page size: 1 to 200, default 50.
pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    limit_between(requested, DEFAULT_LIMIT, MAX_LIMIT, "")
}

/// A page size of 1 to `max`, `default` when not asked for; `context` ends the error's detail.
pub fn limit_between(requested: Option<i64>, default: i64, max: i64, context: &str) -> Result<i64, ApiError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::BadRequest {
            code: "invalid_limit",
            detail: format!("limit must be between 1 and {max}{context}"),
            errors: vec![FieldError::new("limit", "out_of_range", format!("must be between 1 and {max}"))],
        }),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort this cursor belongs to.
    #[serde(rename = "s")]
    pub sort: String,
    /// The sort key of the last item (absent when sorting by id alone).
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The id of the last item: the tie-breaker.
    #[serde(rename = "i")]
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serialises"))
    }

    /// Decodes a cursor made for `sort`.
    pub fn decode(raw: &str, sort: &str) -> Result<Cursor, ApiError> {
        let invalid = || ApiError::BadRequest {
            code: "invalid_cursor",
            detail: "the cursor is not one this API issued for this sort; start again without it".into(),
            errors: vec![FieldError::new("cursor", "invalid_cursor", "not a valid cursor")],
        };
        if raw.len() > 4096 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.sort != sort || cursor.id.len() > 64 || cursor.key.as_ref().is_some_and(|k| k.len() > 2048) {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

/// A `sort` parameter: a field name, `-` in front for descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub descending: bool,
}

impl<F: Copy + PartialEq> Sort<F> {
    /// Parses `raw` against the allowed `(name, field)` pairs.
    pub fn parse(raw: Option<&str>, allowed: &[(&str, F)], default: Sort<F>) -> Result<Sort<F>, ApiError> {
        let Some(raw) = raw else { return Ok(default) };
        let (descending, name) = match raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, raw),
        };
        match allowed.iter().find(|(n, _)| *n == name) {
            Some((_, field)) => Ok(Sort { field: *field, descending }),
            None => {
                let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
                Err(ApiError::BadRequest {
                    code: "invalid_sort",
                    detail: format!("sort must be one of {} (prefix - for descending)", names.join(", ")),
                    errors: vec![FieldError::new("sort", "invalid_sort", format!("unknown sort {raw:?}"))],
                })
            }
        }
    }
}

/// The paging part of a list request, parsed once for every list: the sort (the one asked for,
/// else `updated_at` when syncing with `updated_since`, else the list's default), a cursor made
/// for that sort, the page size and the sync point.
#[derive(Debug, Clone)]
pub struct Paging<F> {
    pub sort: Sort<F>,
    pub sort_name: String,
    pub cursor: Option<Cursor>,
    pub limit: i64,
    pub updated_since: Option<chrono::NaiveDateTime>,
}

impl<F: Copy + PartialEq> Paging<F> {
    /// `allowed` names the sortable fields; the first is only a formality of `Sort::parse`.
    /// `limit` is already checked for the answer's format (`Format::limit`).
    pub fn parse<'a>(
        sort: Option<&'a str>,
        default_sort: &str,
        allowed: &[(&str, F)],
        cursor: Option<&'a str>,
        limit: i64,
        since: Option<&'a str>,
    ) -> Result<Paging<F>, ApiError> {
        // An empty value is the parameter left out (`?sort=&cursor=`), the same on every list.
        let present = |v: Option<&'a str>| v.filter(|v| !v.trim().is_empty());
        let (sort, cursor, since) = (present(sort), present(cursor), present(since));
        let updated_since = updated_since(since)?;
        let sort_name = match (sort, updated_since) {
            (Some(s), _) => s.to_string(),
            (None, Some(_)) => "updated_at".to_string(),
            (None, None) => default_sort.to_string(),
        };
        let sort = Sort::parse(Some(&sort_name), allowed, Sort { field: allowed[0].1, descending: false })?;
        let cursor = cursor.map(|c| Cursor::decode(c, &sort_name)).transpose()?;
        Ok(Paging { sort, sort_name, cursor, limit, updated_since })
    }
}

/// A `year` filter: 2000 to 2100.
pub fn year(year: Option<i32>) -> Result<Option<i32>, ApiError> {
    match year {
        Some(y) if !(2000..=2100).contains(&y) => Err(ApiError::BadRequest {
            code: "invalid_query",
            detail: "year must be between 2000 and 2100".into(),
            errors: vec![FieldError::new("year", "out_of_range", "must be between 2000 and 2100")],
        }),
        other => Ok(other),
    }
}

/// The sort of lists that offer only creation and last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSort {
    CreatedAt,
    UpdatedAt,
}

pub const TIME_SORTS: &[(&str, TimeSort)] = &[("created_at", TimeSort::CreatedAt), ("updated_at", TimeSort::UpdatedAt)];

impl TimeSort {
    /// The cursor key of a row with these timestamps.
    pub fn key(self, created_at: &chrono::NaiveDateTime, updated_at: &chrono::NaiveDateTime) -> String {
        timestamp_key(match self {
            TimeSort::CreatedAt => created_at,
            TimeSort::UpdatedAt => updated_at,
        })
    }
}

/// Timestamps in cursors: fixed width with microseconds, so they round-trip exactly.
pub fn timestamp_key(t: &chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

pub fn parse_timestamp_key(raw: &str) -> Result<chrono::NaiveDateTime, ApiError> {
    chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.6f").map_err(|_| ApiError::BadRequest {
        code: "invalid_cursor",
        detail: "the cursor is not one this API issued for this sort; start again without it".into(),
        errors: vec![FieldError::new("cursor", "invalid_cursor", "not a valid cursor")],
    })
}

/// Parses `updated_since` (RFC 3339). A time in the future is refused: nothing has changed there
/// yet, and accepting it would let a client skip changes made before its clock catches up.
pub fn updated_since(raw: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let invalid = |message: &str| ApiError::BadRequest {
        code: "invalid_updated_since",
        detail: format!("updated_since {message}"),
        errors: vec![FieldError::new("updated_since", "invalid_updated_since", message)],
    };
    let t = chrono::DateTime::parse_from_rfc3339(raw)
        .map_err(|_| invalid("must be an RFC 3339 timestamp, e.g. 2025-07-01T00:00:00Z"))?
        .with_timezone(&chrono::Utc);
    if t > chrono::Utc::now() + chrono::Duration::seconds(5) {
        return Err(invalid("must not be in the future"));
    }
    Ok(Some(t.naive_utc()))
}

/// Orders a boxed query by `$col` then `$id`, starting after `$after` (`Option<(key, id)>`), in
/// either direction: the keyset every list shares.
#[macro_export]
macro_rules! keyset {
    ($q:expr, $col:expr, $id:expr, $after:expr, $descending:expr) => {{
        let mut q = $q;
        if let Some((key, id)) = $after {
            q = if $descending {
                q.filter($col.lt(key.clone()).or($col.eq(key).and($id.lt(id))))
            } else {
                q.filter($col.gt(key.clone()).or($col.eq(key).and($id.gt(id))))
            };
        }
        if $descending {
            q.order(($col.desc(), $id.desc()))
        } else {
            q.order(($col.asc(), $id.asc()))
        }
    }};
}

/// Cuts a page fetched with `limit + 1` rows to `limit`, and makes the cursor of its last row.
pub fn finish_page<T>(mut rows: Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> Cursor) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| cursor_of(r).encode());
        (rows, next)
    } else {
        (rows, None)
    }
}

/// The key and id after which a page starts, for a text sort key.
pub fn text_after(cursor: &Option<Cursor>) -> Option<(String, String)> {
    cursor.as_ref().map(|c| (c.key.clone().unwrap_or_default(), c.id.clone()))
}

/// The key and id after which a page starts, for a timestamp sort key. A time in the future is
/// no cursor this API issued: refused like any other tampered cursor.
pub fn time_after(cursor: &Option<Cursor>) -> Result<Option<(chrono::NaiveDateTime, String)>, ApiError> {
    cursor
        .as_ref()
        .map(|c| {
            let t = parse_timestamp_key(c.key.as_deref().unwrap_or(""))?;
            if t > chrono::Utc::now().naive_utc() + chrono::Duration::seconds(5) {
                return Err(parse_timestamp_key("future").unwrap_err());
            }
            Ok((t, c.id.clone()))
        })
        .transpose()
}

/// The key and id after which a page starts, for a date sort key.
pub fn date_after(cursor: &Option<Cursor>) -> Result<Option<(chrono::NaiveDate, String)>, ApiError> {
    cursor
        .as_ref()
        .map(|c| {
            let key = c.key.as_deref().unwrap_or("");
            let date = chrono::NaiveDate::parse_from_str(key, "%Y-%m-%d").map_err(|_| ApiError::BadRequest {
                code: "invalid_cursor",
                detail: "the cursor is not one this API issued for this sort; start again without it".into(),
                errors: vec![FieldError::new("cursor", "invalid_cursor", "not a valid cursor")],
            })?;
            Ok((date, c.id.clone()))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor { sort: "code".into(), key: Some("01".into()), id: "abc".into() };
        assert_eq!(Cursor::decode(&c.encode(), "code").unwrap(), c);
    }

    #[test]
    fn tampered_cursors_are_rejected() {
        let c = Cursor { sort: "code".into(), key: None, id: "abc".into() }.encode();
        assert!(Cursor::decode(&c, "name").is_err());
        assert!(Cursor::decode("not base64!", "code").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode(b"{\"s\":1}"), "code").is_err());
        assert!(Cursor::decode(&"A".repeat(5000), "code").is_err());
    }

    #[test]
    fn a_cursor_from_the_future_is_refused() {
        let c = |key: &str| Some(Cursor { sort: "updated_at".into(), key: Some(key.into()), id: "x".into() });
        assert!(time_after(&c("2025-01-01T00:00:00.000000")).is_ok());
        assert!(time_after(&c("2999-01-01T00:00:00.000000")).is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).unwrap(), 50);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
        assert_eq!(limit(Some(200)).unwrap(), 200);
    }
}
