//! Liveness and readiness, and the answer for paths that name nothing.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, description = "The process is up", body = Health)), security(()))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// Readiness: the database answers and the instance is not shutting down.
#[utoipa::path(tag = "health", responses(
    (status = 200, description = "Ready to serve", body = Health),
    (status = 503, description = "The database is unavailable (`service_unavailable`), or the instance is shutting down (`draining`)",
     body = Problem, content_type = "application/problem+json",
     headers(("Retry-After" = u32, description = "Seconds to wait"))),
), security(()))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ApiError::Draining);
    }
    // A probe must answer quickly: a second for a connection, not the pool's usual wait.
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get_timeout(std::time::Duration::from_secs(1)).map_err(|_| ApiError::Unavailable)?;
        diesel::sql_query("SELECT 1").execute(&mut conn).map_err(|_| ApiError::Unavailable)
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    Ok(HttpResponse::Ok().json(Health { status: "ready".into() }))
}

/// What no route took: 405 with `Allow` for a path the API serves with other methods (RFC 9110
/// §15.5.6), 404 for any other.
pub async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    match crate::openapi::methods_of(req.path()) {
        Some(methods) if !methods.iter().any(|m| *m == req.method().as_str()) => {
            Err(ApiError::MethodNotAllowed { method: req.method().to_string(), allow: methods.join(", ") })
        }
        _ => Err(ApiError::NotFound),
    }
}
