//! Decisions (quyết định khen thưởng): one decision of an authority of an issuer unit, under one
//! number and date and one signature, commends many recipients at once. Proposals join a draft;
//! issuing it issues them all in one transaction or none; revoking it revokes them all, while a
//! single recipient may still lose its award on its own grounds.

pub mod handlers;
pub mod rules;
pub mod service;
mod store;
pub mod types;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::{find, DecisionRow};

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::create_decision)
        .service(handlers::list_decisions)
        .service(handlers::get_decision)
        .service(handlers::update_decision)
        .service(handlers::add_commendation)
        .service(handlers::remove_commendation)
        .service(handlers::issue_decision)
        .service(handlers::revoke_decision);
}
