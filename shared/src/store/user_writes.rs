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
use crate::domain::badges::{self, EarnedBadge, Progress};
use crate::domain::entries::Entry;
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

    /// Serializes this user's writes (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already has).
    async fn lock_user(&mut self, user_id: &str) -> sqlx::Result<()>;

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

    /// Inserts the entry and adds it to its day's totals; `false` when the user does not
    /// exist. Locks the user on PostgreSQL, in the same statement.
    async fn insert_entry(&mut self, entry: &Entry, local_date: NaiveDate) -> sqlx::Result<bool>;

    /// Recomputes the totals of `days` from their entries (a day left without entries loses
    /// its row). For updates and deletions, which may move amounts between days.
    async fn refresh_days(
        &mut self,
        user_id: &str,
        days: [NaiveDate; 2],
        now: DateTime<Utc>,
    ) -> sqlx::Result<()>;

    /// Awards the badges that a write on `day` earns and the user does not have yet: reads the
    /// days within reach of `day`, the entry count (capped) and the badges held, in one
    /// statement, then inserts the new ones if absent. Returns the badges awarded.
    async fn award_earned_badges(
        &mut self,
        user_id: &str,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> sqlx::Result<Vec<EarnedBadge>>;
}

/// Lock, then insert the entry and add it to its day, in one round trip. The day's row is
/// updated `ON CONFLICT` against its latest version, so the statement is exact even when it
/// waited for the lock; later statements of the transaction see every earlier write.
const POSTGRES_INSERT_ENTRY: &str = "\
WITH lock AS (SELECT id FROM users WHERE id = $2 FOR NO KEY UPDATE), \
entry AS ( \
    INSERT INTO food_entries (id, user_id, name, calories, meal_type, serving_size, protein, \
        carbs, fat, notes, image_key, eaten_at, local_date, created_at, updated_at) \
    SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14 FROM lock \
    RETURNING user_id, local_date) \
INSERT INTO daily_totals (user_id, local_date, entries, calories, protein, carbs, fat, updated_at) \
SELECT user_id, local_date, 1, $4, COALESCE($7, 0), COALESCE($8, 0), COALESCE($9, 0), $14 \
FROM entry \
ON CONFLICT (user_id, local_date) DO UPDATE SET \
    entries = daily_totals.entries + 1, \
    calories = daily_totals.calories + EXCLUDED.calories, \
    protein = daily_totals.protein + EXCLUDED.protein, \
    carbs = daily_totals.carbs + EXCLUDED.carbs, \
    fat = daily_totals.fat + EXCLUDED.fat, \
    updated_at = EXCLUDED.updated_at \
RETURNING 1";

const SQLITE_INSERT_ENTRY: &str = "\
INSERT INTO food_entries (id, user_id, name, calories, meal_type, serving_size, protein, \
    carbs, fat, notes, image_key, eaten_at, local_date, created_at, updated_at) \
SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14 FROM users WHERE id = $2 \
RETURNING 1";

const SQLITE_ADD_TO_DAY: &str = "\
INSERT INTO daily_totals (user_id, local_date, entries, calories, protein, carbs, fat, updated_at) \
VALUES ($1, $2, 1, $3, COALESCE($4, 0), COALESCE($5, 0), COALESCE($6, 0), $7) \
ON CONFLICT (user_id, local_date) DO UPDATE SET \
    entries = daily_totals.entries + 1, \
    calories = daily_totals.calories + EXCLUDED.calories, \
    protein = daily_totals.protein + EXCLUDED.protein, \
    carbs = daily_totals.carbs + EXCLUDED.carbs, \
    fat = daily_totals.fat + EXCLUDED.fat, \
    updated_at = EXCLUDED.updated_at";

const POSTGRES_LOCK_USER: &str = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE";

/// `$4` is the oldest claim still in force: an older one is taken over. Only a user who
/// exists can claim (on both backends: a deleted user's claim is a 404, not a foreign key
/// violation).
const POSTGRES_CLAIM_KEY: &str = "\
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

/// The days' totals recomputed from their entries, and the rows of days left without
/// entries deleted (disjoint rows, so one statement).
const POSTGRES_REFRESH_DAYS: &str = "\
WITH sums AS ( \
    SELECT local_date, COUNT(*) AS entries, SUM(calories) AS calories, \
        COALESCE(SUM(protein), 0) AS protein, COALESCE(SUM(carbs), 0) AS carbs, \
        COALESCE(SUM(fat), 0) AS fat \
    FROM food_entries WHERE user_id = $1 AND local_date IN ($2, $3) GROUP BY local_date), \
emptied AS ( \
    DELETE FROM daily_totals WHERE user_id = $1 AND local_date IN ($2, $3) \
        AND local_date NOT IN (SELECT local_date FROM sums)) \
INSERT INTO daily_totals (user_id, local_date, entries, calories, protein, carbs, fat, updated_at) \
SELECT $1, local_date, entries, calories, protein, carbs, fat, $4 FROM sums \
ON CONFLICT (user_id, local_date) DO UPDATE SET \
    entries = EXCLUDED.entries, calories = EXCLUDED.calories, protein = EXCLUDED.protein, \
    carbs = EXCLUDED.carbs, fat = EXCLUDED.fat, updated_at = EXCLUDED.updated_at";

const SQLITE_DELETE_EMPTIED_DAYS: &str = "\
DELETE FROM daily_totals WHERE user_id = $1 AND local_date IN ($2, $3) \
    AND NOT EXISTS (SELECT 1 FROM food_entries f \
        WHERE f.user_id = $1 AND f.local_date = daily_totals.local_date)";

const SQLITE_RECOMPUTE_DAYS: &str = "\
INSERT INTO daily_totals (user_id, local_date, entries, calories, protein, carbs, fat, updated_at) \
SELECT $1, local_date, COUNT(*), SUM(calories), COALESCE(SUM(protein), 0), \
    COALESCE(SUM(carbs), 0), COALESCE(SUM(fat), 0), $4 \
FROM food_entries WHERE user_id = $1 AND local_date IN ($2, $3) GROUP BY local_date \
ON CONFLICT (user_id, local_date) DO UPDATE SET \
    entries = EXCLUDED.entries, calories = EXCLUDED.calories, protein = EXCLUDED.protein, \
    carbs = EXCLUDED.carbs, fat = EXCLUDED.fat, updated_at = EXCLUDED.updated_at";

/// What decides the badges of a write on a day, as rows of one kind each: `(day, entries,
/// NULL)` for the days within reach, `(NULL, count, NULL)` for the entry count (summed over
/// at most `$4` days, each with at least one entry, so it is exact up to `$4`), and
/// `(NULL, NULL, badge)` for each badge held.
const BADGE_FACTS: &str = "\
SELECT local_date AS day, CAST(entries AS BIGINT) AS n, CAST(NULL AS TEXT) AS badge \
    FROM daily_totals WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 \
UNION ALL \
SELECT NULL, CAST(SUM(entries) AS BIGINT), NULL \
    FROM (SELECT entries FROM daily_totals WHERE user_id = $1 LIMIT $4) AS capped \
UNION ALL \
SELECT NULL, NULL, badge_id FROM user_badges WHERE user_id = $1";

macro_rules! impl_user_write {
    ($db:ty, $dialect:expr) => {
        impl UserWrite for Write<'_, $db> {
            const DIALECT: Dialect = $dialect;

            async fn lock_user(&mut self, user_id: &str) -> sqlx::Result<()> {
                if Self::DIALECT == Dialect::Postgres {
                    super::query(self.persistent, POSTGRES_LOCK_USER)
                        .bind(user_id)
                        .execute(&mut **self)
                        .await?;
                }
                Ok(())
            }

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

            async fn insert_entry(
                &mut self,
                entry: &Entry,
                local_date: NaiveDate,
            ) -> sqlx::Result<bool> {
                let statement = match Self::DIALECT {
                    Dialect::Postgres => POSTGRES_INSERT_ENTRY,
                    Dialect::Sqlite => SQLITE_INSERT_ENTRY,
                };
                let inserted: Option<i32> = super::query_scalar(self.persistent, statement)
                    .bind(&entry.id)
                    .bind(&entry.user_id)
                    .bind(&entry.name)
                    .bind(entry.calories)
                    .bind(&entry.meal_type)
                    .bind(&entry.serving_size)
                    .bind(entry.protein)
                    .bind(entry.carbs)
                    .bind(entry.fat)
                    .bind(&entry.notes)
                    .bind(&entry.image_key)
                    .bind(entry.timestamp)
                    .bind(local_date)
                    .bind(entry.created_at)
                    .fetch_optional(&mut **self)
                    .await?;
                if inserted.is_some() && Self::DIALECT == Dialect::Sqlite {
                    super::query(self.persistent, SQLITE_ADD_TO_DAY)
                        .bind(&entry.user_id)
                        .bind(local_date)
                        .bind(entry.calories)
                        .bind(entry.protein)
                        .bind(entry.carbs)
                        .bind(entry.fat)
                        .bind(entry.created_at)
                        .execute(&mut **self)
                        .await?;
                }
                Ok(inserted.is_some())
            }

            async fn refresh_days(
                &mut self,
                user_id: &str,
                [first, second]: [NaiveDate; 2],
                now: DateTime<Utc>,
            ) -> sqlx::Result<()> {
                let statements: &[&str] = match Self::DIALECT {
                    Dialect::Postgres => &[POSTGRES_REFRESH_DAYS],
                    Dialect::Sqlite => &[SQLITE_DELETE_EMPTIED_DAYS, SQLITE_RECOMPUTE_DAYS],
                };
                for statement in statements {
                    super::query(self.persistent, *statement)
                        .bind(user_id)
                        .bind(first)
                        .bind(second)
                        .bind(now)
                        .execute(&mut **self)
                        .await?;
                }
                Ok(())
            }

            async fn award_earned_badges(
                &mut self,
                user_id: &str,
                day: NaiveDate,
                now: DateTime<Utc>,
            ) -> sqlx::Result<Vec<EarnedBadge>> {
                let (first, last) = badges::evaluation_window(day);
                let rows: Vec<(Option<NaiveDate>, Option<i64>, Option<String>)> =
                    super::query_as(self.persistent, BADGE_FACTS)
                        .bind(user_id)
                        .bind(first)
                        .bind(last)
                        .bind(i64::from(badges::ENTRIES_CAP))
                        .fetch_all(&mut **self)
                        .await?;
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
