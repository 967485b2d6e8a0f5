//! HTTP handlers for reports: JSON, CSV or XLSX as `Accept` asks.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::etag;
use crate::http::export::Format;
use crate::AppState;

use super::rules;
use super::service::{self, CommendationReportRequest, ModelReportRequest};
use super::types::*;

/// Counts of the models of a unit's subtree, filtered and grouped by one or two dimensions, with
/// subtotals and a total. Read from counts kept with every write: fast at national scale.
#[utoipa::path(
    tag = "reports",
    params(ModelReportQuery, crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The report (JSON, CSV with a BOM, or XLSX, as Accept asks)", body = Report,
         headers(("ETag" = String, description = "A digest of the JSON answer"))),
        (status = 304, description = "No figure changed since the ETag in If-None-Match"),
        crate::openapi::ReportErrors,
    ),
    security(("bearer" = []))
)]
#[get("/reports/models")]
pub async fn models_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    format: Format,
    query: web::Query<ModelReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = ModelReportRequest::parse(query.into_inner())?;
    let (lang, name) = (request.lang, "models-report");
    let report = db::read(&state.pool, move |conn| service::models_report(conn, &actor, &request)).await?;
    respond(&req, format, name, &report, lang)
}

/// Counts of the commendations of the models of a unit's subtree: by issuer, issuing authority,
/// issuer level, form, recipient subject, year, status or unit. Revoked ones only when asked.
#[utoipa::path(
    tag = "reports",
    params(CommendationReportQuery, crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "The report (JSON, CSV with a BOM, or XLSX, as Accept asks)", body = Report,
         headers(("ETag" = String, description = "A digest of the JSON answer"))),
        (status = 304, description = "No figure changed since the ETag in If-None-Match"),
        crate::openapi::ReportErrors,
    ),
    security(("bearer" = []))
)]
#[get("/reports/commendations")]
pub async fn commendations_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    format: Format,
    query: web::Query<CommendationReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = CommendationReportRequest::parse(query.into_inner())?;
    let (lang, name) = (request.lang, "commendations-report");
    let report = db::read(&state.pool, move |conn| service::commendations_report(conn, &actor, &request)).await?;
    respond(&req, format, name, &report, lang)
}

/// Progress against each target of a campaign, computed from the records: units that launched a
/// plan implementing it, units with a registered model, models per unit per year.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "Campaign id"), TargetReportQuery, crate::openapi::IfNoneMatchHeader),
    responses(
        (status = 200, description = "Each target with numerator, denominator, ratio and whether it is met", body = TargetReport,
         headers(("ETag" = String, description = "A digest of the JSON answer"))),
        (status = 304, description = "No figure changed since the ETag in If-None-Match"),
        crate::openapi::ReportErrors,
    ),
    security(("bearer" = []))
)]
#[get("/reports/campaigns/{id}/targets")]
pub async fn campaign_targets(
    req: HttpRequest,
    state: web::Data<AppState>,
    actor: Actor,
    format: Format,
    id: web::Path<String>,
    query: web::Query<TargetReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), query.into_inner());
    let lang = q.lang.unwrap_or_default();
    let asked = service::TargetRequest {
        year: q.year,
        as_of: q.as_of,
        include_predecessors: q.include_predecessors.unwrap_or(false),
    };
    let report =
        db::read(&state.pool, move |conn| service::targets(conn, &actor, &id, asked, lang, crate::db::today())).await?;
    if format.is_spreadsheet() {
        return rules::targets_table(&report, lang).respond(format);
    }
    Ok(etag::respond_private(&req, &report))
}

fn respond(
    req: &HttpRequest,
    format: Format,
    name: &str,
    report: &Report,
    lang: crate::labels::Lang,
) -> Result<HttpResponse, ApiError> {
    if format.is_spreadsheet() {
        return rules::report_table(name, report, lang).respond(format);
    }
    Ok(etag::respond_private(req, report))
}
