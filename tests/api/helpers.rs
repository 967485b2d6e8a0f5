//! `TestApp`: the application on port 0 with a fresh database, an HTTP client, and tokens.

use std::collections::HashMap;
use std::path::PathBuf;

use actix_web::http::Method;
use diesel::{Connection, RunQueryDsl};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use dvk::config::Config;
use dvk::keyring::Keyring;
use dvk::Application;

pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";
pub const ROOT_ID: &str = "0190c000-0000-7000-8000-000000000001";

pub struct TestApp {
    pub base: String,
    client: awc::Client,
    pub state: actix_web::web::Data<dvk::AppState>,
    handle: actix_web::dev::ServerHandle,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another instance on a database that the first one drops.
    Beside,
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

/// A URL on the same server as `admin_url`, naming database `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > base.find("://").map(|s| s + 2).unwrap_or(0) => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Every log line the process writes during the tests, for the test that no secret is logged.
pub static LOG_LINES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if let Ok(mut lines) = LOG_LINES.lock() {
            lines.push(format!("{} {} {}", record.level(), record.target(), record.args()));
        }
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if log::set_boxed_logger(Box::new(Capture)).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        capture_logs();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (database_url, cleanup) = match std::env::var("DVK_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("dvk_test_{id}");
                let mut admin =
                    diesel::PgConnection::establish(&admin_url).expect("DVK_TEST_DATABASE_URL must reach PostgreSQL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create the test database");
                (with_database(&admin_url, &name), Cleanup::Postgres { admin_url, name })
            }
            _ => {
                let path = std::env::temp_dir().join(format!("dvk-test-{id}.db"));
                (path.display().to_string(), Cleanup::Sqlite(path))
            }
        };
        Self::spawn_on(database_url, cleanup, None, adjust).await
    }

    /// A second instance on this one's database, with its data keys, as behind a balancer.
    pub async fn spawn_beside(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let (url, keys) = (self.state.config.database_url.clone(), self.state.keyring.clone());
        let storage = self.state.config.storage.clone();
        Self::spawn_on(url, Cleanup::Beside, Some(keys), move |c| {
            c.storage = storage;
            adjust(c)
        })
        .await
    }

    async fn spawn_on(
        database_url: String,
        cleanup: Cleanup,
        keys: Option<dvk::keyring::Keyring>,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".into();
        config.database_url = database_url;
        config.db_pool_size = 4;
        config.jwt_secret = Some(SECRET.into());
        config.jwt_jwks = Some(fixture_path("jwks.json"));
        config.data_keys = Some(keys.unwrap_or_else(|| Keyring::parse(&Keyring::generate_entry("test")).unwrap()));
        config.rate_limit_per_second = 0;
        config.token_rate_per_second = 0;
        config.token_failures_per_minute = 0;
        config.workers = 1;
        // Tests send webhook deliveries step by step (`deliver_due`), never in the background.
        config.webhook_sender = false;
        // Nor count folds: a folder thread per test application would outlive its test (its
        // server is never stopped) and be folding when the process exits. Tests fold themselves.
        config.count_folder = false;
        config.storage = test_storage();
        adjust(&mut config);
        let app = Application::build(config).expect("the application builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let state = app.state.clone();
        actix_web::rt::spawn(app.run());
        let client = awc::Client::builder().timeout(std::time::Duration::from_secs(120)).finish();
        TestApp { base, client, state, handle, cleanup }
    }

    /// One step of the webhook sender: sends what is due now; how many it attempted.
    pub async fn deliver_due(&self) -> usize {
        let state = self.state.clone();
        actix_web::rt::task::spawn_blocking(move || dvk::webhooks::delivery::deliver_due(&state)).await.unwrap()
    }

    /// Steps the webhook sender until nothing is due (retries whose wait is zero included); how
    /// many attempts it made in all.
    pub async fn deliver_all_due(&self) -> usize {
        let mut attempts = 0;
        for _ in 0..100 {
            match self.deliver_due().await {
                0 => return attempts,
                n => attempts += n,
            }
        }
        panic!("deliveries were still due after 100 steps");
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let head = method == Method::HEAD;
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        // A HEAD answer's body is not sent: awc would try to inflate the missing body of a
        // compressed one.
        if head {
            req = req.insert_header(("Accept-Encoding", "identity"));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some((content_type, bytes)) => req.insert_header(("Content-Type", content_type)).send_body(bytes).await,
            None => req.send().await,
        }
        .expect("the request is sent");
        let body = res.body().limit(256 * 1024 * 1024).await.expect("the body is read").to_vec();
        Resp { status: res.status().as_u16(), headers: res.headers().clone(), body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), &[], None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.request(Method::POST, path, Some(token), &[], Some(("application/json", body.to_string().into_bytes())))
            .await
    }

    pub async fn post_with(&self, path: &str, token: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
        self.request(
            Method::POST,
            path,
            Some(token),
            headers,
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn patch(&self, path: &str, token: &str, if_match: &str, body: &Value) -> Resp {
        self.request(
            Method::PATCH,
            path,
            Some(token),
            &[("If-Match", if_match)],
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn post_csv(&self, path: &str, token: &str, csv: &str) -> Resp {
        self.request(Method::POST, path, Some(token), &[], Some(("text/csv", csv.as_bytes().to_vec()))).await
    }

    /// An HS256 token for `unit` at `level` with `roles`, valid for an hour.
    pub fn token(&self, unit: &str, level: &str, roles: &[&str]) -> String {
        sign_hs256(&claims(unit, level, roles))
    }

    pub fn root_admin(&self) -> String {
        self.token("VN", "central", &["admin", "viewer"])
    }

    /// Everything the database holds that a request could change, as text: tables and rows
    /// sorted, for "nothing changed" assertions.
    pub fn snapshot(&self) -> String {
        use diesel::prelude::*;
        use dvk::db::schema::*;
        let mut conn = self.state.pool.get().expect("a connection");
        let mut out = String::new();
        let units: Vec<(String, String, String, String, Option<String>, i64)> = units::table
            .select((units::id, units::code, units::name, units::status, units::parent_id, units::version))
            .order(units::id)
            .load(&mut conn)
            .unwrap();
        out.push_str(&format!("{units:?}\n"));
        let tree: Vec<(String, String, i32)> = unit_tree::table
            .select((unit_tree::ancestor_id, unit_tree::descendant_id, unit_tree::depth))
            .order((unit_tree::ancestor_id, unit_tree::descendant_id))
            .load(&mut conn)
            .unwrap();
        out.push_str(&format!("{tree:?}\n"));
        let lineage: i64 = unit_lineage::table.count().get_result(&mut conn).unwrap();
        let successors: i64 = unit_successors::table.count().get_result(&mut conn).unwrap();
        let audit: i64 = audit_events::table.count().get_result(&mut conn).unwrap();
        out.push_str(&format!("lineage={lineage} successors={successors} audit={audit}\n"));
        let campaigns: Vec<(String, String, i64)> = campaigns::table
            .select((campaigns::id, campaigns::status, campaigns::version))
            .order(campaigns::id)
            .load(&mut conn)
            .unwrap();
        out.push_str(&format!("{campaigns:?}\n"));
        let models: Vec<(String, String, i64)> = models::table
            .select((models::id, models::status, models::version))
            .order(models::id)
            .load(&mut conn)
            .unwrap();
        let progress: i64 = model_progress::table.count().get_result(&mut conn).unwrap();
        let areas: i64 = model_special_areas::table.count().get_result(&mut conn).unwrap();
        out.push_str(&format!("{models:?} progress={progress} areas={areas}\n"));
        let evaluations: Vec<(String, String, i64, Option<String>)> = evaluations::table
            .select((evaluations::id, evaluations::status, evaluations::version, evaluations::superseded_by_id))
            .order(evaluations::id)
            .load(&mut conn)
            .unwrap();
        out.push_str(&format!("{evaluations:?}\n"));
        let commendations: Vec<(String, String, i64)> = commendations::table
            .select((commendations::id, commendations::status, commendations::version))
            .order(commendations::id)
            .load(&mut conn)
            .unwrap();
        out.push_str(&format!("{commendations:?}\n"));
        out
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let stop = self.handle.stop(false);
        actix_web::rt::spawn(stop);
        match &self.cleanup {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
                }
            }
            Cleanup::Beside => {}
        }
        if !matches!(self.cleanup, Cleanup::Beside) && self.state.config.storage.starts_with(&*TEST_FILES) {
            let _ = std::fs::remove_dir_all(&self.state.config.storage);
        }
    }
}

/// Where the tests' attachment stores are made (one folder per application) unless
/// `DVK_TEST_STORAGE` names an S3 bucket (`s3://bucket`), where each application then has a
/// prefix of its own.
static TEST_FILES: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| std::env::temp_dir().join("dvk-test-files").display().to_string());

fn test_storage() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match std::env::var("DVK_TEST_STORAGE") {
        Ok(s3) if !s3.is_empty() => format!("{}/{id}", s3.trim_end_matches('/')),
        _ => format!("{}/{id}", *TEST_FILES),
    }
}

pub fn claims(unit: &str, level: &str, roles: &[&str]) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": format!("user-of-{unit}"), "unit": unit, "level": level, "roles": roles,
        "iss": "dvk", "aud": "dvk-api", "exp": now + 3600, "iat": now, "jti": uuid::Uuid::new_v4().to_string(),
    })
}

pub fn sign_hs256(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

pub struct Resp {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text());
        self
    }

    /// Asserts a problem+json response with this status and code.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        self.expect(status);
        assert_eq!(self.header("content-type").as_deref(), Some("application/problem+json"), "{}", self.text());
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["type"], format!("/problems/{code}"));
        assert!(body["title"].is_string() && body["detail"].is_string());
        body
    }
}

/// The fixture tree: a province of the 2024 shape (districts, communes, a village), a province
/// of the 2025 shape (communes directly under it), a Party bloc with a grassroots base, a school.
pub const FIXTURE_CSV: &str = "code,name,level,division_type,parent_code,kind
P1,Tỉnh Hà Nam Cũ,province,tỉnh,,locality
D1,Huyện Bình Lục,district,huyện,P1,locality
C1,Xã Đồng Du,commune,xã,D1,locality
C2,Xã An Đổ,commune,xã,D1,locality
V1,Thôn Đông,village,thôn,C1,locality
D2,Huyện Kim Bảng,district,huyện,P1,locality
C3,Thị trấn Quế,commune,thị trấn,D2,locality
P1-BLOC,Đảng bộ Khối các cơ quan tỉnh,province,,P1,party_body
P1-BASE,Chi bộ Sở Tư pháp,commune,,P1-BLOC,party_body
P2,Tỉnh Lạng Sơn,province,tỉnh,,locality
P2C1,Phường Đông Kinh,commune,phường,P2,locality
P2C2,Xã Hữu Lũng,commune,xã,P2,locality
P2-SCH,Trường THPT Việt Bắc,commune,,P2,school
";

pub struct Fixture {
    pub ids: HashMap<String, String>,
    pub levels: HashMap<String, String>,
}

impl Fixture {
    pub async fn load(app: &TestApp) -> Fixture {
        app.post_csv("/api/v1/units/import", &app.root_admin(), FIXTURE_CSV).await.expect(200);
        let page = app.get("/api/v1/units?limit=200", &app.root_admin()).await;
        let mut ids = HashMap::new();
        let mut levels = HashMap::new();
        for u in page.expect(200).json()["items"].as_array().unwrap() {
            ids.insert(u["code"].as_str().unwrap().to_string(), u["id"].as_str().unwrap().to_string());
            levels.insert(u["code"].as_str().unwrap().to_string(), u["level"].as_str().unwrap().to_string());
        }
        Fixture { ids, levels }
    }

    pub fn id(&self, code: &str) -> &str {
        &self.ids[code]
    }

    /// A token of a user of unit `code` with `roles`.
    pub fn token(&self, app: &TestApp, code: &str, roles: &[&str]) -> String {
        app.token(code, &self.levels[code], roles)
    }
}

/// A sync client's mark after reading `page`: just after the latest `updated_at` it holds, as a
/// query value. Taken from what the server answered, not from this machine's clock.
pub fn mark_after(page: &Value) -> String {
    let latest = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| chrono::DateTime::parse_from_rfc3339(i["updated_at"].as_str().unwrap()).unwrap().to_utc())
        .max()
        .expect("a page with items");
    (latest + chrono::Duration::microseconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        .replace('+', "%2B")
}
