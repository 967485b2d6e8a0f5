//! What the benchmarks share: a server on a fresh database, tokens, and a closed-loop load
//! generator that reports requests/s and latency percentiles.

#![allow(dead_code)]

use std::time::Duration;

use diesel::connection::SimpleConnection;
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
    handle: actix_web::dev::ServerHandle,
    pub url: String,
    pg: Option<(String, String)>,
}

impl Bench {
    pub fn start() -> Bench {
        Self::start_with(|_| {})
    }

    /// As `start`, with the configuration adjusted first.
    pub fn start_with(adjust: impl FnOnce(&mut dvk::config::Config)) -> Bench {
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
        config.data_keys = Some(dvk::keyring::Keyring::parse(&dvk::keyring::Keyring::generate_entry("bench")).unwrap());
        config.rate_limit_per_second = 0;
        config.workers = 2;
        // The pool the service would take for this database, or DVK_BENCH_POOL's.
        config.db_pool_size = match std::env::var("DVK_BENCH_POOL").ok().and_then(|p| p.parse().ok()) {
            Some(size) => size,
            None => dvk::config::default_pool_size(&url),
        };
        adjust(&mut config);
        let app = dvk::Application::build(config).expect("the application builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let state = app.state.clone();
        let handle = app.handle();
        actix_web::rt::spawn(app.run());
        let client = awc::Client::builder().timeout(Duration::from_secs(600)).finish();
        let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        Bench { base, client, backend, state, handle, url, pg }
    }

    /// Stops the server and closes its connections before dropping the database: dropping it
    /// under live libpq connections and exiting with them open crashed the process.
    pub async fn finish(self) {
        self.handle.stop(true).await;
        drop(self.state);
        drop(self.client);
        if std::env::var_os("DVK_BENCH_KEEP").is_some() {
            println!("kept the database for a look: {}", self.url);
            return;
        }
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
    pub requests: u64,
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Answers other than 2xx and 3xx.
    pub errors: u64,
}

impl Stats {
    pub fn line(&self) -> String {
        format!(
            "{:>7} req: {:>7.0} req/s, p50 {:>7.2} ms, p99 {:>7.2} ms, max {:>7.2} ms",
            self.requests, self.rate, self.p50_ms, self.p99_ms, self.max_ms
        ) + &if self.errors > 0 { format!(", {} errors", self.errors) } else { String::new() }
    }
}

/// What a load run sends.
pub struct Load<'a> {
    pub url: String,
    pub token: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    /// A wrk Lua script (for sessions that follow cursors), or none for one URL again and again.
    pub script: Option<String>,
}

/// Loads the server with wrk (an external client: an in-process generator on awc showed a ~40 ms
/// floor on multi-segment responses that curl and wrk do not see) from `clients` connections for
/// `seconds`, and reads its figures. Any non-2xx/3xx response fails the bench.
pub fn wrk(load: &Load, clients: usize, seconds: f64) -> Stats {
    let stats = wrk_counting_errors(load, clients, seconds);
    assert_eq!(stats.errors, 0, "the load to {} got error responses", load.url);
    stats
}

/// `wrk`, with non-2xx/3xx answers counted in `errors` instead of failing the bench (a scenario
/// past what the database can serve answers some requests 503, and that is a figure too).
pub fn wrk_counting_errors(load: &Load, clients: usize, seconds: f64) -> Stats {
    // Requests the previous scenario left in flight (a slow search) would land in this one's p99.
    std::thread::sleep(Duration::from_secs(2));
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t", &clients.clamp(1, 2).to_string(), "-c", &clients.to_string()])
        .args(["-d", &format!("{}s", seconds.ceil() as u64), "--latency", "--timeout", "30s"])
        .args(["-H", &format!("Authorization: Bearer {}", load.token)]);
    for (name, value) in load.headers {
        cmd.args(["-H", &format!("{name}: {value}")]);
    }
    let script_path = std::env::temp_dir().join(format!("dvk-bench-{}.lua", uuid::Uuid::new_v4().simple()));
    if let Some(script) = &load.script {
        std::fs::write(&script_path, script).unwrap();
        cmd.arg("-s").arg(&script_path);
    }
    cmd.arg(&load.url);
    let out = cmd.output().expect("wrk runs the load: apt-get install wrk");
    let _ = std::fs::remove_file(&script_path);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    let after = |label: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let latency = after("Latency");
    Stats {
        requests: text
            .lines()
            .find(|l| l.contains("requests in"))
            .and_then(|l| l.split_whitespace().next()?.parse().ok())
            .unwrap_or(0),
        rate: after("Requests/sec:").get(1).and_then(|v| v.parse().ok()).unwrap_or(0.0),
        p50_ms: after("50%").get(1).map(|v| millis(v)).unwrap_or(0.0),
        p99_ms: after("99%").get(1).map(|v| millis(v)).unwrap_or(0.0),
        max_ms: latency.get(3).map(|v| millis(v)).unwrap_or(0.0),
        errors: after("Non-2xx").get(4).and_then(|v| v.parse().ok()).unwrap_or(0),
    }
}

/// wrk's durations: `450.00us`, `8.10ms`, `1.20s`, `2.00m`.
fn millis(v: &str) -> f64 {
    let (number, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1e3)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60e3)
    } else {
        (v, 1.0)
    };
    number.parse::<f64>().unwrap_or(0.0) * factor
}

/// A wrk script that pages `path` by following `next_cursor`, starting again after `max_pages`
/// pages or at the end. wrk keeps one script state per thread.
pub fn paging_script(path: &str, max_pages: u32) -> String {
    format!(
        r#"local cursor = nil
local pages = 0
request = function()
  local p = "{path}"
  if cursor then p = p .. "&cursor=" .. cursor end
  return wrk.format("GET", p)
end
response = function(status, headers, body)
  pages = pages + 1
  cursor = body:match('"next_cursor":"([^"]+)"')
  if pages >= {max_pages} then cursor = nil; pages = 0 end
end
"#
    )
}

/// The peak resident set of this process (server and load generator together), in MiB.
pub fn peak_rss_mib() -> u64 {
    status_mib("VmHWM")
}

/// Forgets this process's peak resident set, so the next `peak_rss_mib` is the peak since now
/// (Linux: writing 5 to `clear_refs` resets VmHWM).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What the yardstick runs: the national list's first page, as dvk's list asks for it.
pub const YARDSTICK_SQL: &str = "SELECT * FROM models ORDER BY created_at, id LIMIT 51";

/// The yardstick: a bare actix + diesel endpoint that runs the national list's SQL with no
/// auth and no conventions (its own pool, as large as the service's, a 12-field JSON), loaded by
/// wrk like the real one.
pub async fn yardstick(bench: &Bench, clients: usize, seconds: f64) -> Stats {
    yardstick_of(bench, clients, seconds, |conn| {
        use diesel::prelude::*;
        use dvk::db::schema::models;
        models::table
            .order((models::created_at, models::id))
            .limit(51)
            .select(dvk::models::ModelRow::as_select())
            .load(conn)
            .unwrap()
    })
    .await
}

/// A yardstick of another page of models: `page` read and sent as the national list's is.
pub async fn yardstick_of<F>(bench: &Bench, clients: usize, seconds: f64, page: F) -> Stats
where
    F: Fn(&mut dvk::db::DbConnection) -> Vec<dvk::models::ModelRow> + Clone + Send + Sync + 'static,
{
    use actix_web::{web, App, HttpResponse, HttpServer};
    use serde_json::Value;
    let pool = dvk::db::build_pool(&bench.url, bench.state.config.db_pool_size).unwrap();
    let server = HttpServer::new(move || {
        let page = page.clone();
        App::new().app_data(web::Data::new(pool.clone())).route(
            "/yardstick",
            web::get().to(move |pool: web::Data<dvk::db::Pool>| {
                let page = page.clone();
                async move {
                    let rows = web::block(move || page(&mut pool.get().unwrap())).await.unwrap();
                    let items: Vec<Value> = rows
                        .iter()
                        .map(|r| {
                            json!({"id": r.id, "campaign_id": r.campaign_id, "unit_id": r.unit_id, "title": r.title,
                               "subject": r.subject, "kind": r.kind, "field": r.field, "year": r.year,
                               "status": r.status, "created_at": r.created_at, "updated_at": r.updated_at,
                               "version": r.version})
                        })
                        .collect();
                    HttpResponse::Ok().json(json!({"items": items}))
                }
            }),
        )
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap();
    let port = server.addrs()[0].port();
    let handle = server.run();
    let stop = handle.handle();
    actix_web::rt::spawn(handle);
    // One request first: the yardstick is up before the load starts.
    let mut probe =
        bench.client.get(format!("http://127.0.0.1:{port}/yardstick")).send().await.expect("the yardstick answers");
    assert_eq!(probe.status().as_u16(), 200, "{:?}", probe.body().await);
    let load = Load { url: format!("http://127.0.0.1:{port}/yardstick"), token: "none", headers: &[], script: None };
    let stats = wrk(&load, clients, seconds);
    stop.stop(true).await;
    stats
}

/// `sql` run against the database alone, with no HTTP in between: statements/s. PostgreSQL:
/// `pgbench -f` from `clients` connections. SQLite: two threads (the machine's cores), each with
/// its own connection, stepping through every row of the result without decoding it.
pub fn bare(bench: &Bench, sql: &str, clients: usize, seconds: f64) -> f64 {
    std::thread::sleep(Duration::from_secs(1));
    if bench.backend == "PostgreSQL" {
        let file = std::env::temp_dir().join(format!("dvk-bare-{}.sql", uuid::Uuid::new_v4().simple()));
        std::fs::write(&file, format!("{sql};\n")).unwrap();
        let out = std::process::Command::new("pgbench")
            .args(["-n", "-c", &clients.to_string(), "-j", "2", "-T", &format!("{}", seconds.ceil() as u64), "-f"])
            .arg(&file)
            .arg(&bench.url)
            .output()
            .expect("pgbench (apt-get install postgresql-contrib)");
        let _ = std::fs::remove_file(&file);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
        text.lines()
            .find(|l| l.starts_with("tps"))
            .and_then(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok())
            .unwrap_or(0.0)
    } else {
        let deadline = std::time::Instant::now() + Duration::from_secs_f64(seconds);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (url, sql) = (bench.url.clone(), sql.to_string());
                std::thread::spawn(move || {
                    let mut conn = diesel::SqliteConnection::establish(&url).unwrap();
                    conn.batch_execute("PRAGMA busy_timeout = 5000").unwrap();
                    let mut n = 0u64;
                    while std::time::Instant::now() < deadline {
                        // sqlite3_exec: every row is stepped through, as the sqlite3 shell does.
                        conn.batch_execute(&sql).unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let n: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        n as f64 / seconds
    }
}

/// This process's resident set now, in MiB.
pub fn rss_mib() -> u64 {
    status_mib("VmRSS")
}

/// A size line of `/proc/self/status` (in kB there), in MiB.
fn status_mib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
        / 1024
}

/// Launches campaign `id` (at version 1) as `token`.
pub async fn launch(bench: &Bench, token: &str, id: &str) {
    let mut res = bench
        .client
        .post(format!("{}/api/v1/campaigns/{id}/launch", bench.base))
        .bearer_auth(token)
        .insert_header(("If-Match", "\"1\""))
        .send_json(&json!({}))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.body().await);
}
