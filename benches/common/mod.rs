//! What the benchmarks share: a server on a fresh database, tokens, and a closed-loop load
//! generator that reports requests/s and latency percentiles.

#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use serde_json::json;

pub const SECRET: &str = "bench-secret-that-is-long-enough-for-hs256-0123456789";

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The service on port 0 over a fresh SQLite file, or a fresh PostgreSQL database when
/// `DVK_BENCH_DATABASE_URL` names a server (created here, dropped by `finish`).
pub struct Bench {
    pub base: String,
    pub client: awc::Client,
    pub backend: &'static str,
    pub state: actix_web::web::Data<dvk::AppState>,
    url: String,
    pg: Option<(String, String)>,
}

impl Bench {
    pub fn start() -> Bench {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (url, pg) = match std::env::var("DVK_BENCH_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("dvk_bench_{id}");
                let mut conn = diesel::PgConnection::establish(&admin).expect("reach PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
                // SSD storage: without this the planner prefers primary-key walks to the indexes.
                diesel::sql_query(format!("ALTER DATABASE {name} SET random_page_cost = 1.1"))
                    .execute(&mut conn)
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                (format!("{base}/{name}"), Some((admin.clone(), name)))
            }
            _ => (std::env::temp_dir().join(format!("dvk-bench-{id}.db")).display().to_string(), None),
        };
        let mut config = dvk::config::Config::defaults();
        config.bind = "127.0.0.1:0".into();
        config.database_url = url.clone();
        config.jwt_secret = Some(SECRET.into());
        config.rate_limit_per_second = 0;
        config.workers = 2;
        let app = dvk::Application::build(config).expect("the application builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state.clone();
        actix_web::rt::spawn(app.run());
        let client = awc::Client::builder().timeout(Duration::from_secs(600)).finish();
        let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        Bench { base, client, backend, state, url, pg }
    }

    pub fn finish(self) {
        match self.pg {
            Some((admin, name)) => {
                if let Ok(mut conn) = diesel::PgConnection::establish(&admin) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
                }
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.url));
                }
            }
        }
    }
}

/// An HS256 token for a user of unit `code` at `level`.
pub fn token(code: &str, level: &str, roles: &[&str]) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": format!("bench-{code}"), "unit": code, "level": level, "roles": roles,
                        "iss": "dvk", "aud": "dvk-api", "exp": now + 7200, "iat": now});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

pub struct Stats {
    pub requests: usize,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Stats {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    pub fn line(&self) -> String {
        format!(
            "{:>6} req in {:.1} s: {:>7.0} req/s, p50 {:>6.1} ms, p99 {:>6.1} ms, max {:>6.1} ms",
            self.requests,
            self.seconds,
            self.rate(),
            self.p50_ms,
            self.p99_ms,
            self.max_ms
        )
    }
}

/// `clients` loops, each running `session` (one or more requests, each timed by `Timer`) again and
/// again until `seconds` have passed.
pub async fn load<F, Fut>(clients: usize, seconds: f64, session: F) -> Stats
where
    F: Fn(awc::Client, Timer) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let client = awc::Client::builder().timeout(Duration::from_secs(120)).finish();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let timer = Timer { latencies: Rc::new(RefCell::new(Vec::new())) };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, timer, session) = (client.clone(), timer.clone(), session.clone());
        tasks.push(actix_web::rt::spawn(async move {
            while Instant::now() < deadline {
                session(client.clone(), timer.clone()).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat = timer.latencies.borrow().clone();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
    Stats { requests: lat.len(), seconds: elapsed, p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: pct(1.0) }
}

#[derive(Clone)]
pub struct Timer {
    latencies: Rc<RefCell<Vec<Duration>>>,
}

impl Timer {
    /// Sends `req`, asserts the status, returns the body.
    pub async fn send(&self, req: awc::ClientRequest, status: u16) -> bytes::Bytes {
        let t = Instant::now();
        let mut res = req.send().await.unwrap();
        let body = res.body().limit(64 << 20).await.unwrap();
        self.latencies.borrow_mut().push(t.elapsed());
        assert_eq!(res.status().as_u16(), status, "{}", String::from_utf8_lossy(&body));
        body
    }
}

/// The peak resident set of this process (server and load generator together), in MiB.
pub fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
        / 1024
}
