//! Model lists at national scale, through the HTTP API.
//!
//! The 2025 structure (34 provinces, 3,321 communes) is imported through the API; then
//! `DVK_BENCH_MODELS` models (default 1,000,000) are written straight into the database by one
//! set-based INSERT (spread over communes, fields, kinds, subjects, statuses and years), and the
//! lists a mobile app and a portal use are loaded by `wrk` (`apt-get install wrk`) from
//! `DVK_BENCH_CLIENTS` (default 8) connections for `DVK_BENCH_SECONDS` (default 5) each:
//! requests/s, p50, p99. Then the reports: the counts the writes keep are rebuilt once for the
//! seeded rows (that rebuild is what a reorganisation costs), national and provincial reports are
//! loaded, models are registered through `POST /models` (every write keeps the counts), and the
//! kept counts are compared with a full recount.
//!
//! `cargo bench --bench models` on SQLite; with `DVK_BENCH_DATABASE_URL=postgres://…/postgres` on
//! a fresh PostgreSQL database (with `random_page_cost = 1.1`, as deployments should set it).

mod common;

use std::time::Instant;

use diesel::RunQueryDsl;
use serde_json::{json, Value};

use common::{env_or, token, Bench};

fn main() {
    actix_web::rt::System::new().block_on(run());
}

/// The rows: `x` in 0..n picks a commune, a subject, a kind and field, a status and a year by
/// arithmetic, so the spread is known without reading it back.
fn seed_sql(backend: dvk::db::Backend, n: u64, campaign_id: &str) -> Vec<String> {
    let (numbers, id, ts) = match backend {
        dvk::db::Backend::Sqlite => (
            format!("WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x + 1 < {n})"),
            "printf('01900000-0000-7000-8000-%012d', x)",
            "strftime('%Y-%m-%d %H:%M:%f', '2021-01-01', '+' || (x * 100) || ' seconds')",
        ),
        dvk::db::Backend::Postgres => (
            format!("WITH n(x) AS (SELECT generate_series(0, {n} - 1))"),
            "'01900000-0000-7000-8000-' || lpad(x::text, 12, '0')",
            "timestamp '2021-01-01' + x * interval '100 seconds'",
        ),
    };
    vec![
        "CREATE TEMP TABLE bench_units (rn INTEGER PRIMARY KEY, id TEXT NOT NULL)".into(),
        "INSERT INTO bench_units (rn, id) SELECT ROW_NUMBER() OVER (ORDER BY id) - 1, id FROM units \
         WHERE level = 'commune' AND status = 'active'"
            .into(),
        format!(
            "{numbers} INSERT INTO models (id, campaign_id, unit_id, title, description, search_text, subject, person_name, \
             person_position, kind, field, special_areas, registered_level, year, objectives, indicators, \
             replicated_from_id, status, status_history, latest_progress_on, created_by, created_at, updated_at, version) \
             SELECT {id}, '{campaign_id}', u.id, 'Mô hình dân vận khéo số ' || x, NULL, 'mo hinh dan van kheo so ' || x, \
               CASE WHEN x % 5 = 0 THEN 'individual' ELSE 'collective' END, \
               CASE WHEN x % 5 = 0 THEN 'Nguyễn Văn ' || x END, CASE WHEN x % 5 = 0 THEN 'Trưởng thôn' END, \
               CASE WHEN x % 4 = 0 THEN 'comprehensive' ELSE 'by_field' END, \
               CASE WHEN x % 4 = 0 THEN NULL ELSE (CASE (x / 4) % 5 WHEN 0 THEN 'economy' WHEN 1 THEN 'culture_society' \
                 WHEN 2 THEN 'defense_security' WHEN 3 THEN 'political_system' ELSE 'professional' END) END, \
               CASE WHEN x % 10 = 0 THEN '[\"ethnic_minority\"]' ELSE '[]' END, 'province', 2021 + x % 5, NULL, '[]', NULL, \
               CASE x % 7 WHEN 0 THEN 'draft' WHEN 1 THEN 'registered' WHEN 2 THEN 'in_progress' WHEN 3 THEN 'in_progress' \
                 WHEN 4 THEN 'recognized' WHEN 5 THEN 'not_recognized' ELSE 'withdrawn' END, \
               '[]', NULL, 'bench', {ts}, {ts}, 1 \
             FROM n JOIN bench_units u ON u.rn = x % (SELECT COUNT(*) FROM bench_units)"
        ),
        "DROP TABLE bench_units".into(),
        "INSERT INTO model_special_areas (model_id, special_area) SELECT id, 'ethnic_minority' FROM models \
         WHERE special_areas <> '[]'"
            .into(),
        "ANALYZE".into(),
    ]
}

async fn run() {
    let n: u64 = env_or("DVK_BENCH_MODELS", 1_000_000);
    let seconds: f64 = env_or("DVK_BENCH_SECONDS", 5.0);
    let clients: usize = env_or("DVK_BENCH_CLIENTS", 8);
    let bench = Bench::start();
    let (base, client) = (bench.base.clone(), bench.client.clone());
    let admin = token("VN", "central", &["admin", "editor", "viewer"]);
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let csv = std::fs::read(data.join("vn-units-2025.csv")).unwrap();
    let mut res = client
        .post(format!("{base}/api/v1/units/import"))
        .bearer_auth(&admin)
        .content_type("text/csv")
        .send_body(csv)
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{:?}", res.body().await);
    let campaign = json!({"code": "01-KH/BCĐ", "title": "Dân vận khéo 2021–2025", "starts_on": "2021-01-01", "ends_on": "2025-12-31"});
    let mut res =
        client.post(format!("{base}/api/v1/campaigns")).bearer_auth(&admin).send_json(&campaign).await.unwrap();
    let campaign: Value = res.json().await.unwrap();
    let campaign_id = campaign["id"].as_str().unwrap().to_string();

    let started = Instant::now();
    let pool = bench.state.pool.clone();
    let backend = dvk::db::Backend::of_url(if bench.backend == "SQLite" { "x.db" } else { "postgres://" });
    let statements = seed_sql(backend, n, &campaign_id);
    actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        for sql in statements {
            diesel::sql_query(&sql).execute(&mut conn).unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
    })
    .await
    .unwrap();
    let seed_time = started.elapsed().as_secs_f64();
    // The seed wrote rows behind the API's back: count them once, as a reorganisation would.
    let pool = bench.state.pool.clone();
    let recount_time = actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        let started = Instant::now();
        dvk::db::transaction(&mut conn, dvk::reports::counts::recount).unwrap();
        diesel::sql_query("ANALYZE").execute(&mut conn).unwrap();
        started.elapsed().as_secs_f64()
    })
    .await
    .unwrap();

    let mut res =
        client.get(format!("{base}/api/v1/units?q=ha%20noi&level=province")).bearer_auth(&admin).send().await.unwrap();
    let hanoi: Value = res.json().await.unwrap();
    let hanoi = hanoi["items"][0]["id"].as_str().unwrap().to_string();
    let province = token("01", "province", &["viewer"]);
    let commune = token("00004", "commune", &["viewer"]);
    let one_id = format!("01900000-0000-7000-8000-{:012}", n / 2);

    println!(
        "dvk models benchmark on {} ({} cores): {n} models seeded in {seed_time:.1} s; {clients} clients, {seconds} s a scenario",
        bench.backend,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    let scenarios: Vec<(&str, String, String, u16)> = vec![
        ("national list, first page (limit 50)", admin.clone(), "/api/v1/models?limit=50".into(), 200),
        ("national list, sorted by -updated_at", admin.clone(), "/api/v1/models?limit=50&sort=-updated_at".into(), 200),
        (
            "national, status=recognized&field=economy",
            admin.clone(),
            "/api/v1/models?limit=50&status=recognized&field=economy".into(),
            200,
        ),
        ("province token, its whole subtree", province.clone(), "/api/v1/models?limit=50".into(), 200),
        (
            "national token, ancestor_id=<Hà Nội>",
            admin.clone(),
            format!("/api/v1/models?limit=50&ancestor_id={hanoi}"),
            200,
        ),
        ("commune token, its models", commune.clone(), "/api/v1/models?limit=50".into(), 200),
        ("search q=\"so 123456\" (national)", admin.clone(), "/api/v1/models?limit=50&q=so%20123456".into(), 200),
        ("one model, If-None-Match → 304", admin.clone(), format!("/api/v1/models/{one_id}"), 304),
    ];
    for (name, tok, path, status) in scenarios {
        // The single read carries the ETag it has, so it is answered 304.
        let headers: &[(&str, &str)] = if status == 304 { &[("If-None-Match", "\"1\"")] } else { &[] };
        let load = common::Load { url: format!("{}{}", bench.base, path), token: &tok, headers, script: None };
        println!("  {name:<44} {}", common::wrk(&load, clients, seconds).line());
    }
    // Deep paging: each wrk thread follows the cursor 20 pages into the national list, then again.
    let path = "/api/v1/models?limit=50&sort=-created_at";
    let load = common::Load {
        url: format!("{}{path}", bench.base),
        token: &admin,
        headers: &[],
        script: Some(common::paging_script(path, 20)),
    };
    println!(
        "  {:<44} {}",
        "national list, up to 20 pages deep by cursor",
        common::wrk(&load, clients, seconds).line()
    );

    // Reports, read from the kept counts; and the GROUP BY they replace, run bare for comparison.
    println!("  reports (counts kept in the write transaction; rebuilt for the seed in {recount_time:.1} s):");
    let pool = bench.state.pool.clone();
    let bare = actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        let started = Instant::now();
        diesel::sql_query(
            "SELECT m.field, u.level, COUNT(*) FROM models m JOIN units u ON u.id = m.unit_id GROUP BY m.field, u.level",
        )
        .execute(&mut conn)
        .unwrap();
        started.elapsed().as_secs_f64() * 1e3
    })
    .await
    .unwrap();
    println!("  {:<44} {bare:.0} ms, once", "bare GROUP BY field, level over the models");
    let xlsx = [("Accept", dvk::http::export::XLSX)];
    type Scenario<'a> = (&'a str, String, String, &'a [(&'a str, &'a str)]);
    let reports: Vec<Scenario> = vec![
        ("national report by field,level", admin.clone(), "/api/v1/reports/models?group_by=field,level".into(), &[]),
        ("national report by unit (34 provinces)", admin.clone(), "/api/v1/reports/models?group_by=unit".into(), &[]),
        (
            "national by special_area,year, 2 statuses",
            admin.clone(),
            "/api/v1/reports/models?group_by=special_area,year&status=registered,in_progress".into(),
            &[],
        ),
        (
            "Hà Nội by unit,status (its communes)",
            province.clone(),
            "/api/v1/reports/models?group_by=unit,status".into(),
            &[],
        ),
        ("national by field,level as XLSX", admin.clone(), "/api/v1/reports/models?group_by=field,level".into(), &xlsx),
    ];
    for (name, tok, path, headers) in reports {
        let load = common::Load { url: format!("{}{}", bench.base, path), token: &tok, headers, script: None };
        println!("  {name:<44} {}", common::wrk(&load, clients, seconds).line());
    }
    let single = common::Load {
        url: format!("{}/api/v1/reports/models?group_by=field,level", bench.base),
        token: &admin,
        headers: &[],
        script: None,
    };
    println!("  {:<44} {}", "the same, one client at a time", common::wrk(&single, 1, seconds).line());

    // Registrations through the API: each keeps the counts of the commune, Hà Nội and the nation.
    common::launch(&bench, &admin, &campaign_id).await;
    let editor = token("00004", "commune", &["editor"]);
    let body = json!({"campaign_id": campaign_id, "title": "Dân vận khéo đăng ký qua API", "subject": "collective",
                      "kind": "by_field", "field": "economy", "special_areas": ["religious"],
                      "registered_level": "commune", "year": 2025});
    let script =
        format!("wrk.method = \"POST\"\nwrk.body = '{}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", body);
    let load = common::Load {
        url: format!("{}/api/v1/models", bench.base),
        token: &editor,
        headers: &[],
        script: Some(script),
    };
    let posted = common::wrk(&load, clients, seconds);
    println!("  {:<44} {}", "register a model (POST /models)", posted.line());
    let mut res = client.get(format!("{base}/api/v1/reports/models")).bearer_auth(&admin).send().await.unwrap();
    let total = res.json::<Value>().await.unwrap()["total"].as_u64().unwrap();
    let pool = bench.state.pool.clone();
    let (differences, check_time) = actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        let started = Instant::now();
        (dvk::reports::counts::differences(&mut conn).unwrap(), started.elapsed().as_secs_f64())
    })
    .await
    .unwrap();
    println!(
        "  after the POSTs: national total {total} (seeded {n} + {} registered); kept counts vs a full recount: \
         {differences} rows differ (checked in {check_time:.1} s)",
        total - n
    );
    assert_eq!(differences, 0, "the kept counts must equal a recount");
    yardstick(&bench, &admin, seconds).await;
    println!("  peak RSS of the service: {} MiB", common::peak_rss_mib());
    bench.finish().await;
    std::process::exit(0);
}

/// The list's SQL three ways, at 32 connections: the real endpoint, the yardstick, and the
/// database alone.
async fn yardstick(bench: &Bench, admin: &str, seconds: f64) {
    let real = common::Load {
        url: format!("{}/api/v1/models?limit=50", bench.base),
        token: admin,
        headers: &[],
        script: None,
    };
    let real = common::wrk(&real, 32, seconds);
    let stick = common::yardstick(bench, 32, seconds).await;
    let bare = common::bare(bench, common::YARDSTICK_SQL, 8, seconds);
    println!("  the list's SQL three ways, 32 connections (database alone: 8 clients):");
    println!("  {:<44} {}", "dvk: national list, first page", real.line());
    println!("  {:<44} {}", "yardstick: bare actix + diesel, same SQL", stick.line());
    println!("  {:<44} {bare:>7.0} queries/s", "the database alone (pgbench / 2 threads)");
    println!(
        "  dvk / yardstick = {:.2}; yardstick / database = {:.2}",
        real.rate / stick.rate.max(1.0),
        stick.rate / bare.max(1.0)
    );
}
