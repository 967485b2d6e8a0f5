//! HTTP handlers for printed certificates.

use std::sync::OnceLock;

use actix_web::{get, web, HttpResponse};
use tokio::sync::Semaphore;

use crate::auth::Actor;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::AppState;

use super::layout::Certificate;
use super::{pdf, service};

/// The printable certificate (giấy khen or bằng khen) of an issued commendation: A4 landscape,
/// headed as its issuing body heads its documents, with a QR code that opens its public
/// verification record. Any role of the issuing unit, of the recipient's unit, or of a unit above
/// either may print it; each print is audited. A revoked commendation's is refused.
#[utoipa::path(
    tag = "commendations",
    params(("id" = String, Path, description = "Commendation id")),
    responses(
        (status = 200, description = "The certificate, one A4 page", content_type = "application/pdf", body = crate::openapi::Binary,
         headers(("Content-Disposition" = String, description = "inline, with a file name"))),
        crate::openapi::PrintErrors,
    ),
    security(("bearer" = []))
)]
#[get("/commendations/{id}/certificate")]
pub async fn commendation_certificate(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    print(state, actor, id.into_inner(), "certificate", |conn, actor, id, base| {
        service::of_commendation(conn, actor, id, base).map(|c| vec![c])
    })
    .await
}

/// The certificates of every standing commendation of an issued decision, one page each, in one
/// PDF: what the office prints after the decision is signed. Any role of the issuing unit or of
/// a unit above it; audited.
#[utoipa::path(
    tag = "decisions",
    params(("id" = String, Path, description = "Decision id")),
    responses(
        (status = 200, description = "One A4 page per commendation", content_type = "application/pdf", body = crate::openapi::Binary,
         headers(("Content-Disposition" = String, description = "inline, with a file name"))),
        crate::openapi::PrintErrors,
    ),
    security(("bearer" = []))
)]
#[get("/decisions/{id}/certificates")]
pub async fn decision_certificates(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    print(state, actor, id.into_inner(), "certificates", service::of_decision).await
}

type Certificates = fn(&mut DbConnection, &Actor, &str, &str) -> Result<Vec<Certificate>, ApiError>;

/// Reads what `make` prints (and audits it) in one transaction, then renders it.
async fn print(
    state: web::Data<AppState>,
    actor: Actor,
    id: String,
    file: &str,
    make: Certificates,
) -> Result<HttpResponse, ApiError> {
    let (name, base) = (format!("{file}-{id}.pdf"), state.config.public_base_url());
    let certificates =
        db::run(&state.pool, move |conn| db::transaction(conn, |conn| make(conn, &actor, &id, &base))).await?;
    respond(certificates, name).await
}

/// Renders off the request's worker, one render per core at a time: a 500-page decision takes
/// about a second of CPU, and a burst of them must queue rather than starve every other request.
async fn respond(certificates: Vec<Certificate>, file_name: String) -> Result<HttpResponse, ApiError> {
    static RENDERING: OnceLock<Semaphore> = OnceLock::new();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let _turn = RENDERING
        .get_or_init(|| Semaphore::new(cores))
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the certificate renderer stopped"))?;
    let bytes = web::block(crate::http::logging::blocking(move || pdf::render(&certificates)))
        .await
        .map_err(|_| ApiError::internal("the certificate renderer stopped"))??;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("Content-Disposition", format!("inline; filename=\"{file_name}\"")))
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
