//! Units at national scale, through the HTTP API:
//!
//! 1. import `vn-units-2024.csv` (10,810 units), then apply the 2025 reorganisation, timed;
//! 2. `GET /api/v1/units?ancestor_id=<Hà Nội>&limit=200` paged to the end by 32 connections of
//!    `wrk` (installed: `apt-get install wrk`) for 10 s: requests/s, p50, p99.
//!
//! `cargo bench --bench units` runs it on SQLite (a fresh temporary file);
//! `DVK_BENCH_DATABASE_URL=postgres://user:pass@host/postgres cargo bench --bench units` on a fresh
//! PostgreSQL database created (and dropped) on that server. `DVK_BENCH_SECONDS`, `DVK_BENCH_CLIENTS`
//! change the load phase.

mod common;

use std::time::Instant;

use serde_json::{json, Value};

use common::{env_or, token, Bench};

fn main() {
    actix_web::rt::System::new().block_on(run());
}

async fn run() {
    let seconds: f64 = env_or("DVK_BENCH_SECONDS", 10.0);
    let clients: usize = env_or("DVK_BENCH_CLIENTS", 32);
    let bench = Bench::start();
    let (base, client) = (bench.base.clone(), bench.client.clone());
    let admin = token("VN", "central", &["admin", "viewer"]);
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");

    let csv = std::fs::read(data.join("vn-units-2024.csv")).unwrap();
    let started = Instant::now();
    let mut res = client
        .post(format!("{base}/api/v1/units/import"))
        .bearer_auth(&admin)
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
        client.post(format!("{base}/api/v1/units/reorganize")).bearer_auth(&admin).send_json(&body).await.unwrap();
    let reorg_time = started.elapsed();
    let report: Value = res.json().limit(1 << 20).await.unwrap();
    assert_eq!(report["created"], 2201, "{report}");

    let mut res = client
        .get(format!("{base}/api/v1/units?q=ha%20noi&level=province&status=active"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let page: Value = res.json().await.unwrap();
    let hanoi = page["items"][0]["id"].as_str().unwrap().to_string();

    // Each wrk thread pages the subtree to its end and starts again; every page is one request.
    let path = format!("/api/v1/units?ancestor_id={hanoi}&limit=200");
    let load = common::Load {
        url: format!("{base}{path}"),
        token: &admin,
        headers: &[],
        script: Some(common::paging_script(&path, u32::MAX)),
    };
    let stats = common::wrk(&load, clients, seconds);
    println!(
        "dvk units benchmark on {} ({} cores)",
        bench.backend,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("  import vn-units-2024.csv (10,810 units) via API: {:.2} s", import_time.as_secs_f64());
    println!("  2025 reorganisation via API:                     {:.2} s", reorg_time.as_secs_f64());
    println!("  GET /units?ancestor_id=<Hà Nội>&limit=200 paged to the end, {clients} clients: {}", stats.line());
    println!("  peak RSS of the service: {} MiB", common::peak_rss_mib());
    bench.finish().await;
    std::process::exit(0);
}
