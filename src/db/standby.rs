//! Reads from a PostgreSQL standby (`DVK_DATABASE_READ_URL`): lists, reports and public reads go
//! there, unless the caller wrote through this instance in the last `DVK_READ_AFTER_WRITE_SECS`.
//!
//! A standby replays the primary's writes a little later, so a caller who just registered a
//! model could list without it. Two things keep a caller's own writes in sight:
//! - the primary's connections commit with `synchronous_commit = remote_apply`: when the standby
//!   is named in the primary's `synchronous_standby_names`, an acknowledged write has already been
//!   applied there, whichever instance reads next;
//! - for an asynchronous standby, the instance that took a caller's write sends that caller's
//!   reads to the primary for the window (a balancer that keeps a caller on one instance, or the
//!   synchronous standby above, covers a caller spread over instances).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

tokio::task_local! {
    /// Set by the request routing middleware for a read that may go to the standby.
    static MAY_READ_STANDBY: bool;
}

/// Runs `future` (a request's handling) with reads allowed on the standby or not.
pub async fn scope<F: std::future::Future>(may_read_standby: bool, future: F) -> F::Output {
    MAY_READ_STANDBY.scope(may_read_standby, future).await
}

/// Whether the request being handled may read from the standby (outside a request: no).
pub(super) fn may_read_standby() -> bool {
    MAY_READ_STANDBY.try_with(|may| *may).unwrap_or(false)
}

/// The standby's connections, and who wrote lately.
pub struct Standby {
    pub(super) pool: diesel::r2d2::Pool<super::Manager>,
    pub(super) turns: std::sync::Arc<tokio::sync::Semaphore>,
    window: Duration,
    writers: Mutex<HashMap<String, Instant>>,
}

/// More callers than this in one window and the oldest marks are dropped first; a dropped caller
/// can only read from the standby early, so the map is kept small by forgetting expired ones.
const MAX_WRITERS: usize = 100_000;

impl Standby {
    pub(super) fn new(pool: diesel::r2d2::Pool<super::Manager>, size: u32, window: Duration) -> Standby {
        Standby {
            pool,
            turns: std::sync::Arc::new(tokio::sync::Semaphore::new(size as usize)),
            window,
            writers: Mutex::default(),
        }
    }

    /// `caller` (a token's subject, or an address) wrote: its reads go to the primary for a while.
    pub fn wrote(&self, caller: &str) {
        let now = Instant::now();
        let mut writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        if writers.len() >= MAX_WRITERS {
            writers.retain(|_, at| now.duration_since(*at) < self.window);
        }
        writers.insert(caller.to_string(), now);
    }

    /// Whether `caller`'s reads may go to the standby: it has not written here within the window.
    pub fn may_serve(&self, caller: &str) -> bool {
        let writers = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        writers.get(caller).is_none_or(|at| at.elapsed() >= self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standby(window: Duration) -> Standby {
        let manager = super::super::Manager {
            backend: super::super::Backend::Postgres,
            url: "postgres://nobody@127.0.0.1:1/none".into(),
            session: "",
        };
        let pool = diesel::r2d2::Pool::builder().max_size(1).build_unchecked(manager);
        Standby::new(pool, 1, window)
    }

    #[test]
    fn a_caller_reads_the_primary_for_the_window_after_its_write() {
        let s = standby(Duration::from_secs(60));
        assert!(s.may_serve("sub:a"));
        s.wrote("sub:a");
        assert!(!s.may_serve("sub:a"));
        assert!(s.may_serve("sub:b"), "another caller still reads the standby");
        let s = standby(Duration::ZERO);
        s.wrote("sub:a");
        assert!(s.may_serve("sub:a"), "a window of 0 sends every read to the standby");
    }

    #[actix_web::test]
    async fn outside_a_request_reads_go_to_the_primary() {
        assert!(!may_read_standby());
        assert!(scope(true, async { may_read_standby() }).await);
        assert!(!scope(false, async { may_read_standby() }).await);
    }
}
