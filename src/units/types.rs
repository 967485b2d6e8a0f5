//! Units as the API speaks of them: request and response bodies, and the vocabulary types.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

pub use crate::tree::{Level, UnitKind, UnitStatus};

/// A unit of the hierarchy.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f60", "code": "01", "name": "Thành phố Hà Nội",
    "short_name": "Hà Nội", "kind": "locality", "level": "province", "division_type": "thành phố trung ương",
    "parent_id": "0190c000-0000-7000-8000-000000000001", "status": "active", "closed_on": null,
    "successor_ids": [], "primary_successor_id": null,
    "created_at": "2026-11-24T08:00:00Z", "updated_at": "2026-11-24T08:00:00Z", "version": 1
}))]
pub struct Unit {
    pub id: String,
    /// The official statistical code where one exists, else one an admin assigned. Unique among
    /// active units; a closed unit's code may be given to a new one.
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub level: Level,
    /// The Vietnamese type of an administrative unit as written officially (tỉnh, xã, phường…).
    pub division_type: Option<String>,
    /// The parent unit; null only for the root (VN).
    pub parent_id: Option<String>,
    pub status: UnitStatus,
    /// The day a closed unit ceased (its reorganisation's effective date).
    pub closed_on: Option<NaiveDate>,
    /// The day it came into being, when known (a reorganisation's effective date for the units it
    /// created); `null`: since before the records begin.
    pub established_on: Option<NaiveDate>,
    /// The units that took over a closed unit.
    pub successor_ids: Vec<String>,
    /// Of `successor_ids`, the one that takes over the closed unit's records.
    pub primary_successor_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Increases with every change; the ETag is this number in quotes.
    pub version: i64,
}

/// A page of units.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitPage {
    pub items: Vec<Unit>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A unit's ancestors, from the highest the caller may see down to its parent.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitList {
    pub items: Vec<Unit>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "01-BDV", "name": "Ban Dân vận Thành ủy Hà Nội", "kind": "party_body", "level": "province",
    "parent_id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f60"
}))]
pub struct CreateUnit {
    /// 1–32 characters: letters, digits and `. _ / -`.
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub code: String,
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub level: Level,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub division_type: Option<String>,
    /// Must be an active unit within the caller's subtree (the caller's own unit included).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub parent_id: String,
}

/// A partial update: only the fields present change; `null` clears an optional field.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Phường Ba Đình", "short_name": null}))]
pub struct UpdateUnit {
    #[validate(length(min = 1, max = 32))]
    pub code: Option<String>,
    #[validate(length(min = 1, max = 255))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub short_name: Option<Option<String>>,
    pub kind: Option<UnitKind>,
    #[serde(default, deserialize_with = "crate::http::json::nullable")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub division_type: Option<Option<String>>,
    /// Moves the unit (with its subtree) under another active unit of the caller's subtree.
    #[validate(length(min = 1, max = 64))]
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "closed_on": "2025-07-01",
    "successors": [{"unit_id": "0193a5b0-7c1e-7d2a-9f00-2b1c3d4e5f61", "is_primary": true}],
    "reason": "Nghị quyết 202/2025/QH15"
}))]
pub struct CloseUnit {
    /// The day it ceased; default today. Not in the future.
    pub closed_on: Option<NaiveDate>,
    /// The units that take it over (merge: one; split: several, exactly one primary).
    #[serde(default)]
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub successors: Vec<SuccessorRef>,
    /// Why, for the audit log.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuccessorRef {
    pub unit_id: String,
    #[serde(default)]
    pub is_primary: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUnits {
    /// Units with this code, exactly; repeat it for several (`?code=01&code=79`, at most 100).
    #[serde(default)]
    #[param(max_length = 32, min_length = 1, max_items = 100)]
    pub code: Vec<String>,
    /// Direct children of this unit (its id, or its code).
    pub parent_id: Option<String>,
    /// The whole subtree under this unit (its id, or its code; the unit itself included).
    pub ancestor_id: Option<String>,
    /// With `ancestor_id`: also the units closed in a reorganisation whose records passed to a
    /// unit of the subtree, and their subtrees.
    pub include_predecessors: Option<bool>,
    pub level: Option<Level>,
    pub kind: Option<UnitKind>,
    pub status: Option<UnitStatus>,
    /// Matches code, name and short name, ignoring case and Vietnamese diacritics.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only units changed at or after this instant (RFC 3339); sorts by `updated_at`. Closed
    /// units come back with `status: closed`: a closed unit is its own tombstone.
    pub updated_since: Option<String>,
    /// `code` (default), `name`, `created_at`, `updated_at`; prefix `-` for descending.
    #[param(pattern = "^(-?(code|name|created_at|updated_at))?$")]
    pub sort: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Labels of CSV and XLSX answers: vi (default) or en.
    pub lang: Option<crate::labels::Lang>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check the file and report what would change, changing nothing.
    pub dry_run: Option<bool>,
}

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Rows read from the file.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "effective_on": "2025-07-01",
    "units_csv": "code,name,level,division_type,parent_code\n01,Thành phố Hà Nội,province,thành phố trung ương,\n",
    "successors_csv": "legacy_code,successor_code,is_primary\n01,01,1\n",
    "dry_run": true
}))]
pub struct Reorganize {
    /// The day the new structure took effect: closed units close on it.
    pub effective_on: NaiveDate,
    /// The new unit list, in the layout of the official files:
    /// `code,name,level,division_type,parent_code` (optional `short_name`, `kind`).
    pub units_csv: String,
    /// `legacy_code,successor_code,is_primary`: which new unit(s) each old unit became.
    pub successors_csv: String,
    #[serde(default)]
    pub dry_run: bool,
}

/// What a reorganisation did (or would do).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ReorganizeReport {
    pub dry_run: bool,
    pub effective_on: Option<NaiveDate>,
    /// Units that carried on as the same unit (same code, level and name).
    pub continued: usize,
    /// Of those, units that moved to a new parent.
    pub moved: usize,
    /// Units of the new list that did not exist before.
    pub created: usize,
    /// Units of the new list that existed and were renamed or retyped.
    pub updated: usize,
    /// Predecessors closed with successors.
    pub closed: usize,
    /// Descendants of closed units that the new structure does not carry on, closed with them.
    pub closed_descendants: usize,
    /// Succession pairs already applied by an earlier run.
    pub already_applied: usize,
}

impl crate::http::export::Tabular for Unit {
    const COLUMNS: &'static [&'static str] =
        &["code", "name", "short_name", "kind", "level", "division_type", "parent_id", "status", "closed_on", "id"];
}
crate::page!(UnitPage, Unit, "units");
