//! Evaluations (đánh giá, bình xét): a unit above a model's owner scores it against its
//! campaign's criteria and decides whether it is recognised.

pub mod handlers;
pub mod rules;
pub mod service;
mod store;
pub mod types;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::{find, standing_recognition, EvaluationRow};

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::create_evaluation)
        .service(handlers::list_evaluations)
        .service(handlers::get_evaluation)
        .service(handlers::update_evaluation)
        .service(handlers::finalize_evaluation);
}
