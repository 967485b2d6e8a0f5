//! Configuration from `DVK_*` environment variables, with defaults that work with no setup.

use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    /// `DVK_BIND`, default `127.0.0.1:8080`; port 0 picks a free port.
    pub bind: String,
    /// `DVK_DATABASE_URL`, default `dvk.db` (SQLite); `postgres://…` selects PostgreSQL.
    pub database_url: String,
    /// `DVK_DB_POOL_SIZE`, default by the database (`default_pool_size`).
    pub db_pool_size: u32,
    /// `DVK_DATABASE_READ_URL`, default none: a PostgreSQL standby that lists, reports and public
    /// reads go to (its own pool of `DVK_DB_POOL_SIZE`), but for a caller's own recent writes.
    pub database_read_url: Option<String>,
    /// `DVK_READ_AFTER_WRITE_SECS`, default 10: how long after a caller's write this instance
    /// sends that caller's reads to the primary rather than the standby.
    pub read_after_write_secs: u64,
    /// `DVK_JWT_SECRET`: HS256 key for bearer tokens (at least 32 bytes).
    pub jwt_secret: Option<String>,
    /// `DVK_JWT_JWKS`: a JWKS file of RS256/ES256 public keys, chosen by `kid`.
    pub jwt_jwks: Option<PathBuf>,
    /// `DVK_JWT_SIGNING_KEY`: a PKCS#8 PEM private key (RSA or P-256) the server signs the tokens
    /// it issues with (OAuth client credentials); its public part is served at
    /// `/.well-known/jwks.json`. Without it, issued tokens are HS256 with `DVK_JWT_SECRET`.
    pub jwt_signing_key: Option<PathBuf>,
    /// `DVK_JWT_SIGNING_KID`, default `dvk-1`: the `kid` of that key.
    pub jwt_signing_kid: String,
    /// `DVK_ACCESS_TOKEN_SECS`, default 900: how long an issued access token lives.
    pub access_token_secs: i64,
    /// `DVK_WEBHOOK_RETRY_SECS`, comma-separated waits between delivery attempts (default the
    /// Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
    pub webhook_retry_secs: Vec<u64>,
    /// `DVK_WEBHOOK_POLL_MS`, default 1000: how often an idle sender looks for due deliveries.
    pub webhook_poll_ms: u64,
    /// `DVK_WEBHOOK_LEASE_SECS`, default 60 (at least 15: longer than a send may take): how long
    /// an instance holds the deliveries it claimed; if it dies, another takes them over then.
    pub webhook_lease_secs: u64,
    /// `DVK_WEBHOOK_SENDER`, default true: whether this process sends webhook deliveries (false:
    /// it only queues them, for another process to send; tests send step by step).
    pub webhook_sender: bool,
    /// `DVK_COUNT_FOLDER`, default true: whether this process folds count changes into the counts
    /// on PostgreSQL (`reports::counts::fold`; one instance at a time does it, so any may). Tests
    /// fold step by step.
    pub count_folder: bool,
    /// `DVK_WEBHOOK_ALLOW_NETWORKS`, default none: internal networks (`10.0.0.0/8, fd00::/8`)
    /// webhook receivers may be in. Loopback, private, link-local and other internal addresses
    /// are refused otherwise, at subscription and at every send.
    pub webhook_allow_networks: crate::webhooks::network::NetworkPolicy,
    /// `DVK_METRICS_TOKEN`: when set, `/metrics` is served only to a bearer of this token.
    pub metrics_token: Option<String>,
    /// `DVK_JWT_ISSUER`, default `dvk`.
    pub jwt_issuer: String,
    /// `DVK_JWT_AUDIENCE`, default `dvk-api`.
    pub jwt_audience: String,
    /// `DVK_JWT_LEEWAY_SECS`, default 30: clock skew allowed on `exp`/`nbf`.
    pub jwt_leeway_secs: u64,
    /// `DVK_JWT_MAX_TTL_SECS`, default 86400: the longest lifetime a token may have; a token
    /// whose `exp` lies further from its `iat` (or from now) is refused.
    pub jwt_max_ttl_secs: i64,
    /// `DVK_BODY_LIMIT`, default 1 MiB: the largest JSON body.
    pub body_limit: usize,
    /// `DVK_IMPORT_LIMIT`, default 32 MiB: the largest file for import and reorganisation.
    pub import_limit: usize,
    /// Largest model spreadsheet accepted by `POST /models/import` (`DVK_MODEL_IMPORT_LIMIT`).
    pub model_import_limit: usize,
    /// `DVK_RATE_LIMIT_PER_SECOND`, default 200 (0 turns the limiter off): sustained requests per
    /// subject (token `sub`, or client address without a token), per instance.
    pub rate_limit_per_second: u32,
    /// `DVK_RATE_LIMIT_BURST`, default 1000: requests a subject may send at once.
    pub rate_limit_burst: u32,
    /// `DVK_DATA_KEYS`: the keys secrets are kept under at rest (`kid:base64-of-32-bytes`,
    /// comma-separated, the current one first; `dvk data-key` makes one). Required to serve.
    pub data_keys: Option<crate::keyring::Keyring>,
    /// `DVK_TOKEN_RATE_PER_SECOND`, default 5 (0: off): token requests per client address and
    /// per `client_id`, each, with a burst of twice that.
    pub token_rate_per_second: u32,
    /// `DVK_TOKEN_FAILURES_PER_MINUTE`, default 10 (0: off): failed client authentications per
    /// address and per `client_id` before the token endpoint answers 429 for the rest of the
    /// minute.
    pub token_failures_per_minute: u32,
    /// `DVK_CORS_ORIGINS`: the browser origins (`https://portal.example.gov.vn`, comma-separated)
    /// whose pages may call the authenticated API with a token. The public API answers any origin.
    pub cors_origins: Vec<String>,
    /// `DVK_PUBLIC_BASE_URL`: where the public API is reached from outside
    /// (`https://dvk.example.gov.vn`, or a portal that serves it), printed in each certificate's
    /// QR code. Default: `http://` and `DVK_BIND`, which only suits trials.
    pub public_base_url: Option<String>,
    /// `DVK_TRUSTED_PROXIES`: the networks of the balancers in front of the service; from them
    /// the caller's address is the one `X-Forwarded-For` names (rate limits are per caller).
    /// Without it the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `DVK_DRAIN_SECS`, default 0: on SIGTERM (or SIGINT), how long `/readyz` answers 503
    /// `draining` while the instance still serves, so that a balancer's health check takes it out
    /// before it stops accepting connections; then in-flight requests finish (up to 30 s).
    pub drain_secs: u64,
    /// `DVK_STORAGE`: where attachment bytes are kept: a directory (default `dvk-files` beside
    /// the SQLite file, or in the working directory for PostgreSQL) or `s3://bucket[/prefix]`
    /// (endpoint, region and credentials from `AWS_ENDPOINT`, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`).
    pub storage: String,
    /// `DVK_ATTACHMENT_LIMIT`, default 25 MiB: the largest attachment.
    pub attachment_limit: u64,
    /// `DVK_BODY_IDLE_SECS`, default 30: a request body that sends no byte for this long is
    /// refused (408), as is one that averages under `body_min_rate` after its first
    /// `body_idle_secs`: a slow body must not hold a worker's task and a spool for ever.
    pub body_idle_secs: u64,
    /// `DVK_BODY_MIN_RATE`, default 1024: bytes a second a body must average (see above).
    pub body_min_rate: u64,
    /// `DVK_WORKERS`, default: the number of cores.
    pub workers: usize,
    /// `--dev`: generate a signing key when none is configured (never in production).
    pub dev: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| format!("{name}={v:?} is not valid")),
    }
}

/// An absolute http(s) URL with nothing after its path, without its trailing slash: it is
/// printed on paper, so it must be the address itself.
fn public_base_url(value: &str) -> Result<String, String> {
    let url = url::Url::parse(value.trim()).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an http or https URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err("must have no query, fragment or credentials".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Connections in the pool for `database_url` unless `DVK_DB_POOL_SIZE` says otherwise.
/// PostgreSQL: twice this machine's cores (2 at least, 32 at most). More connections than the
/// cores can run, with PostgreSQL on the same cores, make statements wait on each other rather
/// than serve more: on 2 cores, a pool of 8 against one of 4 gave the national report the same
/// rate with a p99 of 54 ms against 14 and a request of 420 ms against 27, and the 304 read one
/// of 341 ms against 21 (README, Benchmarks). SQLite: 8, its connections being no processes of
/// their own.
pub fn default_pool_size(database_url: &str) -> u32 {
    match crate::db::Backend::of_url(database_url) {
        crate::db::Backend::Postgres => {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as u32;
            (2 * cores).clamp(2, 32)
        }
        crate::db::Backend::Sqlite => 8,
    }
}

impl Config {
    /// Where certificates send their readers: `DVK_PUBLIC_BASE_URL`, else this server's address.
    pub fn public_base_url(&self) -> String {
        self.public_base_url.clone().unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// The defaults, ignoring the environment.
    pub fn defaults() -> Config {
        Config {
            bind: "127.0.0.1:8080".into(),
            database_url: "dvk.db".into(),
            db_pool_size: default_pool_size("dvk.db"),
            database_read_url: None,
            read_after_write_secs: 10,
            jwt_secret: None,
            jwt_jwks: None,
            jwt_signing_key: None,
            jwt_signing_kid: "dvk-1".into(),
            access_token_secs: 900,
            webhook_retry_secs: crate::webhooks::delivery::RETRY_SCHEDULE_SECS.to_vec(),
            webhook_poll_ms: 1000,
            webhook_sender: true,
            count_folder: true,
            webhook_lease_secs: 60,
            webhook_allow_networks: Default::default(),
            metrics_token: None,
            jwt_issuer: "dvk".into(),
            jwt_audience: "dvk-api".into(),
            jwt_leeway_secs: 30,
            jwt_max_ttl_secs: 86_400,
            body_limit: 1024 * 1024,
            import_limit: 32 * 1024 * 1024,
            model_import_limit: 8 * 1024 * 1024,
            rate_limit_per_second: 200,
            rate_limit_burst: 1000,
            data_keys: None,
            cors_origins: vec![],
            token_rate_per_second: 5,
            token_failures_per_minute: 10,
            public_base_url: None,
            drain_secs: 0,
            storage: "dvk-files".into(),
            attachment_limit: 25 * 1024 * 1024,
            body_idle_secs: 30,
            body_min_rate: 1024,
            trusted_proxies: vec![],
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            dev: false,
        }
    }

    pub fn from_env() -> Result<Config, String> {
        let d = Config::defaults();
        let database_url = var("DVK_DATABASE_URL").unwrap_or(d.database_url.clone());
        let config = Config {
            bind: var("DVK_BIND").unwrap_or(d.bind),
            db_pool_size: parsed("DVK_DB_POOL_SIZE", default_pool_size(&database_url))?,
            database_url,
            database_read_url: var("DVK_DATABASE_READ_URL"),
            read_after_write_secs: parsed("DVK_READ_AFTER_WRITE_SECS", d.read_after_write_secs)?,
            jwt_secret: var("DVK_JWT_SECRET"),
            jwt_jwks: var("DVK_JWT_JWKS").map(PathBuf::from),
            jwt_signing_key: var("DVK_JWT_SIGNING_KEY").map(PathBuf::from),
            jwt_signing_kid: var("DVK_JWT_SIGNING_KID").unwrap_or(d.jwt_signing_kid),
            access_token_secs: parsed("DVK_ACCESS_TOKEN_SECS", d.access_token_secs)?,
            webhook_retry_secs: match var("DVK_WEBHOOK_RETRY_SECS") {
                Some(list) => list
                    .split(',')
                    .map(|s| s.trim().parse::<u64>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| "DVK_WEBHOOK_RETRY_SECS must be comma-separated seconds".to_string())?,
                None => d.webhook_retry_secs,
            },
            webhook_poll_ms: parsed("DVK_WEBHOOK_POLL_MS", d.webhook_poll_ms)?,
            webhook_sender: parsed("DVK_WEBHOOK_SENDER", d.webhook_sender)?,
            count_folder: parsed("DVK_COUNT_FOLDER", d.count_folder)?,
            webhook_lease_secs: parsed("DVK_WEBHOOK_LEASE_SECS", d.webhook_lease_secs)?,
            webhook_allow_networks: crate::webhooks::network::NetworkPolicy::parse(
                &var("DVK_WEBHOOK_ALLOW_NETWORKS").unwrap_or_default(),
            )
            .map_err(|e| format!("DVK_WEBHOOK_ALLOW_NETWORKS: {e}"))?,
            metrics_token: var("DVK_METRICS_TOKEN"),
            jwt_issuer: var("DVK_JWT_ISSUER").unwrap_or(d.jwt_issuer),
            jwt_audience: var("DVK_JWT_AUDIENCE").unwrap_or(d.jwt_audience),
            jwt_leeway_secs: parsed("DVK_JWT_LEEWAY_SECS", d.jwt_leeway_secs)?,
            jwt_max_ttl_secs: parsed("DVK_JWT_MAX_TTL_SECS", d.jwt_max_ttl_secs)?,
            body_limit: parsed("DVK_BODY_LIMIT", d.body_limit)?,
            import_limit: parsed("DVK_IMPORT_LIMIT", d.import_limit)?,
            model_import_limit: parsed("DVK_MODEL_IMPORT_LIMIT", d.model_import_limit)?,
            rate_limit_per_second: parsed("DVK_RATE_LIMIT_PER_SECOND", d.rate_limit_per_second)?,
            rate_limit_burst: parsed("DVK_RATE_LIMIT_BURST", d.rate_limit_burst)?,
            data_keys: var("DVK_DATA_KEYS")
                .map(|list| crate::keyring::Keyring::parse(&list).map_err(|e| format!("DVK_DATA_KEYS: {e}")))
                .transpose()?,
            cors_origins: crate::http::cors::parse_origins(&var("DVK_CORS_ORIGINS").unwrap_or_default())
                .map_err(|e| format!("DVK_CORS_ORIGINS: {e}"))?,
            token_rate_per_second: parsed("DVK_TOKEN_RATE_PER_SECOND", d.token_rate_per_second)?,
            token_failures_per_minute: parsed("DVK_TOKEN_FAILURES_PER_MINUTE", d.token_failures_per_minute)?,
            public_base_url: var("DVK_PUBLIC_BASE_URL")
                .map(|u| public_base_url(&u).map_err(|e| format!("DVK_PUBLIC_BASE_URL: {e}")))
                .transpose()?,
            drain_secs: parsed("DVK_DRAIN_SECS", d.drain_secs)?,
            storage: var("DVK_STORAGE")
                .unwrap_or_else(|| default_storage(&var("DVK_DATABASE_URL").unwrap_or_else(|| d.database_url.clone()))),
            attachment_limit: parsed("DVK_ATTACHMENT_LIMIT", d.attachment_limit)?,
            body_idle_secs: parsed("DVK_BODY_IDLE_SECS", d.body_idle_secs)?,
            body_min_rate: parsed("DVK_BODY_MIN_RATE", d.body_min_rate)?,
            trusted_proxies: crate::http::client_address::parse_trusted(
                &var("DVK_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|e| format!("DVK_TRUSTED_PROXIES: {e}"))?,
            workers: parsed("DVK_WORKERS", d.workers)?,
            dev: false,
        };
        config.check()?;
        Ok(config)
    }

    pub fn check(&self) -> Result<(), String> {
        if self.db_pool_size == 0 {
            return Err("DVK_DB_POOL_SIZE must be at least 1".into());
        }
        if self.jwt_max_ttl_secs < 60 || self.access_token_secs > self.jwt_max_ttl_secs {
            return Err("DVK_JWT_MAX_TTL_SECS must be at least 60 and at least DVK_ACCESS_TOKEN_SECS".into());
        }
        if self.webhook_lease_secs < crate::webhooks::delivery::SEND_TIMEOUT.as_secs() + 5 {
            return Err("DVK_WEBHOOK_LEASE_SECS must be at least 15: longer than a send may take".into());
        }
        if let Some(read_url) = &self.database_read_url {
            let postgres = crate::db::Backend::Postgres;
            if crate::db::Backend::of_url(&self.database_url) != postgres
                || crate::db::Backend::of_url(read_url) != postgres
            {
                return Err(
                    "DVK_DATABASE_READ_URL names a PostgreSQL standby of DVK_DATABASE_URL's PostgreSQL primary; \
                            SQLite has no standby"
                        .into(),
                );
            }
        }
        if self.attachment_limit == 0 {
            return Err("DVK_ATTACHMENT_LIMIT must be at least 1".into());
        }
        if self.body_idle_secs == 0 {
            return Err("DVK_BODY_IDLE_SECS must be at least 1".into());
        }
        if self.workers == 0 {
            return Err("DVK_WORKERS must be at least 1".into());
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < 32 {
                return Err("DVK_JWT_SECRET must be at least 32 bytes (RFC 7518 §3.2)".into());
            }
        }
        Ok(())
    }
}

/// Attachments beside the SQLite file (`data/dvk.db` keeps them in `data/dvk-files`), so that
/// one folder holds all of an embedded installation; for PostgreSQL, in the working directory.
fn default_storage(database_url: &str) -> String {
    if crate::db::Backend::of_url(database_url) == crate::db::Backend::Postgres {
        return "dvk-files".into();
    }
    let path = database_url.strip_prefix("sqlite://").unwrap_or(database_url);
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("dvk-files").display().to_string(),
        _ => "dvk-files".into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_public_base_url_is_an_address_and_nothing_more() {
        assert_eq!(super::public_base_url("https://dvk.example.gov.vn/").unwrap(), "https://dvk.example.gov.vn");
        assert_eq!(super::public_base_url(" https://portal.vn/dvk ").unwrap(), "https://portal.vn/dvk");
        for bad in ["ftp://x.vn", "https://x.vn/?a=1", "https://x.vn/#f", "https://u:p@x.vn", "x.vn", "data:,hi"] {
            assert!(super::public_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_webhook_lease_shorter_than_a_send_is_refused() {
        let mut c = super::Config::defaults();
        assert!(c.check().is_ok());
        c.webhook_lease_secs = 10;
        assert!(c.check().unwrap_err().contains("DVK_WEBHOOK_LEASE_SECS"));
    }
}
