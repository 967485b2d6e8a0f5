//! The `dvk` command: it will not serve without a signing key, and `dvk token` mints tokens that
//! the service accepts.

use std::process::Command;

use crate::helpers::*;

fn dvk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dvk"));
    cmd.env_clear().current_dir(std::env::temp_dir()).env("DVK_BIND", "127.0.0.1:0");
    cmd
}

#[test]
fn serving_without_a_signing_key_is_refused() {
    let out = dvk().arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no signing key is configured") && stderr.contains("--dev"), "{stderr}");
}

#[test]
fn a_short_secret_is_refused() {
    let out = dvk().env("DVK_JWT_SECRET", "too-short").arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}

#[actix_web::test]
async fn dvk_token_mints_what_the_service_accepts() {
    let app = TestApp::spawn().await;
    let out = dvk()
        .env("DVK_JWT_SECRET", SECRET)
        .args(["token", "--unit", "VN", "--level", "central", "--roles", "admin,viewer"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let page = app.get("/api/v1/units", &token).await.expect(200).json();
    assert_eq!(page["items"][0]["code"], "VN");
    let bad = dvk().env("DVK_JWT_SECRET", SECRET).args(["token", "--unit", "VN", "--roles", "king"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
}

/// SIGTERM while a long import runs: at once `/readyz` answers 503 `draining` (a balancer takes
/// the instance out) while it still serves for `DVK_DRAIN_SECS`; the import finishes and is
/// answered, and the process exits 0. The server picks its port (0) and says which in its log;
/// the import is known to be in flight when the server's own gauge says so.
/// A database for a server process of its own: a file, or a PostgreSQL database dropped after.
struct ProcessDatabase {
    url: String,
    postgres: Option<(String, String)>,
}

impl ProcessDatabase {
    fn new(purpose: &str) -> ProcessDatabase {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("DVK_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                use diesel::{Connection, RunQueryDsl};
                let name = format!("dvk_{purpose}_{id}");
                let mut conn = diesel::PgConnection::establish(&admin).unwrap();
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
                ProcessDatabase { url: format!("{base}/{name}"), postgres: Some((admin, name)) }
            }
            _ => ProcessDatabase {
                url: std::env::temp_dir().join(format!("dvk-{purpose}-{id}.db")).display().to_string(),
                postgres: None,
            },
        }
    }

    /// `dvk` with the settings a server on this database needs.
    fn dvk(&self) -> Command {
        let mut cmd = dvk();
        cmd.env("DVK_JWT_SECRET", SECRET)
            .env("DVK_DATA_KEYS", dvk::keyring::Keyring::generate_entry("cli"))
            .env("DVK_DATABASE_URL", &self.url)
            .env("DVK_RATE_LIMIT_PER_SECOND", "0");
        cmd
    }
}

impl Drop for ProcessDatabase {
    fn drop(&mut self) {
        match &self.postgres {
            Some((admin, name)) => {
                use diesel::{Connection, RunQueryDsl};
                // Best effort, like every test database: an autovacuum worker may hold it a moment.
                if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
                }
            }
            None => {
                for suffix in ["", "-wal", "-shm", ".lock"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.url));
                }
            }
        }
    }
}

/// Starts `dvk serve` (with `drain_secs`) on `db`; the server picks its port and says which in
/// its log, and the rest of the log is drained so the server never blocks on it.
async fn serve(db: &ProcessDatabase, drain_secs: &str) -> (std::process::Child, String) {
    let mut child = db
        .dvk()
        .env("RUST_LOG", "info")
        .env("DVK_DRAIN_SECS", drain_secs)
        .arg("serve")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("dvk listening on http://127.0.0.1:").nth(1) {
                let _ = port_tx.send(rest.split(' ').next().unwrap_or_default().to_string());
            }
        }
    });
    let port = actix_web::rt::task::spawn_blocking(move || port_rx.recv_timeout(std::time::Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("the server says where it listens");
    (child, format!("http://127.0.0.1:{port}"))
}

/// An operator's import beside a running server. On SQLite (one process per database) it is
/// refused at once with what to do instead, and so is a second server; the running server is
/// untouched. On PostgreSQL it runs, and the server sees its units.
#[actix_web::test]
async fn an_import_beside_a_running_server_is_refused_on_sqlite_and_runs_on_postgres() {
    let db = ProcessDatabase::new("beside");
    let (mut child, base) = serve(&db, "0").await;
    let list = data_path("vn-units-2024.csv");
    let import = db.dvk().arg("import-units").arg(&list).output().unwrap();
    let stderr = String::from_utf8_lossy(&import.stderr);
    let client = awc::Client::builder().timeout(std::time::Duration::from_secs(60)).finish();
    let admin = sign_hs256(&claims("VN", "central", &["admin"]));
    let mut units = client
        .get(format!("{base}/api/v1/units?code=01"))
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .send()
        .await
        .unwrap();
    assert_eq!(units.status(), 200);
    let found: serde_json::Value = units.json().await.unwrap();
    if db.postgres.is_none() {
        assert_eq!(import.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("is in use by another dvk process") && stderr.contains("POST /api/v1/units/import"),
            "{stderr}"
        );
        assert!(found["items"].as_array().unwrap().is_empty(), "nothing was imported: {found}");
        let second = db.dvk().env("DVK_BIND", "127.0.0.1:0").arg("serve").output().unwrap();
        assert_eq!(second.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&second.stderr).contains("cannot serve it"));
    } else {
        assert!(import.status.success(), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&import.stdout).unwrap();
        assert_eq!(report["created"], 10810);
        assert_eq!(found["items"][0]["code"], "01", "the server sees the import: {found}");
    }
    let mut ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{:?}", ready.body().await);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[actix_web::test]
async fn sigterm_lets_in_flight_requests_finish_then_exits_cleanly() {
    let db = ProcessDatabase::new("sigterm");
    let (mut child, base) = serve(&db, "3").await;
    let client = awc::Client::builder().timeout(std::time::Duration::from_secs(60)).finish();
    let admin = sign_hs256(&claims("VN", "central", &["admin"]));
    let csv = std::fs::read(data_path("vn-units-2024.csv")).unwrap();
    let import = client
        .post(format!("{base}/api/v1/units/import"))
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .insert_header(("Content-Type", "text/csv"))
        .send_body(csv);
    let in_flight = actix_web::rt::spawn(async move {
        let mut res = import.await.expect("the in-flight import is answered");
        (res.status().as_u16(), res.body().limit(1 << 20).await.unwrap())
    });
    // In flight: the import and this scrape.
    loop {
        let mut res = client.get(format!("{base}/metrics")).send().await.unwrap();
        let text = String::from_utf8(res.body().await.unwrap().to_vec()).unwrap();
        if text.lines().any(|l| l.strip_prefix("dvk_http_requests_in_flight ").is_some_and(|n| n.trim() != "1")) {
            break;
        }
        assert!(!in_flight.is_finished(), "the import ended before it was seen in flight");
        actix_web::rt::task::yield_now().await;
    }
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    // Draining: not ready, still serving.
    let mut draining = false;
    for _ in 0..1000 {
        let mut res = client.get(format!("{base}/readyz")).send().await.unwrap();
        if res.status() == 503 {
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["code"], "draining", "{body}");
            assert!(res.headers().contains_key("retry-after"));
            draining = true;
            break;
        }
        actix_web::rt::task::yield_now().await;
    }
    assert!(draining, "/readyz never said the instance was draining");
    let still = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(still.status(), 200, "a draining instance still answers");
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["created"], 10810);
    let exit = actix_web::rt::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    let refused = awc::Client::default().get(format!("{base}/healthz")).send().await;
    assert!(refused.is_err(), "nothing answers after the exit");
    assert_eq!(exit.code(), Some(0), "a clean exit");
}
