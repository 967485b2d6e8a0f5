//! Printed certificates: the giấy khen or bằng khen of each issued commendation, as a PDF an
//! office prints, with a QR code that opens the commendation's public verification record.

pub mod handlers;
pub mod layout;
pub mod pdf;
pub mod service;
mod store;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::commendation_certificate).service(handlers::decision_certificates);
}
