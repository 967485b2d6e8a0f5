//! Reports: parse the request, check the scope, count in the database, lay the counts out.

use chrono::Datelike;

use crate::auth::Actor;
use crate::campaigns::types::TargetMetric;
use crate::commendations::types::{CommendationStatus, Form, IssuingAuthority};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::labels::{label, Lang};
use crate::models::types::ModelStatus;
use crate::units::types::Level;
use crate::vocabulary::{Field, ModelKind, Subject};
use crate::StrEnum;

use super::rules::{self, Axis, Counts};
use super::store::{self, CommendationFilter, ModelFilter};
use super::types::*;

/// A query parameter at fault is a 400 naming it, like every other malformed query.
fn bad_query(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::BadRequest {
        code: "invalid_query",
        detail: "the query parameters are not valid; see errors".into(),
        errors,
    })
}

/// A report's request, parsed: its root, its dimensions, its filter.
#[derive(Debug, Clone)]
pub struct ReportRequest<D, F> {
    pub unit_id: Option<String>,
    pub include_predecessors: bool,
    pub group_by: Vec<D>,
    pub filter: F,
    pub lang: Lang,
}

pub type ModelReportRequest = ReportRequest<ModelDimension, ModelFilter>;
pub type CommendationReportRequest = ReportRequest<CommendationDimension, CommendationFilter>;

impl<D, F> ReportRequest<D, F> {
    /// The request, unless a parameter was at fault (400 listing each).
    fn checked(
        errors: Vec<FieldError>,
        unit_id: Option<String>,
        include_predecessors: Option<bool>,
        group_by: Vec<D>,
        filter: F,
        lang: Option<Lang>,
    ) -> Result<Self, ApiError> {
        bad_query(errors)?;
        let include_predecessors = include_predecessors.unwrap_or(false);
        Ok(ReportRequest { unit_id, include_predecessors, group_by, filter, lang: lang.unwrap_or_default() })
    }
}

impl ModelReportRequest {
    pub fn parse(q: ModelReportQuery) -> Result<Self, ApiError> {
        let mut e = Vec::new();
        let group_by = rules::group_by::<ModelDimension>(q.group_by.as_deref(), &mut e);
        let (year_from, year_to) = rules::years(q.year_from, q.year_to, &mut e);
        let filter = ModelFilter {
            campaign_id: q.campaign_id,
            year_from,
            year_to,
            status: match rules::codes::<ModelStatus>("status", q.status.as_deref(), &mut e) {
                // The movement's figures are of registered models: drafts, returned and
                // withdrawn ones count only when asked for.
                asked if asked.is_empty() => rules::REGISTERED_AND_BEYOND.iter().map(|s| s.as_str()).collect(),
                asked => asked,
            },
            kind: rules::codes::<ModelKind>("kind", q.kind.as_deref(), &mut e),
            field: rules::codes::<Field>("field", q.field.as_deref(), &mut e),
            subject: rules::codes::<Subject>("subject", q.subject.as_deref(), &mut e),
            registered_level: rules::codes::<Level>("registered_level", q.registered_level.as_deref(), &mut e),
            level: rules::codes::<Level>("level", q.level.as_deref(), &mut e),
            special_area: q.special_area.map(|a| a.as_str()),
        };
        Self::checked(e, q.unit_id, q.include_predecessors, group_by, filter, q.lang)
    }
}

/// The root of a report: a unit the actor sees (404 otherwise, as for any read).
fn root(conn: &mut DbConnection, actor: &Actor, unit_id: Option<&str>) -> Result<crate::tree::UnitRow, ApiError> {
    // Tokens and spreadsheets name units by code: the root may be either.
    let unit_id = crate::tree::resolve_opt(conn, unit_id)?;
    crate::units::service::visible(conn, actor, unit_id.as_deref().unwrap_or(&actor.unit_id))
}

/// The campaign filter must name a campaign the actor sees; an unknown one is a 422, not an
/// empty report that looks like "no models".
fn campaign_filter(conn: &mut DbConnection, actor: &Actor, id: Option<&str>) -> Result<(), ApiError> {
    if let Some(id) = id {
        crate::campaigns::service::visible(conn, actor, id).map_err(|e| {
            e.unresolved("campaign_id", "unknown_campaign", "no such campaign, or it is outside your scope")
        })?;
    }
    Ok(())
}

/// Units (the root's active children, plus any bucket with counts) as an axis, the root last.
fn unit_axis(
    conn: &mut DbConnection,
    root: &str,
    lang: Lang,
    counted: impl Iterator<Item = String>,
) -> Result<Axis, ApiError> {
    let mut ids = store::active_children(conn, root)?;
    for id in counted {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let labels = crate::tree::labels(conn, &ids)?;
    let (mut units, own): (Vec<_>, Vec<_>) = labels.into_iter().partition(|(id, _, _)| id != root);
    // The root's own models come last, named as such.
    units.extend(own.into_iter().map(|(id, code, name)| (id, code, format!("{name} ({})", label(lang, "own_models")))));
    Ok(Axis::of_units("unit", units))
}

/// The values a dimension's axis shows: all codes (or those filtered on) and any seen.
fn codes_or_all(filtered: &[&'static str], all: Vec<&'static str>) -> Vec<&'static str> {
    if filtered.is_empty() {
        all
    } else {
        filtered.to_vec()
    }
}

pub fn models_report(conn: &mut DbConnection, actor: &Actor, r: &ModelReportRequest) -> Result<Report, ApiError> {
    let root = root(conn, actor, r.unit_id.as_deref())?;
    campaign_filter(conn, actor, r.filter.campaign_id.as_deref())?;
    let by_unit = r.group_by.contains(&ModelDimension::Unit);
    let scopes = store::scopes(conn, &root.id, by_unit, r.include_predecessors)?;
    let columns: Vec<Option<&'static str>> = r.group_by.iter().map(|d| store::model_column(*d)).collect();
    let by_area = r.group_by.contains(&ModelDimension::SpecialArea);
    let areas = by_area || r.filter.special_area.is_some();
    let counts = store::model_counts(conn, &scopes, &columns, areas, &r.filter)?;
    // Grouped by tag, a model with two tags sits in two rows: the other dimension's subtotals and
    // the total count each model once, from the main counts.
    let (mut distinct_subtotals, mut distinct_total) = (vec![None, None], None);
    if by_area && r.filter.special_area.is_none() {
        let total = store::model_counts(conn, &scopes, &[], false, &r.filter)?;
        distinct_total = Some(total.values().sum());
        if let Some(i) = r.group_by.iter().position(|d| *d != ModelDimension::SpecialArea) {
            let other = store::model_counts(conn, &scopes, &columns[i..=i], false, &r.filter)?;
            distinct_subtotals[i] = Some(other.into_iter().map(|(k, n)| (k[0].clone(), n)).collect());
        }
    }
    let mut axes = Vec::new();
    for (i, d) in r.group_by.iter().enumerate() {
        let seen = counts.keys().map(move |k| &k[i]);
        let f = &r.filter;
        let lang = r.lang;
        axes.push(match d {
            ModelDimension::Field => Axis::of_codes("field", lang, &codes_or_all(&f.field, Field::codes()), seen),
            ModelDimension::Kind => Axis::of_codes("kind", lang, &codes_or_all(&f.kind, ModelKind::codes()), seen),
            ModelDimension::Subject => {
                Axis::of_codes("subject", lang, &codes_or_all(&f.subject, Subject::codes()), seen)
            }
            ModelDimension::Level => Axis::of_codes("level", lang, &codes_or_all(&f.level, Level::codes()), seen),
            ModelDimension::RegisteredLevel => {
                Axis::of_codes("registered_level", lang, &codes_or_all(&f.registered_level, Level::codes()), seen)
            }
            ModelDimension::Status => {
                Axis::of_codes("status", lang, &codes_or_all(&f.status, ModelStatus::codes()), seen)
            }
            ModelDimension::SpecialArea => {
                let all_areas = crate::vocabulary::SpecialArea::codes();
                let codes = f.special_area.map(|a| vec![a]).unwrap_or(all_areas);
                Axis::of_codes("special_area", lang, &codes, seen)
            }
            ModelDimension::Year => Axis::of_years("year", (f.year_from, f.year_to), seen),
            ModelDimension::Unit => {
                let counted: Vec<String> = counts.iter().filter(|(_, n)| **n > 0).map(|(k, _)| k[i].clone()).collect();
                unit_axis(conn, &root.id, lang, counted.into_iter())?
            }
        });
    }
    let (mut rows, mut subtotals, total) = rules::lay_out(&axes, &counts, &distinct_subtotals, distinct_total);
    rules::label_levels_on(&mut rows, &mut subtotals, r.lang, described_on(r.filter.year_to));
    Ok(Report {
        unit: rules::report_unit(&root)?,
        group_by: r.group_by.iter().map(|d| d.as_str().to_string()).collect(),
        rows,
        subtotals,
        total,
    })
}

impl CommendationReportRequest {
    pub fn parse(q: CommendationReportQuery) -> Result<Self, ApiError> {
        let mut e = Vec::new();
        let group_by = rules::group_by::<CommendationDimension>(q.group_by.as_deref(), &mut e);
        let (year_from, year_to) = rules::years(q.year_from, q.year_to, &mut e);
        let filter = CommendationFilter {
            campaign_id: q.campaign_id,
            issuer_unit_id: q.issuer_unit_id,
            year_from,
            year_to,
            form: rules::codes::<Form>("form", q.form.as_deref(), &mut e),
            issuer_level: rules::codes::<Level>("issuer_level", q.issuer_level.as_deref(), &mut e),
            include_revoked: q.include_revoked.unwrap_or(false),
            count_decisions: q.count == Some(CommendationCount::Decisions),
        };
        Self::checked(e, q.unit_id, q.include_predecessors, group_by, filter, q.lang)
    }
}

pub fn commendations_report(
    conn: &mut DbConnection,
    actor: &Actor,
    r: &CommendationReportRequest,
) -> Result<Report, ApiError> {
    let root = root(conn, actor, r.unit_id.as_deref())?;
    campaign_filter(conn, actor, r.filter.campaign_id.as_deref())?;
    let mut filter = r.filter.clone();
    if let Some(issuer) = &r.filter.issuer_unit_id {
        let issuer = crate::tree::resolve_ref(conn, issuer)?;
        crate::tree::find(conn, &issuer)?
            .ok_or_else(|| ApiError::field("issuer_unit_id", "unknown_unit", "no such unit"))?;
        filter.issuer_unit_id = Some(issuer);
    }
    let r = &ReportRequest { filter, ..r.clone() };
    let counts: Counts = store::commendation_counts(conn, &root.id, r.include_predecessors, &r.group_by, &r.filter)?;
    let mut axes = Vec::new();
    for (i, d) in r.group_by.iter().enumerate() {
        let seen = counts.keys().map(move |k| &k[i]);
        let (f, lang) = (&r.filter, r.lang);
        axes.push(match d {
            CommendationDimension::Issuer => {
                // Issuers are whoever issued: only those seen, by code.
                let ids: Vec<String> = seen.cloned().collect();
                Axis::of_units("issuer", crate::tree::labels(conn, &ids)?)
            }
            CommendationDimension::IssuingAuthority => {
                Axis::of_codes("issuing_authority", lang, &IssuingAuthority::codes(), seen)
            }
            CommendationDimension::IssuerLevel => {
                Axis::of_codes("issuer_level", lang, &codes_or_all(&f.issuer_level, Level::codes()), seen)
            }
            CommendationDimension::Form => Axis::of_codes("form", lang, &codes_or_all(&f.form, Form::codes()), seen),
            CommendationDimension::Subject => Axis::of_codes("subject", lang, &Subject::codes(), seen),
            CommendationDimension::Year => Axis::of_years("year", (f.year_from, f.year_to), seen),
            CommendationDimension::Status => {
                let statuses = if f.include_revoked {
                    vec![CommendationStatus::Issued.as_str(), CommendationStatus::Revoked.as_str()]
                } else {
                    vec![CommendationStatus::Issued.as_str()]
                };
                Axis::of_codes("status", lang, &statuses, seen)
            }
            CommendationDimension::Unit => {
                let counted: Vec<String> = counts.keys().map(|k| k[i].clone()).collect();
                unit_axis(conn, &root.id, lang, counted.into_iter())?
            }
        });
    }
    // One decision may commend in several cells (a collective and an individual): counted by
    // decisions, a subtotal or the total is counted again, not added up.
    let (mut distinct_subtotals, mut distinct_total) = (vec![None, None], None);
    if r.filter.count_decisions {
        let total = store::commendation_counts(conn, &root.id, r.include_predecessors, &[], &r.filter)?;
        distinct_total = Some(total.values().sum());
        if r.group_by.len() == 2 {
            for (i, d) in r.group_by.iter().enumerate() {
                let one = store::commendation_counts(conn, &root.id, r.include_predecessors, &[*d], &r.filter)?;
                distinct_subtotals[i] = Some(one.into_iter().map(|(k, n)| (k[0].clone(), n)).collect());
            }
        }
    }
    let (mut rows, mut subtotals, total) = rules::lay_out(&axes, &counts, &distinct_subtotals, distinct_total);
    rules::label_levels_on(&mut rows, &mut subtotals, r.lang, described_on(r.filter.year_to));
    Ok(Report {
        unit: rules::report_unit(&root)?,
        group_by: r.group_by.iter().map(|d| d.as_str().to_string()).collect(),
        rows,
        subtotals,
        total,
    })
}

/// The day a report describes, whose words label it: the end of its last year, or today.
fn described_on(year_to: Option<i32>) -> chrono::NaiveDate {
    year_to
        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, 12, 31))
        .map_or_else(crate::db::today, |end| end.min(crate::db::today()))
}

/// What a target report is asked for.
pub struct TargetRequest {
    pub year: Option<i32>,
    pub as_of: Option<chrono::NaiveDate>,
    pub include_predecessors: bool,
}

/// Progress against each target of a campaign the actor sees, as of a day: the units counted are
/// those active at the target's level under the launcher as the structure stood that day (for a
/// launcher closed since, on its last day), the records those dated by that day.
pub fn targets(
    conn: &mut DbConnection,
    actor: &Actor,
    campaign_id: &str,
    asked: TargetRequest,
    lang: Lang,
    today: chrono::NaiveDate,
) -> Result<TargetReport, ApiError> {
    let mut errors = Vec::new();
    if asked.year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        errors.push(FieldError::new("year", "out_of_range", "must be between 2000 and 2100"));
    }
    if asked.as_of.is_some_and(|d| !(2000..=2100).contains(&d.year())) {
        errors.push(FieldError::new("as_of", "out_of_range", "must be in 2000 to 2100"));
    }
    if !errors.is_empty() {
        bad_query(errors)?;
    }
    let campaign = crate::campaigns::service::visible(conn, actor, campaign_id)?;
    let c = campaign.to_api()?;
    let year = asked.year;
    // The day measured: the one asked for, else the end of the year asked for, else today.
    let as_of = match (asked.as_of, year) {
        (Some(d), _) => d,
        (None, Some(y)) => {
            chrono::NaiveDate::from_ymd_opt(y, 12, 31).ok_or_else(|| ApiError::internal("year out of range"))?
        }
        (None, None) => today,
    };
    // Without a year, the campaign's years that had begun by that day.
    let (year_from, year_to) = match year {
        Some(y) => (y, y),
        None => {
            let last = c.ends_on.year().min(as_of.year()).max(c.starts_on.year());
            (c.starts_on.year(), last)
        }
    };
    // A launcher closed since is measured on the structure of its last day: "all communes of
    // the district" are the communes it had.
    let launcher =
        crate::tree::find(conn, &c.unit_id)?.ok_or_else(|| ApiError::internal("a campaign's unit is missing"))?;
    let structure_on = match launcher.closed_on {
        Some(closed) if closed <= as_of => closed.pred_opt().unwrap_or(closed),
        _ => as_of,
    };
    let mut targets = Vec::new();
    for t in &c.targets {
        let scope = |level| store::TargetScope {
            campaign: &c.id,
            launcher: &c.unit_id,
            level,
            kind: t.unit_kind.map(|k| k.as_str()),
            structure_on,
            records_until: as_of,
            include_predecessors: asked.include_predecessors,
        };
        let (numerator, denominator) = match (t.metric, t.level) {
            (TargetMetric::UnitsWithPlanRatio, Some(level)) => (
                store::count_units_with_plan(conn, &scope(Some(level)))?,
                store::count_units(conn, &scope(Some(level)))?,
            ),
            (TargetMetric::UnitsWithModelRatio, Some(level)) => (
                store::count_models(conn, &scope(Some(level)), (year_from, year_to), false)?,
                store::count_units(conn, &scope(Some(level)))?,
            ),
            (TargetMetric::ModelsPerUnitPerYear, level) => {
                let units = match level {
                    Some(_) => store::count_units(conn, &scope(level))?,
                    None => 1,
                };
                let years = i64::from(year_to - year_from + 1);
                (store::count_models(conn, &scope(level), (year_from, year_to), true)?, units * years)
            }
            // Ratios without a level are refused when the campaign is written; nothing to count.
            (_, None) => (0, 0),
        };
        let ratio = rules::ratio(numerator, denominator);
        targets.push(TargetProgress {
            metric: t.metric,
            metric_label: label(lang, t.metric.as_str()),
            level: t.level,
            unit_kind: t.unit_kind,
            threshold: t.threshold,
            comparison: t.comparison,
            numerator,
            denominator,
            ratio,
            met: rules::met(ratio, t.threshold, t.comparison),
        });
    }
    Ok(TargetReport {
        as_of,
        structure_on,
        campaign: TargetCampaign {
            id: c.id,
            code: c.code,
            title: c.title,
            unit_id: c.unit_id,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
        },
        year_from,
        year_to,
        targets,
    })
}
