//! Models (mô hình) and exemplars (điển hình): registration with the competent level, follow-up
//! with progress reports, and replication of recognised ones.

pub mod handlers;
pub mod import;
pub mod rules;
pub mod service;
mod store;
pub mod types;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::{
    find, find_progress, list, rebuild_scope_index, recognised_replication_counts, scope_index_differences, to_api,
    touch, Filter, ModelRow, SORTS,
};

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::import_models)
        .service(handlers::import_template)
        .service(handlers::create_model)
        .service(handlers::list_models)
        .service(handlers::get_model)
        .service(handlers::update_model)
        .service(handlers::submit_model)
        .service(handlers::accept_model)
        .service(handlers::return_model)
        .service(handlers::withdraw_model)
        .service(handlers::add_progress)
        .service(handlers::list_progress)
        .service(handlers::list_replications);
}
