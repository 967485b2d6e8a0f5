//! Units: the hierarchy of organisations every record belongs to.

pub mod handlers;
pub mod import;
pub mod rules;
pub mod service;
mod store;
pub mod types;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    // Fixed paths before `/units/{id}` patterns.
    cfg.service(handlers::import_units)
        .service(handlers::reorganize_units)
        .service(handlers::create_unit)
        .service(handlers::list_units)
        .service(handlers::get_unit)
        .service(handlers::unit_ancestors)
        .service(handlers::update_unit)
        .service(handlers::close_unit);
}
