//! Migrations, and leaving a migrated database ready to serve.
//!
//! Some migrations fill a new table from the rows the previous service left (`daily_totals`
//! from the entries, and so on). Written by one `INSERT … SELECT`, such a table is in no useful
//! physical order, has no statistics and no visibility map, and autovacuum may be off or late:
//! PostgreSQL then reads a heap page per row of a user's history and may skip the covering
//! index, several times slower than on a database that grew through the service. So after a
//! run that applied such a migration to a database with entries, each filled table is
//! rewritten in (user, day) order (`CLUSTER` on its key) and vacuumed and analyzed, outside
//! the migrations' transactions (`VACUUM` cannot run in one).

use sqlx::Executor;
use sqlx::postgres::PgConnection;

use super::{Db, Store};
use crate::error::{Error, Result};

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
#[cfg(feature = "sqlite")]
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// A lock of this module's own (the migrator's is internal to sqlx), held across the run and
/// the tidying, so that of two deployments migrating at once only the first tidies.
const LOCK: i64 = 0x7573_6572_5f73_7663; // "user_svc"

/// What a migration's backfill leaves to tidy: tables it filled (with the index whose order
/// they are rewritten in, `None` for a table updated in place) and so to vacuum and analyze.
const BACKFILLS: &[(i64, &str, Option<&str>)] = &[
    // 0002 sets eaten_at and local_date on every entry (a new version of each row) and
    // fills daily_totals.
    (2, "food_entries", None),
    (2, "daily_totals", Some("daily_totals_pkey")),
    (5, "user_totals", Some("user_totals_pkey")),
    (6, "food_summaries", Some("food_summaries_pkey")),
];

impl Store {
    /// Applies pending migrations, then tidies the tables they filled (see the module). On
    /// PostgreSQL the run holds advisory locks, so two deployments migrating at once run one
    /// after the other.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                conn.execute(sqlx::query("SELECT pg_advisory_lock($1)").bind(LOCK))
                    .await?;
                let result = migrate_postgres(&mut conn).await;
                let unlocked = conn
                    .execute(sqlx::query("SELECT pg_advisory_unlock($1)").bind(LOCK))
                    .await;
                result?;
                unlocked?;
                Ok(())
            }
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await.map_err(migrate_error),
        }
    }
}

async fn migrate_postgres(conn: &mut PgConnection) -> Result<()> {
    let applied_before = applied(conn).await?;
    POSTGRES_MIGRATIONS
        .run(&mut *conn)
        .await
        .map_err(migrate_error)?;
    super::routines::install(conn).await?;
    let filled: Vec<_> = BACKFILLS
        .iter()
        .filter(|(version, ..)| !applied_before.contains(version))
        .collect();
    if filled.is_empty() {
        return Ok(());
    }
    let had_entries: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM food_entries)")
        .fetch_one(&mut *conn)
        .await?;
    if !had_entries {
        return Ok(());
    }
    tracing::info!(
        tables = ?filled.iter().map(|(_, table, _)| table).collect::<Vec<_>>(),
        "tidying the tables the migrations filled"
    );
    for (_, table, order) in &filled {
        if let Some(index) = order {
            // Names from the constant above, never input.
            conn.execute(sqlx::AssertSqlSafe(format!(
                "CLUSTER {table} USING {index}"
            )))
            .await?;
        }
    }
    let tables: Vec<&str> = filled.iter().map(|(_, table, _)| *table).collect();
    conn.execute(sqlx::AssertSqlSafe(format!(
        "VACUUM (ANALYZE) {}",
        tables.join(", ")
    )))
    .await?;
    Ok(())
}

/// The versions applied so far: none on a database without the migrator's table (a new one,
/// or the previous service's).
async fn applied(conn: &mut PgConnection) -> Result<Vec<i64>> {
    let tracked: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !tracked {
        return Ok(Vec::new());
    }
    Ok(
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut *conn)
            .await?,
    )
}

fn migrate_error(err: sqlx::migrate::MigrateError) -> Error {
    match err {
        sqlx::migrate::MigrateError::Execute(err) => Error::from(err),
        other => Error::internal(other),
    }
}
