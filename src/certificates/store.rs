//! The SQL of certificates: what a page needs beyond the commendation, for a whole decision in
//! two queries.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{models, unit_tree, units};
use crate::db::DbConnection;
use crate::error::ApiError;

/// What a certificate says of a commendation's model: its unit, and its individual's position.
pub struct ModelFacts {
    pub unit_id: String,
    pub unit_name: String,
    pub person_position: Option<String>,
}

pub fn model_facts(conn: &mut DbConnection, model_ids: &[&str]) -> Result<HashMap<String, ModelFacts>, ApiError> {
    let rows: Vec<(String, String, String, Option<String>)> = models::table
        .inner_join(units::table.on(units::id.eq(models::unit_id)))
        .filter(models::id.eq_any(model_ids))
        .select((models::id, units::id, units::name, models::person_position))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, unit_id, unit_name, person_position)| (id, ModelFacts { unit_id, unit_name, person_position }))
        .collect())
}

/// Where an issuer is, as its certificates write it.
pub struct IssuerPlace {
    pub kind: crate::tree::UnitKind,
    /// The nearest locality at or above the issuer (a Party bloc writes its province's).
    pub name: String,
    pub division_type: Option<String>,
}

pub fn issuer_place(conn: &mut DbConnection, issuer: &str) -> Result<IssuerPlace, ApiError> {
    let kind: crate::tree::UnitKind = units::table.find(issuer).select(units::kind).first(conn)?;
    let place: Option<(String, Option<String>)> = units::table
        .inner_join(unit_tree::table.on(unit_tree::ancestor_id.eq(units::id)))
        .filter(unit_tree::descendant_id.eq(issuer))
        .filter(units::division_type.is_not_null())
        .filter(units::division_type.ne(""))
        .order(unit_tree::depth.asc())
        .select((units::name, units::division_type))
        .first(conn)
        .optional()?;
    let (name, division) = match place {
        Some(p) => p,
        None => (units::table.find(issuer).select(units::name).first(conn)?, None),
    };
    Ok(IssuerPlace { kind, name, division_type: division })
}
