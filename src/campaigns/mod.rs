//! Campaigns: emulation campaigns and implementation plans launched by units.

pub mod handlers;
pub mod rules;
pub mod service;
mod store;
pub mod types;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::{find, CampaignRow};

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::create_campaign)
        .service(handlers::list_campaigns)
        .service(handlers::get_campaign)
        .service(handlers::update_campaign)
        .service(handlers::launch_campaign)
        .service(handlers::close_campaign)
        .service(handlers::cancel_campaign);
}
