//! The statements of a write transaction on one user's diary, on either backend.
//!
//! A user's writes are serialized, so counts and streaks read inside one see every earlier
//! write of that user: on PostgreSQL the transaction first locks the user's row (`FOR NO KEY
//! UPDATE`, which leaves other tables' foreign-key checks alone); on SQLite it begins
//! `IMMEDIATE`, taking the database's single write lock before its first statement (so no
//! transaction ever has to upgrade a read lock, which can fail with `SQLITE_BUSY`).
//!
//! Each step is written once and compiled per backend by [`impl_user_write!`].

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Transaction};

use super::Dialect;
use super::foods::{self, FoodRef};
use super::params::{BindParams, Param};
use super::{RecordRow, metrics};
use crate::domain::badges::{self, EarnedBadge, Progress};
use crate::domain::idempotency::{self, Idempotent};
use crate::domain::streaks::ActiveDays;

/// A transaction that writes a user's diary; its statements are sent as the store sends its
/// own (named or not, see [`super::query`]).
pub(super) struct Write<'t, DB: Database> {
    tx: Transaction<'t, DB>,
    persistent: bool,
}

/// Begins a transaction that writes a user's diary (see the module documentation).
pub(super) async fn begin_write<DB: Database>(
    conn: &mut PoolConnection<DB>,
    dialect: Dialect,
    persistent: bool,
) -> sqlx::Result<Write<'_, DB>> {
    let tx = super::begin(conn, dialect).await?;
    Ok(Write { tx, persistent })
}

impl<DB: Database> Write<'_, DB> {
    pub(super) async fn commit(self) -> crate::error::Result<()> {
        super::lease::commit(self.tx).await
    }

    pub(super) async fn rollback(self) -> sqlx::Result<()> {
        self.tx.rollback().await
    }
}

/// The transaction's connection, to run other statements in it.
impl<DB: Database> std::ops::Deref for Write<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> std::ops::DerefMut for Write<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

/// The first response to an `Idempotency-Key`, replayed as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What a key already answered says about a new request with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Claim {
    /// The key is this request's now.
    Claimed,
    /// The same request was answered: this is its answer.
    Answered(StoredResponse),
    /// Another request was answered with this key.
    Reused,
    /// The user is gone.
    NoUser,
}

pub(super) trait UserWrite {
    const DIALECT: Dialect;

    /// Claims `key` for a new request, unless a request with it was answered within
    /// [`idempotency::WINDOW`] (an older claim is taken over). Locks the user on PostgreSQL.
    async fn claim_idempotency_key(
        &mut self,
        user_id: &str,
        key: &Idempotent,
        now: DateTime<Utc>,
    ) -> sqlx::Result<Claim>;

    async fn save_response(
        &mut self,
        user_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> sqlx::Result<()>;

    /// Runs `sql` with `params`: `None` when it returned no row, else its one text column.
    /// `sql` is built from constant fragments and placeholders only (an insert's rows).
    async fn fetch_then(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
    ) -> sqlx::Result<Option<Option<String>>>;

    /// Runs `sql` (built as [`UserWrite::fetch_then`]'s) with `params`.
    async fn execute_params(&mut self, sql: &str, params: &[Param<'_>]) -> sqlx::Result<()>;

    /// The record `sql` returns with `params`.
    async fn fetch_one_params<R: RecordRow + Send + Unpin>(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> sqlx::Result<R>;

    /// The record `sql` returns for the user and id, with its `record_day`.
    async fn fetch_record_with_day<R: RecordRow + Send + Unpin>(
        &mut self,
        sql: &'static str,
        user_id: &str,
        id: &str,
    ) -> sqlx::Result<Option<(R, NaiveDate)>>;

    /// Runs a kind's `refresh` statements for `days` of the user.
    async fn refresh(
        &mut self,
        statements: &[&'static str],
        user_id: &str,
        days: [NaiveDate; 2],
        now: DateTime<Utc>,
    ) -> sqlx::Result<()>;

    /// Recomputes the trend of the user's weigh-in days from `from` on, from `inputs` when the
    /// insert read them already ([`super::metrics::TREND_INPUTS`] otherwise).
    async fn retrend(
        &mut self,
        user_id: &str,
        from: NaiveDate,
        inputs: Option<String>,
    ) -> sqlx::Result<()>;

    /// Brings the summaries of `foods` up to date with the user's entries.
    async fn refresh_foods(&mut self, user_id: &str, foods: &[FoodRef<'_>]) -> sqlx::Result<()>;

    /// What follows a write of the diary on `day` that touched `foods`: their summaries are
    /// refreshed, and the badges the write earns and the user does not have yet are awarded:
    /// one statement reads the days within reach of `day`, the entry count (capped) and the
    /// badges held (on PostgreSQL, the same statement refreshes the foods), then the new ones
    /// are inserted if absent. Returns the badges awarded.
    async fn diary_written(
        &mut self,
        user_id: &str,
        day: NaiveDate,
        now: DateTime<Utc>,
        foods: &[FoodRef<'_>],
    ) -> sqlx::Result<Vec<EarnedBadge>>;
}

/// `$4` is the oldest claim still in force: an older one is taken over. Only a user who
/// exists can claim (on both backends: a deleted user's claim is a 404, not a foreign key
/// violation).
pub(super) const POSTGRES_CLAIM_KEY: &str = "\
WITH lock AS (SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE) \
INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, created_at) \
SELECT id, $2, $5, $3 FROM lock \
ON CONFLICT (user_id, idempotency_key) DO UPDATE SET \
    created_at = EXCLUDED.created_at, request_hash = EXCLUDED.request_hash, \
    response_status = NULL, response_body = NULL \
WHERE idempotency_keys.created_at < $4 \
RETURNING 1";

const SQLITE_CLAIM_KEY: &str = "\
INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, created_at) \
SELECT id, $2, $5, $3 FROM users WHERE id = $1 \
ON CONFLICT (user_id, idempotency_key) DO UPDATE SET \
    created_at = EXCLUDED.created_at, request_hash = EXCLUDED.request_hash, \
    response_status = NULL, response_body = NULL \
WHERE idempotency_keys.created_at < $4 \
RETURNING 1";

/// What decides the badges of a write on a day, as rows of one kind each: `(day, entries,
/// NULL)` for the days within reach, `(NULL, count, NULL)` for the entry count (summed over
/// at most `$4` days, each with at least one entry, so it is exact up to `$4`), and
/// `(NULL, NULL, badge)` for each badge held.
macro_rules! badge_facts {
    () => {
        "SELECT local_date AS day, CAST(entries AS BIGINT) AS n, CAST(NULL AS TEXT) AS badge \
            FROM daily_totals WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 \
        UNION ALL \
        SELECT NULL, CAST(SUM(entries) AS BIGINT), NULL \
            FROM (SELECT entries FROM daily_totals WHERE user_id = $1 LIMIT $4) AS capped \
        UNION ALL \
        SELECT NULL, NULL, badge_id FROM user_badges WHERE user_id = $1"
    };
}

const BADGE_FACTS: &str = badge_facts!();

/// [`BADGE_FACTS`] after PostgreSQL's refresh of the foods of `$5`.
pub(super) const BADGE_FACTS_AND_FOODS: &str =
    concat!(foods::refresh_foods_postgres!("$5"), badge_facts!());

macro_rules! impl_user_write {
    ($db:ty, $dialect:expr) => {
        impl UserWrite for Write<'_, $db> {
            const DIALECT: Dialect = $dialect;

            async fn claim_idempotency_key(
                &mut self,
                user_id: &str,
                key: &Idempotent,
                now: DateTime<Utc>,
            ) -> sqlx::Result<Claim> {
                let statement = match Self::DIALECT {
                    Dialect::Postgres => POSTGRES_CLAIM_KEY,
                    Dialect::Sqlite => SQLITE_CLAIM_KEY,
                };
                let claimed: Option<i32> = super::query_scalar(self.persistent, statement)
                    .bind(user_id)
                    .bind(&key.key)
                    .bind(now)
                    .bind(now - idempotency::WINDOW)
                    .bind(&key.fingerprint)
                    .fetch_optional(&mut **self)
                    .await?;
                if claimed.is_some() {
                    return Ok(Claim::Claimed);
                }
                let row: Option<(Option<String>, Option<i32>, Option<String>)> = super::query_as(
                    self.persistent,
                    "SELECT request_hash, response_status, response_body FROM idempotency_keys \
                     WHERE user_id = $1 AND idempotency_key = $2",
                )
                .bind(user_id)
                .bind(&key.key)
                .fetch_optional(&mut **self)
                .await?;
                // A key is claimed and answered in one transaction, so a claim refused without
                // an answer means the user's row is gone. Keys claimed before fingerprints
                // were kept have none, and match.
                Ok(match row {
                    Some((Some(hash), _, _)) if hash != key.fingerprint => Claim::Reused,
                    Some((_, Some(status), Some(body))) => match u16::try_from(status) {
                        Ok(status) => Claim::Answered(StoredResponse { status, body }),
                        Err(_) => Claim::NoUser,
                    },
                    _ => Claim::NoUser,
                })
            }

            async fn save_response(
                &mut self,
                user_id: &str,
                key: &str,
                response: &StoredResponse,
            ) -> sqlx::Result<()> {
                super::query(
                    self.persistent,
                    "UPDATE idempotency_keys SET response_status = $3, response_body = $4 \
                     WHERE user_id = $1 AND idempotency_key = $2",
                )
                .bind(user_id)
                .bind(key)
                .bind(i32::from(response.status))
                .bind(&response.body)
                .execute(&mut **self)
                .await?;
                Ok(())
            }

            async fn fetch_then(
                &mut self,
                sql: &str,
                params: &[Param<'_>],
            ) -> sqlx::Result<Option<Option<String>>> {
                let sql = super::sent::<$db>(self.persistent, sql);
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .persistent(self.persistent)
                    .bind_params(params)
                    .fetch_optional(&mut **self)
                    .await
            }

            async fn execute_params(
                &mut self,
                sql: &str,
                params: &[Param<'_>],
            ) -> sqlx::Result<()> {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .persistent(self.persistent)
                    .bind_params(params)
                    .execute(&mut **self)
                    .await?;
                Ok(())
            }

            async fn fetch_one_params<R: RecordRow + Send + Unpin>(
                &mut self,
                sql: &'static str,
                params: &[Param<'_>],
            ) -> sqlx::Result<R> {
                super::query_as(self.persistent, sql)
                    .bind_params(params)
                    .fetch_one(&mut **self)
                    .await
            }

            async fn fetch_record_with_day<R: RecordRow + Send + Unpin>(
                &mut self,
                sql: &'static str,
                user_id: &str,
                id: &str,
            ) -> sqlx::Result<Option<(R, NaiveDate)>> {
                use sqlx::Row;
                let row = super::query(self.persistent, sql)
                    .bind(user_id)
                    .bind(id)
                    .fetch_optional(&mut **self)
                    .await?;
                row.map(|row| Ok((R::from_row(&row)?, row.try_get("record_day")?)))
                    .transpose()
            }

            async fn refresh(
                &mut self,
                statements: &[&'static str],
                user_id: &str,
                [first, second]: [NaiveDate; 2],
                now: DateTime<Utc>,
            ) -> sqlx::Result<()> {
                for statement in statements {
                    super::query(self.persistent, statement)
                        .bind(user_id)
                        .bind(first)
                        .bind(second)
                        .bind(now)
                        .execute(&mut **self)
                        .await?;
                }
                Ok(())
            }

            async fn retrend(
                &mut self,
                user_id: &str,
                from: NaiveDate,
                inputs: Option<String>,
            ) -> sqlx::Result<()> {
                let pick = |pair: [&'static str; 2]| match Self::DIALECT {
                    Dialect::Postgres => pair[0],
                    Dialect::Sqlite => pair[1],
                };
                let inputs = match inputs {
                    Some(inputs) => inputs,
                    None => {
                        super::query_scalar(self.persistent, pick(metrics::TREND_INPUTS))
                            .bind(user_id)
                            .bind(from)
                            .fetch_one(&mut **self)
                            .await?
                    }
                };
                let inputs: metrics::TrendInputs =
                    serde_json::from_str(&inputs).map_err(|err| sqlx::Error::Decode(err.into()))?;
                let trends = inputs.trends();
                if trends.is_empty() {
                    return Ok(());
                }
                let trends = serde_json::to_string(&trends)
                    .map_err(|err| sqlx::Error::Encode(err.into()))?;
                super::query(self.persistent, pick(metrics::WRITE_TRENDS))
                    .bind(user_id)
                    .bind(trends)
                    .execute(&mut **self)
                    .await?;
                Ok(())
            }

            async fn refresh_foods(
                &mut self,
                user_id: &str,
                refs: &[FoodRef<'_>],
            ) -> sqlx::Result<()> {
                let refs = foods::foods_json(refs)?;
                for statement in foods::refresh_statements(Self::DIALECT) {
                    super::query(self.persistent, statement)
                        .bind(user_id)
                        .bind(&refs)
                        .execute(&mut **self)
                        .await?;
                }
                Ok(())
            }

            async fn diary_written(
                &mut self,
                user_id: &str,
                day: NaiveDate,
                now: DateTime<Utc>,
                refs: &[FoodRef<'_>],
            ) -> sqlx::Result<Vec<EarnedBadge>> {
                let facts = match Self::DIALECT {
                    Dialect::Postgres => BADGE_FACTS_AND_FOODS,
                    Dialect::Sqlite => {
                        self.refresh_foods(user_id, refs).await?;
                        BADGE_FACTS
                    }
                };
                let (first, last) = badges::evaluation_window(day);
                let mut query = super::query_as(self.persistent, facts)
                    .bind(user_id)
                    .bind(first)
                    .bind(last)
                    .bind(i64::from(badges::ENTRIES_CAP));
                if Self::DIALECT == Dialect::Postgres {
                    query = query.bind(foods::foods_json(refs)?);
                }
                let rows: Vec<(Option<NaiveDate>, Option<i64>, Option<String>)> =
                    query.fetch_all(&mut **self).await?;
                let mut days = Vec::new();
                let mut entries = 0;
                let mut held = Vec::new();
                for row in rows {
                    match row {
                        (Some(day), _, _) => days.push(day),
                        (None, _, Some(badge)) => held.push(badge),
                        (None, count, None) => entries = count.unwrap_or_default(),
                    }
                }
                let progress = Progress {
                    entries: u64::try_from(entries).unwrap_or_default(),
                    streak: days.into_iter().collect::<ActiveDays>().run_through(day),
                };
                let new: Vec<&badges::Badge> = badges::newly_earned(&progress, &held).collect();
                if new.is_empty() {
                    return Ok(Vec::new());
                }
                let mut insert = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO user_badges \
                     (user_id, badge_id, badge_name, badge_description, earned_at) ",
                );
                insert.push_values(&new, |mut row, badge| {
                    row.push_bind(user_id)
                        .push_bind(badge.id)
                        .push_bind(badge.name)
                        .push_bind(badge.description)
                        .push_bind(now);
                });
                // Insert-if-absent: under the unique (user_id, badge_id) a badge is awarded
                // once, whatever else runs at the same time.
                insert.push(" ON CONFLICT (user_id, badge_id) DO NOTHING RETURNING badge_id");
                let awarded: Vec<String> = insert
                    .build_query_scalar()
                    .persistent(self.persistent)
                    .fetch_all(&mut **self)
                    .await?;
                Ok(new
                    .into_iter()
                    .filter(|badge| awarded.iter().any(|id| id == badge.id))
                    .map(|badge| EarnedBadge::new(badge, now))
                    .collect())
            }
        }
    };
}

impl_user_write!(sqlx::Postgres, Dialect::Postgres);
#[cfg(feature = "sqlite")]
impl_user_write!(sqlx::Sqlite, Dialect::Sqlite);
