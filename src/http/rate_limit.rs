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

/// Who is calling, as the limits count: the token's subject, or the client address without one.
pub fn caller(req: &ServiceRequest, state: &AppState) -> String {
    match crate::auth::verified_claims(req.request(), state) {
        Some(claims) => format!("sub:{}|{}", claims.iss, claims.sub),
        None => {
            let address = crate::http::client_address::client_address(
                req.peer_addr(),
                req.headers(),
                &state.config.trusted_proxies,
            );
            format!("ip:{}", address.map(|a| a.to_string()).unwrap_or_default())
        }
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
            let key = caller(&req, &state);
            if let Err(retry_after_secs) = state.rate_limiter.check(&key) {
                return Ok(req.error_response(ApiError::TooManyRequests { retry_after_secs }));
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The token endpoint's own limits (issue 14): requests per address and per `client_id`, and
/// failed authentications per address and per `client_id`, counted apart so that a flood of
/// wrong secrets is refused cheaply (429, before any database work) while the right client
/// keeps its turn. Per instance, like the limiter above; the token handler also checks the
/// failures every instance has counted in the database (`service_accounts::service`).
pub struct TokenLimits {
    /// Requests, per address and per client: the same keyed limiter as every request's (it
    /// forgets idle keys, so random client ids cannot grow it without bound).
    requests: RateLimiter,
    pub failures_per_minute: u32,
    failures: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
}

impl TokenLimits {
    const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

    /// `per_second` requests (burst twice that) and `failures_per_minute` failures, each per
    /// address and per client; 0 turns either off.
    pub fn new(per_second: u32, failures_per_minute: u32) -> TokenLimits {
        let requests = RateLimiter::new(per_second, per_second.saturating_mul(2));
        TokenLimits { requests, failures_per_minute, failures: Default::default() }
    }

    /// What failures count against: the address and the client.
    pub fn keys(address: &str, client_id: &str) -> [String; 2] {
        // A client id is the caller's text: bounded so that it cannot grow the map's keys.
        let client: String = client_id.chars().take(64).collect();
        [format!("ip:{address}"), format!("client:{client}")]
    }

    /// `Err(seconds)` when the address or the client must wait.
    pub fn admit(&self, address: &str, client_id: &str) -> Result<(), u64> {
        let keys = Self::keys(address, client_id);
        if self.failures_per_minute > 0 {
            let now = std::time::Instant::now();
            let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            for key in &keys {
                if let Some((since, count)) = failures.get(key) {
                    let elapsed = now.duration_since(*since);
                    if elapsed < Self::WINDOW && *count >= self.failures_per_minute {
                        return Err((Self::WINDOW - elapsed).as_secs().max(1));
                    }
                }
            }
        }
        keys.iter().try_for_each(|key| self.requests.check(key))
    }

    /// Counts a failed authentication against the address and the client.
    pub fn failed(&self, address: &str, client_id: &str) {
        if self.failures_per_minute == 0 {
            return;
        }
        let now = std::time::Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, (since, _)| now.duration_since(*since) < Self::WINDOW);
        }
        for key in Self::keys(address, client_id) {
            let entry = failures.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= Self::WINDOW {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_per_address_and_per_client_and_requests_apart() {
        let limits = TokenLimits::new(0, 3);
        for _ in 0..3 {
            assert!(limits.admit("10.0.0.1", "a").is_ok());
            limits.failed("10.0.0.1", "a");
        }
        assert!(limits.admit("10.0.0.1", "b").is_err(), "the address is spent");
        assert!(limits.admit("10.0.0.2", "a").is_err(), "the client is spent");
        assert!(limits.admit("10.0.0.2", "b").is_ok());
        let wait = limits.admit("10.0.0.1", "a").unwrap_err();
        assert!((1..=60).contains(&wait));
        let requests = TokenLimits::new(1, 0);
        assert!(requests.admit("10.0.0.3", "c").is_ok() && requests.admit("10.0.0.3", "c").is_ok());
        assert!(requests.admit("10.0.0.3", "c").is_err(), "a burst of twice the rate, then a wait");
    }
}
