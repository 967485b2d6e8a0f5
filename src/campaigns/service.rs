//! Campaign operations, each inside one transaction: scope, rules, write, audit.

use crate::auth::{Actor, Role};
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::webhooks::types::EventType;

use super::rules::{self, Content};
use super::store::{self, CampaignRow};
use super::types::{Campaign, CampaignAction, CampaignStatus, CreateCampaign, UpdateCampaign};

/// The campaign if the actor may see it; 404 otherwise.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<CampaignRow, ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if store::can_see(conn, &actor.unit_id, &row)? {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The campaign `id`, if `actor` sees it, and whether it applies to `owner`: launched by `owner`
/// or a unit above it, as a model of `owner` must be. A launched campaign of a unit at or above
/// the actor's own is one the actor sees, so when `owner` is the actor's unit the one tree
/// question answers both: a registration makes two round trips fewer.
pub fn for_owner(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    owner: &str,
) -> Result<(CampaignRow, bool), ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let applies = crate::tree::Subtree::of(&row.unit_id).holds(conn, owner)?;
    let seen = (applies && owner == actor.unit_id && row.status != CampaignStatus::Draft)
        || store::can_see(conn, &actor.unit_id, &row)?;
    if seen {
        Ok((row, applies))
    } else {
        Err(ApiError::NotFound)
    }
}

/// Editors launch and change the campaigns of their own unit; a closed unit's campaigns are in
/// the care of its primary successor, whose editors finish them.
pub fn require_own(conn: &mut DbConnection, actor: &Actor, row: &CampaignRow) -> Result<(), ApiError> {
    actor.require(Role::Editor)?;
    if row.unit_id == actor.unit_id
        || crate::tree::caretaker(conn, &row.unit_id)?.as_deref() == Some(actor.unit_id.as_str())
    {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "outside_scope",
        "only editors of the launching unit (or of the unit that took it over) change a campaign",
    ))
}

/// The parent campaign: visible, active, and launched by a unit above `unit_id`.
fn parent(conn: &mut DbConnection, actor: &Actor, unit_id: &str, parent_id: &str) -> Result<CampaignRow, ApiError> {
    let parent = visible(conn, actor, parent_id).map_err(|e| {
        e.unresolved("parent_campaign_id", "unknown_campaign", "no such campaign, or it is outside your scope")
    })?;
    if parent.unit_id == unit_id || !crate::tree::Subtree::of(&parent.unit_id).holds(conn, unit_id)? {
        return Err(ApiError::field(
            "parent_campaign_id",
            "parent_not_above",
            "the parent campaign must be launched by a unit above this one",
        ));
    }
    if parent.status != CampaignStatus::Active {
        return Err(ApiError::field(
            "parent_campaign_id",
            "parent_not_active",
            "only an active campaign can be implemented",
        ));
    }
    Ok(parent)
}

fn checked(mut content: Content, parent: Option<&CampaignRow>) -> Result<Content, ApiError> {
    let errors = rules::check(&mut content, parent.map(|p| (p.starts_on, p.ends_on)));
    ApiError::unless_any(errors)?;
    Ok(content)
}

fn change<'a>(action: &'a str, row: &'a CampaignRow) -> Change<'a> {
    Change::new(action, "campaign", &row.id, Some(&row.unit_id))
}

pub fn create(conn: &mut DbConnection, actor: &Actor, input: CreateCampaign) -> Result<Campaign, ApiError> {
    actor.require(Role::Editor)?;
    let unit_id = input.unit_id.clone().unwrap_or_else(|| actor.unit_id.clone());
    if unit_id != actor.unit_id {
        return Err(ApiError::forbidden("outside_scope", "a campaign is launched by the caller's own unit"));
    }
    let parent = match &input.parent_campaign_id {
        Some(p) => Some(parent(conn, actor, &unit_id, p)?),
        None => None,
    };
    let input_issued_on = input.issued_on;
    let content = checked(
        Content {
            code: input.code,
            title: input.title,
            description: input.description,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            fields: input.fields,
            directives: input.directives,
            targets: input.targets,
            review_points: input.review_points,
            criteria_sets: input.criteria_sets,
        },
        parent.as_ref(),
    )?;
    let issued_on = crate::dates::checked_for(conn, "issued_on", input_issued_on, &unit_id)?;
    if store::code_taken(conn, &unit_id, &content.code, None)? {
        return Err(ApiError::conflict(
            "code_taken",
            format!("your unit already has a campaign numbered {}", content.code),
        ));
    }
    let now = crate::db::now();
    let mut row = CampaignRow {
        id: uuid::Uuid::now_v7().to_string(),
        code: String::new(),
        title: String::new(),
        description: None,
        search_text: String::new(),
        unit_id,
        parent_campaign_id: parent.map(|p| p.id),
        starts_on: content.starts_on,
        ends_on: content.ends_on,
        fields: String::new(),
        directives: String::new(),
        targets: String::new(),
        review_points: String::new(),
        criteria_sets: String::new(),
        status: CampaignStatus::Draft,
        issued_on,
        launched_at: None,
        closed_at: None,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    row.set_content(content);
    store::insert(conn, &row)?;
    let campaign = row.to_api()?;
    changes::record(conn, actor, change("campaign.create", &row), None::<&()>, Some(&campaign))?;
    Ok(campaign)
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateCampaign,
) -> Result<Campaign, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_own(conn, actor, &before_row)?;
    let before = before_row.to_api()?;
    if_match.check(before.version, &before)?;
    let status = before_row.status;
    if !matches!(status, CampaignStatus::Draft | CampaignStatus::Active) {
        return Err(ApiError::conflict("campaign_not_editable", format!("a {status} campaign cannot be changed")));
    }
    let fixed = input.starts_on.is_some() || input.ends_on.is_some() || input.parent_campaign_id.is_some();
    if status == CampaignStatus::Active && fixed {
        return Err(ApiError::conflict(
            "campaign_active",
            "the period and the parent of a launched campaign are fixed",
        ));
    }
    let mut row = before_row.clone();
    let mut c = row.content()?;
    if let Some(v) = input.code {
        c.code = v;
    }
    if let Some(v) = input.title {
        c.title = v;
    }
    if let Some(v) = input.description {
        c.description = v;
    }
    if let Some(v) = input.starts_on {
        c.starts_on = v;
    }
    if let Some(v) = input.ends_on {
        c.ends_on = v;
    }
    if let Some(v) = input.fields {
        c.fields = v;
    }
    if let Some(v) = input.directives {
        c.directives = v;
    }
    if let Some(v) = input.targets {
        c.targets = v;
    }
    if let Some(v) = input.review_points {
        c.review_points = v;
    }
    if let Some(v) = input.criteria_sets {
        c.criteria_sets = v;
    }
    if let Some(on) = input.issued_on {
        row.issued_on = crate::dates::checked_for(conn, "issued_on", Some(on), &row.unit_id)?;
    }
    if let Some(p) = input.parent_campaign_id {
        row.parent_campaign_id = match p {
            Some(p) => Some(parent(conn, actor, &row.unit_id, &p)?.id),
            None => None,
        };
    }
    let parent_row = match &row.parent_campaign_id {
        Some(p) => store::find(conn, p)?,
        None => None,
    };
    let c = checked(c, parent_row.as_ref())?;
    if c.code != before_row.code && store::code_taken(conn, &row.unit_id, &c.code, Some(&row.id))? {
        return Err(ApiError::conflict("code_taken", format!("your unit already has a campaign numbered {}", c.code)));
    }
    row.set_content(c);
    if row == before_row {
        return Ok(before);
    }
    row.updated_at = crate::db::now();
    row.version += 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    let after = row.to_api()?;
    changes::record(conn, actor, change("campaign.update", &row), Some(&before), Some(&after))?;
    Ok(after)
}

pub fn act(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    action: CampaignAction,
    comment: Option<String>,
) -> Result<Campaign, ApiError> {
    let before_row = visible(conn, actor, id)?;
    require_own(conn, actor, &before_row)?;
    let before = before_row.to_api()?;
    if_match.check(before.version, &before)?;
    let to = rules::LIFECYCLE.apply(before.status, action)?;
    if action == CampaignAction::Launch {
        if let Some(p) = &before_row.parent_campaign_id {
            let parent = store::find(conn, p)?.ok_or(ApiError::NotFound)?;
            if parent.status != CampaignStatus::Active {
                return Err(ApiError::conflict("parent_not_active", "the parent campaign is no longer active"));
            }
        }
    }
    let now = crate::db::now();
    let mut row = before_row.clone();
    row.status = to;
    match action {
        CampaignAction::Launch => {
            row.launched_at = Some(now);
            row.issued_on = row.issued_on.or(Some(crate::db::day_in_vietnam(now.and_utc())));
        }
        CampaignAction::Close | CampaignAction::Cancel => row.closed_at = Some(now),
    }
    row.updated_at = now;
    row.version += 1;
    if !store::update(conn, &row, before_row.version)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    let after = row.to_api()?;
    let action_name = format!("campaign.{action}");
    #[derive(serde::Serialize)]
    struct Acted<'a> {
        campaign: &'a Campaign,
        comment: Option<String>,
    }
    let event = (action == CampaignAction::Launch).then_some(EventType::CampaignLaunched);
    let acted = Acted { campaign: &after, comment };
    changes::record(conn, actor, change(&action_name, &row).announcing(event), Some(&before), Some(&acted))?;
    Ok(after)
}
