//! Service accounts for scripts: bound to a unit and roles, they authenticate with the OAuth 2.0
//! client-credentials grant (`POST /oauth/token`) and get a short-lived JWT the rest of the API
//! takes like any other. Secrets are kept as keyed hashes (see `secrets`); two may be valid at
//! once during rotation; disabling an account stops its tokens at once.

pub mod handlers;
pub mod secrets;
pub mod service;
mod store;
pub mod types;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::{current_roles, SUBJECT_PREFIX};

use utoipa_actix_web::service_config::ServiceConfig;

/// The `client_id` a token request named, kept on the request for the access log.
#[derive(Clone, Debug)]
pub struct ClientId(pub String);

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::create_service_account)
        .service(handlers::list_service_accounts)
        .service(handlers::get_service_account)
        .service(handlers::update_service_account)
        .service(handlers::disable_service_account)
        .service(handlers::enable_service_account)
        .service(handlers::rotate_secret)
        .service(handlers::token);
}
