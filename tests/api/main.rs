//! The integration suite: every test talks HTTP to a real server on a fresh database (SQLite by
//! default; PostgreSQL when DVK_TEST_DATABASE_URL names a server).

mod helpers;

mod imports;

mod attachments;
mod audit;
mod auth;
mod campaigns;
mod certificates;
mod cli;
mod commendations;
mod contract;
mod conventions;
mod decisions;
mod evaluations;
mod hardening;
mod models;
mod public;
mod reorganize;
mod reports;
mod schema;
mod security;
mod service_accounts;
mod standby;
mod sync;
mod units;
mod webhooks;
