//! Building and running the HTTP application.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{Authenticator, UnitCache};
use crate::config::Config;
use crate::db::{self, Pool};
use crate::http::{self, rate_limit::RateLimiter};

/// What every request handler shares.
pub struct AppState {
    pub pool: Pool,
    /// What secrets at rest are sealed and hashed with (`DVK_DATA_KEYS`).
    pub keyring: crate::keyring::Keyring,
    pub auth: Authenticator,
    pub config: Config,
    pub unit_cache: UnitCache,
    pub rate_limiter: RateLimiter,
    pub token_limits: http::rate_limit::TokenLimits,
    pub metrics: crate::metrics::Metrics,
    /// Set on SIGTERM: `/readyz` answers 503 `draining` while in-flight work finishes.
    pub draining: std::sync::atomic::AtomicBool,
    /// Where attachment bytes are kept (`DVK_STORAGE`).
    pub storage: crate::storage::Storage,
}

pub struct Application {
    server: Server,
    port: u16,
    pub state: web::Data<AppState>,
}

impl Application {
    /// Opens the database (migrating it), binds the address and prepares the server. With port 0
    /// the system picks a free port; `port()` tells which.
    pub fn build(config: Config) -> Result<Application, String> {
        let auth = Authenticator::from_config(&config).map_err(|e| e.to_string())?;
        let keyring = config.data_keys.clone().ok_or(
            "no data key is configured: set DVK_DATA_KEYS (make one with `dvk data-key`), \
             or start with --dev to generate a development key",
        )?;
        let pool = db::open(&config)?;
        {
            let mut conn = pool.get().map_err(|e| format!("cannot connect to the database: {e}"))?;
            db::migrate(&mut conn)?;
            // Webhook secrets written in plain text, or under a key that is no longer current,
            // are sealed under the current key.
            crate::webhooks::reseal_secrets(&mut conn, &keyring)?;
        }
        let storage = crate::storage::Storage::open(&config.storage)?;
        let listener = TcpListener::bind(&config.bind).map_err(|e| format!("cannot bind {}: {e}", config.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        // With port 0 the system chose: the state knows the real address (a webhook must not
        // point at it).
        let mut config = config;
        if let Some((host, _)) = config.bind.rsplit_once(':') {
            config.bind = format!("{host}:{port}");
        }
        let state = web::Data::new(AppState {
            pool,
            keyring,
            auth,
            rate_limiter: RateLimiter::new(config.rate_limit_per_second, config.rate_limit_burst),
            token_limits: http::rate_limit::TokenLimits::new(
                config.token_rate_per_second,
                config.token_failures_per_minute,
            ),
            unit_cache: UnitCache::default(),
            metrics: crate::metrics::Metrics::default(),
            draining: Default::default(),
            storage,
            config: config.clone(),
        });
        let openapi = Arc::new(crate::openapi::document());
        let server_state = state.clone();
        let cors_origins = config.cors_origins.clone();
        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi((*openapi).clone())
                .configure(|cfg| crate::openapi::routes(cfg, &cors_origins))
                .split_for_parts();
            app.app_data(server_state.clone())
                .app_data(http::json::query_config())
                .app_data(http::json::path_config())
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", (*openapi).clone()))
                .default_service(web::to(crate::health::not_found))
                .wrap(from_fn(http::reads::route_reads))
                .wrap(from_fn(crate::attachments::uploads::tus_resumable_header))
                .wrap(from_fn(http::idempotency::idempotency))
                // Outside every reader of a body (idempotency spools one).
                .wrap(from_fn(http::body_deadline::body_deadline))
                .wrap(from_fn(http::rate_limit::rate_limit))
                // Inside request_id (so the log line has it), outside compression.
                .wrap(from_fn(crate::metrics::observe))
                .wrap(from_fn(http::request_id))
                .wrap(Compress::default())
        })
        .workers(config.workers)
        .listen(listener)
        .map_err(|e| e.to_string())?
        .shutdown_timeout(30)
        // Signals are ours: the instance says it is draining before it stops accepting.
        .disable_signals()
        .run();
        log::info!(
            "dvk listening on http://{}:{port} ({} database)",
            config.bind.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1"),
            match db::Backend::of_url(&config.database_url) {
                db::Backend::Postgres => "PostgreSQL",
                db::Backend::Sqlite => "SQLite",
            }
        );
        Ok(Application { server, port, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through its handle; the webhook sender (unless
    /// `DVK_WEBHOOK_SENDER=false`) and, on PostgreSQL, the folding of count changes
    /// (`keep_folding`, unless `DVK_COUNT_FOLDER=false`) run beside the server and stop with it. Signals are not
    /// listened for: an embedding (a test, a bench) stops it.
    pub async fn run(self) -> std::io::Result<()> {
        let sender = self
            .state
            .config
            .webhook_sender
            .then(|| actix_web::rt::spawn(crate::webhooks::delivery::run(self.state.clone())));
        let stop_folding = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let postgres = db::Backend::of_url(&self.state.config.database_url) == db::Backend::Postgres;
        if postgres && self.state.config.count_folder {
            let (state, stop) = (Arc::downgrade(&self.state.clone().into_inner()), stop_folding.clone());
            std::thread::Builder::new().name("dvk-fold".into()).spawn(move || keep_folding(state, stop))?;
        }
        let served = self.server.await;
        // The folder ends after its fold in progress.
        stop_folding.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(sender) = sender {
            // A step cut off between a receiver's answer and its record would send that message
            // again after the lease: the sender claims nothing more and finishes the step it is in.
            self.state.draining.store(true, std::sync::atomic::Ordering::SeqCst);
            let mut sender = sender;
            if actix_web::rt::time::timeout(SENDER_STOP_WAIT, &mut sender).await.is_err() {
                log::warn!(
                    "webhooks: the sender's step outlasted {SENDER_STOP_WAIT:?}; its claims end with their lease"
                );
                sender.abort();
            }
        }
        served
    }

    /// `run`, as the `dvk serve` process: on SIGTERM or SIGINT the instance drains. `/readyz`
    /// answers 503 at once, it serves on for `DVK_DRAIN_SECS`, then stops accepting and lets
    /// in-flight requests finish.
    pub async fn serve(self) -> std::io::Result<()> {
        let signals = actix_web::rt::spawn(drain_on_signal(self.state.clone(), self.server.handle()));
        let served = self.run().await;
        signals.abort();
        served
    }
}

/// How often the count changes PostgreSQL writers append are folded into the counts
/// (`reports::counts::fold`): often enough that a report reads few of them beside the counts.
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Folds count changes until the server stops or its state is gone. On a thread of its own, not
/// on the server's runtime: an embedding that blocks its runtime (the benchmark, waiting on its
/// load generator) must not starve it, or the changes readers add up would pile up. A failed
/// fold is logged and tried at the next turn; counts stay exact meanwhile (readers read the
/// changes too), and a fold cut off rolls back.
fn keep_folding(state: std::sync::Weak<AppState>, stop: Arc<std::sync::atomic::AtomicBool>) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(FOLD_EVERY);
        let Some(state) = state.upgrade() else { return };
        let folded =
            state.pool.get().map_err(|e| crate::error::ApiError::internal(e.to_string())).and_then(|mut conn| {
                match crate::reports::counts::fold(&mut conn)? {
                    0 => Ok(()),
                    _ => crate::reports::counts::tidy(&mut conn),
                }
            });
        if let Err(e) = folded {
            log::warn!("counts: a fold failed; tried again in {FOLD_EVERY:?}: {e}");
        }
    }
}

/// How long a stopping instance waits for the webhook sender's step in progress: a batch of
/// receivers answering within their timeout.
const SENDER_STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits for SIGTERM or SIGINT, then drains: readiness off at once, serving on for the drain
/// period, then a graceful stop.
async fn drain_on_signal(state: web::Data<AppState>, server: actix_web::dev::ServerHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        log::warn!("cannot listen for SIGTERM and SIGINT; stop the process with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    state.draining.store(true, std::sync::atomic::Ordering::SeqCst);
    let drain = state.config.drain_secs;
    log::info!("draining: /readyz answers 503; stopping in {drain} s, after in-flight requests finish");
    actix_web::rt::time::sleep(std::time::Duration::from_secs(drain)).await;
    server.stop(true).await;
}
