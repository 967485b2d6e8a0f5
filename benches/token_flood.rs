//! The token-endpoint flood of issue 14, measured: 40 clients send wrong client credentials to
//! `POST /oauth/token` while a victim lists models one at a time. The victim's latency and the
//! process's peak resident set are the figures; the targets are a victim p99 under 50 ms and a
//! peak under 200 MiB throughout.
//!
//! `cargo bench --bench token_flood` (SQLite), or with `DVK_BENCH_DATABASE_URL=postgres://…`.
//! `DVK_BENCH_SECONDS` sets each phase's length (default 20). Three phases: the victim alone;
//! the flood as reported (about 47 requests/s, under the general per-address limit) with the
//! token endpoint's limits at their defaults; the same clients sending as fast as they can with
//! those limits off, so that only the cost of checking a secret is left.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const FLOODERS: usize = 40;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Phase {
    name: &'static str,
    victim: Vec<f64>,
    flood_sent: u64,
    flood_limited: u64,
    peak_rss: u64,
}

/// Runs the victim (and, with `pace`, the flood) for `seconds`; `pace` is each flooder's wait
/// between requests (zero: as fast as it can).
fn phase(name: &'static str, base: &str, victim_token: &str, flood: Option<(String, Duration)>, seconds: f64) -> Phase {
    reset_peak_rss();
    let stop = Arc::new(AtomicBool::new(false));
    let (sent, limited) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut flooders = Vec::new();
    if let Some((client_id, pace)) = flood {
        for i in 0..FLOODERS {
            let (stop, sent, limited) = (stop.clone(), sent.clone(), limited.clone());
            let (url, client_id) = (format!("{base}/api/v1/oauth/token"), client_id.clone());
            flooders.push(std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
                // Spread the flooders' first requests over one pace.
                std::thread::sleep(pace.mul_f64(i as f64 / FLOODERS as f64));
                while !stop.load(Ordering::Relaxed) {
                    let form =
                        format!("grant_type=client_credentials&client_id={client_id}&client_secret=dvk_wrong_{i}");
                    let res =
                        agent.post(&url).set("content-type", "application/x-www-form-urlencoded").send_string(&form);
                    sent.fetch_add(1, Ordering::Relaxed);
                    if matches!(res, Err(ureq::Error::Status(429, _))) {
                        limited.fetch_add(1, Ordering::Relaxed);
                    }
                    std::thread::sleep(pace);
                }
            }));
        }
    }
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let url = format!("{base}/api/v1/models?limit=1");
    let started = Instant::now();
    let mut victim = Vec::new();
    while started.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        let res = agent.get(&url).set("authorization", &format!("Bearer {victim_token}")).call();
        assert!(res.is_ok(), "the victim was refused: {res:?}");
        victim.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        let _ = f.join();
    }
    victim.sort_by(|a, b| a.total_cmp(b));
    Phase {
        name,
        victim,
        flood_sent: sent.load(Ordering::Relaxed),
        flood_limited: limited.load(Ordering::Relaxed),
        peak_rss: peak_rss_mib(),
    }
}

fn report(p: &Phase, seconds: f64) -> bool {
    let (p50, p99, max) = (percentile(&p.victim, 0.5), percentile(&p.victim, 0.99), percentile(&p.victim, 1.0));
    println!(
        "{:<44} victim {:>5} req, p50 {:>6.2} ms, p99 {:>6.2} ms, max {:>7.2} ms | flood {:>6.0} req/s ({} answered 429) | peak RSS {} MiB",
        p.name,
        p.victim.len(),
        p50,
        p99,
        max,
        p.flood_sent as f64 / seconds,
        p.flood_limited,
        p.peak_rss
    );
    let met = p99 < 50.0 && p.peak_rss < 200;
    println!("{:<44} target p99 < 50 ms and peak RSS < 200 MiB: {}", "", if met { "met" } else { "MISSED" });
    met
}

fn main() {
    let seconds: f64 = env_or("DVK_BENCH_SECONDS", 20.0);
    actix_web::rt::System::new().block_on(async move {
        let mut phases = Vec::new();
        for (limits, name) in
            [(true, "flood at 47 req/s, token limits on"), (false, "flood at full speed, token limits off")]
        {
            let bench = Bench::start_with(|c| {
                if !limits {
                    c.token_rate_per_second = 0;
                    c.token_failures_per_minute = 0;
                }
            });
            let admin = token("VN", "central", &["viewer", "editor", "reviewer", "approver", "admin"]);
            let created = bench
                .client
                .post(format!("{}/api/v1/service-accounts", bench.base))
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .send_json(&json!({"name": "Đồng bộ", "roles": ["viewer"]}))
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap();
            let client_id = created["service_account"]["id"].as_str().expect("an account").to_string();
            let (base, victim) = (bench.base.clone(), token("VN", "central", &["viewer"]));
            let pace = if limits { Duration::from_millis(850) } else { Duration::ZERO };
            let run = actix_web::rt::task::spawn_blocking(move || {
                let alone = if limits { Some(phase("victim alone", &base, &victim, None, seconds)) } else { None };
                let flooded = phase(name, &base, &victim, Some((client_id, pace)), seconds);
                (alone, flooded)
            })
            .await
            .unwrap();
            println!("{} database, {FLOODERS} flooders, {seconds} s a phase", bench.backend);
            phases.extend(run.0);
            phases.push(run.1);
            bench.finish().await;
        }
        let all_met = phases.iter().map(|p| report(p, seconds)).fold(true, |a, b| a & b);
        println!("all targets {}", if all_met { "met" } else { "NOT met" });
    });
}
