//! The dates records carry: the day a thing happened (a plan issued, a model registered, a
//! decision signed), which is not the day it was typed in. Offices enter a year's records months
//! later, so such a date may lie in any past year; never in the future.

use chrono::{Datelike, NaiveDate};

use crate::error::FieldError;

/// The earliest year a record may be dated in.
pub const FIRST_YEAR: i32 = 2000;

/// Checks a record's own date: today or earlier, and in 2000 or later.
pub fn check(field: &str, date: NaiveDate, today: NaiveDate, errors: &mut Vec<FieldError>) {
    if date > today {
        errors.push(FieldError::new(field, "in_future", "a record is dated today or earlier"));
    } else if date.year() < FIRST_YEAR {
        errors.push(FieldError::new(field, "out_of_range", format!("must be in {FIRST_YEAR} or later")));
    }
}

/// Checks a record's own date against its unit's life: not before the unit came into being, not
/// on or after the day it closed.
pub fn check_within_unit(field: &str, date: NaiveDate, unit: &crate::tree::UnitRow, errors: &mut Vec<FieldError>) {
    if unit.established_on.is_some_and(|from| date < from) {
        errors.push(FieldError::new(
            field,
            "before_unit",
            format!(
                "{} came into being on {}; a record of it is dated on or after that",
                unit.name,
                unit.established_on.unwrap_or(date)
            ),
        ));
    }
    if unit.closed_on.is_some_and(|closed| date >= closed) {
        errors.push(FieldError::new(
            field,
            "after_unit_closed",
            format!("{} closed on {}; a record of it is dated before that", unit.name, unit.closed_on.unwrap_or(date)),
        ));
    }
}

/// A record's own date, when given, checked against today and its unit's life: 422 naming
/// `field` otherwise.
pub fn checked(
    field: &str,
    on: Option<NaiveDate>,
    unit: &crate::tree::UnitRow,
) -> Result<Option<NaiveDate>, crate::error::ApiError> {
    let mut errors = Vec::new();
    if let Some(on) = on {
        check(field, on, crate::db::today(), &mut errors);
        check_within_unit(field, on, unit, &mut errors);
    }
    crate::error::ApiError::unless_any(errors)?;
    Ok(on)
}

/// `checked` for a unit known by id; the unit is read only when a date is given.
pub fn checked_for(
    conn: &mut crate::db::DbConnection,
    field: &str,
    on: Option<NaiveDate>,
    unit_id: &str,
) -> Result<Option<NaiveDate>, crate::error::ApiError> {
    if on.is_none() {
        return Ok(None);
    }
    match crate::tree::find(conn, unit_id)? {
        Some(unit) => checked(field, on, &unit),
        None => Err(crate::error::ApiError::internal("a record's unit is missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_records_date_is_past_and_not_ancient() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut errors = vec![];
        check("d", NaiveDate::from_ymd_opt(2023, 5, 1).unwrap(), today, &mut errors);
        check("d", today, today, &mut errors);
        assert!(errors.is_empty());
        check("d", NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), today, &mut errors);
        check("d", NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(), today, &mut errors);
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["in_future", "out_of_range"]);
    }
}
