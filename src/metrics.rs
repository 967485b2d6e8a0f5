//! Observability: one middleware writes a structured access log line and counts every request
//! (by route, method and status, with a latency histogram); `/metrics` serves the counts in the
//! Prometheus text format with the pool's use and the webhook backlog.

use std::fmt::Write;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{get, web, HttpMessage, HttpRequest, HttpResponse};
use diesel::prelude::*;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The service's own series, registered once per process (each test app has its own).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    in_flight: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let labels = ["route", "method", "status"];
        let requests = IntCounterVec::new(
            Opts::new("dvk_http_requests_total", "Requests answered, by route, method and status."),
            &labels,
        )
        .expect("a valid counter");
        let durations = HistogramVec::new(
            HistogramOpts::new("dvk_http_request_duration_seconds", "Time to answer, by route, method and status.")
                .buckets(BUCKETS.to_vec()),
            &labels,
        )
        .expect("a valid histogram");
        let in_flight =
            IntGauge::new("dvk_http_requests_in_flight", "Requests being answered now (this one included).")
                .expect("a valid gauge");
        let registry = Registry::new();
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(durations.clone()),
            Box::new(in_flight.clone()),
        ] {
            registry.register(c).expect("each series registered once");
        }
        Metrics { registry, requests, durations, in_flight }
    }
}

impl Metrics {
    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [route, method, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.durations.with_label_values(&labels).observe(seconds);
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            log::warn!("metrics: cannot encode: {e}");
        }
        out
    }
}

/// Counts a request in flight until it is dropped, answered or not.
struct InFlight(IntGauge);

impl InFlight {
    fn start(gauge: &IntGauge) -> InFlight {
        gauge.inc();
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Logs one JSON line a request (no token, no query string: they may carry secrets) and counts
/// it under its route pattern, so `/models/{id}` is one series however many models there are.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.path().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // The caller (behind a trusted balancer, the address it forwarded for).
    let trusted = state.as_ref().map(|s| s.config.trusted_proxies.as_slice()).unwrap_or_default();
    let peer =
        crate::http::client_address::client_address(req.peer_addr(), req.headers(), trusted).map(|a| a.to_string());
    let _in_flight = state.as_ref().map(|s| InFlight::start(&s.metrics.in_flight));
    let res = next.call(req).await?;
    let seconds = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    if let Some(state) = &state {
        state.metrics.observe(&route, &method, status, seconds);
    }
    let extensions = res.request().extensions();
    let subject = extensions
        .get::<crate::auth::Claims>()
        .map(|c| c.sub.clone())
        .or_else(|| extensions.get::<crate::auth::Actor>().map(|a| a.sub.clone()));
    let request_id = extensions.get::<crate::http::RequestId>().cloned();
    let client_id = extensions.get::<crate::service_accounts::ClientId>().map(|c| c.0.clone());
    drop(extensions);
    let (request_id, client_request_id) = match request_id {
        Some(r) => (Some(r.id), r.client),
        None => (None, None),
    };
    log::info!(
        target: "dvk::access",
        "{}",
        serde_json::json!({
            "peer": peer, "method": method, "path": path, "route": route, "status": status,
            "ms": (seconds * 1e4).round() / 10.0, "request_id": request_id,
            "client_request_id": client_request_id, "sub": subject, "client_id": client_id,
        })
    );
    Ok(res)
}

/// Prometheus metrics: requests and latencies by route, the connection pool, the webhook backlog.
/// With `DVK_METRICS_TOKEN` set, only a scraper presenting it as a bearer token is served.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "The Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, response = crate::openapi::Unauthorized),
    ),
    security(())
)]
#[get("/metrics")]
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(expected) = &state.config.metrics_token {
        let given = crate::auth::bearer_token(&req)?.unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::unauthorized("invalid_token", "metrics need the scraper's token"));
        }
    }
    let mut out = state.metrics.render();
    let pool = state.pool.state();
    let _ = writeln!(out, "# HELP dvk_db_pool_connections Connections the pool holds, and how many are idle.");
    let _ = writeln!(out, "# TYPE dvk_db_pool_connections gauge");
    let _ = writeln!(out, "dvk_db_pool_connections{{state=\"open\"}} {}", pool.connections);
    let _ = writeln!(out, "dvk_db_pool_connections{{state=\"idle\"}} {}", pool.idle_connections);
    let _ = writeln!(out, "dvk_db_pool_max_size {}", state.pool.max_size());
    let backlog = crate::db::run(&state.pool, |conn| {
        use crate::db::schema::webhook_deliveries as d;
        Ok(d::table.filter(d::status.eq("pending")).count().get_result::<i64>(conn)?)
    })
    .await
    .unwrap_or(-1);
    let _ = writeln!(out, "# HELP dvk_webhook_backlog Webhook deliveries waiting to be sent or retried (-1: unknown).");
    let _ = writeln!(out, "# TYPE dvk_webhook_backlog gauge");
    let _ = writeln!(out, "dvk_webhook_backlog {backlog}");
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}
