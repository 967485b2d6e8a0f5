//! All the SQL of models and their progress reports.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{model_progress, model_scopes, model_special_areas, models, unit_lineage, units};
use crate::db::{self, DbConnection, Writes};
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort};
use crate::units::types::Level;
use crate::vocabulary::{Field, ModelKind, SpecialArea, Subject};

use super::rules::{self, Content};
use super::types::{IndicatorValue, Model, ModelStatus, Person, Progress, StatusChange};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = models, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ModelRow {
    pub id: String,
    pub campaign_id: String,
    pub unit_id: String,
    pub title: String,
    pub description: Option<String>,
    pub search_text: String,
    pub subject: crate::vocabulary::Subject,
    pub person_name: Option<String>,
    pub person_position: Option<String>,
    pub kind: crate::vocabulary::ModelKind,
    pub field: Option<crate::vocabulary::Field>,
    pub special_areas: String,
    pub registered_level: crate::tree::Level,
    pub year: i32,
    pub objectives: Option<String>,
    pub indicators: String,
    pub replicated_from_id: Option<String>,
    pub status: ModelStatus,
    pub status_history: String,
    pub latest_progress_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The day it was registered (set on submission when not given).
    pub registered_on: Option<NaiveDate>,
    /// The day it was last returned or withdrawn after registration: it counted as registered
    /// from `registered_on` until this day.
    pub deregistered_on: Option<NaiveDate>,
}

impl ModelRow {
    pub fn special_areas(&self) -> Result<Vec<SpecialArea>, ApiError> {
        crate::db::parse_json_column("models.special_areas", &self.special_areas)
    }

    pub fn history(&self) -> Result<Vec<StatusChange>, ApiError> {
        crate::db::parse_json_column("models.status_history", &self.status_history)
    }

    pub fn content(&self) -> Result<Content, ApiError> {
        Ok(Content {
            title: self.title.clone(),
            description: self.description.clone(),
            subject: self.subject,
            person: match (&self.person_name, &self.person_position) {
                (Some(full_name), position) => {
                    Some(Person { full_name: full_name.clone(), position: position.clone().unwrap_or_default() })
                }
                _ => None,
            },
            kind: self.kind,
            field: self.field,
            special_areas: self.special_areas()?,
            registered_level: self.registered_level,
            year: self.year,
            objectives: self.objectives.clone(),
            indicators: crate::db::parse_json_column("models.indicators", &self.indicators)?,
        })
    }

    /// Writes `content` into the row, search text included.
    pub fn set_content(&mut self, c: Content) {
        self.search_text = crate::http::text::fold(&format!("{} {}", c.title, c.description.as_deref().unwrap_or("")));
        self.title = c.title;
        self.description = c.description;
        self.subject = c.subject;
        self.person_name = c.person.as_ref().map(|p| p.full_name.clone());
        self.person_position = c.person.map(|p| p.position);
        self.kind = c.kind;
        self.field = c.field;
        self.special_areas = crate::db::json_column(&c.special_areas);
        self.registered_level = c.registered_level;
        self.year = c.year;
        self.objectives = c.objectives;
        self.indicators = crate::db::json_column(&c.indicators);
    }

    /// Moves the row to `to`, recording the step in its history, and keeps the days it counted
    /// as registered: from its (first) registration, which a late entry may have dated already,
    /// until it was returned or withdrawn.
    pub fn push_history(&mut self, change: StatusChange) -> Result<(), ApiError> {
        let mut history = self.history()?;
        self.status = change.to;
        let day = crate::db::day_in_vietnam(change.at);
        match (change.from, change.to) {
            (_, ModelStatus::Registered) => {
                self.registered_on = self.registered_on.or(Some(day));
                self.deregistered_on = None;
            }
            (
                Some(ModelStatus::Registered | ModelStatus::InProgress),
                ModelStatus::Returned | ModelStatus::Withdrawn,
            ) => self.deregistered_on = Some(day),
            _ => {}
        }
        history.push(change);
        self.status_history = crate::db::json_column(&history);
        Ok(())
    }

    pub fn to_api(&self, replication_count: i64, attachment_count: i64) -> Result<Model, ApiError> {
        let c = self.content()?;
        let status = self.status;
        Ok(Model {
            id: self.id.clone(),
            campaign_id: self.campaign_id.clone(),
            unit_id: self.unit_id.clone(),
            title: c.title,
            description: c.description,
            subject: c.subject,
            person: c.person,
            kind: c.kind,
            field: c.field,
            special_areas: c.special_areas,
            registered_level: c.registered_level,
            year: c.year,
            objectives: c.objectives,
            indicators: c.indicators,
            replicated_from_id: self.replicated_from_id.clone(),
            replication_count,
            attachment_count,
            status,
            allowed_actions: rules::LIFECYCLE.allowed(status),
            status_history: self.history()?,
            latest_progress_on: self.latest_progress_on,
            registered_on: self.registered_on,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
        })
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ModelRow>, ApiError> {
    Ok(models::table.find(id).select(ModelRow::as_select()).first(conn).optional()?)
}

/// How many recognised models replicate each of `ids`: the public figure, of public records only.
pub fn recognised_replication_counts(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, i64>, ApiError> {
    count_replicas(conn, ids, true)
}

fn count_replicas(
    conn: &mut DbConnection,
    ids: &[String],
    recognised_only: bool,
) -> Result<HashMap<String, i64>, ApiError> {
    let counted: Vec<&str> = ModelStatus::ALL
        .iter()
        .filter(|s| if recognised_only { **s == ModelStatus::Recognized } else { **s != ModelStatus::Withdrawn })
        .map(|s| s.as_str())
        .collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(Option<String>, i64)> = models::table
            .filter(models::replicated_from_id.eq_any(chunk))
            .filter(models::status.eq_any(&counted))
            .group_by(models::replicated_from_id)
            .select((models::replicated_from_id, diesel::dsl::count_star()))
            .load(conn)?;
        out.extend(rows.into_iter().filter_map(|(id, n)| id.map(|id| (id, n))));
    }
    Ok(out)
}

/// Moves on the version of each model whose replication or attachment count a change altered:
/// the counts are part of its representation, so its ETag and its place in `updated_since` sync
/// must move too.
pub fn touch(conn: &mut DbConnection, ids: &[&str], now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(models::table.filter(models::id.eq_any(ids)))
        .set((models::version.eq(models::version + 1), models::updated_at.eq(now)))
        .execute(conn)?;
    diesel::update(model_scopes::table.filter(model_scopes::model_id.eq_any(ids)))
        .set(model_scopes::updated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn to_api(conn: &mut DbConnection, row: &ModelRow) -> Result<Model, ApiError> {
    let (replicas, attachments): (i64, i64) =
        models::table.find(&row.id).select((replication_count(), attachment_count())).first(conn)?;
    row.to_api(replicas, attachments)
}

/// Adds a model's tags to its writes (an update has deleted the ones it had).
fn write_special_areas<'a>(writes: &mut Writes<'a>, row: &'a ModelRow) -> Result<(), ApiError> {
    for area in row.special_areas()? {
        writes.push(
            diesel::insert_into(model_special_areas::table).values((
                model_special_areas::model_id.eq(&row.id),
                model_special_areas::special_area.eq(area.as_str()),
            )),
        );
    }
    Ok(())
}

/// The model, its tags, its scope rows and its counts: on PostgreSQL one statement.
pub fn insert(conn: &mut DbConnection, row: &ModelRow) -> Result<(), ApiError> {
    let mut writes = Writes::default();
    writes.push(diesel::insert_into(models::table).values(row));
    write_special_areas(&mut writes, row)?;
    index_in_scopes(&mut writes, row);
    crate::reports::counts::model_written(conn, &mut writes, None, row)?;
    Ok(writes.run(conn)?)
}

/// Writes `row` over `before` (the row as read) if it is still at that version; false when
/// someone else got there first. Tags are rewritten only when they changed.
pub fn update(conn: &mut DbConnection, row: &ModelRow, before: &ModelRow) -> Result<bool, ApiError> {
    let n = diesel::update(models::table.find(&row.id).filter(models::version.eq(before.version)))
        .set(row)
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    // What the parts below delete goes first: a part of the statement would not see it gone.
    let retagged = row.special_areas != before.special_areas;
    if retagged {
        diesel::delete(model_special_areas::table.filter(model_special_areas::model_id.eq(&row.id))).execute(conn)?;
    }
    if before.unit_id != row.unit_id {
        diesel::delete(model_scopes::table.filter(model_scopes::model_id.eq(&row.id))).execute(conn)?;
    }
    let mut writes = Writes::default();
    if retagged {
        write_special_areas(&mut writes, row)?;
    }
    reindex_in_scopes(&mut writes, before, row);
    crate::reports::counts::model_written(conn, &mut writes, Some(before), row)?;
    writes.run(conn)?;
    Ok(true)
}

/// The levels whose units keep a scope index of models (`model_scopes`, migrations 000020 and
/// 000025). A province sees a few percent of the country, too many for the owner index and too
/// few for the national sort index to meet a page of them early. A commune sees a few hundred
/// models at a million, all read through the owner index and sorted for each page: a quarter
/// slower than the nation's page, and slower as the records grow.
const INDEXED_LEVELS: [Level; 2] = [Level::Province, Level::Commune];

/// Files a new model in the scope index of every province- and commune-level unit whose lineage
/// holds its unit.
fn index_in_scopes<'a>(writes: &mut Writes<'a>, row: &'a ModelRow) {
    use diesel::sql_types::{Text, Timestamp};
    // Written with the query builder, not as SQL text: diesel prepares it once per connection
    // (it never caches `sql_query`), so PostgreSQL does not plan it for every registration.
    let scopes = unit_lineage::table
        .inner_join(units::table.on(units::id.eq(unit_lineage::ancestor_id)))
        .filter(unit_lineage::descendant_id.eq(&row.unit_id))
        .filter(units::level.eq_any(INDEXED_LEVELS.map(Level::as_str)))
        .select((
            row.id.as_str().into_sql::<Text>(),
            unit_lineage::ancestor_id,
            row.created_at.into_sql::<Timestamp>(),
            row.updated_at.into_sql::<Timestamp>(),
            row.title.as_str().into_sql::<Text>(),
        ));
    writes.push(diesel::insert_into(model_scopes::table).values(scopes).into_columns((
        model_scopes::model_id,
        model_scopes::scope_id,
        model_scopes::created_at,
        model_scopes::updated_at,
        model_scopes::title,
    )));
}

/// Keeps a model's scope rows equal to the model: its sort keys, or its scopes if its unit moved
/// (`update` has deleted the old ones).
fn reindex_in_scopes<'a>(writes: &mut Writes<'a>, before: &ModelRow, row: &'a ModelRow) {
    if before.unit_id != row.unit_id {
        return index_in_scopes(writes, row);
    }
    if (before.updated_at, &before.title) != (row.updated_at, &row.title) {
        writes.push(
            diesel::update(model_scopes::table.filter(model_scopes::model_id.eq(&row.id)))
                .set((model_scopes::updated_at.eq(row.updated_at), model_scopes::title.eq(&row.title))),
        );
    }
}

/// The scope index as the models and the tree say it should be.
fn full_scope_index() -> String {
    format!(
        "SELECT m.id, l.ancestor_id, m.created_at, m.updated_at, m.title \
         FROM models m JOIN unit_lineage l ON l.descendant_id = m.unit_id JOIN units u ON u.id = l.ancestor_id \
         WHERE u.level IN ({})",
        INDEXED_LEVELS.map(|level| format!("'{}'", level.as_str())).join(", ")
    )
}

/// Rebuilds the scope index from the models: after the tree changes (a move, a reorganisation),
/// which changes which provinces see which models. One set-based pass.
pub fn rebuild_scope_index(conn: &mut DbConnection) -> Result<(), ApiError> {
    diesel::sql_query("DELETE FROM model_scopes").execute(conn)?;
    diesel::sql_query(format!(
        "INSERT INTO model_scopes (model_id, scope_id, created_at, updated_at, title) {}",
        full_scope_index()
    ))
    .execute(conn)?;
    Ok(())
}

/// How many rows the kept scope index and a rebuild disagree on (0 when they are equal).
pub fn scope_index_differences(conn: &mut DbConnection) -> Result<i64, ApiError> {
    let kept = "SELECT model_id, scope_id, created_at, updated_at, title FROM model_scopes";
    db::rows_differing(conn, kept, &full_scope_index())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    UpdatedAt,
    Title,
}

pub const SORTS: &[(&str, SortField)] =
    &[("created_at", SortField::CreatedAt), ("updated_at", SortField::UpdatedAt), ("title", SortField::Title)];

/// A list request after parsing: every value already checked.
#[derive(Debug, Clone)]
pub struct Filter {
    pub viewer: String,
    /// The viewer's level, as its token was checked against its unit: a province reads its scope
    /// index.
    pub viewer_level: Level,
    pub campaign_id: Option<String>,
    pub unit_id: Option<String>,
    pub ancestor_id: Option<String>,
    pub include_predecessors: bool,
    pub status: Option<ModelStatus>,
    pub kind: Option<ModelKind>,
    pub field: Option<Field>,
    pub subject: Option<Subject>,
    pub special_area: Option<SpecialArea>,
    pub registered_level: Option<Level>,
    pub year: Option<i32>,
    pub replicated_from_id: Option<String>,
    pub exclude_withdrawn: bool,
    pub q: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: Sort<SortField>,
    pub sort_name: String,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

impl Filter {
    /// Whether anything narrows the viewer's list beyond its sort and cursor.
    fn narrows(&self) -> bool {
        let Filter {
            viewer: _,
            viewer_level: _,
            campaign_id,
            unit_id,
            ancestor_id,
            include_predecessors: _,
            status,
            kind,
            field,
            subject,
            special_area,
            registered_level,
            year,
            replicated_from_id,
            exclude_withdrawn,
            q,
            updated_since,
            sort: _,
            sort_name: _,
            limit: _,
            cursor: _,
        } = self;
        campaign_id.is_some()
            || unit_id.is_some()
            || ancestor_id.is_some()
            || status.is_some()
            || kind.is_some()
            || field.is_some()
            || subject.is_some()
            || special_area.is_some()
            || registered_level.is_some()
            || year.is_some()
            || replicated_from_id.is_some()
            || *exclude_withdrawn
            || q.is_some()
            || updated_since.is_some()
    }

    /// Everything `viewer` may see, newest first by creation: the base that list requests narrow.
    pub fn visible_to(viewer: &str, viewer_level: Level, limit: i64) -> Filter {
        Filter {
            viewer: viewer.to_string(),
            viewer_level,
            campaign_id: None,
            unit_id: None,
            ancestor_id: None,
            include_predecessors: false,
            status: None,
            kind: None,
            field: None,
            subject: None,
            special_area: None,
            registered_level: None,
            year: None,
            replicated_from_id: None,
            exclude_withdrawn: false,
            q: None,
            updated_since: None,
            sort: Sort { field: SortField::CreatedAt, descending: false },
            sort_name: "created_at".into(),
            limit,
            cursor: None,
        }
    }
}

/// One page of models; keyset on (sort key, id), one query for the rows with their replication
/// and attachment counts, whatever its size. Its statement is cached per connection (the count
/// columns are `FixedSql`), and a province's or a commune's unfiltered page runs on the generic plan.
pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<Model>, Option<String>), ApiError> {
    let text_after = pagination::text_after(&f.cursor);
    let time_after = match f.sort.field {
        SortField::CreatedAt | SortField::UpdatedAt => pagination::time_after(&f.cursor)?,
        SortField::Title => None,
    };
    // A province's or a commune's own list (not narrowed to a unit or a subtree, which their
    // indexes serve better) is a range scan of its scope index; any other scope keeps to the
    // viewer's sight.
    let plan = if f.ancestor_id.is_none() && f.unit_id.is_none() && INDEXED_LEVELS.contains(&f.viewer_level) {
        None
    } else {
        Some(crate::tree::Sight::of(&f.viewer).plan(conn, f.ancestor_id.as_deref())?)
    };
    // On SQLite a needle of three characters or more is looked up in the trigram index (FTS5,
    // migration 000017) when it is rare; PostgreSQL's pg_trgm index serves the LIKE itself.
    let indexed_search = match (&f.q, conn.backend()) {
        (Some(text), crate::db::Backend::Sqlite) => match crate::http::text::trigram_phrase(text) {
            Some(phrase) => rare_in_index(conn, &phrase)?,
            None => None,
        },
        _ => None,
    };
    // A scope's whole list, unfiltered, is one walk of its scope index whatever the scope: the
    // generic plan. Not the nation's: costed with its LIMIT unknown, the generic plan sorts
    // every model (32 ms a page, against 0.1).
    let one_plan = plan.is_none() && !f.narrows();
    let page = |conn: &mut DbConnection| -> Result<Vec<(ModelRow, i64, i64)>, ApiError> {
        Ok(crate::with_backend!(conn, |c| {
            // The filters, the same whichever way the scope is kept.
            macro_rules! narrowed {
                ($q:expr) => {{
                    let mut q = $q;
                    if let Some(campaign) = &f.campaign_id {
                        q = q.filter(models::campaign_id.eq(campaign.clone()));
                    }
                    if let Some(unit) = &f.unit_id {
                        q = q.filter(models::unit_id.eq(unit.clone()));
                    }
                    if let Some(status) = f.status {
                        q = q.filter(models::status.eq(status.as_str()));
                    }
                    if let Some(kind) = f.kind {
                        q = q.filter(models::kind.eq(kind.as_str()));
                    }
                    if let Some(field) = f.field {
                        q = q.filter(models::field.eq(field.as_str()));
                    }
                    if let Some(subject) = f.subject {
                        q = q.filter(models::subject.eq(subject.as_str()));
                    }
                    if let Some(area) = f.special_area {
                        q = q.filter(
                            models::id.eq_any(
                                model_special_areas::table
                                    .filter(model_special_areas::special_area.eq(area.as_str()))
                                    .select(model_special_areas::model_id),
                            ),
                        );
                    }
                    if let Some(level) = f.registered_level {
                        q = q.filter(models::registered_level.eq(level.as_str()));
                    }
                    if let Some(year) = f.year {
                        q = q.filter(models::year.eq(year));
                    }
                    if let Some(source) = &f.replicated_from_id {
                        q = q.filter(models::replicated_from_id.eq(source.clone()));
                    }
                    if f.exclude_withdrawn {
                        q = q.filter(models::status.ne(ModelStatus::Withdrawn.as_str()));
                    }
                    if let Some(found) = &indexed_search {
                        q = q.filter(models::id.eq_any(found.clone()));
                    } else if let Some(text) = &f.q {
                        q = q.filter(models::search_text.like(crate::http::text::contains_pattern(text)).escape('\\'));
                    }
                    q
                }};
            }
            // The page in the sort order, read from the columns of whichever index keeps the scope.
            macro_rules! page {
                ($q:expr, $created:expr, $updated:expr, $title:expr, $id:expr) => {{
                    let mut q = $q;
                    if let Some(since) = f.updated_since {
                        q = q.filter($updated.ge(since));
                    }
                    let desc = f.sort.descending;
                    let q = match f.sort.field {
                        SortField::CreatedAt => crate::keyset!(q, $created, $id, time_after, desc),
                        SortField::UpdatedAt => crate::keyset!(q, $updated, $id, time_after, desc),
                        SortField::Title => crate::keyset!(q, $title, $id, text_after.clone(), desc),
                    };
                    q.limit(f.limit + 1)
                        .select((ModelRow::as_select(), replication_count(), attachment_count()))
                        .load(c)
                }};
            }
            match plan {
                None => {
                    let scope = model_scopes::table
                        .on(model_scopes::model_id.eq(models::id).and(model_scopes::scope_id.eq(f.viewer.clone())));
                    let q = narrowed!(models::table.inner_join(scope).into_boxed());
                    page!(
                        q,
                        model_scopes::created_at,
                        model_scopes::updated_at,
                        model_scopes::title,
                        model_scopes::model_id
                    )
                }
                Some(plan) => {
                    let q = crate::within_scope!(
                        models::table.into_boxed(),
                        models::unit_id,
                        &f.viewer,
                        plan,
                        f.ancestor_id.as_ref(),
                        f.include_predecessors
                    );
                    page!(narrowed!(q), models::created_at, models::updated_at, models::title, models::id)
                }
            }
        })?)
    };
    let rows = if one_plan { crate::db::with_generic_plans(conn, page)? } else { page(conn)? };
    let (rows, next) = pagination::finish_page(rows, f.limit, |(last, _, _)| Cursor {
        sort: f.sort_name.clone(),
        key: Some(match f.sort.field {
            SortField::CreatedAt => pagination::timestamp_key(&last.created_at),
            SortField::UpdatedAt => pagination::timestamp_key(&last.updated_at),
            SortField::Title => last.title.clone(),
        }),
        id: last.id.clone(),
    });
    let items = rows
        .iter()
        .map(|(row, replicas, attachments)| row.to_api(*replicas, *attachments))
        .collect::<Result<_, _>>()?;
    Ok((items, next))
}

/// The models that hold `phrase` (SQLite's trigram index), when there are at most `RARE` of them.
/// A page of a rare needle is fastest from the index (its few models, then scoped and sorted); a
/// common one is fastest by the LIKE walking the page's order, which meets its 51 matches early:
/// from the index, "camera" in Hà Nội read 50,000 national matches first and fell from 90 to 15
/// req/s. The ids found are the page query's filter, so the index is read once.
fn rare_in_index(conn: &mut DbConnection, phrase: &str) -> Result<Option<Vec<String>>, ApiError> {
    const RARE: usize = 2_000;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Text)]
        model_id: String,
    }
    let found: Vec<Found> = crate::with_backend!(conn, |c| diesel::sql_query(
        "SELECT r.model_id FROM models_search s JOIN models_search_rows r ON r.id = s.rowid \
         WHERE models_search MATCH ? LIMIT ?"
    )
    .bind::<diesel::sql_types::Text, _>(phrase)
    .bind::<diesel::sql_types::BigInt, _>(RARE as i64 + 1)
    .load(c))?;
    Ok((found.len() <= RARE).then(|| found.into_iter().map(|f| f.model_id).collect()))
}

/// A model's replication count as a column of the page's own query: one round trip, not two.
/// Replicas not withdrawn.
fn replication_count() -> crate::db::FixedSql<diesel::sql_types::BigInt> {
    crate::db::fixed_sql(
        "(SELECT COUNT(*) FROM models r WHERE r.replicated_from_id = models.id AND r.status <> 'withdrawn')",
    )
}

/// A model's live attachments (its own), as a column of the page's query.
fn attachment_count() -> crate::db::FixedSql<diesel::sql_types::BigInt> {
    crate::db::fixed_sql(
        "(SELECT COUNT(*) FROM attachments a WHERE a.parent_type = 'model' AND a.parent_id = models.id \
         AND a.deleted_at IS NULL)",
    )
}

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = model_progress, treat_none_as_default_value = false)]
pub struct ProgressRow {
    pub id: String,
    pub model_id: String,
    pub reported_on: NaiveDate,
    pub text: String,
    pub indicator_values: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl ProgressRow {
    pub fn new(model_id: &str, reported_on: NaiveDate, text: String, values: &[IndicatorValue], by: &str) -> Self {
        ProgressRow {
            id: uuid::Uuid::now_v7().to_string(),
            model_id: model_id.to_string(),
            reported_on,
            text,
            indicator_values: crate::db::json_column(&values),
            created_by: by.to_string(),
            created_at: crate::db::now(),
        }
    }

    pub fn to_api(&self) -> Result<Progress, ApiError> {
        Ok(Progress {
            id: self.id.clone(),
            model_id: self.model_id.clone(),
            reported_on: self.reported_on,
            text: self.text.clone(),
            indicator_values: crate::db::parse_json_column("model_progress.indicator_values", &self.indicator_values)?,
            created_at: self.created_at.and_utc(),
        })
    }
}

/// One progress report, by id.
pub fn find_progress(conn: &mut DbConnection, id: &str) -> Result<Option<ProgressRow>, ApiError> {
    Ok(model_progress::table.find(id).select(ProgressRow::as_select()).first(conn).optional()?)
}

pub fn insert_progress(conn: &mut DbConnection, row: &ProgressRow) -> Result<(), ApiError> {
    diesel::insert_into(model_progress::table).values(row).execute(conn)?;
    Ok(())
}

const PROGRESS_SORT: &str = "-reported_on";

/// A model's progress reports, the latest report date first.
pub fn list_progress(
    conn: &mut DbConnection,
    model_id: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<(Vec<Progress>, Option<String>), ApiError> {
    let cursor = cursor.map(|c| Cursor::decode(c, PROGRESS_SORT)).transpose()?;
    let after = pagination::date_after(&cursor)?;
    let rows: Vec<ProgressRow> = crate::with_backend!(conn, |c| {
        let q = model_progress::table.filter(model_progress::model_id.eq(model_id.to_string())).into_boxed();
        let q = crate::keyset!(q, model_progress::reported_on, model_progress::id, after, true);
        q.limit(limit + 1).select(ProgressRow::as_select()).load(c)
    })?;
    let (rows, next) = pagination::finish_page(rows, limit, |last| Cursor {
        sort: PROGRESS_SORT.into(),
        key: Some(last.reported_on.to_string()),
        id: last.id.clone(),
    });
    Ok((rows.iter().map(ProgressRow::to_api).collect::<Result<_, _>>()?, next))
}
