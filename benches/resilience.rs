//! PostgreSQL stopped and restarted under write load (issue 8): `/readyz` says so, requests fail
//! fast with 503 and `Retry-After`, the service recovers by itself once the database is back,
//! and no acknowledged write is lost.
//!
//! `DVK_BENCH_DATABASE_URL=postgres://dvk:dvk@127.0.0.1:5432/postgres cargo bench --bench resilience`
//! (as root, or with sudo: it stops and starts the local cluster with `pg_ctlcluster`). Without
//! a PostgreSQL URL it says so and does nothing.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;

use common::{token, Bench};

fn main() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off")).try_init();
    actix_web::rt::System::new().block_on(run());
}

fn cluster(action: &str) {
    let version = std::fs::read_dir("/usr/lib/postgresql")
        .expect("a local PostgreSQL")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
        .unwrap();
    let root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut cmd = if root {
        std::process::Command::new("pg_ctlcluster")
    } else {
        let mut c = std::process::Command::new("sudo");
        c.arg("pg_ctlcluster");
        c
    };
    let mut args = vec![version.as_str(), "main", action];
    if action == "stop" {
        args.extend(["-m", "fast"]);
    }
    assert!(cmd.args(&args).status().unwrap().success(), "pg_ctlcluster {action}");
}

#[derive(Default)]
struct Tally {
    acked: Vec<String>,
    unavailable: u64,
    other: std::collections::BTreeMap<u16, u64>,
    slowest_refusal: Duration,
}

async fn run() {
    if std::env::var("DVK_BENCH_DATABASE_URL").map_or(true, |u| !u.starts_with("postgres")) {
        println!("resilience: set DVK_BENCH_DATABASE_URL to a local PostgreSQL to run it");
        return;
    }
    // Whatever happens, the cluster is started again.
    struct Restart;
    impl Drop for Restart {
        fn drop(&mut self) {
            let _ = std::panic::catch_unwind(|| cluster("start"));
        }
    }
    let _restart = Restart;
    let bench = Bench::start();
    let base = bench.base.clone();
    let editor = token("VN", "central", &["editor"]);
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (base, editor, stop, tally) = (base.clone(), editor.clone(), stop.clone(), tally.clone());
        writers.push(actix_web::rt::spawn(async move {
            let client = awc::Client::builder().timeout(Duration::from_secs(30)).finish();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body = json!({"code": format!("R-{w}-{n}"), "title": "Kế hoạch thử", "starts_on": "2026-01-01", "ends_on": "2026-12-31"});
                let started = Instant::now();
                let res = client.post(format!("{base}/api/v1/campaigns")).bearer_auth(&editor).send_json(&body).await;
                // The answer, read before the tally is locked (no lock across an await).
                let outcome = match res {
                    Ok(mut r) if r.status() == 201 => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        Ok(v["id"].as_str().unwrap_or_default().to_string())
                    }
                    Ok(r) if r.status() == 503 => {
                        assert!(r.headers().contains_key("retry-after"), "503 without Retry-After");
                        Err(503)
                    }
                    Ok(r) => Err(r.status().as_u16()),
                    Err(_) => Err(0),
                };
                let refused = {
                    let mut t = tally.lock().unwrap();
                    match outcome {
                        Ok(id) => {
                            t.acked.push(id);
                            false
                        }
                        Err(503) => {
                            t.unavailable += 1;
                            t.slowest_refusal = t.slowest_refusal.max(started.elapsed());
                            true
                        }
                        Err(status) => {
                            *t.other.entry(status).or_default() += 1;
                            false
                        }
                    }
                };
                if refused {
                    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    let client = awc::Client::default();
    let ready = |client: &awc::Client| {
        let url = format!("{base}/readyz");
        let req = client.get(url).send();
        async move {
            req.await.map(|r| (r.status().as_u16(), r.headers().contains_key("retry-after"))).unwrap_or((0, false))
        }
    };
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    let before = tally.lock().unwrap().acked.len();
    println!("dvk resilience on PostgreSQL: 8 writers; {before} campaigns acknowledged in 2 s; stopping PostgreSQL");
    cluster("stop");
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let (status, retry) = ready(&client).await;
    println!("  during the outage: /readyz {status}, Retry-After {}", if retry { "present" } else { "missing" });
    assert_eq!((status, retry), (503, true));
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let down_at = Instant::now();
    cluster("start");
    let mut recovered = None;
    for _ in 0..300 {
        if ready(&client).await.0 == 200 {
            recovered = Some(down_at.elapsed());
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = recovered.expect("the service recovers by itself");
    let acked_at_recovery = tally.lock().unwrap().acked.len();
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    let (acked, unavailable, slowest, other) = {
        let t = tally.lock().unwrap();
        (t.acked.clone(), t.unavailable, t.slowest_refusal, t.other.clone())
    };
    assert!(acked.len() > acked_at_recovery, "writes succeed again after recovery");
    let pool = bench.state.pool.clone();
    let ids = acked.clone();
    let stored = actix_web::web::block(move || {
        use dvk::db::schema::campaigns;
        let mut conn = pool.get().unwrap();
        ids.chunks(500)
            .map(|chunk| {
                campaigns::table.filter(campaigns::id.eq_any(chunk)).count().get_result::<i64>(&mut conn).unwrap()
            })
            .sum::<i64>()
    })
    .await
    .unwrap();
    println!(
        "  ready again {:.1} s after PostgreSQL was started; {} writes refused with 503 (slowest refusal {:.2} s); other answers: {:?}",
        recovered.as_secs_f64(),
        unavailable,
        slowest.as_secs_f64(),
        other
    );
    println!("  acknowledged writes: {}; found in the database: {stored}", acked.len());
    assert_eq!(stored as usize, acked.len(), "an acknowledged write was lost");
    assert!(other.is_empty(), "answers other than 201 and 503 during the outage: {other:?}");
    bench.finish().await;
    std::process::exit(0);
}
