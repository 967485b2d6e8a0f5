//! Commendations (khen thưởng): giấy khen and bằng khen awarded by decision of an authority
//! entitled to the form, one per achievement, revocable with grounds.

pub mod handlers;
pub mod rules;
pub mod service;
mod store;
pub mod types;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::{find, of_decision, seen_by, CommendationRow};

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::propose_commendation)
        .service(handlers::list_commendations)
        .service(handlers::get_commendation)
        .service(handlers::issue_commendation)
        .service(handlers::revoke_commendation);
}
