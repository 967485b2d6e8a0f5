//! The unit operations: each runs inside one transaction, checks scope and rules, writes, and
//! records the change in the audit log.

use chrono::NaiveDate;

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::http::etag::IfMatch;
use crate::webhooks::types::EventType;

use super::rules::{self, UnitCode};
use super::store::{self, NewUnit};
use super::types::{CloseUnit, CreateUnit, Unit, UpdateUnit};
use crate::tree::UnitRow;

/// The unit if the actor may see it; 404 otherwise (existence is not revealed).
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<UnitRow, ApiError> {
    let row = crate::tree::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if crate::tree::Sight::of(&actor.unit_id).holds(conn, &row.id)? {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

/// What an admin manages that hangs on a unit (service accounts, webhooks): the admin's own unit
/// and below. Anything else is 404, so others do not learn it exists.
pub fn require_admin_over(conn: &mut DbConnection, actor: &Actor, unit_id: &str) -> Result<(), ApiError> {
    actor.require(crate::auth::Role::Admin)?;
    if crate::tree::Subtree::of(&actor.unit_id).holds(conn, unit_id)? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Admin writes reach strictly below the actor's own unit.
fn require_admin_below(conn: &mut DbConnection, actor: &Actor, unit: &UnitRow) -> Result<(), ApiError> {
    actor.require(Role::Admin)?;
    if unit.id == actor.unit_id || !crate::tree::Subtree::of(&actor.unit_id).holds(conn, &unit.id)? {
        return Err(ApiError::forbidden("outside_scope", "admins change units strictly below their own unit"));
    }
    Ok(())
}

/// A parent for a new or moved unit: active, and the actor's own unit or below it.
fn usable_parent(conn: &mut DbConnection, actor: &Actor, parent_id: &str) -> Result<UnitRow, ApiError> {
    let parent = visible(conn, actor, parent_id)
        .map_err(|e| e.unresolved("parent_id", "unknown_parent", "no such unit, or it is outside your scope"))?;
    if !crate::tree::Subtree::of(&actor.unit_id).holds(conn, &parent.id)? {
        return Err(ApiError::forbidden("outside_scope", "the parent is outside your subtree"));
    }
    if !parent.is_active() {
        return Err(ApiError::unprocessable("parent_closed", "a unit cannot be placed under a closed unit"));
    }
    Ok(parent)
}

fn parse_code(conn: &mut DbConnection, raw: &str, except: Option<&str>) -> Result<UnitCode, ApiError> {
    let code = UnitCode::parse(raw).map_err(|m| ApiError::field("code", "invalid_code", m))?;
    if store::code_taken(conn, code.as_str(), except)? {
        return Err(ApiError::conflict("code_taken", format!("an active unit already has the code {}", code.as_str())));
    }
    Ok(code)
}

fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    value.map(|v| rules::clean_text(field, &v, max)).transpose()
}

pub fn create(conn: &mut DbConnection, actor: &Actor, input: CreateUnit) -> Result<Unit, ApiError> {
    actor.require(Role::Admin)?;
    let parent = usable_parent(conn, actor, &input.parent_id)?;
    rules::check_placement(input.kind, input.level, parent.kind, parent.level)
        .map_err(|e| ApiError::validation(vec![e]))?;
    let name = rules::clean_text("name", &input.name, 255).map_err(|e| ApiError::validation(vec![e]))?;
    let short_name = optional_text("short_name", input.short_name, 64).map_err(|e| ApiError::validation(vec![e]))?;
    let division_type =
        optional_text("division_type", input.division_type, 64).map_err(|e| ApiError::validation(vec![e]))?;
    let code = parse_code(conn, &input.code, None)?;
    let new = NewUnit {
        code: code.into_string(),
        name,
        short_name,
        kind: input.kind,
        level: input.level,
        division_type,
        parent_id: parent.id.clone(),
    };
    let row = UnitRow::new(new, crate::db::now());
    store::insert(conn, std::slice::from_ref(&row))?;
    crate::tree::add_to_closures(conn, &row.id, &parent.id)?;
    let unit = store::to_unit(row, &[])?;
    changes::record(conn, actor, change("unit.create", &unit.id), None::<&Unit>, Some(&unit))?;
    Ok(unit)
}

fn change<'a>(action: &'a str, id: &'a str) -> Change<'a> {
    Change::new(action, "unit", id, Some(id))
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateUnit,
) -> Result<Unit, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_admin_below(conn, actor, &before_row)?;
    let before = store::load_unit(conn, before_row.clone())?;
    if_match.check(before.version, &before)?;
    if !before_row.is_active() {
        return Err(ApiError::conflict("unit_closed", "a closed unit cannot be changed"));
    }
    let mut row = before_row.clone();
    let mut errors = Vec::new();
    if let Some(name) = input.name {
        match rules::clean_text("name", &name, 255) {
            Ok(n) => row.name = n,
            Err(e) => errors.push(e),
        }
    }
    if let Some(short_name) = input.short_name {
        match optional_text("short_name", short_name, 64) {
            Ok(s) => row.short_name = s,
            Err(e) => errors.push(e),
        }
    }
    if let Some(division_type) = input.division_type {
        match optional_text("division_type", division_type, 64) {
            Ok(d) => row.division_type = d,
            Err(e) => errors.push(e),
        }
    }
    ApiError::unless_any(errors)?;
    if let Some(kind) = input.kind {
        row.kind = kind;
    }
    if let Some(code) = input.code {
        if code.trim() != row.code {
            row.code = parse_code(conn, &code, Some(&row.id))?.into_string();
        }
    }
    let mut moved = false;
    let parent = match input.parent_id {
        Some(parent_id) if Some(&parent_id) != row.parent_id.as_ref() => {
            let parent = usable_parent(conn, actor, &parent_id)?;
            if crate::tree::Subtree::of(&row.id).holds(conn, &parent.id)? {
                return Err(ApiError::field(
                    "parent_id",
                    "cycle",
                    "a unit cannot move under itself or its own subtree",
                ));
            }
            row.parent_id = Some(parent.id.clone());
            moved = true;
            Some(parent)
        }
        _ => match &row.parent_id {
            Some(p) => crate::tree::find(conn, p)?,
            None => None,
        },
    };
    if let Some(parent) = &parent {
        rules::check_placement(row.kind, row.level, parent.kind, parent.level)
            .map_err(|e| ApiError::validation(vec![e]))?;
    }
    if row == before_row {
        return Ok(before);
    }
    row.refresh_search_text();
    row.updated_at = crate::db::now();
    row.version += 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    if moved {
        // A move made through the API takes effect today.
        crate::tree::record_move(conn, &row.id, row.parent_id.as_deref(), crate::db::today())?;
        crate::tree::rebuild_closures(conn)?;
    }
    let after = store::load_unit(conn, row)?;
    changes::record(conn, actor, change("unit.update", id), Some(&before), Some(&after))?;
    Ok(after)
}

pub fn close(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: CloseUnit,
    today: NaiveDate,
) -> Result<Unit, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_admin_below(conn, actor, &before_row)?;
    let before = store::load_unit(conn, before_row.clone())?;
    if_match.check(before.version, &before)?;
    if !before_row.is_active() {
        return Err(ApiError::conflict("unit_closed", "the unit is already closed"));
    }
    let closed_on = input.closed_on.unwrap_or(today);
    if closed_on > today {
        return Err(ApiError::field("closed_on", "in_future", "a unit closes on a day that has come"));
    }
    let mut successors: Vec<(String, bool)> = Vec::new();
    for (i, s) in input.successors.iter().enumerate() {
        let field = format!("successors[{i}].unit_id");
        let unit = visible(conn, actor, &s.unit_id)
            .map_err(|e| e.unresolved(&field, "unknown_unit", "no such unit, or it is outside your scope"))?;
        if !unit.is_active() {
            return Err(ApiError::field(&field, "successor_closed", "a successor must be active"));
        }
        if crate::tree::Subtree::of(&before_row.id).holds(conn, &unit.id)? {
            return Err(ApiError::field(
                &field,
                "successor_in_subtree",
                "a successor cannot be the unit or one it closes with it",
            ));
        }
        if successors.iter().any(|(id, _)| *id == unit.id) {
            return Err(ApiError::field(&field, "duplicate", "each successor once"));
        }
        successors.push((unit.id, s.is_primary));
    }
    let primaries = successors.iter().filter(|(_, p)| *p).count();
    if successors.len() == 1 {
        successors[0].1 = true;
    } else if !successors.is_empty() && primaries != 1 {
        return Err(ApiError::field("successors", "one_primary", "with several successors, exactly one is primary"));
    }
    let now = crate::db::now();
    let mut row = before_row.clone();
    row.status = crate::tree::UnitStatus::Closed;
    row.closed_on = Some(closed_on);
    row.updated_at = now;
    row.version += 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    store::add_successors(conn, &row.id, &successors)?;
    let cascaded = store::close_orphans(conn, closed_on, now)?;
    if !successors.is_empty() {
        crate::tree::rebuild_closures(conn)?;
    }
    let after = store::load_unit(conn, row)?;
    #[derive(serde::Serialize)]
    struct Closed<'a> {
        unit: &'a Unit,
        reason: Option<&'a str>,
        closed_with_it: Vec<&'a str>,
    }
    let record = Closed {
        unit: &after,
        reason: input.reason.as_deref(),
        closed_with_it: cascaded.iter().map(|r| r.code.as_str()).collect(),
    };
    changes::record(
        conn,
        actor,
        change("unit.close", id).announcing(EventType::UnitReorganized),
        Some(&before),
        Some(&record),
    )?;
    for orphan in &cascaded {
        changes::record(
            conn,
            actor,
            change("unit.close", &orphan.id).announcing(EventType::UnitReorganized),
            Some(&serde_json::json!({"code": orphan.code, "status": "active"})),
            Some(
                &serde_json::json!({"code": orphan.code, "status": "closed", "closed_on": closed_on, "closed_with": after.id}),
            ),
        )?;
    }
    Ok(after)
}
