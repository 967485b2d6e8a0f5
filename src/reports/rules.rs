//! Report rules with no database: parsing `group_by` and filter lists, laying out counts as rows,
//! subtotals and a total, judging targets, and turning a report into a sheet.

use std::collections::{BTreeSet, HashMap};

use crate::error::{ApiError, FieldError};
use crate::http::export::{Cell, Table};
use crate::labels::{label, Lang};
use crate::StrEnum;

use super::types::{GroupValue, Report, ReportRow, ReportUnit, Subtotal, TargetReport};

/// Counts by the values of the grouped dimensions, in `group_by` order.
pub type Counts = HashMap<Vec<String>, i64>;

/// `group_by`: one or two distinct dimensions.
pub fn group_by<D: StrEnum>(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Vec<D> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return vec![] };
    let mut out = Vec::new();
    for part in raw.split(',') {
        let Some(d) = D::parse(part.trim()) else {
            errors.push(FieldError::new(
                "group_by",
                "unknown_dimension",
                format!("{part:?} is not one of {}", D::names()),
            ));
            return vec![];
        };
        if out.contains(&d) {
            errors.push(FieldError::new("group_by", "duplicate", "each dimension once"));
            return vec![];
        }
        out.push(d);
    }
    if out.len() > 2 {
        errors.push(FieldError::new("group_by", "too_many", "group by one or two dimensions"));
        return vec![];
    }
    out
}

/// A comma-separated filter of codes of `T`, each checked.
pub fn codes<T: StrEnum>(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Vec<&'static str> {
    let mut out = Vec::new();
    for part in raw.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match T::parse(part) {
            Some(v) if !out.contains(&v.as_str()) => out.push(v.as_str()),
            Some(_) => {}
            None => {
                errors.push(FieldError::new(field, "invalid_value", format!("{part:?} is not one of {}", T::names())))
            }
        }
    }
    out
}

/// A year range: each bound within 2000–2100, and in order.
pub fn years(from: Option<i32>, to: Option<i32>, errors: &mut Vec<FieldError>) -> (Option<i32>, Option<i32>) {
    for (name, y) in [("year_from", from), ("year_to", to)] {
        if y.is_some_and(|y| !(2000..=2100).contains(&y)) {
            errors.push(FieldError::new(name, "out_of_range", "must be between 2000 and 2100"));
        }
    }
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            errors.push(FieldError::new("year_to", "before_year_from", "must not be before year_from"));
        }
    }
    (from, to)
}

/// The values one dimension shows, in order: the key counts are matched on, and its label.
#[derive(Debug, Clone)]
pub struct Axis {
    pub dimension: &'static str,
    pub values: Vec<(String, GroupValue)>,
}

impl Axis {
    /// An axis of codes: `codes` (all of them, or those filtered on) and any other value seen,
    /// `''` being "none".
    pub fn of_codes<'a>(
        dimension: &'static str,
        lang: Lang,
        codes: &[&str],
        seen: impl Iterator<Item = &'a String>,
    ) -> Axis {
        let seen: BTreeSet<&String> = seen.collect();
        let mut keys: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
        keys.extend(seen.into_iter().filter(|k| !codes.contains(&k.as_str())).cloned());
        let values = keys
            .into_iter()
            .map(|k| {
                let value = GroupValue {
                    dimension: dimension.to_string(),
                    key: (!k.is_empty()).then(|| k.clone()),
                    label: label(lang, if k.is_empty() { "none" } else { &k }),
                    id: None,
                };
                (k, value)
            })
            .collect();
        Axis { dimension, values }
    }

    /// Years: the range asked for (when both ends are given and it spans at most 50 years) and
    /// any year seen, ascending.
    pub fn of_years<'a>(
        dimension: &'static str,
        range: (Option<i32>, Option<i32>),
        seen: impl Iterator<Item = &'a String>,
    ) -> Axis {
        let mut years: BTreeSet<i32> = seen.filter_map(|y| y.parse().ok()).collect();
        if let (Some(a), Some(b)) = range {
            if b - a <= 50 {
                years.extend(a..=b);
            }
        }
        let values = years
            .into_iter()
            .map(|y| {
                let key = y.to_string();
                let value = GroupValue {
                    dimension: dimension.to_string(),
                    key: Some(key.clone()),
                    label: key.clone(),
                    id: None,
                };
                (key, value)
            })
            .collect();
        Axis { dimension, values }
    }

    /// Units, as `(id, code, name)` in the order given.
    pub fn of_units(dimension: &'static str, units: Vec<(String, String, String)>) -> Axis {
        let values = units
            .into_iter()
            .map(|(id, code, name)| {
                let value =
                    GroupValue { dimension: dimension.to_string(), key: Some(code), label: name, id: Some(id.clone()) };
                (id, value)
            })
            .collect();
        Axis { dimension, values }
    }
}

/// What a model report counts without a `status` filter: registered models and what became of
/// them, never drafts, returned registrations or withdrawn models.
pub const REGISTERED_AND_BEYOND: &[crate::models::types::ModelStatus] = &[
    crate::models::types::ModelStatus::Registered,
    crate::models::types::ModelStatus::InProgress,
    crate::models::types::ModelStatus::Recognized,
    crate::models::types::ModelStatus::NotRecognized,
];

/// Lays counts out as every combination of the axes' values (zeros included), the subtotals of
/// each axis (with two), and the total. `distinct` overrides a subtotal or the total where adding
/// rows up would count a record twice (a model with two special-area tags).
pub fn lay_out(
    axes: &[Axis],
    counts: &Counts,
    distinct_subtotals: &[Option<HashMap<String, i64>>],
    distinct_total: Option<i64>,
) -> (Vec<ReportRow>, Vec<Subtotal>, i64) {
    let mut rows = Vec::new();
    match axes {
        [] => {}
        [a] => {
            for (k, v) in &a.values {
                rows.push(ReportRow {
                    groups: vec![v.clone()],
                    count: counts.get(&vec![k.clone()]).copied().unwrap_or(0),
                });
            }
        }
        [a, b, ..] => {
            for (ka, va) in &a.values {
                for (kb, vb) in &b.values {
                    let count = counts.get(&vec![ka.clone(), kb.clone()]).copied().unwrap_or(0);
                    rows.push(ReportRow { groups: vec![va.clone(), vb.clone()], count });
                }
            }
        }
    }
    let mut subtotals = Vec::new();
    if axes.len() == 2 {
        for (i, axis) in axes.iter().enumerate() {
            let given = distinct_subtotals.get(i).and_then(|d| d.as_ref());
            let rows = axis
                .values
                .iter()
                .map(|(k, v)| {
                    let count = match given {
                        Some(d) => d.get(k).copied().unwrap_or(0),
                        None => counts.iter().filter(|(key, _)| key[i] == *k).map(|(_, n)| n).sum(),
                    };
                    ReportRow { groups: vec![v.clone()], count }
                })
                .collect();
            subtotals.push(Subtotal { dimension: axis.dimension.to_string(), rows });
        }
    }
    let total = distinct_total.unwrap_or_else(|| counts.values().sum());
    (rows, subtotals, total)
}

/// A report as a sheet: a column per dimension and the count; then, with two dimensions, each
/// subtotal (the other column saying "all"); then the total.
pub fn report_table(name: &str, report: &Report, lang: Lang) -> Table {
    let mut headings: Vec<String> = report.group_by.iter().map(|d| label(lang, d)).collect();
    headings.push(label(lang, "count"));
    let width = report.group_by.len();
    let mut rows: Vec<Vec<Cell>> = report
        .rows
        .iter()
        .map(|r| {
            let mut cells: Vec<Cell> = r.groups.iter().map(|g| Cell::Text(g.label.clone())).collect();
            cells.push(Cell::Int(r.count));
            cells
        })
        .collect();
    for (i, sub) in report.subtotals.iter().enumerate() {
        for r in &sub.rows {
            let mut cells = vec![Cell::Text(format!("{} ({})", label(lang, "all"), label(lang, "subtotal"))); width];
            cells[i] = Cell::Text(r.groups[0].label.clone());
            cells.push(Cell::Int(r.count));
            rows.push(cells);
        }
    }
    let mut total = vec![Cell::Empty; width];
    match total.first_mut() {
        Some(first) => *first = Cell::Text(label(lang, "total")),
        None => headings.insert(0, String::new()),
    }
    if width == 0 {
        total.push(Cell::Text(label(lang, "total")));
    }
    total.push(Cell::Int(report.total));
    rows.push(total);
    Table { name: name.to_string(), headings, rows }
}

use crate::campaigns::types::Comparison;

/// Labels level values with the words of the day the report describes (`on`): a report of 2022
/// calls communes "xã, phường, thị trấn".
pub fn label_levels_on(rows: &mut [ReportRow], subtotals: &mut [Subtotal], lang: Lang, on: chrono::NaiveDate) {
    let relabel = |g: &mut GroupValue| {
        if matches!(g.dimension.as_str(), "level" | "registered_level" | "issuer_level") {
            if let Some(code) = &g.key {
                g.label = crate::labels::label_on(lang, code, on);
            }
        }
    };
    for row in rows.iter_mut().chain(subtotals.iter_mut().flat_map(|s| s.rows.iter_mut())) {
        row.groups.iter_mut().for_each(relabel);
    }
}

/// Whether a target is met: the ratio reaches the threshold (nothing to divide by is not met).
pub fn ratio(numerator: i64, denominator: i64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// "đạt 100 %" is at least the threshold; "trên 80 %" is more than it.
pub fn met(ratio: Option<f64>, threshold: f64, comparison: Comparison) -> bool {
    // A float ratio like 2/3 must meet a threshold typed as 0.6667 rounded: compare at 1e-9.
    ratio.is_some_and(|r| match comparison {
        Comparison::Gte => r + 1e-9 >= threshold,
        Comparison::Gt => r > threshold + 1e-9,
    })
}

/// Progress against targets as a sheet.
pub fn targets_table(report: &TargetReport, lang: Lang) -> Table {
    let headings = ["metric", "level", "unit_kind", "threshold", "numerator", "denominator", "ratio", "met"]
        .iter()
        .map(|h| label(lang, h))
        .collect();
    let rows = report
        .targets
        .iter()
        .map(|t| {
            vec![
                Cell::Text(label(lang, t.metric.as_str())),
                t.level
                    .map(|l| Cell::Text(crate::labels::label_on(lang, l.as_str(), report.structure_on)))
                    .unwrap_or(Cell::Empty),
                t.unit_kind.map(|k| Cell::Text(label(lang, k.as_str()))).unwrap_or(Cell::Empty),
                Cell::Float(t.threshold),
                Cell::Int(t.numerator),
                Cell::Int(t.denominator),
                t.ratio.map(Cell::Float).unwrap_or(Cell::Empty),
                Cell::Text(label(lang, if t.met { "yes" } else { "no" })),
            ]
        })
        .collect();
    Table { name: format!("targets-{}", report.campaign.code.replace(['/', '\\'], "-")), headings, rows }
}

/// The unit a report is about, for its heading.
pub fn report_unit(row: &crate::tree::UnitRow) -> Result<ReportUnit, ApiError> {
    Ok(ReportUnit { id: row.id.clone(), code: row.code.clone(), name: row.name.clone(), level: row.level })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(entries: &[(&[&str], i64)]) -> Counts {
        entries.iter().map(|(k, n)| (k.iter().map(|s| s.to_string()).collect(), *n)).collect()
    }

    #[test]
    fn two_dimensions_give_every_cell_subtotals_and_a_total() {
        let c = counts(&[(&["economy", "2024"], 2), (&["", "2025"], 1)]);
        let field = Axis::of_codes("field", Lang::En, &["economy"], c.keys().map(|k| &k[0]));
        let year = Axis::of_years("year", (None, None), c.keys().map(|k| &k[1]));
        let (rows, subtotals, total) = lay_out(&[field, year], &c, &[], None);
        let cells: Vec<(Option<String>, Option<String>, i64)> =
            rows.iter().map(|r| (r.groups[0].key.clone(), r.groups[1].key.clone(), r.count)).collect();
        assert_eq!(
            cells,
            vec![
                (Some("economy".into()), Some("2024".into()), 2),
                (Some("economy".into()), Some("2025".into()), 0),
                (None, Some("2024".into()), 0),
                (None, Some("2025".into()), 1),
            ]
        );
        assert_eq!(subtotals[0].rows.iter().map(|r| r.count).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(subtotals[1].rows.iter().map(|r| r.count).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(total, 3);
        assert_eq!(rows[2].groups[0].label, "None");
    }

    #[test]
    fn group_by_takes_one_or_two_distinct_dimensions() {
        use super::super::types::ModelDimension as D;
        let parse = |raw: Option<&str>| {
            let mut errors = vec![];
            let out = group_by::<D>(raw, &mut errors);
            (out, errors.len())
        };
        assert_eq!(parse(Some("field,level")), (vec![D::Field, D::Level], 0));
        assert_eq!(parse(Some("field,field")).1, 1);
        assert_eq!(parse(Some("field,level,year")).1, 1);
        assert_eq!(parse(Some("colour")).1, 1);
        assert_eq!(parse(None), (vec![], 0));
    }

    #[test]
    fn levels_are_labelled_with_the_words_of_their_day() {
        let on = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(crate::labels::label_on(Lang::Vi, "commune", on(2022, 12, 31)), "Xã, phường, thị trấn");
        assert_eq!(crate::labels::label_on(Lang::Vi, "commune", on(2025, 6, 30)), "Xã, phường, thị trấn");
        assert_eq!(crate::labels::label_on(Lang::Vi, "commune", on(2025, 7, 1)), "Xã, phường, đặc khu");
        assert_eq!(crate::labels::label_on(Lang::Vi, "district", on(2022, 1, 1)), "Huyện");
    }

    #[test]
    fn targets_are_met_at_the_threshold() {
        use Comparison::*;
        assert!(met(ratio(3, 4), 0.75, Gte));
        assert!(!met(ratio(2, 4), 0.75, Gte));
        assert!(!met(ratio(0, 0), 0.0, Gte));
        assert!(met(ratio(2, 3), 0.6666666666, Gte));
        // "trên 80 %": 8 of 10 is not more than 80 %, 9 of 10 is.
        assert!(!met(ratio(8, 10), 0.8, Gt));
        assert!(met(ratio(9, 10), 0.8, Gt));
    }
}
