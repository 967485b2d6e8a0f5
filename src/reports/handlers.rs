//! HTTP handlers for reports: JSON, CSV or XLSX as `Accept` asks.

use actix_web::{get, web, HttpResponse};

use crate::auth::Actor;
use crate::db;
use crate::error::ApiError;
use crate::http::export::Format;
use crate::AppState;

use super::rules;
use super::service::{self, CommendationReportRequest, ModelReportRequest};
use super::types::*;

/// Counts of the models of a unit's subtree, filtered and grouped by one or two dimensions, with
/// subtotals and a total. Read from counts kept with every write: fast at national scale.
#[utoipa::path(
    tag = "reports",
    params(ModelReportQuery),
    responses(
        (status = 200, description = "The report (JSON, CSV with a BOM, or XLSX, as Accept asks)", body = Report),
        crate::openapi::ReportErrors,
    ),
    security(("bearer" = []))
)]
#[get("/reports/models")]
pub async fn models_report(
    state: web::Data<AppState>,
    actor: Actor,
    format: Format,
    query: web::Query<ModelReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = ModelReportRequest::parse(query.into_inner())?;
    let lang = request.lang;
    let report = db::run(&state.pool, move |conn| service::models_report(conn, &actor, &request)).await?;
    respond(format, "models-report", &report, lang)
}

/// Counts of the commendations of the models of a unit's subtree: by issuer, issuing authority,
/// issuer level, form, recipient subject, year, status or unit. Revoked ones only when asked.
#[utoipa::path(
    tag = "reports",
    params(CommendationReportQuery),
    responses(
        (status = 200, description = "The report (JSON, CSV with a BOM, or XLSX, as Accept asks)", body = Report),
        crate::openapi::ReportErrors,
    ),
    security(("bearer" = []))
)]
#[get("/reports/commendations")]
pub async fn commendations_report(
    state: web::Data<AppState>,
    actor: Actor,
    format: Format,
    query: web::Query<CommendationReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let request = CommendationReportRequest::parse(query.into_inner())?;
    let lang = request.lang;
    let report = db::run(&state.pool, move |conn| service::commendations_report(conn, &actor, &request)).await?;
    respond(format, "commendations-report", &report, lang)
}

/// Progress against each target of a campaign, computed from the records: units that launched a
/// plan implementing it, units with a registered model, models per unit per year.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "Campaign id"), TargetReportQuery),
    responses(
        (status = 200, description = "Each target with numerator, denominator, ratio and whether it is met", body = TargetReport),
        crate::openapi::ReportErrors,
    ),
    security(("bearer" = []))
)]
#[get("/reports/campaigns/{id}/targets")]
pub async fn campaign_targets(
    state: web::Data<AppState>,
    actor: Actor,
    format: Format,
    id: web::Path<String>,
    query: web::Query<TargetReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), query.into_inner());
    let lang = q.lang.unwrap_or_default();
    let report =
        db::run(&state.pool, move |conn| service::targets(conn, &actor, &id, q.year, lang, crate::db::today())).await?;
    if format.is_spreadsheet() {
        return rules::targets_table(&report, lang).respond(format);
    }
    Ok(HttpResponse::Ok().json(report))
}

fn respond(format: Format, name: &str, report: &Report, lang: crate::labels::Lang) -> Result<HttpResponse, ApiError> {
    if format.is_spreadsheet() {
        return rules::report_table(name, report, lang).respond(format);
    }
    Ok(HttpResponse::Ok().json(report))
}
