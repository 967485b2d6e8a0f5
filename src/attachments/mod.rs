//! Attachments: the papers of a dossier (hồ sơ) on models, progress reports, campaigns and
//! decisions. Photos of the work, plans, reports, signed scans: uploaded in one request or
//! resumed over a weak network (tus), judged by their bytes, stored once by their hash, and
//! shown to the public without the metadata that would say where a photo was taken.

pub mod content;
pub mod download;
pub mod handlers;
pub mod public;
pub mod service;
pub mod sniff;
mod store;
pub mod strip;
pub mod sweep;
pub mod types;
pub mod uploads;

/// What other modules read of this resource's store; the rest of its SQL is its own.
pub use store::{public_of, AttachmentRow};

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(handlers::upload)
        .service(handlers::list_attachments)
        .service(handlers::get_attachment)
        .service(handlers::update_attachment)
        .service(handlers::delete_attachment)
        .service(handlers::download)
        .service(uploads::discover)
        .service(uploads::create)
        .service(uploads::upload_status)
        .service(uploads::append)
        .service(uploads::terminate);
}

/// Under `/api/v1/public`, no token.
pub fn configure_public(cfg: &mut ServiceConfig) {
    cfg.service(handlers::public_content).service(handlers::public_preview);
}
