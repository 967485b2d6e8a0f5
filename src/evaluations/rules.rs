//! The rules of evaluations, as plain functions.

use std::collections::HashSet;

use crate::campaigns::types::CriteriaSet;
use crate::error::FieldError;
use crate::vocabulary::{ModelKind, Subject};

use super::types::{Decision, Score, ScoredCriterion, Verdict};

/// The criteria set an evaluation scores against: the one named, which must fit the model, or,
/// when none is named, the only one that fits.
pub fn choose_set<'a>(
    sets: &'a [CriteriaSet],
    code: Option<&str>,
    subject: Subject,
    kind: ModelKind,
) -> Result<&'a CriteriaSet, FieldError> {
    let fits = |s: &CriteriaSet| {
        s.applies_to.subject.is_none_or(|x| x == subject) && s.applies_to.kind.is_none_or(|x| x == kind)
    };
    let field = "criteria_set_code";
    match code {
        Some(code) => {
            let set = sets.iter().find(|s| s.code == code).ok_or_else(|| {
                FieldError::new(field, "unknown_criteria_set", "the campaign has no criteria set with this code")
            })?;
            if fits(set) {
                Ok(set)
            } else {
                Err(FieldError::new(field, "criteria_set_not_applicable", "this set is for another kind of model"))
            }
        }
        None => {
            let fitting: Vec<&CriteriaSet> = sets.iter().filter(|s| fits(s)).collect();
            match fitting.as_slice() {
                [one] => Ok(one),
                [] => Err(FieldError::new(field, "no_criteria_set", "the campaign has no criteria set for this model")),
                _ => Err(FieldError::new(field, "required", "several of the campaign's criteria sets fit; name one")),
            }
        }
    }
}

/// The set's criteria, none scored yet: an evaluation cannot invent criteria.
pub fn unscored(set: &CriteriaSet) -> Vec<ScoredCriterion> {
    set.criteria
        .iter()
        .map(|c| ScoredCriterion {
            code: c.code.clone(),
            title: c.title.clone(),
            max_score: c.max_score,
            required: c.required,
            score: None,
            note: None,
        })
        .collect()
}

/// Gives `scores` to their criteria; every problem with its path.
pub fn apply_scores(criteria: &mut [ScoredCriterion], scores: &[Score]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, s) in scores.iter().enumerate() {
        let at = |f: &str| format!("scores[{i}].{f}");
        if !seen.insert(s.code.as_str()) {
            errors.push(FieldError::new(at("code"), "duplicate", "each criterion once"));
            continue;
        }
        let Some(c) = criteria.iter_mut().find(|c| c.code == s.code) else {
            errors.push(FieldError::new(
                at("code"),
                "unknown_criterion",
                "the criteria set has no criterion of this code",
            ));
            continue;
        };
        if !(s.score.is_finite() && (0.0..=c.max_score).contains(&s.score)) {
            errors.push(FieldError::new(
                at("score"),
                "score_out_of_range",
                format!("must be between 0 and {} (the criterion's maximum)", c.max_score),
            ));
            continue;
        }
        match crate::units::rules::clean_long_text(&at("note"), s.note.as_deref(), 2000) {
            Ok(note) => {
                c.score = Some(s.score);
                c.note = note;
            }
            Err(e) => errors.push(e),
        }
    }
    errors
}

/// The sum of the scores given, rounded to hundredths so sums of decimals compare as written.
pub fn total(criteria: &[ScoredCriterion]) -> f64 {
    (criteria.iter().filter_map(|c| c.score).sum::<f64>() * 100.0).round() / 100.0
}

/// What must hold before a decision: every required criterion scored, a verdict and a decision,
/// and no recognition of a model that failed.
pub fn ready(criteria: &[ScoredCriterion], verdict: Option<Verdict>, decision: Option<Decision>) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = criteria
        .iter()
        .enumerate()
        .filter(|(_, c)| c.required && c.score.is_none())
        .map(|(i, c)| {
            FieldError::new(
                format!("criteria[{i}].score"),
                "required_criterion_unscored",
                format!("criterion {} is required: score it before finalising", c.code),
            )
        })
        .collect();
    if verdict.is_none() {
        errors.push(FieldError::new("verdict", "required", "a finalised evaluation has a verdict"));
    }
    if decision.is_none() {
        errors.push(FieldError::new("decision", "required", "a finalised evaluation decides"));
    }
    if verdict == Some(Verdict::Fail) && decision == Some(Decision::Recognize) {
        errors.push(FieldError::new("decision", "inconsistent_with_verdict", "a model that failed is not recognised"));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::types::{AppliesTo, Criterion};

    fn set(code: &str, subject: Option<Subject>) -> CriteriaSet {
        CriteriaSet {
            code: code.into(),
            name: code.into(),
            applies_to: AppliesTo { subject, kind: None },
            criteria: vec![
                Criterion { code: "TC1".into(), title: "A".into(), max_score: 30.0, required: true },
                Criterion { code: "TC2".into(), title: "B".into(), max_score: 70.0, required: false },
            ],
        }
    }

    #[test]
    fn the_set_that_fits() {
        let sets = [set("TT", Some(Subject::Collective)), set("CN", Some(Subject::Individual))];
        let pick = |code, subject| choose_set(&sets, code, subject, ModelKind::Comprehensive).map(|s| s.code.clone());
        assert_eq!(pick(None, Subject::Individual).unwrap(), "CN");
        assert_eq!(pick(Some("CN"), Subject::Collective).unwrap_err().code, "criteria_set_not_applicable");
        assert_eq!(pick(Some("XX"), Subject::Collective).unwrap_err().code, "unknown_criteria_set");
        let open = [set("A", None), set("B", None)];
        assert_eq!(choose_set(&open, None, Subject::Collective, ModelKind::ByField).unwrap_err().code, "required");
    }

    #[test]
    fn scores_stay_within_their_criteria() {
        let mut c = unscored(&set("TT", None));
        let s = |code: &str, score: f64| Score { code: code.into(), score, note: None };
        let errors = apply_scores(&mut c, &[s("TC1", 31.0), s("TC9", 1.0), s("TC2", 70.0), s("TC2", 1.0)]);
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["score_out_of_range", "unknown_criterion", "duplicate"]);
        assert_eq!(total(&c), 70.0);
        assert_eq!(ready(&c, Some(Verdict::Good), Some(Decision::Recognize))[0].code, "required_criterion_unscored");
        assert!(apply_scores(&mut c, &[s("TC1", 0.1), s("TC2", 0.2)]).is_empty());
        assert_eq!(total(&c), 0.3);
        assert!(ready(&c, Some(Verdict::Good), Some(Decision::Recognize)).is_empty());
        assert_eq!(ready(&c, Some(Verdict::Fail), Some(Decision::Recognize))[0].code, "inconsistent_with_verdict");
    }
}
