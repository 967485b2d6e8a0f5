//! The public read API for the provincial portal and the press: recognised models and their
//! commendations, with no token.

pub mod handlers;
mod store;
pub mod types;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::list_public_models)
        .service(handlers::get_public_model)
        .service(handlers::get_public_commendation);
}
