//! Search folding: case and Vietnamese diacritics are ignored, so "dan van kheo" finds
//! "Dân vận khéo" and "đ" matches "d".

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `q` search parameter: at most 200 characters; blank means no search.
pub fn search_query(q: Option<String>) -> Result<Option<String>, crate::error::ApiError> {
    match q {
        Some(q) if q.chars().count() > 200 => Err(crate::error::ApiError::BadRequest {
            code: "invalid_query",
            detail: "q must be at most 200 characters".into(),
            errors: vec![crate::error::FieldError::new("q", "too_long", "must be at most 200 characters")],
        }),
        q => Ok(q.filter(|q| !q.trim().is_empty())),
    }
}

/// An FTS5 trigram query matching `needle` anywhere (as `contains_pattern` does), when the folded
/// needle is long enough for a trigram index (three characters or more): one quoted phrase.
pub fn trigram_phrase(needle: &str) -> Option<String> {
    let folded = fold(needle);
    (folded.chars().count() >= 3).then(|| format!("\"{}\"", folded.replace('"', "\"\"")))
}

/// A LIKE pattern matching `needle` anywhere, with LIKE's wildcards escaped (escape char `\`).
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in fold(needle).chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigram_phrase_is_the_folded_needle_quoted() {
        assert_eq!(trigram_phrase("Đường  \"Bê\" tông").as_deref(), Some("\"duong \"\"be\"\" tong\""));
        assert_eq!(trigram_phrase("ab"), None, "shorter than a trigram");
        assert_eq!(trigram_phrase("Ấp").as_deref(), None);
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Thành phố Hà Nội"), "thanh pho ha noi");
        assert_eq!(fold("HÀ NỘI"), "ha noi");
        assert_eq!(fold("Đắk Lắk"), "dak lak");
        assert_eq!(fold("Dân vận  khéo"), "dan van kheo");
        assert_eq!(fold("Quảng Trị"), fold("quang tri"));
    }

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(contains_pattern("50%_x"), "%50\\%\\_x%");
    }
}
