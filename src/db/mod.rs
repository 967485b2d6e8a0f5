//! The database: one connection type over SQLite and PostgreSQL, the pool, migrations, and the few
//! places where the two backends need different SQL.

pub mod schema;
pub mod standby;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The connection pool, and the turns requests take at it.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    /// Requests through `run` take a connection in the order they asked for one. r2d2 lets a
    /// newcomer take a returned connection from a waiter: with 32 clients on 8 connections some
    /// requests waited most of a second (PostgreSQL national list, p99 148 ms, max 815 ms).
    turns: std::sync::Arc<tokio::sync::Semaphore>,
    /// Where reads may go instead (`DVK_DATABASE_READ_URL`).
    standby: Option<std::sync::Arc<standby::Standby>>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

thread_local! {
    /// Set when a request on this thread found its connection gone (the server restarted):
    /// diesel does not mark such a connection broken, so the pool is told here to drop it
    /// rather than hand it to the next request.
    static LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Opens connections of the backend the URL names. Our own manager (not the MultiConnection's
/// `establish`, which tries every backend in turn) so that an unreachable PostgreSQL never falls
/// through to creating an SQLite file named like its URL.
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    url: String,
    /// Settings every PostgreSQL connection of this pool starts with.
    session: &'static str,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                // diesel prepares every statement once per connection, and after five runs
                // PostgreSQL may switch to a generic plan that ignores the values: a search's
                // pattern and a scope's size decide the best plan, so plan each run for its values.
                conn.batch_execute("SET plan_cache_mode = force_custom_plan").map_err(r2d2::Error::QueryError)?;
                if !self.session.is_empty() {
                    conn.batch_execute(self.session).map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConnection::Postgresql(conn))
            }
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut conn = diesel::SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; busy_timeout makes writers queue
                // instead of failing at once. batch_execute, not sql_query: a prepared statement
                // runs only the first of several, and WAL was silently never switched on.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken() || LOST.with(|lost| lost.replace(false))
    }
}

pub fn build_pool(url: &str, size: u32) -> Result<Pool, String> {
    let inner = connections(url, size, "")?;
    Ok(Pool { inner, turns: std::sync::Arc::new(tokio::sync::Semaphore::new(size as usize)), standby: None })
}

/// The pools the service's settings name: the primary, and the standby reads may go to.
pub fn open(config: &crate::config::Config) -> Result<Pool, String> {
    let Some(read_url) = &config.database_read_url else {
        return build_pool(&config.database_url, config.db_pool_size);
    };
    // A write is acknowledged once the synchronous standby (when the primary names one in
    // `synchronous_standby_names`) has applied it, so a read there sees it (standby.rs).
    let inner = connections(&config.database_url, config.db_pool_size, "SET synchronous_commit = remote_apply")?;
    // Built without waiting: a standby that is down at start only sends reads to the primary.
    let reads = r2d2::Pool::builder()
        .max_size(config.db_pool_size)
        .test_on_check_out(false)
        .connection_timeout(STANDBY_WAIT)
        .build_unchecked(Manager { backend: Backend::Postgres, url: read_url.clone(), session: "" });
    let window = Duration::from_secs(config.read_after_write_secs);
    Ok(Pool {
        inner,
        turns: std::sync::Arc::new(tokio::sync::Semaphore::new(config.db_pool_size as usize)),
        standby: Some(std::sync::Arc::new(standby::Standby::new(reads, config.db_pool_size, window))),
    })
}

/// How long a read waits for a standby connection before it goes to the primary instead.
const STANDBY_WAIT: Duration = Duration::from_millis(300);

fn connections(url: &str, size: u32, session: &'static str) -> Result<r2d2::Pool<Manager>, String> {
    let backend = Backend::of_url(url);
    let manager = Manager { backend, url: url.to_string(), session };
    r2d2::Pool::builder()
        .max_size(size)
        // A broken connection shows itself as an error on use; checking every checkout costs a
        // round trip per request.
        .test_on_check_out(false)
        // With the database down, a request fails with 503 after this wait instead of hanging.
        .connection_timeout(CONNECTION_WAIT)
        .build(manager)
        .map_err(|e| format!("cannot open the database at {}: {e}", redact(url)))
}

impl Pool {
    /// The standby reads may go to, when one is configured.
    pub fn standby(&self) -> Option<&standby::Standby> {
        self.standby.as_deref()
    }
}

/// How long a request waits for a connection before it is answered 503.
const CONNECTION_WAIT: Duration = Duration::from_secs(2);

/// The URL without its password, for logs and error messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

pub fn migrate(conn: &mut DbConnection) -> Result<(), String> {
    let result = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| format!("migration failed: {e}"))
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgresql(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Another process holds the SQLite database this one was asked to write.
#[derive(Debug)]
pub struct InUse {
    pub path: String,
}

/// Claims an SQLite database for this process until the returned file is dropped (PostgreSQL
/// needs no claim: `None`). SQLite's writers queue on a lock inside one process (`transaction`),
/// while a second process would wait in `busy_timeout` and then fail requests: a second server
/// or an operator's long import beside a running server is refused instead, at once. The claim
/// is an advisory lock on `<database>.lock`, not on the database file: SQLite's own POSIX locks
/// on that file would be released when any other handle of this process to it is closed.
pub fn claim_sqlite(url: &str) -> Result<Option<std::fs::File>, InUse> {
    if Backend::of_url(url) != Backend::Sqlite {
        return Ok(None);
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    if path.is_empty() || path.starts_with(':') || path.starts_with("file:") {
        return Ok(None);
    }
    let lock = format!("{path}.lock");
    let Ok(file) = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock) else {
        // Nowhere to put the lock file (a read-only directory): SQLite will say more on open.
        return Ok(None);
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(InUse { path: path.to_string() }),
        Err(std::fs::TryLockError::Error(e)) => {
            log::warn!("cannot lock {lock}: {e}; a second process on {path} would not be refused");
            Ok(None)
        }
    }
}

static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` in a write transaction. On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction that
/// reads and then writes fails with SQLITE_BUSY when another writer got there first, instead of
/// waiting its turn.
pub fn transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    // SQLite takes one writer at a time. Writers of this process queue here, first come first
    // served, rather than in SQLite's busy handler, which polls with growing sleeps: with 8
    // concurrent writers that put p99 at 1.6 s. (Another process still waits in busy_timeout.)
    let _writer = match conn {
        DbConnection::Sqlite(c) => {
            let turn = SQLITE_WRITER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(turn)
        }
        DbConnection::Postgresql(c) => {
            // Connections plan every statement for its values (`force_custom_plan`: a search's
            // best plan depends on them). A write runs the same few statements thousands of
            // times with values that do not change their plan; planning each anew was a quarter
            // of what a registration cost PostgreSQL. Same round trip as the BEGIN.
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN; SET LOCAL plan_cache_mode = auto")?;
            None
        }
    };
    let done = f(conn);
    finish(conn, done)
}

/// Runs `f`, whose statements have one best plan whatever their values, on PostgreSQL's generic
/// plans, in a read-only transaction. A connection plans each run of a statement anew
/// (`force_custom_plan`, above), and a page of a province's models spent more time being planned
/// than being read (0.5 ms against 0.3). The generic plan is not chosen by `auto`: it is costed for
/// an average scope and looks dearer than the custom plan of a large one, whose index walk is
/// the same. Only for statements whose plan cannot depend on their values, and inside a
/// transaction the work joins it unchanged. Never a parallel plan: costed for an average scope
/// with its `LIMIT` unknown, a province's page at 5,000,000 models became a Gather Merge of two
/// workers started for every page (149 req/s, p50 208 ms, where its SQL alone ran at 3,521/s);
/// without workers the same plan is the index walk.
pub fn with_generic_plans<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let DbConnection::Postgresql(c) = conn else {
        return f(conn);
    };
    if AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_some() {
        return f(conn);
    }
    AnsiTransactionManager::begin_transaction_sql(
        c,
        "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan; \
         SET LOCAL max_parallel_workers_per_gather = 0",
    )?;
    let done = f(conn);
    finish(conn, done)
}

/// Commits a transaction `f` left `done`, or rolls it back on its error.
fn finish<T>(conn: &mut DbConnection, done: Result<T, ApiError>) -> Result<T, ApiError> {
    match done {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The original error matters more than a failed rollback (which breaks the connection
            // and makes the pool drop it).
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// A piece of SQL fixed at compile time, as an expression of type `ST`. diesel never caches a
/// statement holding an `sql()` literal, since it cannot know the text is constant: every run is
/// parsed and planned anew. This text is `'static`, so the statement is prepared once per
/// connection.
#[derive(Debug, Clone, Copy)]
pub struct FixedSql<ST> {
    sql: &'static str,
    sql_type: std::marker::PhantomData<ST>,
}

pub const fn fixed_sql<ST>(sql: &'static str) -> FixedSql<ST> {
    FixedSql { sql, sql_type: std::marker::PhantomData }
}

impl<ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType> Expression for FixedSql<ST> {
    type SqlType = ST;
}

impl<ST, DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for FixedSql<ST> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.sql);
        Ok(())
    }
}

impl<ST> diesel::query_builder::QueryId for FixedSql<ST> {
    type QueryId = ();
    // The type does not name the text: statements holding it are cached by their SQL.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS, ST> diesel::expression::SelectableExpression<QS> for FixedSql<ST> where Self: Expression {}

impl<QS, ST> diesel::expression::AppearsOnTable<QS> for FixedSql<ST> where Self: Expression {}

impl<ST, GB> diesel::expression::ValidGrouping<GB> for FixedSql<ST> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// A value bound into a `Prepared` statement.
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Int(i32),
    Time(chrono::NaiveDateTime),
    Date(chrono::NaiveDate),
}

/// A statement whose text takes few shapes, with its values bound: diesel prepares it once per
/// connection and shape, where a `sql_query` is parsed and planned on every run (planning was a
/// third of the national report's statement). Each `?` in the text takes the next value. Every
/// shape stays prepared on every connection for its life, so the text must not vary with what a
/// caller sends: a list a caller chooses goes in as one value (see `reports::store`), not as a `?`
/// each.
#[derive(Debug, Clone)]
pub struct Prepared {
    sql: String,
    params: Vec<Param>,
    cached: bool,
}

impl Prepared {
    pub fn new(sql: String, params: Vec<Param>) -> Prepared {
        Prepared { sql, params, cached: true }
    }

    /// The same, never cached: for a text that takes as many shapes as callers like.
    pub fn uncached(sql: String, params: Vec<Param>) -> Prepared {
        Prepared { sql, params, cached: false }
    }
}

impl<DB> diesel::query_builder::QueryFragment<DB> for Prepared
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Integer>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Date>,
    String: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    i32: diesel::serialize::ToSql<diesel::sql_types::Integer, DB>,
    chrono::NaiveDateTime: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
    chrono::NaiveDate: diesel::serialize::ToSql<diesel::sql_types::Date, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cached {
            out.unsafe_to_cache_prepared();
        }
        let mut pieces = self.sql.split('?');
        out.push_sql(pieces.next().unwrap_or_default());
        let mut params = self.params.iter();
        for piece in pieces {
            match params.next() {
                Some(Param::Text(s)) => out.push_bind_param::<diesel::sql_types::Text, _>(s)?,
                Some(Param::Int(n)) => out.push_bind_param::<diesel::sql_types::Integer, _>(n)?,
                Some(Param::Time(t)) => out.push_bind_param::<diesel::sql_types::Timestamp, _>(t)?,
                Some(Param::Date(d)) => out.push_bind_param::<diesel::sql_types::Date, _>(d)?,
                None => return Err(diesel::result::Error::QueryBuilderError("a ? without a value".into())),
            }
            out.push_sql(piece);
        }
        match params.next() {
            Some(_) => Err(diesel::result::Error::QueryBuilderError("a value without a ?".into())),
            None => Ok(()),
        }
    }
}

impl diesel::query_builder::QueryId for Prepared {
    type QueryId = ();
    // Cached by its SQL text, which is what a shape is.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Prepared {
    // Rows are read by name (`QueryableByName`), as a `sql_query`'s are.
    type SqlType = diesel::sql_types::Untyped;
}

impl<Conn> diesel::RunQueryDsl<Conn> for Prepared {}

/// The statement type every backend renders (the multi-connection's own backend).
type Multi = <DbConnection as Connection>::Backend;

/// Writes that neither read nor wait for each other's rows, sent together. PostgreSQL gets them
/// as one statement, each a data-modifying `WITH` of the last, so they cost one round trip
/// however many there are: a registration's statements took under 0.15 ms each, and the service
/// spent a third of its time being woken for their replies. SQLite, which has no round trips to
/// save and no data-modifying `WITH`, runs them one after another, in order.
///
/// PostgreSQL runs the parts of one statement on one snapshot, in no set order: a part must not
/// touch a row another part writes (a delete and a re-insert of one key go in separate
/// statements). Foreign keys are checked at the end of the statement, so a part may insert rows
/// that point at a row an earlier part inserts.
#[derive(Default)]
#[must_use = "writes are sent by `run` or `then_load`"]
pub struct Writes<'a> {
    parts: Vec<Box<dyn diesel::query_builder::QueryFragment<Multi> + 'a>>,
}

impl<'a> Writes<'a> {
    pub fn push(&mut self, write: impl diesel::query_builder::QueryFragment<Multi> + 'a) {
        self.parts.push(Box::new(write));
    }

    pub fn run(self, conn: &mut DbConnection) -> QueryResult<()> {
        let mut parts = self.parts;
        let Some(last) = parts.pop() else {
            return Ok(());
        };
        match conn.backend() {
            Backend::Postgres => {
                Chain { writes: parts, last }.execute(conn)?;
            }
            Backend::Sqlite => {
                for part in parts.into_iter().chain([last]) {
                    Chain { writes: vec![], last: part }.execute(conn)?;
                }
            }
        }
        Ok(())
    }

    /// Runs the writes, then `query`, and returns its rows: on PostgreSQL in one statement. The
    /// query does not see the writes' rows.
    pub fn then_load<'q, Q, U>(self, conn: &mut DbConnection, query: Q) -> QueryResult<Vec<U>>
    where
        'a: 'q,
        Chain<'q, Q>: diesel::query_dsl::LoadQuery<'q, DbConnection, U>,
    {
        let writes: Vec<Box<dyn diesel::query_builder::QueryFragment<Multi> + 'q>> = match conn.backend() {
            Backend::Postgres => self.parts.into_iter().map(|p| p as Box<_>).collect(),
            Backend::Sqlite => {
                self.run(conn)?;
                vec![]
            }
        };
        Chain { writes, last: query }.load(conn)
    }
}

/// `WITH w0 AS (write), w1 AS (write) … last`: see `Writes`.
pub struct Chain<'a, L> {
    writes: Vec<Box<dyn diesel::query_builder::QueryFragment<Multi> + 'a>>,
    last: L,
}

impl<L: diesel::query_builder::QueryFragment<Multi>> diesel::query_builder::QueryFragment<Multi> for Chain<'_, L> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, Multi>) -> QueryResult<()> {
        for (i, write) in self.writes.iter().enumerate() {
            out.push_sql(if i == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("w{i} AS ("));
            write.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        if !self.writes.is_empty() {
            out.push_sql(" ");
        }
        self.last.walk_ast(out.reborrow())
    }
}

impl<L> diesel::query_builder::QueryId for Chain<'_, L> {
    type QueryId = ();
    // No type names the parts: the statement is cached by its SQL, which is fixed for a given set
    // of parts.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<L: diesel::query_builder::Query> diesel::query_builder::Query for Chain<'_, L> {
    type SqlType = L::SqlType;
}

impl<L, C> RunQueryDsl<C> for Chain<'_, L> {}

/// Runs `$body` with `$c` bound to the backend's own connection. For what the multi-backend
/// cannot express: boxed (dynamically filtered) queries and multi-row inserts. The body is
/// compiled once per backend.
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Runs blocking database work off the actix worker threads.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    // A turn first (FIFO), then the connection; both within the one wait a request is allowed.
    let asked = std::time::Instant::now();
    let turn = tokio::time::timeout(CONNECTION_WAIT, pool.turns.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::Unavailable)?
        .map_err(|_| ApiError::internal("the pool's turns are closed"))?;
    let pool = pool.clone();
    let left = CONNECTION_WAIT.saturating_sub(asked.elapsed()).max(Duration::from_millis(100));
    actix_web::web::block(crate::http::logging::blocking(crate::http::idempotency::carried(move || {
        let _turn = turn;
        let mut conn = pool.get_timeout(left).map_err(|e| {
            log::warn!("database unavailable: {e}");
            ApiError::Unavailable
        })?;
        let result = forgetting_if_lost(f(&mut conn));
        drop(conn);
        result
    })))
    .await
    .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
}

/// When work found the database gone under it (503 with Retry-After), the pool drops the
/// connection it used when it is returned. `run` and `read` do this themselves; work that holds a
/// connection of its own (the webhook sender) wraps its result in it.
pub fn forgetting_if_lost<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if matches!(result, Err(ApiError::Unavailable)) {
        LOST.with(|lost| lost.set(true));
    }
    result
}

/// Runs a read (a list, a report, a public read) on the standby when one is configured and the
/// request may read there (`standby::scope`); else, or when the standby gives no connection in
/// time, on the primary like `run`.
pub async fn read<T, F>(pool: &Pool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let Some(standby) = pool.standby.clone().filter(|_| standby::may_read_standby()) else {
        return run(pool, f).await;
    };
    let Ok(Ok(turn)) = tokio::time::timeout(CONNECTION_WAIT, standby.turns.clone().acquire_owned()).await else {
        return run(pool, f).await;
    };
    let primary = pool.clone();
    let on_standby = actix_web::web::block(crate::http::logging::blocking(move || {
        let _turn = turn;
        match standby.pool.get() {
            Ok(mut conn) => Ok(forgetting_if_lost(f(&mut conn))),
            Err(e) => {
                log::warn!("standby unavailable, reading from the primary: {e}");
                Err(f)
            }
        }
    }))
    .await
    .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?;
    match on_standby {
        Ok(result) => result,
        Err(f) => run(&primary, f).await,
    }
}

/// How many rows two `SELECT`s of the same columns disagree on, either way (0 when they hold the
/// same rows): how kept tables are checked against a rebuild from the records.
pub fn rows_differing(conn: &mut DbConnection, kept: &str, rebuilt: &str) -> Result<i64, crate::error::ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Rows {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ( \
           SELECT * FROM ({kept} EXCEPT {rebuilt}) a UNION ALL SELECT * FROM ({rebuilt} EXCEPT {kept}) b) d"
    );
    Ok(diesel::RunQueryDsl::get_result::<Rows>(diesel::sql_query(sql), conn)?.n)
}

/// `?` placeholders become `$1, $2…` on PostgreSQL, so raw SQL is written once.
pub fn placeholders(backend: Backend, sql: &str) -> String {
    if backend == Backend::Sqlite {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Now, truncated to microseconds: what PostgreSQL stores, so a value read back equals the one
/// written (ETags and cursors compare them).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::Duration::microseconds(1)).unwrap_or(now)
}

/// A structured list kept as JSON text in a column (criteria, indicators, history…).
pub fn json_column<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

/// Reads a JSON text column back; `column` (`table.column`) names it in the log if it is corrupt.
pub fn parse_json_column<T: serde::de::DeserializeOwned>(column: &str, raw: &str) -> Result<T, ApiError> {
    serde_json::from_str(raw).map_err(|e| ApiError::internal(format!("{column} holds bad JSON: {e}")))
}

/// Today's date in Vietnam (UTC+7): what "today" means to an official filing a report there; in
/// UTC, a report dated today would be "in the future" until 07:00.
pub fn today() -> chrono::NaiveDate {
    day_in_vietnam(chrono::Utc::now())
}

/// Vietnam's offset from UTC (no daylight saving).
const VIETNAM: chrono::Duration = chrono::Duration::hours(7);

/// The day a moment fell on in Vietnam.
pub fn day_in_vietnam(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    (at + VIETNAM).date_naive()
}

/// The moment (UTC, as timestamps are stored) a Vietnamese day begins.
pub fn start_of_day_in_vietnam(day: chrono::NaiveDate) -> chrono::NaiveDateTime {
    day.and_time(chrono::NaiveTime::MIN) - VIETNAM
}

/// Runs `f` in a transaction that is always rolled back: dry runs report what a change would do.
pub fn rolled_back<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut out = None;
    let _ = transaction(conn, |c| {
        out = Some(f(c));
        Err::<(), _>(ApiError::internal("dry run: rolled back"))
    });
    out.unwrap_or_else(|| Err(ApiError::internal("dry run did not run")))
}

/// Makes the rest of this transaction wait for any other transaction that took the same `key`,
/// so that a check and the write it allows (a count under a cap) cannot interleave with
/// another's. PostgreSQL takes a transaction-scoped advisory lock; SQLite already runs one
/// writer at a time (`transaction`).
pub fn serialize_on(conn: &mut DbConnection, key: &str) -> Result<(), crate::error::ApiError> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::RunQueryDsl::execute(
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind::<diesel::sql_types::Text, _>(key),
            pg,
        )?;
    }
    Ok(())
}

/// Takes `key` for the rest of this transaction if no other transaction holds it: false when one
/// does (work one instance does at a time is then left to it). SQLite runs one writer at a time.
pub fn try_lock(conn: &mut DbConnection, key: &str) -> Result<bool, crate::error::ApiError> {
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    match conn {
        DbConnection::Postgresql(pg) => Ok(diesel::RunQueryDsl::get_result::<Locked>(
            diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked")
                .bind::<diesel::sql_types::Text, _>(key),
            pg,
        )?
        .locked),
        DbConnection::Sqlite(_) => Ok(true),
    }
}
