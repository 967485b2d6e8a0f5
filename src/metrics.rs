//! Observability: one middleware writes a structured access log line and counts every request
//! (by route, method and status, with a latency histogram); `/metrics` serves the counts in the
//! Prometheus text format with the pool's use and the webhook backlog.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{get, web, HttpMessage, HttpRequest, HttpResponse};
use diesel::prelude::*;

use crate::error::ApiError;
use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Requests by (route, method, status).
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut series) = self.series.lock() else { return };
        let s = series.entry((route.to_string(), method.to_string(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        let series = self.series.lock().map(|s| s.clone()).unwrap_or_default();
        out.push_str("# HELP dvk_http_requests_total Requests answered, by route, method and status.\n");
        out.push_str("# TYPE dvk_http_requests_total counter\n");
        for ((route, method, status), s) in &series {
            let _ = writeln!(
                out,
                "dvk_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP dvk_http_request_duration_seconds Time to answer, by route, method and status.\n");
        out.push_str("# TYPE dvk_http_request_duration_seconds histogram\n");
        for ((route, method, status), s) in &series {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(out, "dvk_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "dvk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "dvk_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "dvk_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
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
    let peer = req.peer_addr().map(|a| a.ip().to_string());
    let state = req.app_data::<web::Data<AppState>>().cloned();
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
        let same =
            given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0, |d, (a, b)| d | (a ^ b)) == 0;
        if !same {
            return Err(ApiError::unauthorized("invalid_token", "metrics need the scraper's token"));
        }
    }
    let mut out = String::new();
    state.metrics.render(&mut out);
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
