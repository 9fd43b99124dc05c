//! The database: PostgreSQL in production, SQLite as the embedded local default.
//!
//! All SQL of the service lives under this module, as methods on [`Store`] grouped by subject.
//! Most statements are the same text on both backends (sqlx binds `$1` on SQLite too):
//! [`with_db!`] compiles such a method body once per backend, so each runs with its driver's
//! native types. Where only the SQL text differs, the body picks it with [`Store::dialect`];
//! where the bound types differ too (arrays), the method matches on [`Db`] itself.

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
mod images;
mod jobs;
mod profile;
mod summaries;
mod user_writes;
mod users;

pub use badges::{BadgeRecord, UserActivity};
pub use entries::CreateOutcome;
pub use images::{ImageUse, NewImage};
pub use jobs::JobCursor;
pub use user_writes::StoredResponse;
pub use users::NewUser;

/// Runs `$body` with `$pool` bound to the backend's own pool type.
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Postgres($pool) => $body,
            #[cfg(feature = "sqlite")]
            $crate::store::Db::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use with_db;

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
}

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
#[cfg(feature = "sqlite")]
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

impl Store {
    /// A pool that connects on first use: a cold start opens no connection it does not need.
    pub fn connect_lazy(config: &DatabaseConfig) -> Result<Self> {
        let db = match &config.backend {
            DatabaseBackend::Postgres { url } => {
                let options: PgConnectOptions = url
                    .expose()
                    .parse()
                    .map_err(|_| Error::internal("DATABASE_URL is not a valid postgres URL"))?;
                let options = options.statement_cache_capacity(config.statement_cache_capacity);
                Db::Postgres(
                    PgPoolOptions::new()
                        .max_connections(config.max_connections)
                        .acquire_timeout(config.acquire_timeout)
                        .idle_timeout(Duration::from_secs(300))
                        // A ping before every query would double the round trips; a dead
                        // connection fails one query and is replaced.
                        .test_before_acquire(false)
                        .connect_lazy_with(options),
                )
            }
            DatabaseBackend::Sqlite { path } => Self::sqlite(path, config)?,
        };
        Ok(Self {
            db,
            persistent: config.statement_cache_capacity > 0,
        })
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
            .busy_timeout(config.acquire_timeout);
        Ok(Db::Sqlite(
            SqlitePoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(config.acquire_timeout)
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

    /// Applies pending migrations. On PostgreSQL the migrator holds an advisory lock, so two
    /// deployments migrating at once run one after the other.
    pub async fn migrate(&self) -> Result<()> {
        let result = match &self.db {
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
        };
        result.map_err(|err| match err {
            sqlx::migrate::MigrateError::Execute(err) => Error::from(err),
            other => Error::internal(other),
        })
    }

    /// One round trip to prove the database answers (for `/health`).
    pub async fn ping(&self) -> Result<()> {
        with_db!(&self.db, |pool| {
            self.query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        with_db!(&self.db, |pool| pool.close().await)
    }
}

/// A statement, sent the way this store sends them. Persistent statements are prepared once
/// per connection under a name and kept (one round trip each time after the first); the
/// others are prepared unnamed each time (one more round trip), which leaves no state in the
/// session, so a pooler such as RDS Proxy need not pin it (`DB_STATEMENT_CACHE_CAPACITY=0`).
fn query<'q, DB: Database + HasStatementCache>(
    persistent: bool,
    sql: &'static str,
) -> Query<'q, DB, DB::Arguments> {
    sqlx::query(sql).persistent(persistent)
}

fn query_as<'q, DB, O>(persistent: bool, sql: &'static str) -> QueryAs<'q, DB, O, DB::Arguments>
where
    DB: Database + HasStatementCache,
    O: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(sql).persistent(persistent)
}

fn query_scalar<'q, DB, O>(
    persistent: bool,
    sql: &'static str,
) -> QueryScalar<'q, DB, O, DB::Arguments>
where
    DB: Database + HasStatementCache,
    (O,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_scalar(sql).persistent(persistent)
}
