//! The rules of models, as plain functions.

use std::collections::HashSet;

use crate::error::FieldError;
use crate::lifecycle::Lifecycle;
use crate::units::rules::{clean_long_text, clean_text};
use crate::units::types::Level;
use crate::vocabulary::{Field, ModelKind, SpecialArea, Subject};

use super::types::{Indicator, IndicatorValue, ModelAction, ModelStatus, Person};

use ModelAction::*;
use ModelStatus::*;

/// The registration lifecycle. Recognition is not an action here: finalising an evaluation moves
/// an in-progress model to recognized or not_recognized.
pub const LIFECYCLE: Lifecycle<ModelStatus, ModelAction> = Lifecycle {
    transitions: &[
        (Draft, Submit, Registered),
        (Returned, Submit, Registered),
        (Registered, Accept, InProgress),
        (Registered, Return, Returned),
        (Draft, Withdraw, Withdrawn),
        (Returned, Withdraw, Withdrawn),
        (Registered, Withdraw, Withdrawn),
        (InProgress, Withdraw, Withdrawn),
    ],
};

/// Who may take an action: editors of the owner's subtree submit and withdraw; reviewers of a
/// competent unit above accept and return.
pub fn reviewer_action(action: ModelAction) -> bool {
    matches!(action, Accept | Return)
}

/// Whether a model in `status` may still be changed by its owners.
pub fn editable(status: ModelStatus) -> bool {
    matches!(status, Draft | Returned)
}

/// Largest magnitude of an indicator value: beyond it figures are typing errors.
const MAX_FIGURE: f64 = 1e15;

/// What a model says, whole: checked together because its parts constrain each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    pub title: String,
    pub description: Option<String>,
    pub subject: Subject,
    pub person: Option<Person>,
    pub kind: ModelKind,
    pub field: Option<Field>,
    pub special_areas: Vec<SpecialArea>,
    pub registered_level: Level,
    pub year: i32,
    pub objectives: Option<String>,
    pub indicators: Vec<Indicator>,
}

/// Where a model sits: the owner's level and the years its campaign runs.
pub struct Context {
    pub owner_level: Level,
    pub campaign_years: (i32, i32),
}

fn text(field: &str, value: &mut String, max: usize, errors: &mut Vec<FieldError>) {
    match clean_text(field, value, max) {
        Ok(v) => *value = v,
        Err(e) => errors.push(e),
    }
}

fn optional_text(field: &str, value: &mut Option<String>, max: usize, errors: &mut Vec<FieldError>) {
    match clean_long_text(field, value.as_deref(), max) {
        Ok(v) => *value = v,
        Err(e) => errors.push(e),
    }
}

/// Every problem of a model's content, with its path; cleans the texts it keeps.
pub fn check(c: &mut Content, ctx: &Context) -> Vec<FieldError> {
    let mut errors = Vec::new();
    text("title", &mut c.title, 500, &mut errors);
    optional_text("description", &mut c.description, 10_000, &mut errors);
    optional_text("objectives", &mut c.objectives, 10_000, &mut errors);
    match (c.subject, &mut c.person) {
        (Subject::Individual, None) => {
            errors.push(FieldError::new("person", "required", "an individual exemplar names its person"))
        }
        (Subject::Individual, Some(p)) => {
            text("person.full_name", &mut p.full_name, 255, &mut errors);
            text("person.position", &mut p.position, 255, &mut errors);
        }
        (Subject::Collective, Some(_)) => {
            errors.push(FieldError::new("person", "not_allowed", "a collective model names no person"))
        }
        (Subject::Collective, None) => {}
    }
    match (c.kind, c.field) {
        (ModelKind::ByField, None) => {
            errors.push(FieldError::new("field", "required", "a by-field model names its field"))
        }
        (ModelKind::Comprehensive, Some(_)) => {
            errors.push(FieldError::new("field", "not_allowed", "a comprehensive model covers every field; name none"))
        }
        _ => {}
    }
    let mut seen = HashSet::new();
    for (i, area) in c.special_areas.iter().enumerate() {
        if !seen.insert(*area) {
            errors.push(FieldError::new(format!("special_areas[{i}]"), "duplicate", format!("{area} is listed twice")));
        }
    }
    if !c.registered_level.at_or_above(ctx.owner_level) {
        errors.push(FieldError::new(
            "registered_level",
            "below_owner_level",
            format!("a model of a {} unit registers at that level or above", ctx.owner_level),
        ));
    }
    let (first, last) = ctx.campaign_years;
    if c.year < first || c.year > last {
        errors.push(FieldError::new(
            "year",
            "outside_campaign",
            format!("must lie within the campaign's years ({first} to {last})"),
        ));
    }
    let mut names = HashSet::new();
    for (i, ind) in c.indicators.iter_mut().enumerate() {
        let at = |f: &str| format!("indicators[{i}].{f}");
        text(&at("name"), &mut ind.name, 200, &mut errors);
        if !names.insert(crate::http::text::fold(&ind.name)) {
            errors.push(FieldError::new(at("name"), "duplicate", "each indicator once"));
        }
        if let Some(u) = &mut ind.unit {
            if u.trim().is_empty() {
                ind.unit = None;
            } else {
                text(&at("unit"), u, 50, &mut errors);
            }
        }
        for (name, value) in [("target", ind.target), ("actual", ind.actual)] {
            if value.is_some_and(|v| !(v.is_finite() && v.abs() <= MAX_FIGURE)) {
                errors.push(FieldError::new(at(name), "out_of_range", "must be a number of magnitude at most 1e15"));
            }
        }
        if ind.target.is_some_and(|t| t < 0.0) {
            errors.push(FieldError::new(at("target"), "out_of_range", "must not be negative"));
        }
    }
    errors
}

/// Checks a progress report's figures against the model's indicators, and returns the
/// indicators with the reported values as their latest `actual`.
pub fn apply_progress(indicators: &[Indicator], values: &[IndicatorValue]) -> Result<Vec<Indicator>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out = indicators.to_vec();
    let mut seen = HashSet::new();
    for (i, v) in values.iter().enumerate() {
        let at = |f: &str| format!("indicator_values[{i}].{f}");
        let key = crate::http::text::fold(&v.name);
        if !seen.insert(key.clone()) {
            errors.push(FieldError::new(at("name"), "duplicate", "each indicator once"));
            continue;
        }
        match out.iter_mut().find(|ind| crate::http::text::fold(&ind.name) == key) {
            None => {
                errors.push(FieldError::new(at("name"), "unknown_indicator", "the model has no indicator of this name"))
            }
            Some(_) if !(v.value.is_finite() && v.value.abs() <= MAX_FIGURE) => {
                errors.push(FieldError::new(at("value"), "out_of_range", "must be a number of magnitude at most 1e15"))
            }
            Some(ind) => ind.actual = Some(v.value),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Content {
        Content {
            title: "Dân vận khéo trong xây dựng nông thôn mới".into(),
            description: None,
            subject: Subject::Collective,
            person: None,
            kind: ModelKind::ByField,
            field: Some(Field::Economy),
            special_areas: vec![SpecialArea::EthnicMinority],
            registered_level: Level::District,
            year: 2024,
            objectives: None,
            indicators: vec![Indicator {
                name: "Đường".into(),
                unit: Some("km".into()),
                target: Some(5.0),
                actual: None,
            }],
        }
    }

    fn ctx() -> Context {
        Context { owner_level: Level::Commune, campaign_years: (2023, 2025) }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect()
    }

    #[test]
    fn a_good_model_passes() {
        assert!(check(&mut content(), &ctx()).is_empty());
    }

    #[test]
    fn each_field_in_its_case() {
        let mut c = content();
        c.subject = Subject::Individual;
        c.kind = ModelKind::Comprehensive;
        assert_eq!(codes(&check(&mut c, &ctx())), vec![("person", "required"), ("field", "not_allowed")]);
        let mut c = content();
        c.person = Some(Person { full_name: "A".into(), position: "B".into() });
        c.field = None;
        assert_eq!(codes(&check(&mut c, &ctx())), vec![("person", "not_allowed"), ("field", "required")]);
    }

    #[test]
    fn levels_years_and_indicators() {
        let mut c = content();
        c.registered_level = Level::Village;
        c.year = 2026;
        c.special_areas.push(SpecialArea::EthnicMinority);
        c.indicators.push(Indicator { name: "duong".into(), unit: None, target: Some(-1.0), actual: None });
        assert_eq!(
            codes(&check(&mut c, &ctx())),
            vec![
                ("special_areas[1]", "duplicate"),
                ("registered_level", "below_owner_level"),
                ("year", "outside_campaign"),
                ("indicators[1].name", "duplicate"),
                ("indicators[1].target", "out_of_range"),
            ]
        );
    }

    #[test]
    fn progress_sets_the_latest_values() {
        let inds = content().indicators;
        let out = apply_progress(&inds, &[IndicatorValue { name: "ĐƯỜNG".into(), value: 3.5 }]).unwrap();
        assert_eq!(out[0].actual, Some(3.5));
        let err = apply_progress(&inds, &[IndicatorValue { name: "Cầu".into(), value: 1.0 }]).unwrap_err();
        assert_eq!(err[0].code, "unknown_indicator");
    }

    #[test]
    fn the_lifecycle() {
        assert_eq!(LIFECYCLE.apply(Draft, Submit).unwrap(), Registered);
        assert_eq!(LIFECYCLE.apply(Registered, Return).unwrap(), Returned);
        assert_eq!(LIFECYCLE.apply(Returned, Submit).unwrap(), Registered);
        assert!(LIFECYCLE.apply(Recognized, Withdraw).is_err());
        assert!(LIFECYCLE.apply(Draft, Accept).is_err());
        assert_eq!(LIFECYCLE.allowed(InProgress), vec![Withdraw]);
    }
}
