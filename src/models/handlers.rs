//! HTTP handlers for models and their progress reports.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag::{self, IfMatch};
use crate::http::json::{Json, MaybeJson};
use crate::http::pagination::{self, Cursor, Paging};
use crate::http::text;
use crate::AppState;

use super::import::{self, ImportedModels, Template};
use super::service;
use super::store;
use super::types::*;

/// Register a model (as a draft) for a unit of your subtree under an active campaign (editor).
#[utoipa::path(
    tag = "models",
    request_body = CreateModel,
    params(crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "Created as a draft", body = Model,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The model's URL"))),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/models")]
pub async fn create_model(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<CreateModel>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let m =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| service::create(conn, &actor, input))).await?;
    Ok(etag::created(format!("/api/v1/models/{}", m.id), m.version, &m))
}

/// Read a model of your subtree.
#[utoipa::path(
    tag = "models",
    params(("id" = String, Path, description = "Model id"), crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The model", body = Model, headers(("ETag" = String, description = "The version"))),
        (status = 304, description = "Not modified since the ETag in If-None-Match"),
        crate::openapi::ReadErrors,
    ),
    security(("bearer" = []))
)]
#[get("/models/{id}")]
pub async fn get_model(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let m = db::run(&state.pool, move |conn| {
        let row = service::visible(conn, &actor, &id)?;
        store::to_api(conn, &row)
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, m.version, &m))
}

/// List the models of your subtree, filtered, sorted, a page at a time.
#[utoipa::path(
    tag = "models",
    params(ListModels),
    responses(
        (status = 200, description = "A page of models", body = ModelPage),
        crate::openapi::ListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/models")]
pub async fn list_models(
    state: web::Data<AppState>,
    actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<ListModels>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let Paging { sort, sort_name, cursor, limit, updated_since } = Paging::parse(
        q.sort.as_deref(),
        "created_at",
        store::SORTS,
        q.cursor.as_deref(),
        format.limit(q.limit)?,
        q.updated_since.as_deref(),
    )?;
    let lang = q.lang.unwrap_or_default();
    let filter = store::Filter {
        campaign_id: q.campaign_id,
        unit_id: q.unit_id,
        ancestor_id: q.ancestor_id,
        include_predecessors: q.include_predecessors.unwrap_or(false),
        status: q.status,
        kind: q.kind,
        field: q.field,
        subject: q.subject,
        special_area: q.special_area,
        registered_level: q.registered_level,
        year: pagination::year(q.year)?,
        q: text::search_query(q.q)?,
        updated_since,
        cursor,
        sort,
        sort_name,
        ..store::Filter::visible_to(&actor.unit_id, actor.level, limit)
    };
    let (items, next_cursor) = db::read(&state.pool, move |conn| {
        // Tokens and spreadsheets name units by code: a unit filter takes either.
        let mut filter = filter;
        filter.unit_id = crate::tree::resolve_opt(conn, filter.unit_id.as_deref())?;
        filter.ancestor_id = crate::tree::resolve_opt(conn, filter.ancestor_id.as_deref())?;
        store::list(conn, &filter)
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, ModelPage { items, next_cursor }).await
}

/// Change a draft or returned model of your subtree (editor).
#[utoipa::path(
    tag = "models",
    request_body = UpdateModel,
    params(("id" = String, Path, description = "Model id"), crate::openapi::IfMatchHeader),
    responses(
        (status = 200, description = "The changed model", body = Model, headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ChangeErrors,
    ),
    security(("bearer" = []))
)]
#[patch("/models/{id}")]
pub async fn update_model(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<UpdateModel>,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let (id, input) = (id.into_inner(), body.0);
    let m = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::update(conn, &actor, &id, &if_match, input))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, m.version, &m))
}

async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    body: MaybeJson<ModelActionBody>,
    action: ModelAction,
) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&req)?;
    let comment = body.0.and_then(|b| b.comment);
    let m = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::act(conn, &actor, &id, &if_match, action, comment))
    })
    .await?;
    Ok(etag::respond(&req, StatusCode::OK, m.version, &m))
}

crate::action_endpoint!(
    submit_model,
    "/models/{id}/submit",
    "models",
    ModelActionBody,
    Model,
    act,
    ModelAction::Submit,
    "Register a draft or returned model with its competent level (editor of its subtree): → registered."
);
crate::action_endpoint!(accept_model, "/models/{id}/accept", "models", ModelActionBody, Model, act, ModelAction::Accept,
    "Accept a registration (reviewer of a unit above the model's, at or above its registered level): registered → in_progress.");
crate::action_endpoint!(return_model, "/models/{id}/return", "models", ModelActionBody, Model, act, ModelAction::Return,
    "Return a registration for changes (reviewer of a unit above, at or above its registered level; a comment is required): registered → returned.");
crate::action_endpoint!(
    withdraw_model,
    "/models/{id}/withdraw",
    "models",
    ModelActionBody,
    Model,
    act,
    ModelAction::Withdraw,
    "Withdraw a model before its evaluation is decided (editor of its subtree): → withdrawn."
);

/// File a progress report on a model in progress (editor of its subtree). Its indicator values
/// become the model's latest `actual` values unless a later-dated report is on file; the model's
/// version moves on.
#[utoipa::path(
    tag = "models",
    request_body = CreateProgress,
    params(("id" = String, Path, description = "Model id"), crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 201, description = "The report as filed", body = Progress),
        crate::openapi::SubCreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/models/{id}/progress")]
pub async fn add_progress(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    body: Json<CreateProgress>,
) -> Result<HttpResponse, ApiError> {
    let (id, input) = (id.into_inner(), body.0);
    let today = db::today();
    let p = db::run(&state.pool, move |conn| {
        db::transaction(conn, |conn| service::add_progress(conn, &actor, &id, input, today))
    })
    .await?;
    Ok(HttpResponse::Created().json(p))
}

/// A model's progress reports, the latest first.
#[utoipa::path(
    tag = "models",
    params(("id" = String, Path, description = "Model id"), PageParams),
    responses(
        (status = 200, description = "A page of progress reports", body = ProgressPage),
        crate::openapi::SubListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/models/{id}/progress")]
pub async fn list_progress(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    format: crate::http::export::Format,
    query: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), query.into_inner());
    let (limit, lang) = (format.limit(q.limit)?, q.lang.unwrap_or_default());
    let (items, next_cursor) = db::read(&state.pool, move |conn| {
        let model = service::visible(conn, &actor, &id)?;
        store::list_progress(conn, &model.id, limit, q.cursor.as_deref())
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, ProgressPage { items, next_cursor }).await
}

/// The models you may see that replicate this one (withdrawn ones aside), oldest first.
#[utoipa::path(
    tag = "models",
    params(("id" = String, Path, description = "Model id"), PageParams),
    responses(
        (status = 200, description = "A page of replications", body = ModelPage),
        crate::openapi::SubListErrors,
    ),
    security(("bearer" = []))
)]
#[get("/models/{id}/replications")]
pub async fn list_replications(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
    format: crate::http::export::Format,
    query: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), query.into_inner());
    let lang = q.lang.unwrap_or_default();
    let mut filter = store::Filter::visible_to(&actor.unit_id, actor.level, format.limit(q.limit)?);
    filter.cursor = q.cursor.as_deref().map(|c| Cursor::decode(c, &filter.sort_name)).transpose()?;
    let (items, next_cursor) = db::read(&state.pool, move |conn| {
        let source = service::visible(conn, &actor, &id)?;
        filter.replicated_from_id = Some(source.id);
        filter.exclude_withdrawn = true;
        store::list(conn, &filter)
    })
    .await?;
    crate::http::export::respond(&state.pool, format, lang, ModelPage { items, next_cursor }).await
}

/// Register models from a spreadsheet (`text/csv`, UTF-8, or XLSX), one row a model, as the
/// template lays out. Every row goes through the same checks as `POST /models`; all rows or none;
/// errors name the row (the header is row 1), the column and the reason. Rows are created as
/// drafts of the units their `unit_code` names, within your subtree (editor). `dry_run=true`
/// reports what would be created; `Idempotency-Key` makes a retry safe.
#[utoipa::path(
    tag = "models",
    request_body(
        description = "The file: up to 5,000 rows",
        content(
            (String = "text/csv", example = "unit_code,title,subject,kind,field,registered_level,year\n00004,Dân vận khéo làm đường,collective,by_field,economy,commune,2025\n"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
    ),
    params(ImportModelsParams, crate::openapi::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "What the import created (or, on a dry run, would create)", body = ImportedModels),
        crate::openapi::CreateErrors,
    ),
    security(("bearer" = []))
)]
#[post("/models/import")]
pub async fn import_models(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    params: web::Query<ImportModelsParams>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    actor.require(crate::auth::Role::Editor)?;
    let kind = crate::http::sheet::Upload::of(&req)?;
    let body = crate::http::json::read_body(&req, &mut payload, state.config.model_import_limit).await?;
    let ImportModelsParams { campaign_id, dry_run } = params.into_inner();
    let dry_run = dry_run.unwrap_or(false);
    // Parsing is CPU work: off the worker thread, and without holding a database connection.
    let grid =
        web::block(crate::http::logging::blocking(move || crate::http::sheet::read(kind, &body, import::MAX_ROWS)))
            .await
            .map_err(|_| ApiError::internal("the spreadsheet reader stopped"))??;
    let report = db::run(&state.pool, move |conn| {
        let run = |conn: &mut db::DbConnection| import::import(conn, &actor, &campaign_id, &grid, dry_run);
        if dry_run {
            db::rolled_back(conn, run)
        } else {
            db::transaction(conn, run)
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The import template: as JSON, each column with its label, whether it is required and the codes
/// it takes (labels are accepted too); as CSV or XLSX, the header row to fill in.
#[utoipa::path(
    tag = "models",
    params(TemplateParams),
    responses(
        (status = 200, description = "The template", body = Template,
         content(
            (Template = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
         )),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 406, response = crate::openapi::NotAcceptable),
        (status = 429, response = crate::openapi::TooManyRequests),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/models/import/template")]
pub async fn import_template(
    _actor: Actor,
    format: crate::http::export::Format,
    query: web::Query<TemplateParams>,
) -> Result<HttpResponse, ApiError> {
    let lang = query.lang.unwrap_or_default();
    if format.is_spreadsheet() {
        return import::template_table(lang).respond(format);
    }
    Ok(HttpResponse::Ok().json(import::template(lang)))
}
