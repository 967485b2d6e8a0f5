//! Units at national scale, through the HTTP API:
//!
//! 1. import `vn-units-2024.csv` (10,810 units), then apply the 2025 reorganisation, timed;
//! 2. `GET /api/v1/units?ancestor_id=<Hà Nội>&limit=200` paged to the end by 32 concurrent
//!    clients for 10 s: requests/s, p50, p99.
//!
//! `cargo bench --bench units` runs it on SQLite (a fresh temporary file);
//! `DVK_BENCH_DATABASE_URL=postgres://user:pass@host/postgres cargo bench --bench units` on a fresh
//! PostgreSQL database created (and dropped) on that server. `DVK_BENCH_SECONDS`, `DVK_BENCH_CLIENTS`
//! change the load phase.

use std::rc::Rc;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};

const SECRET: &str = "bench-secret-that-is-long-enough-for-hs256-0123456789";

fn main() {
    actix_web::rt::System::new().block_on(run());
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run() {
    let seconds: u64 = env_or("DVK_BENCH_SECONDS", 10);
    let clients: usize = env_or("DVK_BENCH_CLIENTS", 32);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (url, pg) = match std::env::var("DVK_BENCH_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("dvk_bench_{id}");
            let mut conn = diesel::PgConnection::establish(&admin).expect("reach PostgreSQL");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            (format!("{base}/{name}"), Some((admin.clone(), name)))
        }
        _ => (std::env::temp_dir().join(format!("dvk-bench-{id}.db")).display().to_string(), None),
    };
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let mut config = dvk::config::Config::defaults();
    config.bind = "127.0.0.1:0".into();
    config.database_url = url.clone();
    config.jwt_secret = Some(SECRET.into());
    config.rate_limit_per_second = 0;
    config.workers = 2;
    let app = dvk::Application::build(config).expect("the application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run());
    let token = token();
    let client = awc::Client::builder().timeout(Duration::from_secs(300)).finish();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");

    let csv = std::fs::read(data.join("vn-units-2024.csv")).unwrap();
    let started = Instant::now();
    let mut res = client
        .post(format!("{base}/api/v1/units/import"))
        .bearer_auth(&token)
        .content_type("text/csv")
        .send_body(csv)
        .await
        .unwrap();
    let import_time = started.elapsed();
    let report: Value = res.json().limit(1 << 20).await.unwrap();
    assert_eq!(report["created"], 10810, "{report}");

    let body = json!({
        "effective_on": "2025-07-01",
        "units_csv": std::fs::read_to_string(data.join("vn-units-2025.csv")).unwrap(),
        "successors_csv": std::fs::read_to_string(data.join("vn-units-2025-successors.csv")).unwrap(),
    });
    let started = Instant::now();
    let mut res =
        client.post(format!("{base}/api/v1/units/reorganize")).bearer_auth(&token).send_json(&body).await.unwrap();
    let reorg_time = started.elapsed();
    let report: Value = res.json().limit(1 << 20).await.unwrap();
    assert_eq!(report["created"], 2201, "{report}");

    let mut res = client
        .get(format!("{base}/api/v1/units?q=ha%20noi&level=province&status=active"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let page: Value = res.json().await.unwrap();
    let hanoi = page["items"][0]["id"].as_str().unwrap().to_string();

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let latencies = Rc::new(std::cell::RefCell::new(Vec::<Duration>::new()));
    let units_seen = Rc::new(std::cell::Cell::new(0usize));
    let load_started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, base, token, hanoi) = (client.clone(), base.clone(), token.clone(), hanoi.clone());
        let (latencies, units_seen) = (latencies.clone(), units_seen.clone());
        tasks.push(actix_web::rt::spawn(async move {
            while Instant::now() < deadline {
                let mut cursor: Option<String> = None;
                loop {
                    let url = match &cursor {
                        Some(c) => format!("{base}/api/v1/units?ancestor_id={hanoi}&limit=200&cursor={c}"),
                        None => format!("{base}/api/v1/units?ancestor_id={hanoi}&limit=200"),
                    };
                    let t = Instant::now();
                    let mut res = client.get(url).bearer_auth(&token).send().await.unwrap();
                    assert_eq!(res.status().as_u16(), 200);
                    let page: Value = res.json().limit(8 << 20).await.unwrap();
                    latencies.borrow_mut().push(t.elapsed());
                    units_seen.set(units_seen.get() + page["items"].as_array().map_or(0, Vec::len));
                    match page["next_cursor"].as_str() {
                        Some(c) => cursor = Some(c.to_string()),
                        None => break,
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = load_started.elapsed();
    let mut lat = latencies.borrow().clone();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .unwrap_or_default();
    println!(
        "dvk units benchmark on {backend} ({} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("  import vn-units-2024.csv (10,810 units) via API: {:.2} s", import_time.as_secs_f64());
    println!("  2025 reorganisation via API:                     {:.2} s", reorg_time.as_secs_f64());
    println!(
        "  GET /units?ancestor_id=<Hà Nội>&limit=200 paged to the end, {clients} clients, {:.1} s: {} requests, {:.0} req/s, {:.0} units/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        lat.len(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        units_seen.get() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
    );
    println!("  peak RSS of the process (server and load generator): {} MiB", rss.parse::<u64>().unwrap_or(0) / 1024);

    match pg {
        Some((admin, name)) => {
            if let Ok(mut conn) = diesel::PgConnection::establish(&admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
            }
        }
        None => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{url}{suffix}"));
            }
        }
    }
    std::process::exit(0);
}

fn token() -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": "bench", "unit": "VN", "level": "central", "roles": ["admin", "viewer"],
                        "iss": "dvk", "aud": "dvk-api", "exp": now + 7200, "iat": now});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}
