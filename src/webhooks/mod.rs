//! Webhooks for the portal: subscriptions per unit, an outbox written in the transaction of each
//! change, and deliveries signed by the Standard Webhooks conventions, retried for over a day,
//! in order per resource, visible and replayable through the API.

pub mod delivery;
pub mod handlers;
pub mod network;
pub mod service;
mod store;
pub mod types;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::reseal_secrets;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::create_webhook)
        .service(handlers::list_webhooks)
        .service(handlers::get_webhook)
        .service(handlers::update_webhook)
        .service(handlers::list_deliveries)
        .service(handlers::replay_delivery);
}
