//! All the SQL of campaigns.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{campaigns, unit_lineage, unit_successors, unit_tree};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::pagination::{self, Cursor, Sort};

use super::rules::{self, Content};
use super::types::{Campaign, CampaignStatus};

#[derive(Queryable, Selectable, Insertable, AsChangeset, Debug, Clone, PartialEq)]
#[diesel(table_name = campaigns, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct CampaignRow {
    pub id: String,
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub search_text: String,
    pub unit_id: String,
    pub parent_campaign_id: Option<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub fields: String,
    pub directives: String,
    pub targets: String,
    pub review_points: String,
    pub criteria_sets: String,
    pub status: crate::campaigns::types::CampaignStatus,
    pub launched_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The day the plan's document was issued (set at launch when not given).
    pub issued_on: Option<NaiveDate>,
}

impl CampaignRow {
    pub fn content(&self) -> Result<Content, ApiError> {
        Ok(Content {
            code: self.code.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            fields: crate::db::parse_json_column("campaigns.fields", &self.fields)?,
            directives: crate::db::parse_json_column("campaigns.directives", &self.directives)?,
            targets: crate::db::parse_json_column("campaigns.targets", &self.targets)?,
            review_points: crate::db::parse_json_column("campaigns.review_points", &self.review_points)?,
            criteria_sets: crate::db::parse_json_column("campaigns.criteria_sets", &self.criteria_sets)?,
        })
    }

    /// Writes `content` into the row, search text included.
    pub fn set_content(&mut self, c: Content) {
        self.search_text =
            crate::http::text::fold(&format!("{} {} {}", c.code, c.title, c.description.as_deref().unwrap_or("")));
        self.code = c.code;
        self.title = c.title;
        self.description = c.description;
        self.starts_on = c.starts_on;
        self.ends_on = c.ends_on;
        self.fields = crate::db::json_column(&c.fields);
        self.directives = crate::db::json_column(&c.directives);
        self.targets = crate::db::json_column(&c.targets);
        self.review_points = crate::db::json_column(&c.review_points);
        self.criteria_sets = crate::db::json_column(&c.criteria_sets);
    }

    pub fn to_api(&self) -> Result<Campaign, ApiError> {
        let c = self.content()?;
        let status = self.status;
        Ok(Campaign {
            id: self.id.clone(),
            code: c.code,
            title: c.title,
            description: c.description,
            unit_id: self.unit_id.clone(),
            parent_campaign_id: self.parent_campaign_id.clone(),
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            fields: c.fields,
            directives: c.directives,
            targets: c.targets,
            review_points: c.review_points,
            criteria_sets: c.criteria_sets,
            status,
            allowed_actions: rules::LIFECYCLE.allowed(status),
            issued_on: self.issued_on,
            launched_at: self.launched_at.map(|t| t.and_utc()),
            closed_at: self.closed_at.map(|t| t.and_utc()),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
        })
    }
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<CampaignRow>, ApiError> {
    Ok(campaigns::table.find(id).select(CampaignRow::as_select()).first(conn).optional()?)
}

/// Whether `viewer` sees a campaign of `unit_id` in `status`: the launcher and the units above
/// it always; the launcher's subtree, which implements it, once it is launched.
pub fn can_see(conn: &mut DbConnection, viewer: &str, row: &CampaignRow) -> Result<bool, ApiError> {
    if crate::tree::Sight::of(viewer).holds(conn, &row.unit_id)? {
        return Ok(true);
    }
    Ok(row.status != CampaignStatus::Draft && crate::tree::Subtree::of(&row.unit_id).holds(conn, viewer)?)
}

pub fn insert(conn: &mut DbConnection, row: &CampaignRow) -> Result<(), ApiError> {
    diesel::insert_into(campaigns::table).values(row).execute(conn)?;
    Ok(())
}

/// Writes the row if it is still at `expected_version`; false when someone else got there first.
pub fn update(conn: &mut DbConnection, row: &CampaignRow, expected_version: i64) -> Result<bool, ApiError> {
    let n = diesel::update(campaigns::table.find(&row.id).filter(campaigns::version.eq(expected_version)))
        .set(row)
        .execute(conn)?;
    Ok(n == 1)
}

/// Whether another campaign of `unit_id`, not cancelled, has the document number `code`.
pub fn code_taken(conn: &mut DbConnection, unit_id: &str, code: &str, except: Option<&str>) -> Result<bool, ApiError> {
    let ids: Vec<String> = campaigns::table
        .filter(campaigns::unit_id.eq(unit_id))
        .filter(campaigns::code.eq(code))
        .filter(campaigns::status.ne(CampaignStatus::Cancelled.as_str()))
        .select(campaigns::id)
        .load(conn)?;
    Ok(ids.iter().any(|id| Some(id.as_str()) != except))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    UpdatedAt,
    StartsOn,
    Title,
}

pub const SORTS: &[(&str, SortField)] = &[
    ("created_at", SortField::CreatedAt),
    ("updated_at", SortField::UpdatedAt),
    ("starts_on", SortField::StartsOn),
    ("title", SortField::Title),
];

pub struct Filter {
    pub viewer: String,
    pub unit_id: Option<String>,
    pub ancestor_id: Option<String>,
    /// With `unit_id` or `ancestor_id`: also the campaigns of units closed in a reorganisation
    /// whose records passed into them.
    pub include_predecessors: bool,
    pub status: Option<CampaignStatus>,
    pub year: Option<i32>,
    pub parent_campaign_id: Option<String>,
    pub q: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub sort: Sort<SortField>,
    pub sort_name: String,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<CampaignRow>, Option<String>), ApiError> {
    let text_after = pagination::text_after(&f.cursor);
    let (time_after, date_after) = match f.sort.field {
        SortField::CreatedAt | SortField::UpdatedAt => (pagination::time_after(&f.cursor)?, None),
        SortField::StartsOn => (None, pagination::date_after(&f.cursor)?),
        SortField::Title => (None, None),
    };
    let rows: Vec<CampaignRow> = crate::with_backend!(conn, |c| {
        let below = unit_lineage::table
            .filter(unit_lineage::ancestor_id.eq(f.viewer.clone()))
            .select(unit_lineage::descendant_id);
        let above =
            unit_tree::table.filter(unit_tree::descendant_id.eq(f.viewer.clone())).select(unit_tree::ancestor_id);
        let mut q = campaigns::table
            .filter(
                campaigns::unit_id
                    .eq_any(below)
                    .or(campaigns::status.ne(CampaignStatus::Draft.as_str()).and(campaigns::unit_id.eq_any(above))),
            )
            .into_boxed();
        if let Some(unit) = &f.unit_id {
            if f.include_predecessors {
                let predecessors = unit_successors::table
                    .filter(unit_successors::successor_id.eq(unit.clone()))
                    .select(unit_successors::predecessor_id);
                q = q.filter(campaigns::unit_id.eq(unit.clone()).or(campaigns::unit_id.eq_any(predecessors)));
            } else {
                q = q.filter(campaigns::unit_id.eq(unit.clone()));
            }
        }
        if let Some(ancestor) = &f.ancestor_id {
            if f.include_predecessors {
                q = q.filter(
                    campaigns::unit_id.eq_any(
                        unit_lineage::table
                            .filter(unit_lineage::ancestor_id.eq(ancestor.clone()))
                            .select(unit_lineage::descendant_id),
                    ),
                );
            } else {
                q = q.filter(
                    campaigns::unit_id.eq_any(
                        unit_tree::table
                            .filter(unit_tree::ancestor_id.eq(ancestor.clone()))
                            .select(unit_tree::descendant_id),
                    ),
                );
            }
        }
        if let Some(status) = f.status {
            q = q.filter(campaigns::status.eq(status.as_str()));
        }
        if let Some(year) = f.year {
            let (first, last) = year_bounds(year);
            q = q.filter(campaigns::starts_on.le(last)).filter(campaigns::ends_on.ge(first));
        }
        if let Some(parent) = &f.parent_campaign_id {
            q = q.filter(campaigns::parent_campaign_id.eq(parent.clone()));
        }
        if let Some(text) = &f.q {
            q = q.filter(campaigns::search_text.like(crate::http::text::contains_pattern(text)).escape('\\'));
        }
        if let Some(since) = f.updated_since {
            q = q.filter(campaigns::updated_at.ge(since));
        }
        let desc = f.sort.descending;
        let q = match f.sort.field {
            SortField::CreatedAt => crate::keyset!(q, campaigns::created_at, campaigns::id, time_after, desc),
            SortField::UpdatedAt => crate::keyset!(q, campaigns::updated_at, campaigns::id, time_after, desc),
            SortField::StartsOn => crate::keyset!(q, campaigns::starts_on, campaigns::id, date_after, desc),
            SortField::Title => crate::keyset!(q, campaigns::title, campaigns::id, text_after.clone(), desc),
        };
        q.limit(f.limit + 1).select(CampaignRow::as_select()).load(c)
    })?;
    Ok(pagination::finish_page(rows, f.limit, |last| Cursor {
        sort: f.sort_name.clone(),
        key: Some(match f.sort.field {
            SortField::CreatedAt => pagination::timestamp_key(&last.created_at),
            SortField::UpdatedAt => pagination::timestamp_key(&last.updated_at),
            SortField::StartsOn => last.starts_on.to_string(),
            SortField::Title => last.title.clone(),
        }),
        id: last.id.clone(),
    }))
}

pub fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}
