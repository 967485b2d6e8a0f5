//! The rules of the hierarchy, as plain functions.

use crate::error::FieldError;

use super::types::{Level, UnitKind};

/// A unit code: 1–32 letters, digits or `. _ / -`, kept as text (leading zeros matter: "01").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(raw: &str) -> Result<UnitCode, String> {
        let code = raw.trim();
        if code.is_empty() {
            return Err("must not be empty".into());
        }
        if code.len() > 32 {
            return Err("must be at most 32 characters".into());
        }
        if !code.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-')) {
            return Err("may hold only letters, digits and . _ / -".into());
        }
        Ok(UnitCode(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A trimmed, non-empty text of at most `max` characters, without control characters.
pub fn clean_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(field, "too_long", format!("must be at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(field, "invalid_characters", "must not contain control characters"));
    }
    Ok(text.to_string())
}

/// An optional long text (a description, a report): trimmed, blank becomes absent; line breaks
/// and tabs are kept, other control characters (NUL among them) are refused.
pub fn clean_long_text(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if text.chars().count() > max {
        return Err(FieldError::new(field, "too_long", format!("must be at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldError::new(field, "invalid_characters", "must not contain control characters"));
    }
    Ok(Some(text.to_string()))
}

/// Where a unit may sit. A child is at its parent's level or below. A locality's parent is a
/// higher locality (levels may be skipped: communes sit directly under provinces since 2025);
/// a body (party body, agency, school…) sits under a locality or another body, at its level or
/// below.
pub fn check_placement(
    kind: UnitKind,
    level: Level,
    parent_kind: UnitKind,
    parent_level: Level,
) -> Result<(), FieldError> {
    if level.rank() < parent_level.rank() {
        return Err(FieldError::new(
            "level",
            "level_above_parent",
            format!("a {level} unit cannot sit under a {parent_level} unit"),
        ));
    }
    if kind == UnitKind::Locality {
        if parent_kind != UnitKind::Locality {
            return Err(FieldError::new(
                "parent_id",
                "locality_under_body",
                "a locality sits under a higher locality, not under an agency or body",
            ));
        }
        if level == parent_level {
            return Err(FieldError::new(
                "level",
                "level_not_below_parent",
                format!("a {level} locality must sit under a higher locality"),
            ));
        }
    }
    if level == Level::Central && kind == UnitKind::Locality {
        return Err(FieldError::new("level", "level_not_below_parent", "there is one central locality: VN"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(UnitCode::parse(" 00004 ").unwrap().as_str(), "00004");
        assert!(UnitCode::parse("").is_err());
        assert!(UnitCode::parse("a b").is_err());
        assert!(UnitCode::parse("'; DROP TABLE units;--").is_err());
        assert!(UnitCode::parse(&"1".repeat(33)).is_err());
        assert!(UnitCode::parse("07-KH/BCĐ").is_err());
        assert!(UnitCode::parse("01-BDV").is_ok());
    }

    #[test]
    fn placement() {
        use Level::*;
        use UnitKind::*;
        // Communes directly under provinces (2025) and under districts (2024).
        assert!(check_placement(Locality, Commune, Locality, Province).is_ok());
        assert!(check_placement(Locality, Commune, Locality, District).is_ok());
        // A province's own Party bloc at province level, its bases below it.
        assert!(check_placement(PartyBody, Province, Locality, Province).is_ok());
        assert!(check_placement(PartyBody, Commune, PartyBody, Province).is_ok());
        // Not above the parent, not a locality at its parent's level, not under a body.
        assert!(check_placement(Locality, Province, Locality, Commune).is_err());
        assert!(check_placement(Locality, Province, Locality, Province).is_err());
        assert!(check_placement(Locality, Commune, School, Province).is_err());
        assert!(check_placement(School, Province, Locality, Commune).is_err());
    }

    #[test]
    fn text() {
        assert_eq!(clean_text("name", "  Xã A  ", 10).unwrap(), "Xã A");
        assert!(clean_text("name", "   ", 10).is_err());
        assert!(clean_text("name", "a\u{0}b", 10).is_err());
        assert!(clean_text("name", "ă".repeat(11).as_str(), 10).is_err());
    }
}
