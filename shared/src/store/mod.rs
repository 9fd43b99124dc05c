//! The database: PostgreSQL in production, SQLite as the embedded local default.
//!
//! All SQL of the service lives under this module, as methods on [`Store`] grouped by subject.
//! Most statements are the same text on both backends (sqlx binds `$1` on SQLite too):
//! [`with_db!`] compiles such a method body once per backend, so each runs with its driver's
//! native types. Where only the SQL text differs, the body picks it with [`Store::dialect`];
//! where the bound types differ too (arrays), the macro takes one body per backend.
//!
//! Every operation runs on a leased connection under the store's deadline ([`lease`]).

use std::sync::Arc;
use std::time::Duration;

use sqlx::database::HasStatementCache;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, FromRow};

use crate::config::{DatabaseBackend, DatabaseConfig};
use crate::error::{Error, Result};

mod account;
mod badges;
mod entries;
mod foods;
mod images;
mod insights;
mod jobs;
mod lease;
mod meals;
mod metrics;
mod migrate;
mod params;
mod profile;
mod records;
mod routines;
mod summaries;
mod user_writes;
mod users;

pub use account::Deletion;
pub use badges::{BadgeRecord, UserActivity};
pub use foods::FoodRef;
pub use images::{ImageUse, NewImage, Upload};
pub use jobs::JobCursor;
pub use params::Param;
pub use records::{Created, Effect, KindSql, Stored, Written};
pub use user_writes::StoredResponse;
pub use users::{NewUser, Standing};

/// Runs `$body`, a `Result`, with `$conn` bound to a `&mut PoolConnection` of the backend's
/// own type, under the store's deadline, retried once after a dead connection (see
/// [`lease::Attempts`]). With a body per backend, each runs on its own.
///
/// The attempt is an async block, not an async closure: the compiler cannot yet prove the
/// futures of generic async closures `Send` through an axum extractor.
macro_rules! with_db {
    ($store:expr, |$conn:ident| $body:expr) => {
        $crate::store::with_db!($store, postgres: |$conn| $body, sqlite: |$conn| $body)
    };
    ($store:expr, postgres: |$pg:ident| $pg_body:expr, sqlite: |$lite:ident| $lite_body:expr $(,)?) => {{
        let store: &$crate::store::Store = $store;
        match &store.db {
            $crate::store::Db::Postgres(pool) => {
                $crate::store::with_db!(@attempts store, pool, |$pg| $pg_body)
            }
            #[cfg(feature = "sqlite")]
            $crate::store::Db::Sqlite(pool) => {
                $crate::store::with_db!(@attempts store, pool, |$lite| $lite_body)
            }
        }
    }};
    (@attempts $store:ident, $pool:ident, |$conn:ident| $body:expr) => {{
        let mut attempts = $crate::store::lease::Attempts::new(&$store.failures, $store.deadline);
        loop {
            let attempt = ::tokio::time::timeout_at(attempts.until(), async {
                let mut lease = $crate::store::lease::Lease::acquire($pool).await?;
                let outcome: $crate::error::Result<_> = {
                    let $conn: &mut ::sqlx::pool::PoolConnection<_> = &mut lease;
                    async { $body }.await
                };
                lease.settle(&outcome);
                outcome
            })
            .await;
            match attempts.judge(attempt) {
                $crate::store::lease::Step::Done(outcome) => break outcome,
                $crate::store::lease::Step::Retry => continue,
            }
        }
    }};
}
pub(crate) use with_db;

/// A record the store reads from either backend's rows.
#[cfg(feature = "sqlite")]
pub trait RecordRow:
    for<'r> FromRow<'r, sqlx::postgres::PgRow> + for<'r> FromRow<'r, sqlx::sqlite::SqliteRow>
{
}
#[cfg(feature = "sqlite")]
impl<T> RecordRow for T where
    T: for<'r> FromRow<'r, sqlx::postgres::PgRow> + for<'r> FromRow<'r, sqlx::sqlite::SqliteRow>
{
}
/// A record the store reads from PostgreSQL's rows.
#[cfg(not(feature = "sqlite"))]
pub trait RecordRow: for<'r> FromRow<'r, sqlx::postgres::PgRow> {}
#[cfg(not(feature = "sqlite"))]
impl<T> RecordRow for T where T: for<'r> FromRow<'r, sqlx::postgres::PgRow> {}

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Postgres(PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// Which SQL dialect a statement must be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// Whether statements are prepared once per connection and kept (see [`query`]).
    persistent: bool,
    /// The longest one operation may take, the wait for a connection included.
    deadline: Duration,
    failures: Arc<lease::FailureClock>,
}

impl Store {
    /// A pool that connects on first use: a cold start opens no connection it does not need.
    pub fn connect_lazy(config: &DatabaseConfig) -> Result<Self> {
        let failures = Arc::new(lease::FailureClock::default());
        let db = match &config.backend {
            DatabaseBackend::Postgres { url } => {
                let options: PgConnectOptions = url
                    .expose()
                    .parse()
                    .map_err(|_| Error::internal("DATABASE_URL is not a valid postgres URL"))?;
                let options = options.statement_cache_capacity(config.statement_cache_capacity);
                let clock = failures.clone();
                Db::Postgres(
                    PgPoolOptions::new()
                        .max_connections(config.max_connections)
                        .acquire_timeout(config.deadline)
                        .idle_timeout(Duration::from_secs(300))
                        // A ping before every query would double the round trips; only the
                        // connections idle since a failure was seen are probed.
                        .test_before_acquire(false)
                        .before_acquire(move |connection, meta| clock.check(connection, meta))
                        .connect_lazy_with(options),
                )
            }
            DatabaseBackend::Sqlite { path } => Self::sqlite(path, config)?,
        };
        Ok(Self {
            db,
            persistent: config.statement_cache_capacity > 0,
            deadline: config.deadline,
            failures,
        })
    }

    /// The same store (and pool) with another deadline per operation: the scheduled job's
    /// batches may take longer than a request's statements.
    pub fn with_deadline(&self, deadline: Duration) -> Self {
        Self {
            deadline,
            ..self.clone()
        }
    }

    #[cfg(feature = "sqlite")]
    fn sqlite(path: &std::path::Path, config: &DatabaseConfig) -> Result<Db> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };

        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(config.deadline);
        Ok(Db::Sqlite(
            SqlitePoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(config.deadline)
                .connect_lazy_with(options),
        ))
    }

    #[cfg(not(feature = "sqlite"))]
    fn sqlite(_path: &std::path::Path, _config: &DatabaseConfig) -> Result<Db> {
        Err(Error::internal(
            "DATABASE_URL names SQLite, which this binary was built without",
        ))
    }

    fn query<'q, DB: Database + HasStatementCache>(
        &self,
        sql: &'static str,
    ) -> Query<'q, DB, DB::Arguments> {
        query(self.persistent, sql)
    }

    fn query_as<'q, DB, O>(&self, sql: &'static str) -> QueryAs<'q, DB, O, DB::Arguments>
    where
        DB: Database + HasStatementCache,
        O: for<'r> FromRow<'r, DB::Row>,
    {
        query_as(self.persistent, sql)
    }

    fn query_scalar<'q, DB, O>(&self, sql: &'static str) -> QueryScalar<'q, DB, O, DB::Arguments>
    where
        DB: Database + HasStatementCache,
        (O,): for<'r> FromRow<'r, DB::Row>,
    {
        query_scalar(self.persistent, sql)
    }

    pub fn dialect(&self) -> Dialect {
        match self.db {
            Db::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "sqlite")]
            Db::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// One round trip to prove the database answers (for `/health`).
    pub async fn ping(&self) -> Result<()> {
        with_db!(self, |conn| {
            self.query("SELECT 1").execute(&mut **conn).await?;
            Ok(())
        })
    }

    /// Closes the pool (at shutdown).
    pub async fn close(&self) {
        match &self.db {
            Db::Postgres(pool) => pool.close().await,
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => pool.close().await,
        }
    }
}

/// Begins a transaction on a leased connection. SQLite begins `IMMEDIATE`, taking the
/// database's single write lock before the first statement, so that no transaction ever has to
/// upgrade a read lock (which can fail with `SQLITE_BUSY`): transactions here write.
async fn begin<DB: Database>(
    conn: &mut sqlx::pool::PoolConnection<DB>,
    dialect: Dialect,
) -> sqlx::Result<sqlx::Transaction<'_, DB>> {
    use sqlx::Connection;
    match dialect {
        Dialect::Postgres => Connection::begin(&mut **conn).await,
        // A constant, wrapped so that the future's type names no `&'static str` (which the
        // compiler then fails to prove `Send` for, through the async closures of `with_db!`).
        Dialect::Sqlite => {
            Connection::begin_with(&mut **conn, sqlx::AssertSqlSafe("BEGIN IMMEDIATE")).await
        }
    }
}

/// A statement, sent the way this store sends them. Persistent statements are prepared once
/// per connection under a name and kept (one round trip each time after the first); the
/// others are parsed unnamed each time, in the same exchange as their execution (see
/// vendor/README.md), which leaves no state in the session, so a pooler such as RDS Proxy
/// need not pin it (`DB_STATEMENT_CACHE_CAPACITY=0`); on PostgreSQL, the hottest of those
/// are calls of [`routines`], whose plans the server keeps.
fn query<'q, DB: Database + HasStatementCache>(
    persistent: bool,
    sql: &'static str,
) -> Query<'q, DB, DB::Arguments> {
    sqlx::query(sent::<DB>(persistent, sql)).persistent(persistent)
}

/// What is sent for `sql` (see [`query`]).
fn sent<DB: Database>(persistent: bool, sql: &str) -> &str {
    if !persistent && DB::NAME == <sqlx::Postgres as Database>::NAME {
        routines::call(sql).unwrap_or(sql)
    } else {
        sql
    }
}

fn query_as<'q, DB, O>(persistent: bool, sql: &'static str) -> QueryAs<'q, DB, O, DB::Arguments>
where
    DB: Database + HasStatementCache,
    O: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(sent::<DB>(persistent, sql)).persistent(persistent)
}

fn query_scalar<'q, DB, O>(
    persistent: bool,
    sql: &'static str,
) -> QueryScalar<'q, DB, O, DB::Arguments>
where
    DB: Database + HasStatementCache,
    (O,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_scalar(sent::<DB>(persistent, sql)).persistent(persistent)
}
