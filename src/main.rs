//! The `dvk` command: the server and the operator's tools.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use dvk::auth::{mint_hs256, Actor, Claims, Role};
use dvk::config::Config;
use dvk::{db, units};

/// `--features mimalloc` runs the service on mimalloc instead of glibc's malloc (README,
/// Benchmarks: faster on SQLite, more memory).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Where `--dev` keeps the signing key it generated, so `dvk token` can mint with it.
const DEV_SECRET_FILE: &str = ".dvk-dev-secret";
/// Where `--dev` keeps the data key it generated (what secrets at rest are sealed with).
const DEV_DATA_KEY_FILE: &str = ".dvk-dev-data-key";

#[derive(Parser)]
#[command(name = "dvk", version, about = "The Dân vận khéo system of record")]
struct Cli {
    /// Development mode: without DVK_JWT_SECRET, generate a signing key (kept in .dvk-dev-secret).
    #[arg(long, global = true)]
    dev: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load an official unit list (CSV) under VN: all rows or none, idempotent on code.
    ImportUnits {
        file: PathBuf,
        /// Report what would change, changing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply a reorganisation: the new unit list, the succession pairs, the effective date.
    Reorganize {
        #[arg(long)]
        units: PathBuf,
        #[arg(long)]
        successors: PathBuf,
        /// YYYY-MM-DD
        #[arg(long)]
        effective_on: chrono::NaiveDate,
        #[arg(long)]
        dry_run: bool,
    },
    /// Mint an HS256 token with the configured secret (for development and scripts).
    Token {
        /// The unit's code, e.g. VN or 01.
        #[arg(long)]
        unit: String,
        /// Comma-separated: viewer, editor, reviewer, approver, admin.
        #[arg(long, value_delimiter = ',', default_value = "viewer")]
        roles: Vec<String>,
        /// The unit's level; looked up in the database when omitted.
        #[arg(long)]
        level: Option<String>,
        #[arg(long, default_value = "dev-user")]
        sub: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Remove from the attachment store what no attachment points at: content of deleted
    /// attachments, uploads cut off before their row, expired resumable uploads. Safe beside
    /// running servers: objects younger than the grace are kept.
    SweepFiles {
        /// Minutes an object is kept after it was written, whatever the rows say (at least 10:
        /// an upload in progress must not lose its spool or its parts).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(10..))]
        grace_minutes: i64,
    },
    /// Print a new data key for DVK_DATA_KEYS (`kid:base64`): put it first in the list to rotate.
    DataKey {
        /// The key's id, e.g. the date it was made.
        #[arg(long, default_value = "k1")]
        kid: String,
    },
}

fn main() {
    let logger = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let level = logger.filter();
    // Each line a request causes carries its request id (`request_id=…`).
    if log::set_boxed_logger(Box::new(dvk::http::logging::WithRequestId(logger))).is_ok() {
        log::set_max_level(level);
    }
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("dvk: {e}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let mut config = Config::from_env()?;
    config.dev = cli.dev;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => {
            let _claim = claim(&config, "migrate it")?;
            let pool = db::build_pool(&config.database_url, 1)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            db::migrate(&mut conn)?;
            println!("migrations applied");
            Ok(())
        }
        Command::ImportUnits { file, dry_run } => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            with_operator(&config, |conn, actor| {
                let lines = units::import::parse_units_csv(&text)?;
                let run = |c: &mut db::DbConnection| units::import::import_units(c, actor, &lines);
                let report = if dry_run { db::rolled_back(conn, run)? } else { db::transaction(conn, run)? };
                Ok(serde_json::to_string_pretty(&report).unwrap_or_default())
            })
        }
        Command::Reorganize { units: list, successors, effective_on, dry_run } => {
            let text = std::fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
            let pairs = std::fs::read_to_string(&successors).map_err(|e| format!("{}: {e}", successors.display()))?;
            with_operator(&config, |conn, actor| {
                let lines = units::import::parse_units_csv(&text)?;
                let pairs = units::import::parse_successions_csv(&pairs)?;
                let run = |c: &mut db::DbConnection| units::import::reorganize(c, actor, effective_on, &lines, &pairs);
                let report = if dry_run { db::rolled_back(conn, run)? } else { db::transaction(conn, run)? };
                Ok(serde_json::to_string_pretty(&report).unwrap_or_default())
            })
        }
        Command::Token { unit, roles, level, sub, ttl } => token(&config, unit, roles, level, sub, ttl),
        Command::DataKey { kid } => {
            let entry = dvk::keyring::Keyring::generate_entry(&kid);
            dvk::keyring::Keyring::parse(&entry)?;
            println!("{entry}");
            Ok(())
        }
        Command::Openapi => {
            print!("{}", dvk::openapi::document_json());
            Ok(())
        }
        Command::SweepFiles { grace_minutes } => {
            let pool = db::open(&config)?;
            let storage = dvk::storage::Storage::open(&config.storage)?;
            let swept = actix_web::rt::System::new().block_on(dvk::attachments::sweep::sweep(
                &pool,
                &storage,
                chrono::Duration::minutes(grace_minutes),
            ));
            let swept = swept.map_err(|e| e.to_string())?;
            println!("{}", serde_json::to_string_pretty(&swept).unwrap_or_default());
            Ok(())
        }
    }
}

fn serve(mut config: Config) -> Result<(), String> {
    if config.jwt_secret.is_none() && config.jwt_jwks.is_none() {
        if !config.dev {
            return Err("no signing key is configured: set DVK_JWT_SECRET (32+ bytes) or DVK_JWT_JWKS, \
                        or start with --dev to generate a development key"
                .into());
        }
        config.jwt_secret = Some(dev_secret()?);
        log::warn!(
            "DEVELOPMENT MODE: signing tokens with a generated key kept in {DEV_SECRET_FILE}; \
             mint tokens with `dvk token --unit VN --roles admin`. Never run like this in production."
        );
    }
    if config.data_keys.is_none() && config.dev {
        config.data_keys = Some(dvk::keyring::Keyring::parse(&dev_file(DEV_DATA_KEY_FILE, || {
            dvk::keyring::Keyring::generate_entry("dev")
        })?)?);
        log::warn!("DEVELOPMENT MODE: secrets at rest are sealed with a generated key kept in {DEV_DATA_KEY_FILE}");
    }
    // Held while serving: a second server or an operator's command on the same SQLite file is
    // refused, rather than left to fail requests on SQLite's lock.
    let _claim = claim(&config, "serve it")?;
    actix_web::rt::System::new().block_on(async move {
        let app = dvk::Application::build(config)?;
        app.serve().await.map_err(|e| e.to_string())
    })
}

fn dev_secret() -> Result<String, String> {
    use rand::Rng;
    dev_file(DEV_SECRET_FILE, || {
        rand::thread_rng().sample_iter(&rand::distributions::Alphanumeric).take(48).map(char::from).collect()
    })
}

/// A development secret kept in `name`: read back when it is there, else made and written (only
/// the owner may read it).
fn dev_file(name: &str, make: impl FnOnce() -> String) -> Result<String, String> {
    let path = Path::new(name);
    if let Ok(secret) = std::fs::read_to_string(path) {
        if secret.trim().len() >= 32 {
            return Ok(secret.trim().to_string());
        }
    }
    let secret = make();
    std::fs::write(path, &secret).map_err(|e| format!("cannot write {name}: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(secret)
}

/// Claims an SQLite database for this process (`db::claim_sqlite`), or says why not: another
/// process (a running server) holds it, and what to do instead.
fn claim(config: &Config, doing: &str) -> Result<Option<std::fs::File>, String> {
    db::claim_sqlite(&config.database_url).map_err(|db::InUse { path }| {
        format!(
            "{path} is in use by another dvk process (an SQLite database serves one process): cannot {doing}. \
             Import and reorganise through the running server (POST /api/v1/units/import, \
             POST /api/v1/units/reorganize, with an admin token), or stop it first; \
             for several instances use PostgreSQL"
        )
    })
}

/// Runs an operator's command as an admin of the root unit, with the audit log naming the operator.
fn with_operator(
    config: &Config,
    f: impl FnOnce(&mut db::DbConnection, &Actor) -> Result<String, dvk::error::ApiError>,
) -> Result<(), String> {
    let _claim = claim(config, "change it from the command line")?;
    let pool = db::build_pool(&config.database_url, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    db::migrate(&mut conn)?;
    let root = dvk::tree::root_id(&mut conn).map_err(|e| e.to_string())?;
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let actor = Actor {
        sub: format!("cli:{user}"),
        name: None,
        unit_id: root,
        unit_code: dvk::tree::ROOT_CODE.into(),
        level: units::types::Level::Central,
        roles: vec![Role::Admin],
        request_id: format!("cli-{}", uuid::Uuid::new_v4()),
        client_request_id: None,
    };
    let out = f(&mut conn, &actor).map_err(|e| {
        let problem = e.problem();
        let mut msg = format!("{} ({})", problem.detail, problem.code);
        for err in problem.errors.iter().take(20) {
            let row = err.row.map(|r| format!("line {r}, ")).unwrap_or_default();
            msg.push_str(&format!("\n  {row}{}: {}", err.field, err.message));
        }
        msg
    })?;
    println!("{out}");
    Ok(())
}

fn token(
    config: &Config,
    unit: String,
    roles: Vec<String>,
    level: Option<String>,
    sub: String,
    ttl: i64,
) -> Result<(), String> {
    let secret = match &config.jwt_secret {
        Some(s) => s.clone(),
        None => std::fs::read_to_string(DEV_SECRET_FILE)
            .map(|s| s.trim().to_string())
            .map_err(|_| format!("no DVK_JWT_SECRET and no {DEV_SECRET_FILE}: start the server with --dev first"))?,
    };
    if ttl < 1 || ttl > config.jwt_max_ttl_secs {
        return Err(format!(
            "--ttl must be between 1 and {} s (DVK_JWT_MAX_TTL_SECS): the server refuses longer tokens",
            config.jwt_max_ttl_secs
        ));
    }
    for r in &roles {
        if Role::parse(r).is_none() {
            return Err(format!("unknown role {r:?}: use viewer, editor, reviewer, approver, admin"));
        }
    }
    let level = match level {
        Some(l) => l,
        None => {
            let pool = db::build_pool(&config.database_url, 1)?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            db::migrate(&mut conn)?;
            dvk::tree::unit_ref_by_code(&mut conn, &unit)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no unit has the code {unit}"))?
                .level
                .as_str()
                .to_string()
        }
    };
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub,
        unit,
        level,
        roles,
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
        exp: now + ttl,
        nbf: None,
        iat: Some(now),
        jti: Some(uuid::Uuid::new_v4().to_string()),
        name: None,
    };
    println!("{}", mint_hs256(&secret, &claims));
    Ok(())
}
