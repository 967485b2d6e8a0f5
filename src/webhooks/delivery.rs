//! Sending what the outbox holds: signed by the Standard Webhooks conventions, retried on a
//! schedule of over a day, in order per resource. Every instance may run it; deliveries are
//! claimed with a lease.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{self, Pool};
use crate::error::ApiError;
use crate::keyring::Keyring;
use crate::AppState;

use super::network::{GuardedResolver, NetworkPolicy};
use super::store;

/// The waits between attempts: Standard Webhooks' schedule, 27.6 h in all.
pub const RETRY_SCHEDULE_SECS: &[u64] = &[5, 300, 1800, 7200, 18000, 36000, 36000];

/// How long a receiver has to answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// `webhook-signature`: `v1,` and the base64 HMAC-SHA256, keyed with the secret's bytes, of
/// `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// One attempt: `Ok(status)` for a 2xx, else the status (if any) and what went wrong.
/// Redirects are not followed: each hop would need the address check again, and a receiver has
/// no reason to move.
fn send(
    due: &store::Due,
    timeout: Duration,
    policy: &NetworkPolicy,
    keyring: &Keyring,
) -> Result<u16, (Option<u16>, String)> {
    let timestamp = chrono::Utc::now().timestamp();
    let Some(secret) = keyring.open(&due.secret) else {
        return Err((None, "not sent: the signing secret is sealed under a key DVK_DATA_KEYS no longer lists".into()));
    };
    let signature = sign(&secret, &due.event_id, timestamp, &due.payload);
    let resolver = GuardedResolver::new(policy.clone());
    let agent = ureq::AgentBuilder::new().timeout(timeout).redirects(0).resolver(resolver.clone()).build();
    let res = agent
        .post(&due.url)
        .set("content-type", "application/json")
        .set("user-agent", "dvk-webhooks/1")
        .set("webhook-id", &due.event_id)
        .set("webhook-timestamp", &timestamp.to_string())
        .set("webhook-signature", &signature)
        .send_string(&due.payload);
    match res {
        Ok(r) if (200..300).contains(&r.status()) => Ok(r.status()),
        Ok(r) => Err((Some(r.status()), format!("the receiver answered {}", r.status()))),
        Err(ureq::Error::Status(code, _)) => Err((Some(code), format!("the receiver answered {code}"))),
        Err(e) => Err((None, resolver.refusal().unwrap_or_else(|| e.kind().to_string()))),
    }
}

/// How one sender step works: the retry schedule, the send timeout, the claim's lease (longer
/// than the timeout, or a slow send would be taken over while it still runs), where receivers
/// may be, and the keys the signing secrets are sealed with.
pub struct Sending<'a> {
    pub schedule: &'a [u64],
    pub timeout: Duration,
    pub lease_secs: u64,
    pub policy: &'a NetworkPolicy,
    pub keyring: &'a Keyring,
}

/// Claims what is due, sends it, records each attempt. Returns how many were attempted.
pub fn run_once(pool: &Pool, how: &Sending<'_>) -> usize {
    let Sending { schedule, timeout, lease_secs, policy, keyring } = *how;
    let now = db::now();
    let lease_until = now + chrono::Duration::seconds(i64::try_from(lease_secs).unwrap_or(i64::MAX / 2));
    let due = match pool.get().ok().map(|mut conn| store::claim_due(&mut conn, now, lease_until, 20)) {
        Some(Ok(due)) => due,
        Some(Err(e)) => {
            log::warn!("webhooks: cannot claim deliveries: {e}");
            return 0;
        }
        None => return 0,
    };
    let n = due.len();
    for d in due {
        let outcome = send(&d, timeout, policy, keyring);
        let at = db::now();
        let (code, error, retry_at) = match outcome {
            Ok(code) => (Some(i32::from(code)), None, None),
            Err((code, error)) => {
                let retry = schedule.get(d.attempts as usize).map(|wait| at + chrono::Duration::seconds(*wait as i64));
                (code.map(i32::from), Some(error), retry)
            }
        };
        // The database may be away a moment (a failover): the attempt is recorded when it is
        // back, while the claim holds, rather than sent again after the lease.
        let recorded = loop {
            let outcome = pool.get().map_err(|_| ApiError::Unavailable).and_then(|mut conn| {
                db::forgetting_if_lost(store::record_attempt(&mut conn, &d, at, code, error.clone(), retry_at))
            });
            match outcome {
                Err(ApiError::Unavailable) if db::now() + RECORD_RETRY_CHRONO < d.leased_until => {
                    std::thread::sleep(RECORD_RETRY);
                }
                other => break other,
            }
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => log::warn!(
                "webhooks: delivery {} was taken over after its lease ran out; this attempt is not recorded",
                d.delivery_id
            ),
            Err(e) => log::warn!("webhooks: cannot record an attempt: {e}"),
        }
    }
    n
}

/// How often a sender tries again to record an attempt while the database is away.
const RECORD_RETRY: Duration = Duration::from_millis(500);
const RECORD_RETRY_CHRONO: chrono::Duration = chrono::Duration::milliseconds(500);

/// One step of the sender with the service's settings: claims what is due, sends it, records
/// each attempt; how many it attempted. The background sender repeats it; a test calls it.
pub fn deliver_due(state: &AppState) -> usize {
    let c = &state.config;
    let how = Sending {
        schedule: &c.webhook_retry_secs,
        timeout: SEND_TIMEOUT,
        lease_secs: c.webhook_lease_secs,
        policy: &c.webhook_allow_networks,
        keyring: &state.keyring,
    };
    run_once(&state.pool, &how)
}

/// The sender: a step whenever deliveries are due, else a wait of `DVK_WEBHOOK_POLL_MS`; it
/// returns between steps once the instance is draining.
pub async fn run(state: actix_web::web::Data<AppState>) {
    let poll = Duration::from_millis(state.config.webhook_poll_ms.max(10));
    let draining = || state.draining.load(std::sync::atomic::Ordering::SeqCst);
    while !draining() {
        let step = state.clone();
        let sent = actix_web::web::block(move || deliver_due(&step)).await.unwrap_or(0);
        if sent == 0 {
            actix_web::rt::time::sleep(poll).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
