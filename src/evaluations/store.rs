//! All the SQL of evaluations.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{evaluations, models, unit_lineage};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort, TimeSort};
use crate::vocabulary::ReviewKind;

use super::types::{Decision, Evaluation, EvaluationStatus, ScoredCriterion, Verdict};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = evaluations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct EvaluationRow {
    pub id: String,
    pub model_id: String,
    pub evaluator_unit_id: String,
    pub review_kind: crate::vocabulary::ReviewKind,
    pub year: i32,
    pub criteria_set_code: String,
    pub criteria: String,
    pub total_score: f64,
    pub verdict: Option<Verdict>,
    pub decision: Option<Decision>,
    pub comment: Option<String>,
    pub status: EvaluationStatus,
    pub supersedes_id: Option<String>,
    pub superseded_by_id: Option<String>,
    pub finalized_at: Option<NaiveDateTime>,
    pub finalized_by: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The day of the evaluation (its meeting), set when finalised if not given.
    pub evaluated_on: Option<chrono::NaiveDate>,
}

impl EvaluationRow {
    pub fn criteria(&self) -> Result<Vec<ScoredCriterion>, ApiError> {
        crate::db::parse_json_column("evaluations.criteria", &self.criteria)
    }

    /// Writes the criteria and the total they make.
    pub fn set_criteria(&mut self, criteria: &[ScoredCriterion]) {
        self.total_score = super::rules::total(criteria);
        self.criteria = crate::db::json_column(&criteria);
    }

    pub fn to_api(&self) -> Result<Evaluation, ApiError> {
        Ok(Evaluation {
            id: self.id.clone(),
            model_id: self.model_id.clone(),
            evaluator_unit_id: self.evaluator_unit_id.clone(),
            review_kind: self.review_kind,
            year: self.year,
            criteria_set_code: self.criteria_set_code.clone(),
            criteria: self.criteria()?,
            total_score: self.total_score,
            verdict: self.verdict,
            decision: self.decision,
            comment: self.comment.clone(),
            status: self.status,
            supersedes_id: self.supersedes_id.clone(),
            superseded_by_id: self.superseded_by_id.clone(),
            finalized_at: self.finalized_at.map(|t| t.and_utc()),
            evaluated_on: self.evaluated_on,
            finalized_by: self.finalized_by.clone(),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
        })
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<EvaluationRow>, ApiError> {
    Ok(evaluations::table.find(id).select(EvaluationRow::as_select()).first(conn).optional()?)
}

/// A unique violation here means another decision on the same model, review and year got there
/// first (the race the partial unique indexes settle).
fn decided_elsewhere(e: diesel::result::Error) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ApiError::conflict(
            "already_decided",
            "another evaluation of this model for the same review and year was finalised or corrected first",
        ),
        other => other.into(),
    }
}

pub fn insert(conn: &mut DbConnection, row: &EvaluationRow) -> Result<(), ApiError> {
    diesel::insert_into(evaluations::table).values(row).execute(conn).map_err(decided_elsewhere)?;
    Ok(())
}

/// Writes `row` if the stored one is still at `expected_version`; false when someone else got
/// there first.
pub fn update(conn: &mut DbConnection, row: &EvaluationRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(evaluations::table.find(&row.id).filter(evaluations::version.eq(expected_version)))
        .set(row)
        .execute(conn)
        .map_err(decided_elsewhere)?;
    Ok(n == 1)
}

pub struct Filter {
    pub viewer: String,
    pub model_id: Option<String>,
    pub evaluator_unit_id: Option<String>,
    pub status: Option<EvaluationStatus>,
    pub review_kind: Option<ReviewKind>,
    pub year: Option<i32>,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: Sort<TimeSort>,
    pub sort_name: String,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

/// Evaluations of the models the viewer sees, a page at a time.
pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<EvaluationRow>, Option<String>), ApiError> {
    let after = pagination::time_after(&f.cursor)?;
    let rows: Vec<EvaluationRow> = crate::with_backend!(conn, |c| {
        let visible_units = unit_lineage::table
            .filter(unit_lineage::ancestor_id.eq(f.viewer.clone()))
            .select(unit_lineage::descendant_id);
        let mut q = evaluations::table
            .filter(
                evaluations::model_id
                    .eq_any(models::table.filter(models::unit_id.eq_any(visible_units)).select(models::id)),
            )
            .into_boxed();
        if let Some(model) = &f.model_id {
            q = q.filter(evaluations::model_id.eq(model.clone()));
        }
        if let Some(unit) = &f.evaluator_unit_id {
            q = q.filter(evaluations::evaluator_unit_id.eq(unit.clone()));
        }
        if let Some(status) = f.status {
            q = q.filter(evaluations::status.eq(status.as_str()));
        }
        if let Some(kind) = f.review_kind {
            q = q.filter(evaluations::review_kind.eq(kind.as_str()));
        }
        if let Some(year) = f.year {
            q = q.filter(evaluations::year.eq(year));
        }
        if let Some(since) = f.updated_since {
            q = q.filter(evaluations::updated_at.ge(since));
        }
        let desc = f.sort.descending;
        let q = match f.sort.field {
            TimeSort::CreatedAt => crate::keyset!(q, evaluations::created_at, evaluations::id, after, desc),
            TimeSort::UpdatedAt => crate::keyset!(q, evaluations::updated_at, evaluations::id, after, desc),
        };
        q.limit(f.limit + 1).select(EvaluationRow::as_select()).load(c)
    })?;
    Ok(pagination::finish_page(rows, f.limit, |last| Cursor {
        sort: f.sort_name.clone(),
        key: Some(f.sort.field.key(&last.created_at, &last.updated_at)),
        id: last.id.clone(),
    }))
}

/// The model's standing evaluation that recognised it (the achievement a commendation rewards).
pub fn standing_recognition(conn: &mut DbConnection, model_id: &str) -> Result<Option<EvaluationRow>, ApiError> {
    Ok(evaluations::table
        .filter(evaluations::model_id.eq(model_id))
        .filter(evaluations::status.eq(EvaluationStatus::Finalized.as_str()))
        .filter(evaluations::superseded_by_id.is_null())
        .filter(evaluations::decision.eq(Decision::Recognize.as_str()))
        .order(evaluations::finalized_at.desc())
        .select(EvaluationRow::as_select())
        .first(conn)
        .optional()?)
}
