//! A per-subject rate limit (token `sub`, or the client address without a token), kept in this
//! instance's memory: with N instances behind a balancer a subject may send N times the rate.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;
use crate::AppState;

pub struct RateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        RateLimiter { limiter, checks: AtomicU64::new(0) }
    }

    /// `Err(seconds)` when `key` must wait before its next request.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        // Forget idle subjects now and then, so memory does not grow with every subject ever seen.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path();
    let exempt = path == "/healthz" || path == "/readyz";
    if !exempt {
        if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
            let key = match crate::auth::verified_claims(req.request(), &state) {
                Some(claims) => format!("sub:{}|{}", claims.iss, claims.sub),
                None => format!("ip:{}", req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()),
            };
            if let Err(retry_after_secs) = state.rate_limiter.check(&key) {
                return Ok(req.error_response(ApiError::TooManyRequests { retry_after_secs }));
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
