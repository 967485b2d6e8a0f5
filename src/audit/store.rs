//! The SQL of the audit log.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{audit_events, unit_lineage};
use crate::db::{DbConnection, Writes};
use crate::error::ApiError;
use crate::http::pagination::Cursor;

#[derive(Queryable, Selectable, Insertable, Debug, Clone)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub actor_sub: String,
    pub actor_unit_id: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub unit_id: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
    pub client_request_id: Option<String>,
}

/// Adds the row to the change's writes.
pub fn insert(writes: &mut Writes<'_>, row: AuditRow) {
    writes.push(diesel::insert_into(audit_events::table).values(row));
}

pub struct Filter {
    pub viewer: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
    pub actor_sub: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

/// Newest first; ids are UUID v7, so id order is time order and the keyset is the id alone.
pub fn list(conn: &mut DbConnection, f: &Filter) -> Result<(Vec<AuditRow>, Option<String>), ApiError> {
    let mut q = audit_events::table
        .filter(
            audit_events::unit_id.eq_any(
                unit_lineage::table
                    .filter(unit_lineage::ancestor_id.eq(f.viewer.clone()))
                    .select(unit_lineage::descendant_id.nullable()),
            ),
        )
        .into_boxed();
    if let Some(t) = &f.resource_type {
        q = q.filter(audit_events::resource_type.eq(t.clone()));
    }
    if let Some(id) = &f.resource_id {
        q = q.filter(audit_events::resource_id.eq(id.clone()));
    }
    if let Some(a) = &f.action {
        q = q.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(s) = &f.actor_sub {
        q = q.filter(audit_events::actor_sub.eq(s.clone()));
    }
    if let Some(since) = f.since {
        q = q.filter(audit_events::occurred_at.ge(since));
    }
    if let Some(c) = &f.cursor {
        q = q.filter(audit_events::id.lt(c.id.clone()));
    }
    let rows: Vec<AuditRow> =
        q.order(audit_events::id.desc()).limit(f.limit + 1).select(AuditRow::as_select()).load(conn)?;
    Ok(crate::http::pagination::finish_page(rows, f.limit, |r| Cursor {
        sort: "-occurred_at".into(),
        key: None,
        id: r.id.clone(),
    }))
}
