//! Scope: which units a unit sees (its subtree, and the units whose records passed into it), and
//! how a list keeps to that.

use diesel::prelude::*;

use super::{is_root, Level, UnitRow};
use crate::db::schema::{unit_lineage, unit_tree, units};
use crate::db::DbConnection;
use crate::error::ApiError;

/// A unit's subtree as the tree stands: the unit and every unit under it. Asking it by name
/// (`Subtree::of(ancestor).holds(conn, unit)`) keeps the two units of a question apart, where
/// two `&str` arguments could be swapped unnoticed.
#[derive(Debug, Clone, Copy)]
pub struct Subtree<'a>(&'a str);

/// What a unit sees: its subtree, and the subtrees of the units whose records passed into it in
/// a reorganisation (its lineage).
#[derive(Debug, Clone, Copy)]
pub struct Sight<'a>(&'a str);

impl<'a> Subtree<'a> {
    pub fn of(unit: &'a str) -> Self {
        Subtree(unit)
    }

    /// Whether `unit` is the subtree's root or below it.
    pub fn holds(self, conn: &mut DbConnection, unit: &str) -> Result<bool, ApiError> {
        // A unit's subtree holds the unit (its depth-0 row): no query for the commonest question,
        // a writer's own unit. Every caller names at least one side from a row that exists.
        Ok(self.0 == unit || is_within(conn, self.0, unit)?)
    }

    /// The ids of its units (the root included).
    pub fn ids(self, conn: &mut DbConnection) -> Result<Vec<String>, ApiError> {
        subtree_ids(conn, self.0)
    }
}

impl<'a> Sight<'a> {
    pub fn of(viewer: &'a str) -> Self {
        Sight(viewer)
    }

    /// Whether the viewer sees `unit`.
    pub fn holds(self, conn: &mut DbConnection, unit: &str) -> Result<bool, ApiError> {
        // A unit sees itself (its own lineage row); the viewer is a token's unit, which exists.
        Ok(self.0 == unit || can_see(conn, self.0, unit)?)
    }

    /// Whether the viewer sees more than `n` units.
    pub fn holds_more_than(self, conn: &mut DbConnection, n: i64) -> Result<bool, ApiError> {
        sees_more_than(conn, self.0, n)
    }

    /// How a list of the viewer's (of `ancestor`'s subtree, if asked) keeps to what it sees.
    pub fn plan(self, conn: &mut DbConnection, ancestor: Option<&str>) -> Result<ScopePlan, ApiError> {
        scope_plan(conn, self.0, ancestor)
    }

    /// The ancestors of `unit` that the viewer sees, from the top.
    pub fn ancestors_of(self, conn: &mut DbConnection, unit: &str) -> Result<Vec<UnitRow>, ApiError> {
        ancestors(conn, unit, self.0)
    }
}

/// Whether `viewer` sees `unit`: in its subtree, or in the subtree of a predecessor whose records
/// passed to its subtree.
fn can_see(conn: &mut DbConnection, viewer: &str, unit: &str) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        unit_lineage::table.filter(unit_lineage::ancestor_id.eq(viewer)).filter(unit_lineage::descendant_id.eq(unit)),
    ))
    .get_result(conn)?)
}

/// Whether `viewer` sees more than `n` units (itself, its subtree and predecessors). Every list
/// asks, so it reads at most `n + 1` index entries: a full count for the nation read tens of
/// thousands on every request.
fn sees_more_than(conn: &mut DbConnection, viewer: &str, n: i64) -> Result<bool, ApiError> {
    Ok(unit_lineage::table
        .filter(unit_lineage::ancestor_id.eq(viewer))
        .select(unit_lineage::descendant_id)
        .order(unit_lineage::descendant_id)
        .offset(n)
        .limit(1)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// How a list keeps to what its viewer may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopePlan {
    /// The viewer is the root of the tree: everything is in scope, no filter.
    Everything,
    /// The list asks for the subtree of a unit the viewer sees: that filter implies the scope.
    ByAncestor,
    /// A small scope (a commune, a district): `IN (the scope)`, read through the owner index.
    OwnerIndex,
    /// A large scope (a province, the nation): walk the sort index and probe the scope row by row,
    /// stopping at the limit instead of sorting the whole scope.
    Probe,
}

/// Up to this many units in a viewer's scope, lists go through the owner index.
const SMALL_SCOPE: i64 = 1000;

fn scope_plan(conn: &mut DbConnection, viewer: &str, ancestor: Option<&str>) -> Result<ScopePlan, ApiError> {
    if let Some(a) = ancestor {
        if can_see(conn, viewer, a)? {
            return Ok(ScopePlan::ByAncestor);
        }
    }
    if is_root(viewer) {
        return Ok(ScopePlan::Everything);
    }
    Ok(if sees_more_than(conn, viewer, SMALL_SCOPE)? { ScopePlan::Probe } else { ScopePlan::OwnerIndex })
}

/// Whether `unit` is `ancestor` or below it in the tree.
fn is_within(conn: &mut DbConnection, ancestor: &str, unit: &str) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        unit_tree::table.filter(unit_tree::ancestor_id.eq(ancestor)).filter(unit_tree::descendant_id.eq(unit)),
    ))
    .get_result(conn)?)
}

/// Whether the unit `upper` (at `upper_level`) stands above `lower`: a proper ancestor in the
/// tree, or, through a reorganisation, one whose lineage holds `lower` at a lower level (the new
/// province above the communes of a province merged into it).
pub fn is_above(conn: &mut DbConnection, upper: &str, upper_level: Level, lower: &UnitRow) -> Result<bool, ApiError> {
    if upper == lower.id {
        return Ok(false);
    }
    if is_within(conn, upper, &lower.id)? {
        return Ok(true);
    }
    Ok(upper_level.rank() < lower.level.rank() && can_see(conn, upper, &lower.id)?)
}

/// The ids of `ancestor`'s subtree (itself included).
fn subtree_ids(conn: &mut DbConnection, ancestor: &str) -> Result<Vec<String>, ApiError> {
    Ok(unit_tree::table.filter(unit_tree::ancestor_id.eq(ancestor)).select(unit_tree::descendant_id).load(conn)?)
}

/// The ancestors of `unit` that `viewer` may see, from the top down to the parent.
fn ancestors(conn: &mut DbConnection, unit: &str, viewer: &str) -> Result<Vec<UnitRow>, ApiError> {
    let visible = unit_lineage::table.filter(unit_lineage::ancestor_id.eq(viewer)).select(unit_lineage::descendant_id);
    Ok(units::table
        .inner_join(unit_tree::table.on(unit_tree::ancestor_id.eq(units::id)))
        .filter(unit_tree::descendant_id.eq(unit))
        .filter(unit_tree::depth.gt(0))
        .filter(units::id.eq_any(visible))
        .order(unit_tree::depth.desc())
        .select(UnitRow::as_select())
        .load(conn)?)
}

/// Keeps the boxed query `$q`, over rows owned by the unit in column `$unit`, to `$viewer`'s scope
/// (as `$plan` says) and, when `$ancestor` is given, to that unit's subtree (with the units whose
/// records passed to it in a reorganisation when `$with_predecessors`). Every list of records
/// owned by units uses it.
#[macro_export]
macro_rules! within_scope {
    ($q:expr, $unit:expr, $viewer:expr, $plan:expr, $ancestor:expr, $with_predecessors:expr) => {{
        use $crate::db::schema::{unit_lineage, unit_tree};
        use $crate::tree::ScopePlan;
        let mut q = $q;
        let viewer: String = $viewer.to_string();
        match $plan {
            ScopePlan::Everything | ScopePlan::ByAncestor => {}
            ScopePlan::OwnerIndex => {
                q = q.filter(
                    $unit.eq_any(
                        unit_lineage::table
                            .filter(unit_lineage::ancestor_id.eq(viewer))
                            .select(unit_lineage::descendant_id),
                    ),
                )
            }
            ScopePlan::Probe => {
                q = q.filter(diesel::dsl::exists(
                    unit_lineage::table
                        .filter(unit_lineage::ancestor_id.eq(viewer))
                        .filter(unit_lineage::descendant_id.eq($unit)),
                ))
            }
        }
        if let Some(ancestor) = $ancestor {
            let ancestor: String = ancestor.to_string();
            q = if $with_predecessors {
                q.filter(
                    $unit.eq_any(
                        unit_lineage::table
                            .filter(unit_lineage::ancestor_id.eq(ancestor))
                            .select(unit_lineage::descendant_id),
                    ),
                )
            } else {
                q.filter($unit.eq_any(
                    unit_tree::table.filter(unit_tree::ancestor_id.eq(ancestor)).select(unit_tree::descendant_id),
                ))
            };
        }
        q
    }};
}
