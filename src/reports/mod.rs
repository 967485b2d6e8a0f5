//! Reports: the figures every review point needs, counted from the records for any unit's
//! subtree, as JSON, CSV or XLSX.

pub mod counts;
pub mod handlers;
pub mod rules;
pub mod service;
mod store;
pub mod types;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::models_report).service(handlers::commendations_report).service(handlers::campaign_targets);
}
