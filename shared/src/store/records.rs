//! The one mechanism behind every log of the user's own dated records (food, weight, activity,
//! water): reading one, paging, creating (idempotently), changing and deleting. Each write
//! runs in a user write (see [`super::user_writes`]) and keeps the kind's per-day sums exact in
//! the same transaction; a kind differs from the others only in its columns, its day sums and
//! what else its writes do ([`Effect`]).
//!
//! Statements are written once, by [`kind_sql!`], from each kind's table and columns. The
//! parameters follow one layout per statement, so one list of values serves both backends: an
//! insert takes `$1` user id, `$2` now, `$3` the records' day, then each record's id and own
//! values (any number of records of one day, in one statement per table); an update takes `$1`
//! user id, `$2` record id, `$3` now, `$4` the record's day, then its own values; the refresh
//! of days takes `$1` user id, `$2` and `$3` the days, `$4` now.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::foods::FoodRef;
use super::params::Param;
use super::user_writes::{Claim, StoredResponse, UserWrite, begin_write};
use super::{Dialect, Store, with_db};
use crate::domain::badges::EarnedBadge;
use crate::domain::idempotency::Idempotent;
use crate::domain::records::{Kind, ListQuery, Page, Positioned};
use crate::error::{Error, Result};

/// The statements of a kind, each `[PostgreSQL, SQLite]` where the dialects differ.
pub struct KindSql {
    /// `$1` user, `$2` id.
    pub select_one: &'static str,
    /// The start of a listing, the user id to be bound after it.
    pub list: &'static str,
    /// The column of the record's `timestamp`: listings are by it, then by id.
    pub time: &'static str,
    /// The column the kind's list filter narrows (`meal_type`).
    pub filter: Option<&'static str>,
    /// The record and its day (`record_day`), with the user's writes serialized (`$1` user,
    /// `$2` id).
    pub locked_one: [&'static str; 2],
    /// Inserts records of one day and adds them to the day (and the totals); the first
    /// statement returns a row only when the user exists, with one text column for the kind's
    /// [`Effect`] (or null). Templates: `{rows}` stands for the records' rows of values,
    /// `{ids}` for their ids (see [`insert_statements`]).
    pub insert: [&'static [&'static str]; 2],
    /// How many values of its own a record has.
    pub values: usize,
    /// Writes every value of the record (`RETURNING` it).
    pub update: &'static str,
    /// Deletes the record (`RETURNING` it and its day, `record_day`); `$1` user, `$2` id.
    pub delete: [&'static str; 2],
    /// Recomputes two days' sums from their records (a day left without records loses its
    /// row), and the totals.
    pub refresh: [&'static [&'static str]; 2],
}

impl KindSql {
    fn pick<T: Copy>(pair: [T; 2], dialect: Dialect) -> T {
        match dialect {
            Dialect::Postgres => pair[0],
            Dialect::Sqlite => pair[1],
        }
    }
}

/// What PostgreSQL's insert returns: by default nothing but its row (the user exists); with
/// `then`, one text column the kind's [`Effect`] reads (`day` is the day's row as upserted,
/// `$3` the day).
macro_rules! insert_tail {
    () => {
        "SELECT CAST(NULL AS TEXT) FROM day"
    };
    ($then:literal) => {
        $then
    };
}

/// The `refresh` main statement: the per-user totals follow the days' sums when the kind has
/// them.
macro_rules! refresh_tail {
    ($count:literal) => {
        "SELECT 1"
    };
    ($count:literal, $total:literal) => {
        concat!(
            "UPDATE user_totals SET ",
            "entries = entries + (SELECT COALESCE(SUM(", $count, "), 0) FROM sums) ",
            "- (SELECT COALESCE(SUM(", $count, "), 0) FROM old), ",
            "calories = calories + (SELECT COALESCE(SUM(", $total, "), 0) FROM sums) ",
            "- (SELECT COALESCE(SUM(", $total, "), 0) FROM old), ",
            "tracking_days = tracking_days + (SELECT COUNT(*) FROM sums) - (SELECT COUNT(*) FROM old), ",
            "updated_at = $4 WHERE user_id = $1"
        )
    };
}

/// SQLite's totals, around its refresh: `$sign` `-` takes the days' old sums off, `+` adds
/// the new ones.
macro_rules! sqlite_totals {
    ($sign:literal, $days:literal, $count:literal, $total:literal) => {
        concat!(
            "UPDATE user_totals SET ",
            "entries = entries ",
            $sign,
            " (SELECT COALESCE(SUM(",
            $count,
            "), 0) FROM ",
            $days,
            " WHERE user_id = $1 AND local_date IN ($2, $3)), ",
            "calories = calories ",
            $sign,
            " (SELECT COALESCE(SUM(",
            $total,
            "), 0) FROM ",
            $days,
            " WHERE user_id = $1 AND local_date IN ($2, $3)), ",
            "tracking_days = tracking_days ",
            $sign,
            " (SELECT COUNT(*) FROM ",
            $days,
            " WHERE user_id = $1 AND local_date IN ($2, $3)), ",
            "updated_at = $4 WHERE user_id = $1"
        )
    };
}

/// The statements of a kind ([`KindSql`]) from its table, its columns with their parameters,
/// and its day sums (each day column with the expression over a record that it sums). With
/// `totals`, the kind also keeps `user_totals` (entries, their calories, the days with any):
/// `record` is the column of a record's calories, `day` the days' column of them.
macro_rules! kind_sql {
    (
        table: $table:literal,
        time: $time:literal,
        select: $select:literal,
        filter: $filter:expr,
        values: [$($column:literal = $param:literal),+ $(,)?],
        days: $days:literal,
        count: $count:literal,
        sums: [$($sum:literal = $expr:literal),+ $(,)?]
        $(, totals: { record: $record_total:literal, day: $day_total:literal })?
        $(, then: $then:literal)?
        $(,)?
    ) => {
        $crate::store::records::KindSql {
            select_one: concat!("SELECT ", $select, " FROM ", $table, " WHERE user_id = $1 AND id = $2"),
            list: concat!("SELECT ", $select, " FROM ", $table, " WHERE user_id = "),
            time: $time,
            filter: $filter,
            locked_one: [
                concat!(
                    "WITH lock AS (SELECT id AS locked FROM users WHERE id = $1 FOR NO KEY UPDATE) ",
                    "SELECT ", $select, ", local_date AS record_day FROM ", $table,
                    ", lock WHERE user_id = lock.locked AND id = $2"
                ),
                concat!(
                    "SELECT ", $select, ", local_date AS record_day FROM ", $table,
                    " WHERE user_id = $1 AND id = $2"
                ),
            ],
            insert: [
                &[concat!(
                    "WITH lock AS (SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE), ",
                    "v (id", $(", ", $column,)+ ") AS (VALUES {rows}), ",
                    "rec AS (INSERT INTO ", $table, " (id, user_id, local_date, created_at, updated_at",
                    $(", ", $column,)+ ") SELECT v.id, lock.id, $3, $2, $2", $(", v.", $column,)+
                    " FROM v, lock RETURNING *), ",
                    "day AS (INSERT INTO ", $days, " (user_id, local_date, ", $count, $(", ", $sum,)+
                    ", updated_at) SELECT user_id, local_date, COUNT(*)", $(", SUM(", $expr, ")",)+
                    ", $2 FROM rec GROUP BY user_id, local_date ",
                    "ON CONFLICT (user_id, local_date) DO UPDATE SET ",
                    $count, " = ", $days, ".", $count, " + EXCLUDED.", $count,
                    $(", ", $sum, " = ", $days, ".", $sum, " + EXCLUDED.", $sum,)+
                    ", updated_at = EXCLUDED.updated_at RETURNING *)",
                    $(
                        ", totals AS (INSERT INTO user_totals ",
                        "(user_id, entries, calories, tracking_days, updated_at) ",
                        "SELECT rec.user_id, COUNT(*), COALESCE(SUM(rec.", $record_total, "), 0), ",
                        "CASE WHEN MAX(day.", $count, ") = COUNT(*) THEN 1 ELSE 0 END, $2 ",
                        "FROM rec, day GROUP BY rec.user_id ",
                        "ON CONFLICT (user_id) DO UPDATE SET ",
                        "entries = user_totals.entries + EXCLUDED.entries, ",
                        "calories = user_totals.calories + EXCLUDED.calories, ",
                        "tracking_days = user_totals.tracking_days + EXCLUDED.tracking_days, ",
                        "updated_at = EXCLUDED.updated_at)",
                    )?
                    " ", $crate::store::records::insert_tail!($($then)?)
                )],
                &[
                    concat!(
                        "WITH v (id", $(", ", $column,)+ ") AS (VALUES {rows}) ",
                        "INSERT INTO ", $table, " (id, user_id, local_date, created_at, updated_at",
                        $(", ", $column,)+ ") SELECT v.id, users.id, $3, $2, $2", $(", v.", $column,)+
                        " FROM v, users WHERE users.id = $1 RETURNING CAST(NULL AS TEXT)"
                    ),
                    concat!(
                        "INSERT INTO ", $days, " (user_id, local_date, ", $count, $(", ", $sum,)+
                        ", updated_at) SELECT user_id, local_date, COUNT(*)", $(", SUM(", $expr, ")",)+
                        ", $2 FROM ", $table, " WHERE user_id = $1 AND id IN ({ids}) ",
                        "GROUP BY user_id, local_date ",
                        "ON CONFLICT (user_id, local_date) DO UPDATE SET ",
                        $count, " = ", $days, ".", $count, " + EXCLUDED.", $count,
                        $(", ", $sum, " = ", $days, ".", $sum, " + EXCLUDED.", $sum,)+
                        ", updated_at = EXCLUDED.updated_at"
                    ),
                    $(concat!(
                        "INSERT INTO user_totals (user_id, entries, calories, tracking_days, updated_at) ",
                        "SELECT $1, COUNT(*), COALESCE(SUM(", $record_total, "), 0), ",
                        "CASE WHEN (SELECT d.", $count, " FROM ", $days, " d ",
                        "WHERE d.user_id = $1 AND d.local_date = $3) = COUNT(*) THEN 1 ELSE 0 END, $2 ",
                        "FROM ", $table, " WHERE user_id = $1 AND id IN ({ids}) ",
                        "ON CONFLICT (user_id) DO UPDATE SET ",
                        "entries = user_totals.entries + EXCLUDED.entries, ",
                        "calories = user_totals.calories + EXCLUDED.calories, ",
                        "tracking_days = user_totals.tracking_days + EXCLUDED.tracking_days, ",
                        "updated_at = EXCLUDED.updated_at"
                    ),)?
                ],
            ],
            values: [$($column),+].len(),
            update: concat!(
                "UPDATE ", $table, " SET local_date = $4, updated_at = $3",
                $(", ", $column, " = ", $param,)+
                " WHERE user_id = $1 AND id = $2 RETURNING ", $select
            ),
            delete: [
                concat!(
                    "WITH lock AS (SELECT id AS locked FROM users WHERE id = $1 FOR NO KEY UPDATE) ",
                    "DELETE FROM ", $table, " USING lock WHERE user_id = lock.locked AND id = $2 ",
                    "RETURNING ", $select, ", local_date AS record_day"
                ),
                concat!(
                    "DELETE FROM ", $table, " WHERE user_id = $1 AND id = $2 ",
                    "RETURNING ", $select, ", local_date AS record_day"
                ),
            ],
            refresh: [
                &[concat!(
                    "WITH old AS (SELECT ", $count, $(", ", $sum,)+ " FROM ", $days,
                    " WHERE user_id = $1 AND local_date IN ($2, $3)), ",
                    "sums AS (SELECT local_date, COUNT(*) AS ", $count,
                    $(", SUM(", $expr, ") AS ", $sum,)+ " FROM ", $table,
                    " WHERE user_id = $1 AND local_date IN ($2, $3) GROUP BY local_date), ",
                    "emptied AS (DELETE FROM ", $days, " WHERE user_id = $1 AND local_date IN ($2, $3) ",
                    "AND local_date NOT IN (SELECT local_date FROM sums)), ",
                    "kept AS (INSERT INTO ", $days, " (user_id, local_date, ", $count, $(", ", $sum,)+
                    ", updated_at) SELECT $1, local_date, ", $count, $(", ", $sum,)+ ", $4 FROM sums ",
                    "ON CONFLICT (user_id, local_date) DO UPDATE SET ", $count, " = EXCLUDED.", $count,
                    $(", ", $sum, " = EXCLUDED.", $sum,)+ ", updated_at = EXCLUDED.updated_at) ",
                    $crate::store::records::refresh_tail!($count $(, $day_total)?)
                )],
                &[
                    $($crate::store::records::sqlite_totals!("-", $days, $count, $day_total),)?
                    concat!(
                        "DELETE FROM ", $days, " WHERE user_id = $1 AND local_date IN ($2, $3) ",
                        "AND NOT EXISTS (SELECT 1 FROM ", $table, " r ",
                        "WHERE r.user_id = $1 AND r.local_date = ", $days, ".local_date)"
                    ),
                    concat!(
                        "INSERT INTO ", $days, " (user_id, local_date, ", $count, $(", ", $sum,)+
                        ", updated_at) SELECT $1, local_date, COUNT(*)", $(", SUM(", $expr, ")",)+
                        ", $4 FROM ", $table, " WHERE user_id = $1 AND local_date IN ($2, $3) ",
                        "GROUP BY local_date ",
                        "ON CONFLICT (user_id, local_date) DO UPDATE SET ", $count, " = EXCLUDED.", $count,
                        $(", ", $sum, " = EXCLUDED.", $sum,)+ ", updated_at = EXCLUDED.updated_at"
                    ),
                    $($crate::store::records::sqlite_totals!("+", $days, $count, $day_total),)?
                ],
            ],
        }
    };
}
pub(crate) use {insert_tail, kind_sql, refresh_tail, sqlite_totals};

/// What a kind's writes do besides its record and its days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// The food diary: the summaries of the foods written follow, and badges are evaluated
    /// on the written day.
    Diary,
    /// The trend of the days from the written one on is recomputed (weigh-ins).
    Trend,
}

/// A kind of record as the store keeps it.
pub trait Stored: Kind {
    type Record: Positioned + Serialize + Clone + Send + Sync + Unpin + super::RecordRow;
    const SQL: KindSql;
    const EFFECT: Effect;

    /// The record's own values, in the order of its `values`.
    fn values(record: &Self::Record) -> Vec<Param<'_>>;
    fn id(record: &Self::Record) -> &str;
    fn created_at(record: &Self::Record) -> DateTime<Utc>;

    /// The food a record logs, whose summary its writes keep ([`Effect::Diary`]).
    fn food(_record: &Self::Record) -> Option<FoodRef<'_>> {
        None
    }
}

/// A record (or the records) written, and the badges the write earned.
#[derive(Clone, Debug, PartialEq)]
pub struct Written<R> {
    pub record: R,
    pub badges_earned: Vec<EarnedBadge>,
}

/// What a `POST` did: `W` is what it wrote.
#[derive(Clone, Debug, PartialEq)]
pub enum Created<W> {
    Created(W),
    /// The request repeated an `Idempotency-Key` answered within 24 hours: the first answer,
    /// and nothing written.
    Replayed(StoredResponse),
}

/// An update's parameters: the layout's first four and the record's own values.
fn write_params<'r, K: Stored>(
    user_id: &'r str,
    record: &'r K::Record,
    now: DateTime<Utc>,
    day: NaiveDate,
) -> Vec<Param<'r>> {
    let mut params = vec![
        Param::Text(Some(user_id)),
        Param::Text(Some(K::id(record))),
        Param::Instant(now),
        Param::Day(day),
    ];
    params.extend(K::values(record));
    params
}

/// The insert of `records` (each with `values` own values), its templates filled in: every
/// value is bound, only placeholders are written into the text.
pub(super) fn insert_statements(templates: &[&str], records: usize, values: usize) -> Vec<String> {
    let first = |record: usize| 4 + record * (values + 1);
    let rows = (0..records)
        .map(|record| {
            let placeholders: Vec<String> = (first(record)..=first(record) + values)
                .map(|n| format!("${n}"))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let ids = (0..records)
        .map(|record| format!("${}", first(record)))
        .collect::<Vec<_>>()
        .join(", ");
    templates
        .iter()
        .map(|template| template.replace("{rows}", &rows).replace("{ids}", &ids))
        .collect()
}

/// Inserts `records` of kind `K`, all on the user's day `day`, in the user's write `tx`, adds
/// them to the day's sums and does the kind's [`Effect`]: the badges earned, or `None` when
/// the user is gone. One statement per table, however many records.
pub(super) async fn insert_in<K: Stored, DB: sqlx::Database>(
    tx: &mut super::user_writes::Write<'_, DB>,
    dialect: Dialect,
    user_id: &str,
    records: &[K::Record],
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<Vec<EarnedBadge>>>
where
    for<'t> super::user_writes::Write<'t, DB>: UserWrite,
{
    let mut params = vec![
        Param::Text(Some(user_id)),
        Param::Instant(now),
        Param::Day(day),
    ];
    for record in records {
        params.push(Param::Text(Some(K::id(record))));
        params.extend(K::values(record));
    }
    let statements = insert_statements(
        KindSql::pick(K::SQL.insert, dialect),
        records.len(),
        K::SQL.values,
    );
    let Some((first, rest)) = statements.split_first() else {
        return Err(Error::internal("a kind without an insert"));
    };
    let Some(then) = tx.fetch_then(first, &params).await? else {
        return Ok(None);
    };
    for statement in rest {
        tx.execute_params(statement, &params).await?;
    }
    Ok(Some(match K::EFFECT {
        Effect::Diary => {
            let foods: Vec<FoodRef<'_>> = records.iter().filter_map(K::food).collect();
            tx.diary_written(user_id, day, now, &foods).await?
        }
        Effect::Trend => {
            tx.retrend(user_id, day, then).await?;
            Vec::new()
        }
        Effect::None => Vec::new(),
    }))
}

impl Store {
    /// The user's record `id` of kind `K`; another user's is `None`, as a missing one is.
    pub async fn record<K: Stored>(&self, user_id: &str, id: &str) -> Result<Option<K::Record>> {
        with_db!(self, |conn| {
            Ok(self
                .query_as(K::SQL.select_one)
                .bind(user_id)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?)
        })
    }

    /// One page of the user's records of kind `K` by `(timestamp, id)`, in one indexed query;
    /// `next` is set when more match. Walking the pages visits every matching record exactly
    /// once, however many share a timestamp.
    pub async fn records_page<K: Stored>(
        &self,
        user_id: &str,
        query: &ListQuery,
    ) -> Result<Page<K::Record>> {
        let sql = &K::SQL;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let mut records: Vec<K::Record> = with_db!(self, |conn| {
            // Only constant fragments are pushed; every value is bound.
            let mut statement = sqlx::QueryBuilder::new(sql.list);
            statement.push_bind(user_id);
            if let Some(from) = query.from {
                statement.push(" AND local_date >= ").push_bind(from);
            }
            if let Some(to) = query.to {
                statement.push(" AND local_date <= ").push_bind(to);
            }
            if let (Some(column), Some(value)) = (sql.filter, query.only) {
                statement
                    .push(" AND ")
                    .push(column)
                    .push(" = ")
                    .push_bind(value);
            }
            if let Some(after) = &query.after {
                statement
                    .push(" AND (")
                    .push(sql.time)
                    .push(", id) > (")
                    .push_bind(after.timestamp)
                    .push(", ")
                    .push_bind(after.id.as_str())
                    .push(")");
            }
            // One more than asked tells whether another page follows.
            statement
                .push(" ORDER BY ")
                .push(sql.time)
                .push(", id LIMIT ")
                .push_bind(i64::from(query.limit) + 1);
            Ok(statement
                .build_query_as()
                .persistent(self.persistent)
                .fetch_all(&mut **conn)
                .await?)
        })?;
        let next = if records.len() > limit {
            records.truncate(limit);
            records.last().map(Positioned::position)
        } else {
            None
        };
        Ok(Page { records, next })
    }

    /// Logs `record` of kind `K` on the user's day `day` (see [`Store::create_records`]).
    pub async fn create_record<K: Stored, A: Serialize>(
        &self,
        user_id: &str,
        record: &K::Record,
        day: NaiveDate,
        idempotent: Option<&Idempotent>,
        respond: impl Fn(&Written<K::Record>) -> A,
    ) -> Result<Created<Written<K::Record>>> {
        self.create_records::<K, _, _>(
            user_id,
            std::slice::from_ref(record),
            day,
            K::created_at(record),
            idempotent,
            |badges_earned| Written {
                record: record.clone(),
                badges_earned,
            },
            respond,
        )
        .await
    }

    /// Logs `records` of kind `K` (at least one), all on the user's day `day` and written
    /// `now`, adds them to the day's sums and does the kind's [`Effect`], in one transaction
    /// and one statement per table: all or nothing. `written` makes what was written of the
    /// badges earned. With an idempotency key, a repeat of a request answered within 24 hours
    /// gets that answer back and writes nothing (a 422 when the request was another);
    /// concurrent requests with one key wait for each other, so exactly one write results.
    /// `respond` makes the answer that a key keeps.
    ///
    /// Round trips on PostgreSQL: `BEGIN`, the insert (which locks the user and adds to the
    /// day in the same statement), `COMMIT`; one more for the badge facts (with the foods'
    /// summaries) and one when a badge is earned (food), two more with an idempotency key.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_records<K: Stored, W, A: Serialize>(
        &self,
        user_id: &str,
        records: &[K::Record],
        day: NaiveDate,
        now: DateTime<Utc>,
        idempotent: Option<&Idempotent>,
        written: impl Fn(Vec<EarnedBadge>) -> W,
        respond: impl Fn(&W) -> A,
    ) -> Result<Created<W>> {
        if records.is_empty() {
            return Err(Error::internal("a write of no records"));
        }
        with_db!(self, |conn| {
            let mut tx = begin_write(conn, self.dialect(), self.persistent).await?;
            if let Some(key) = idempotent {
                let refusal = match tx.claim_idempotency_key(user_id, key, now).await? {
                    Claim::Claimed => None,
                    Claim::Answered(first) => Some(Ok(Created::Replayed(first))),
                    Claim::Reused => Some(Err(Error::IdempotencyKeyReused)),
                    Claim::NoUser => Some(Err(Error::NotFound("User not found"))),
                };
                if let Some(refusal) = refusal {
                    tx.rollback().await?;
                    return refusal;
                }
            }
            let Some(badges_earned) =
                insert_in::<K, _>(&mut tx, self.dialect(), user_id, records, day, now).await?
            else {
                return Err(Error::NotFound("User not found"));
            };
            let written = written(badges_earned);
            if let Some(key) = idempotent {
                let response = StoredResponse {
                    status: 201,
                    body: serde_json::to_string(&respond(&written)).map_err(Error::internal)?,
                };
                tx.save_response(user_id, &key.key, &response).await?;
            }
            tx.commit().await?;
            Ok(Created::Created(written))
        })
    }

    /// Changes the user's record `id` of kind `K` into what `change` makes of it and of its
    /// day (the new record, its day, whether its day sums change), refreshes the sums of its
    /// old and new day, and does the kind's [`Effect`], in one transaction. `None` when the
    /// user has no such record; an error of `change` (a rule on the stored record) writes
    /// nothing.
    pub async fn update_record<K: Stored>(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
        change: impl Fn(&K::Record, NaiveDate) -> Result<(K::Record, NaiveDate, bool)>,
    ) -> Result<Option<Written<K::Record>>> {
        with_db!(self, |conn| {
            let mut tx = begin_write(conn, self.dialect(), self.persistent).await?;
            let locked = KindSql::pick(K::SQL.locked_one, self.dialect());
            let Some((old, old_day)) = tx
                .fetch_record_with_day::<K::Record>(locked, user_id, id)
                .await?
            else {
                tx.rollback().await?;
                return Ok(None);
            };
            let (new, day, touches_days) = change(&old, old_day)?;
            let params = write_params::<K>(user_id, &new, now, day);
            let record: K::Record = tx.fetch_one_params(K::SQL.update, &params).await?;
            if touches_days {
                tx.refresh(
                    KindSql::pick(K::SQL.refresh, self.dialect()),
                    user_id,
                    [old_day, day],
                    now,
                )
                .await?;
            }
            let badges_earned = match K::EFFECT {
                Effect::Diary => {
                    let foods: Vec<FoodRef<'_>> =
                        [&old, &record].into_iter().filter_map(K::food).collect();
                    tx.diary_written(user_id, day, now, &foods).await?
                }
                Effect::Trend => {
                    if touches_days {
                        tx.retrend(user_id, old_day.min(day), None).await?;
                    }
                    Vec::new()
                }
                Effect::None => Vec::new(),
            };
            tx.commit().await?;
            Ok(Some(Written {
                record,
                badges_earned,
            }))
        })
    }

    /// Deletes the user's record `id` of kind `K` and refreshes its day's sums, in one
    /// transaction; `false` when the user has no such record. Badges stay.
    pub async fn delete_record<K: Stored>(
        &self,
        user_id: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_db!(self, |conn| {
            let mut tx = begin_write(conn, self.dialect(), self.persistent).await?;
            let statement = KindSql::pick(K::SQL.delete, self.dialect());
            let deleted = tx
                .fetch_record_with_day::<K::Record>(statement, user_id, id)
                .await?;
            let Some((record, day)) = deleted else {
                tx.rollback().await?;
                return Ok(false);
            };
            tx.refresh(
                KindSql::pick(K::SQL.refresh, self.dialect()),
                user_id,
                [day, day],
                now,
            )
            .await?;
            match K::EFFECT {
                Effect::Diary => {
                    let foods: Vec<FoodRef<'_>> = K::food(&record).into_iter().collect();
                    tx.refresh_foods(user_id, &foods).await?;
                }
                Effect::Trend => tx.retrend(user_id, day, None).await?,
                Effect::None => {}
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}

/// Every statement of a kind names the parameters of its layout: a value added to `values`
/// without its placeholder (or the other way round) fails here, not in production.
#[cfg(test)]
pub(crate) fn assert_layout(sql: &KindSql, values: usize) {
    let used = |statement: &str| {
        let mut numbers: Vec<usize> = statement
            .split('$')
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    };
    assert_eq!(sql.values, values);
    let write: Vec<usize> = (1..=4 + values).collect();
    assert_eq!(used(sql.update), write, "{}", sql.update);
    // An insert of two records: the layout's three, then each record's id and values.
    let two: Vec<usize> = (1..=3 + 2 * (1 + values)).collect();
    for (dialect, templates) in sql.insert.iter().enumerate() {
        let statements = insert_statements(templates, 2, values);
        let first = &statements[0];
        assert_eq!(used(first), two, "{first}");
        if dialect == 0 {
            assert_eq!(statements.len(), 1, "PostgreSQL inserts in one statement");
        }
        for statement in &statements {
            assert!(!statement.contains('{'), "{statement}");
            assert!(
                used(statement).iter().all(|n| two.contains(n)),
                "{statement}"
            );
        }
    }
    // PostgreSQL refuses a parameter its statement does not use; SQLite ignores the extra
    // ones, so its statements of several steps may each use some of the layout.
    for statement in sql.refresh[0] {
        assert_eq!(used(statement), [1, 2, 3, 4], "{statement}");
    }
    let within = |statement: &str, layout: &[usize]| {
        assert!(
            used(statement).iter().all(|n| layout.contains(n)),
            "{statement}"
        );
    };
    for statement in sql.refresh[1] {
        within(statement, &[1, 2, 3, 4]);
    }
    for statement in sql
        .delete
        .iter()
        .chain(&sql.locked_one)
        .chain([&sql.select_one])
    {
        assert_eq!(used(statement), [1, 2], "{statement}");
    }
}
