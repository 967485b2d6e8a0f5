//! The rules of campaigns, as plain functions.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

use crate::error::FieldError;
use crate::lifecycle::Lifecycle;
use crate::units::rules::{clean_long_text, clean_text};

use super::types::{CampaignAction, CampaignStatus, CriteriaSet, Directive, ReviewPoint, Target, TargetMetric};
use crate::vocabulary::Field;

use CampaignAction::*;
use CampaignStatus::*;

pub const LIFECYCLE: Lifecycle<CampaignStatus, CampaignAction> = Lifecycle {
    transitions: &[
        (Draft, Launch, Active),
        (Active, Close, Closed),
        (Draft, Cancel, Cancelled),
        (Active, Cancel, Cancelled),
    ],
};

/// What a campaign says, whole: checked together because its parts constrain each other.
#[derive(Debug, Clone)]
pub struct Content {
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub fields: Vec<Field>,
    pub directives: Vec<Directive>,
    pub targets: Vec<Target>,
    pub review_points: Vec<ReviewPoint>,
    pub criteria_sets: Vec<CriteriaSet>,
}

/// Every problem of a campaign's content, with its path. `parent` is the period of the campaign
/// it implements.
pub fn check(c: &mut Content, parent: Option<(NaiveDate, NaiveDate)>) -> Vec<FieldError> {
    fn text(field: &str, value: &mut String, max: usize, errors: &mut Vec<FieldError>) {
        match clean_text(field, value, max) {
            Ok(v) => *value = v,
            Err(e) => errors.push(e),
        }
    }
    let mut errors = Vec::new();
    text("code", &mut c.code, 64, &mut errors);
    text("title", &mut c.title, 500, &mut errors);
    match clean_long_text("description", c.description.as_deref(), 10_000) {
        Ok(d) => c.description = d,
        Err(e) => errors.push(e),
    }
    for (field, date) in [("starts_on", c.starts_on), ("ends_on", c.ends_on)] {
        if !(2000..=2100).contains(&date.year()) {
            errors.push(FieldError::new(field, "out_of_range", "must be a date between 2000 and 2100"));
        }
    }
    if c.starts_on > c.ends_on {
        errors.push(FieldError::new("ends_on", "before_start", "must not be before starts_on"));
    }
    if let Some((p_start, p_end)) = parent {
        if c.starts_on < p_start || c.ends_on > p_end {
            errors.push(FieldError::new(
                "starts_on",
                "outside_parent_period",
                format!("the period must lie within the parent campaign's ({p_start} to {p_end})"),
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, f) in c.fields.iter().enumerate() {
        if !seen.insert(*f) {
            errors.push(FieldError::new(format!("fields[{i}]"), "duplicate", format!("{f} is listed twice")));
        }
    }
    let mut numbers = HashSet::new();
    for (i, d) in c.directives.iter_mut().enumerate() {
        text(&format!("directives[{i}].number"), &mut d.number, 64, &mut errors);
        text(&format!("directives[{i}].issuer"), &mut d.issuer, 255, &mut errors);
        text(&format!("directives[{i}].title"), &mut d.title, 500, &mut errors);
        if !numbers.insert(d.number.clone()) {
            errors.push(FieldError::new(format!("directives[{i}].number"), "duplicate", "each directive once"));
        }
        if d.date.year() < 1930 || d.date > c.ends_on {
            errors.push(FieldError::new(
                format!("directives[{i}].date"),
                "out_of_range",
                "a directive dates from before the campaign ends",
            ));
        }
    }
    let mut targets = HashSet::new();
    for (i, t) in c.targets.iter().enumerate() {
        let at = |f: &str| format!("targets[{i}].{f}");
        match t.metric {
            TargetMetric::UnitsWithPlanRatio | TargetMetric::UnitsWithModelRatio => {
                if t.level.is_none() {
                    errors.push(FieldError::new(at("level"), "required", "a ratio counts the units of one level"));
                }
                if !(0.0..=1.0).contains(&t.threshold) {
                    errors.push(FieldError::new(at("threshold"), "out_of_range", "a ratio lies between 0 and 1"));
                }
            }
            TargetMetric::ModelsPerUnitPerYear => {
                if !(0.0..=1000.0).contains(&t.threshold) {
                    errors.push(FieldError::new(at("threshold"), "out_of_range", "must be between 0 and 1000"));
                }
            }
        }
        if !targets.insert((t.metric, t.level, t.unit_kind)) {
            errors.push(FieldError::new(at("metric"), "duplicate", "each metric once per level and unit kind"));
        }
    }
    let mut points = HashSet::new();
    for (i, p) in c.review_points.iter().enumerate() {
        if p.due_on < c.starts_on || p.due_on > c.ends_on {
            errors.push(FieldError::new(
                format!("review_points[{i}].due_on"),
                "outside_period",
                "must lie within the campaign's period",
            ));
        }
        if !points.insert((p.kind, p.due_on)) {
            errors.push(FieldError::new(format!("review_points[{i}]"), "duplicate", "each review point once"));
        }
    }
    let mut set_codes = HashSet::new();
    for (i, set) in c.criteria_sets.iter_mut().enumerate() {
        text(&format!("criteria_sets[{i}].code"), &mut set.code, 32, &mut errors);
        text(&format!("criteria_sets[{i}].name"), &mut set.name, 255, &mut errors);
        if !set_codes.insert(set.code.clone()) {
            errors.push(FieldError::new(
                format!("criteria_sets[{i}].code"),
                "duplicate",
                "each criteria set code once",
            ));
        }
        let mut codes = HashSet::new();
        for (j, criterion) in set.criteria.iter_mut().enumerate() {
            let at = |f: &str| format!("criteria_sets[{i}].criteria[{j}].{f}");
            text(&at("code"), &mut criterion.code, 32, &mut errors);
            text(&at("title"), &mut criterion.title, 500, &mut errors);
            if !codes.insert(criterion.code.clone()) {
                errors.push(FieldError::new(at("code"), "duplicate", "each criterion code once in a set"));
            }
            if !(criterion.max_score > 0.0 && criterion.max_score <= 1000.0) {
                errors.push(FieldError::new(at("max_score"), "out_of_range", "must be above 0 and at most 1000"));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::types::Level;
    use crate::vocabulary::ReviewKind;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn content() -> Content {
        Content {
            code: "07-KH/BDV".into(),
            title: "Dân vận khéo 2023–2025".into(),
            description: None,
            starts_on: d("2023-01-01"),
            ends_on: d("2025-12-31"),
            fields: vec![Field::Economy],
            directives: vec![],
            targets: vec![Target {
                metric: TargetMetric::UnitsWithPlanRatio,
                level: Some(Level::Commune),
                unit_kind: None,
                threshold: 1.0,
                comparison: Default::default(),
            }],
            review_points: vec![ReviewPoint { kind: ReviewKind::MidTerm, due_on: d("2024-06-30") }],
            criteria_sets: vec![],
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.code.as_str()).collect()
    }

    #[test]
    fn a_good_campaign_passes() {
        assert!(check(&mut content(), Some((d("2021-01-01"), d("2025-12-31")))).is_empty());
    }

    #[test]
    fn periods_nest() {
        let mut c = content();
        assert_eq!(codes(&check(&mut c, Some((d("2023-06-01"), d("2025-12-31"))))), vec!["outside_parent_period"]);
        c.ends_on = d("2022-01-01");
        assert!(codes(&check(&mut c, None)).contains(&"before_start"));
    }

    #[test]
    fn targets_and_review_points() {
        let mut c = content();
        c.targets.push(Target {
            metric: TargetMetric::UnitsWithModelRatio,
            level: None,
            unit_kind: None,
            threshold: 1.5,
            comparison: Default::default(),
        });
        c.targets.push(c.targets[0].clone());
        c.review_points.push(ReviewPoint { kind: ReviewKind::Final, due_on: d("2026-01-01") });
        c.review_points.push(c.review_points[0].clone());
        let errors = check(&mut c, None);
        assert_eq!(codes(&errors), vec!["required", "out_of_range", "duplicate", "outside_period", "duplicate"]);
        assert_eq!(errors[0].field, "targets[1].level");
    }
}
