//! Model operations, each inside one transaction: scope, rules, write, audit.

use chrono::{Datelike, NaiveDate};

use crate::auth::{Actor, Role};
use crate::campaigns::types::CampaignStatus;
use crate::campaigns::CampaignRow;
use crate::changes::{self, Change};
use crate::db::DbConnection;
use crate::error::{ApiError, FieldError};
use crate::http::etag::IfMatch;
use crate::tree::UnitRow;
use crate::webhooks::types::EventType;

use super::rules::{self, Content, Context};
use super::store::{self, ModelRow, ProgressRow};
use super::types::{CreateModel, CreateProgress, Model, ModelAction, ModelStatus, Progress, StatusChange, UpdateModel};

/// The model if the actor may see it (its unit is in the actor's subtree, predecessors
/// included); 404 otherwise, so existence is not revealed.
pub fn visible(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<ModelRow, ApiError> {
    let row = store::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if crate::tree::Sight::of(&actor.unit_id).holds(conn, &row.unit_id)? {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

fn owner(conn: &mut DbConnection, row: &ModelRow) -> Result<UnitRow, ApiError> {
    crate::tree::find(conn, &row.unit_id)?.ok_or_else(|| ApiError::internal("a model's unit is missing"))
}

/// Reviewers act for a unit above the model's, at or above the level it is registered with.
fn require_competent(conn: &mut DbConnection, actor: &Actor, row: &ModelRow) -> Result<(), ApiError> {
    actor.require(Role::Reviewer)?;
    let owner = owner(conn, row)?;
    if !crate::tree::is_above(conn, &actor.unit_id, actor.level, &owner)? {
        return Err(ApiError::forbidden(
            "not_above_owner",
            "a registration is accepted or returned by a unit above the model's own unit",
        ));
    }
    let registered = row.registered_level;
    if !actor.level.at_or_above(registered) {
        return Err(ApiError::forbidden(
            "below_registered_level",
            format!("the model is registered at {registered} level; a reviewer at that level or above decides"),
        ));
    }
    Ok(())
}

/// The campaign a model of `owner` registers under: visible, active, launched by the owner or a
/// unit above it.
fn campaign_for(
    conn: &mut DbConnection,
    actor: &Actor,
    owner: &UnitRow,
    campaign_id: &str,
) -> Result<CampaignRow, ApiError> {
    let (campaign, applies) =
        crate::campaigns::service::for_owner(conn, actor, campaign_id, &owner.id).map_err(|e| {
            e.unresolved("campaign_id", "unknown_campaign", "no such campaign, or it is outside your scope")
        })?;
    if !applies {
        return Err(ApiError::field(
            "campaign_id",
            "campaign_not_applicable",
            "the campaign is launched by a unit that is not the owner's or above it",
        ));
    }
    if campaign.status != CampaignStatus::Active {
        return Err(ApiError::field("campaign_id", "campaign_not_active", "only an active campaign takes models"));
    }
    Ok(campaign)
}

/// A model another replicates: a recognised one, from anywhere (recognised models are public, and
/// replication across units is the point), or, for a clear refusal, one the caller sees.
fn replication_source(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<String, ApiError> {
    let unknown =
        || ApiError::field("replicated_from_id", "unknown_model", "no such model, or it is outside your scope");
    let source = store::find(conn, id)?.ok_or_else(unknown)?;
    if source.status == ModelStatus::Recognized {
        return Ok(source.id);
    }
    if !crate::tree::Sight::of(&actor.unit_id).holds(conn, &source.unit_id)? {
        return Err(unknown());
    }
    Err(ApiError::field("replicated_from_id", "source_not_recognized", "only a recognised model can be replicated"))
}

fn checked(mut content: Content, owner: &UnitRow, campaign: &CampaignRow) -> Result<Content, ApiError> {
    let ctx =
        Context { owner_level: owner.level, campaign_years: (campaign.starts_on.year(), campaign.ends_on.year()) };
    let errors = rules::check(&mut content, &ctx);
    ApiError::unless_any(errors)?;
    Ok(content)
}

fn change<'a>(action: &'a str, row: &'a ModelRow) -> Change<'a> {
    Change::new(action, "model", &row.id, Some(&row.unit_id))
}

/// Writes a change over the row as it was read, moves the version on, and records it in the audit
/// log with the model before and after.
fn save(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    event: Option<EventType>,
    before: &Model,
    before_row: &ModelRow,
    mut row: ModelRow,
) -> Result<Model, ApiError> {
    row.updated_at = crate::db::now();
    row.version = before_row.version + 1;
    if !store::update(conn, &row, before_row)? {
        return Err(ApiError::PreconditionFailed { current: None });
    }
    touch_sources(conn, before_row, &row)?;
    let after = row.to_api(before.replication_count, before.attachment_count)?;
    changes::record(conn, actor, change(action, &row).announcing(event), Some(before), Some(&after))?;
    Ok(after)
}

/// The replication counts a change alters: the source it leaves and the one it joins, and its
/// source when it is withdrawn (withdrawn copies do not count).
fn touch_sources(conn: &mut DbConnection, before: &ModelRow, after: &ModelRow) -> Result<(), ApiError> {
    fn counted(r: &ModelRow) -> Option<&str> {
        r.replicated_from_id.as_deref().filter(|_| r.status != ModelStatus::Withdrawn)
    }
    let (was, is) = (counted(before), counted(after));
    if was == is {
        return Ok(());
    }
    let ids: Vec<&str> = was.into_iter().chain(is).collect();
    store::touch(conn, &ids, after.updated_at)
}

fn step(
    actor: &Actor,
    action: &str,
    from: Option<ModelStatus>,
    to: ModelStatus,
    comment: Option<String>,
) -> StatusChange {
    StatusChange {
        action: action.to_string(),
        from,
        to,
        at: crate::db::now().and_utc(),
        by: actor.sub.clone(),
        by_unit_id: actor.unit_id.clone(),
        comment,
    }
}

pub fn create(conn: &mut DbConnection, actor: &Actor, input: CreateModel) -> Result<Model, ApiError> {
    actor.require(Role::Editor)?;
    let unit_id = input.unit_id.clone().unwrap_or_else(|| actor.unit_id.clone());
    let owner = crate::units::service::visible(conn, actor, &unit_id)
        .map_err(|e| e.unresolved("unit_id", "unknown_unit", "no such unit, or it is outside your scope"))?;
    if !owner.is_active() {
        return Err(ApiError::field("unit_id", "unit_closed", "a closed unit registers no new models"));
    }
    let campaign = campaign_for(conn, actor, &owner, &input.campaign_id)?;
    let content = checked(
        Content {
            title: input.title,
            description: input.description,
            subject: input.subject,
            person: input.person,
            kind: input.kind,
            field: input.field,
            special_areas: input.special_areas,
            registered_level: input.registered_level,
            year: input.year,
            objectives: input.objectives,
            indicators: input.indicators,
        },
        &owner,
        &campaign,
    )?;
    let replicated_from_id = match &input.replicated_from_id {
        Some(id) => Some(replication_source(conn, actor, id)?),
        None => None,
    };
    let registered_on = crate::dates::checked("registered_on", input.registered_on, &owner)?;
    let now = crate::db::now();
    let mut row = ModelRow {
        id: uuid::Uuid::now_v7().to_string(),
        campaign_id: campaign.id,
        unit_id: owner.id,
        title: String::new(),
        description: None,
        search_text: String::new(),
        subject: content.subject,
        person_name: None,
        person_position: None,
        kind: content.kind,
        field: None,
        special_areas: "[]".into(),
        registered_level: content.registered_level,
        year: 0,
        objectives: None,
        indicators: "[]".into(),
        replicated_from_id,
        status: ModelStatus::Draft,
        status_history: "[]".into(),
        latest_progress_on: None,
        created_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
        registered_on,
        deregistered_on: None,
    };
    row.set_content(content);
    row.push_history(step(actor, "create", None, ModelStatus::Draft, None))?;
    store::insert(conn, &row)?;
    if let Some(source) = &row.replicated_from_id {
        store::touch(conn, &[source.as_str()], now)?;
    }
    let model = row.to_api(0, 0)?;
    changes::record(conn, actor, change("model.create", &row), None::<&()>, Some(&model))?;
    Ok(model)
}

pub fn update(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    input: UpdateModel,
) -> Result<Model, ApiError> {
    let before_row = visible(conn, actor, id)?;
    actor.require(Role::Editor)?;
    let before = store::to_api(conn, &before_row)?;
    if_match.check(before.version, &before)?;
    if !rules::editable(before.status) {
        return Err(ApiError::conflict(
            "model_not_editable",
            format!("a {} model cannot be changed; only draft and returned ones can", before.status),
        ));
    }
    let owner = owner(conn, &before_row)?;
    let mut row = before_row.clone();
    let campaign_id = input.campaign_id.unwrap_or_else(|| row.campaign_id.clone());
    let campaign = campaign_for(conn, actor, &owner, &campaign_id)?;
    row.campaign_id = campaign.id.clone();
    let mut c = row.content()?;
    if let Some(v) = input.title {
        c.title = v;
    }
    if let Some(v) = input.description {
        c.description = v;
    }
    if let Some(v) = input.subject {
        c.subject = v;
    }
    if let Some(v) = input.person {
        c.person = v;
    }
    if let Some(v) = input.kind {
        c.kind = v;
    }
    if let Some(v) = input.field {
        c.field = v;
    }
    if let Some(v) = input.special_areas {
        c.special_areas = v;
    }
    if let Some(v) = input.registered_level {
        c.registered_level = v;
    }
    if let Some(on) = input.registered_on {
        row.registered_on = crate::dates::checked("registered_on", Some(on), &owner)?;
    }
    if let Some(v) = input.year {
        c.year = v;
    }
    if let Some(v) = input.objectives {
        c.objectives = v;
    }
    if let Some(v) = input.indicators {
        c.indicators = v;
    }
    let c = checked(c, &owner, &campaign)?;
    if let Some(source) = input.replicated_from_id {
        row.replicated_from_id = match source {
            Some(s) if Some(&s) == before_row.replicated_from_id.as_ref() => Some(s),
            Some(s) => Some(replication_source(conn, actor, &s)?),
            None => None,
        };
    }
    row.set_content(c);
    if row == before_row {
        return Ok(before);
    }
    save(conn, actor, "model.update", None, &before, &before_row, row)
}

pub fn act(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    action: ModelAction,
    comment: Option<String>,
) -> Result<Model, ApiError> {
    let before_row = visible(conn, actor, id)?;
    if rules::reviewer_action(action) {
        require_competent(conn, actor, &before_row)?;
    } else {
        actor.require(Role::Editor)?;
    }
    let before = store::to_api(conn, &before_row)?;
    if_match.check(before.version, &before)?;
    let to = rules::LIFECYCLE.apply(before.status, action)?;
    let comment = comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if action == ModelAction::Return && comment.is_none() {
        return Err(ApiError::field("comment", "required", "say what the unit should change"));
    }
    if action == ModelAction::Submit {
        if !owner(conn, &before_row)?.is_active() {
            return Err(ApiError::conflict("unit_closed", "the model's unit is closed; it registers nothing new"));
        }
        let campaign = crate::campaigns::find(conn, &before_row.campaign_id)?
            .ok_or_else(|| ApiError::internal("a model's campaign is missing"))?;
        if campaign.status != CampaignStatus::Active {
            return Err(ApiError::conflict("campaign_not_active", "the campaign no longer takes registrations"));
        }
    }
    let mut row = before_row.clone();
    row.push_history(step(actor, action.as_str(), Some(before.status), to, comment))?;
    let event = (action == ModelAction::Submit).then_some(EventType::ModelRegistered);
    save(conn, actor, &format!("model.{action}"), event, &before, &before_row, row)
}

/// Files a progress report on a model in progress; its figures become the model's latest
/// indicator values unless a later-dated report is already on file.
pub fn add_progress(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    input: CreateProgress,
    today: NaiveDate,
) -> Result<Progress, ApiError> {
    let before_row = visible(conn, actor, id)?;
    actor.require(Role::Editor)?;
    let status = before_row.status;
    if status != ModelStatus::InProgress {
        return Err(ApiError::conflict(
            "model_not_in_progress",
            format!("progress is reported on models in progress; this one is {status}"),
        ));
    }
    let mut errors = Vec::new();
    crate::dates::check("reported_on", input.reported_on, today, &mut errors);
    if let Some(unit) = crate::tree::find(conn, &before_row.unit_id)? {
        crate::dates::check_within_unit("reported_on", input.reported_on, &unit, &mut errors);
    }
    let text = match crate::units::rules::clean_long_text("text", Some(&input.text), 10_000) {
        Ok(Some(text)) => Some(text),
        Ok(None) => {
            errors.push(FieldError::new("text", "required", "must not be empty"));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let indicators = rules::apply_progress(&before_row.content()?.indicators, &input.indicator_values)
        .map_err(|e| errors.extend(e))
        .ok();
    let (Some(text), Some(indicators), true) = (text, indicators, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let progress = ProgressRow::new(&before_row.id, input.reported_on, text, &input.indicator_values, &actor.sub);
    store::insert_progress(conn, &progress)?;
    let before = store::to_api(conn, &before_row)?;
    let mut row = before_row.clone();
    if before_row.latest_progress_on.is_none_or(|latest| input.reported_on >= latest) {
        let mut c = row.content()?;
        c.indicators = indicators;
        row.set_content(c);
        row.latest_progress_on = Some(input.reported_on);
    }
    row.updated_at = crate::db::now();
    row.version += 1;
    if !store::update(conn, &row, &before_row)? {
        return Err(ApiError::conflict("concurrent_update", "the model changed meanwhile; retry"));
    }
    let progress = progress.to_api()?;
    #[derive(serde::Serialize)]
    struct Reported<'a> {
        model: &'a Model,
        progress: &'a Progress,
    }
    let after = row.to_api(before.replication_count, before.attachment_count)?;
    changes::record(
        conn,
        actor,
        change("model.progress", &row),
        Some(&before),
        Some(&Reported { model: &after, progress: &progress }),
    )?;
    Ok(progress)
}

/// Records an evaluation's decision on the model: in progress (or, for a correction, the
/// previous decision) → recognized or not_recognized. Called inside the finalising transaction.
pub fn decide(
    conn: &mut DbConnection,
    actor: &Actor,
    row: &ModelRow,
    recognized: bool,
    evaluation_id: &str,
) -> Result<Model, ApiError> {
    let before = store::to_api(conn, row)?;
    let (action, to, event) = if recognized {
        ("recognize", ModelStatus::Recognized, EventType::ModelRecognized)
    } else {
        ("not_recognize", ModelStatus::NotRecognized, EventType::ModelNotRecognized)
    };
    let mut after = row.clone();
    after.push_history(step(actor, action, Some(before.status), to, Some(format!("evaluation {evaluation_id}"))))?;
    save(conn, actor, &format!("model.{action}"), Some(event), &before, row, after)
}
