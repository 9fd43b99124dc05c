//! `food_entries`: the diary. Every write keeps `daily_totals` exact and evaluates badges in
//! its own transaction (see [`super::user_writes`]).

use chrono::{DateTime, NaiveDate, Utc};

use super::user_writes::{Claim, StoredResponse, UserWrite, begin_write};
use super::{Store, with_db};
use crate::domain::cursor::Cursor;
use crate::domain::entries::{Entry, EntryCreated, EntryFields, EntryPage, EntryQuery};
use crate::domain::idempotency::Idempotent;
use crate::error::{Error, Result};

/// The columns of an [`Entry`], in every statement that reads one.
macro_rules! entry_columns {
    () => {
        "id, user_id, name, CAST(calories AS DOUBLE PRECISION) AS calories, meal_type, \
         serving_size, CAST(protein AS DOUBLE PRECISION) AS protein, \
         CAST(carbs AS DOUBLE PRECISION) AS carbs, CAST(fat AS DOUBLE PRECISION) AS fat, notes, \
         image_key, eaten_at, created_at"
    };
}

/// Each field is set only when the request gave it: `COALESCE` for the fields an entry cannot
/// be without, a flag for the nullable ones (whose new value may be NULL).
const UPDATE_ENTRY: &str = concat!(
    "UPDATE food_entries SET \
     name = COALESCE($3, name), \
     calories = COALESCE($4, calories), \
     meal_type = COALESCE($5, meal_type), \
     eaten_at = COALESCE($6, eaten_at), \
     local_date = COALESCE($7, local_date), \
     serving_size = CASE WHEN $8 THEN $9 ELSE serving_size END, \
     protein = CASE WHEN $10 THEN $11 ELSE protein END, \
     carbs = CASE WHEN $12 THEN $13 ELSE carbs END, \
     fat = CASE WHEN $14 THEN $15 ELSE fat END, \
     notes = CASE WHEN $16 THEN $17 ELSE notes END, \
     image_key = CASE WHEN $18 THEN $19 ELSE image_key END, \
     updated_at = $20 \
     WHERE id = $1 AND user_id = $2 \
     RETURNING ",
    entry_columns!()
);

/// What `POST /food-entries` did.
#[derive(Clone, Debug, PartialEq)]
pub enum CreateOutcome {
    Created(Box<EntryCreated>),
    /// The request repeated an `Idempotency-Key` answered within 24 hours: the first answer,
    /// and nothing written.
    Replayed(StoredResponse),
}

impl Store {
    /// The user's entry `id`; another user's entry is `None`, as a missing one is.
    pub async fn entry(&self, user_id: &str, id: &str) -> Result<Option<Entry>> {
        with_db!(self, |conn| {
            Ok(self
                .query_as(concat!(
                    "SELECT ",
                    entry_columns!(),
                    " FROM food_entries WHERE id = $1 AND user_id = $2"
                ))
                .bind(id)
                .bind(user_id)
                .fetch_optional(&mut **conn)
                .await?)
        })
    }

    /// One page of the user's entries by `(timestamp, id)`, in one indexed query; `next` is
    /// set when more entries match. Walking the pages visits every matching entry exactly
    /// once, however many share a timestamp.
    pub async fn entries_page(&self, user_id: &str, query: &EntryQuery) -> Result<EntryPage> {
        let filter = &query.filter;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let mut entries: Vec<Entry> = with_db!(self, |conn| {
            // Only constant fragments are pushed; every value is bound.
            let mut sql = sqlx::QueryBuilder::new(concat!(
                "SELECT ",
                entry_columns!(),
                " FROM food_entries WHERE user_id = "
            ));
            sql.push_bind(user_id);
            if let Some(from) = filter.from {
                sql.push(" AND local_date >= ").push_bind(from);
            }
            if let Some(to) = filter.to {
                sql.push(" AND local_date <= ").push_bind(to);
            }
            if let Some(meal_type) = filter.meal_type {
                sql.push(" AND meal_type = ").push_bind(meal_type);
            }
            if let Some(after) = &query.after {
                sql.push(" AND (eaten_at, id) > (")
                    .push_bind(after.timestamp)
                    .push(", ")
                    .push_bind(after.id.as_str())
                    .push(")");
            }
            // One more than asked tells whether another page follows.
            sql.push(" ORDER BY eaten_at, id LIMIT ")
                .push_bind(i64::from(query.limit) + 1);
            Ok(sql
                .build_query_as()
                .persistent(self.persistent)
                .fetch_all(&mut **conn)
                .await?)
        })?;
        let next = if entries.len() > limit {
            entries.truncate(limit);
            entries.last().map(Cursor::after)
        } else {
            None
        };
        Ok(EntryPage { entries, next })
    }

    /// Logs `entry` on the user's day `local_date`, adds it to the day's totals and awards the
    /// badges it earns, in one transaction. With an idempotency key, a repeat of a request
    /// answered within 24 hours gets that answer back and writes nothing (a 422 when the
    /// request was another); concurrent requests with one key wait for each other, so exactly
    /// one entry results.
    ///
    /// Round trips on PostgreSQL: `BEGIN`, the locked insert, the badge facts, `COMMIT`; one
    /// more when a badge is earned, two more with an idempotency key.
    pub async fn create_entry(
        &self,
        entry: &Entry,
        local_date: NaiveDate,
        idempotent: Option<&Idempotent>,
    ) -> Result<CreateOutcome> {
        let user_id = entry.user_id.as_str();
        let now = entry.created_at;
        with_db!(self, |conn| {
            let mut tx = begin_write(conn, self.dialect(), self.persistent).await?;
            if let Some(key) = idempotent {
                let refusal = match tx.claim_idempotency_key(user_id, key, now).await? {
                    Claim::Claimed => None,
                    Claim::Answered(first) => Some(Ok(CreateOutcome::Replayed(first))),
                    Claim::Reused => Some(Err(Error::IdempotencyKeyReused)),
                    Claim::NoUser => Some(Err(Error::NotFound("User not found"))),
                };
                if let Some(refusal) = refusal {
                    tx.rollback().await?;
                    return refusal;
                }
            }
            if !tx.insert_entry(entry, local_date).await? {
                return Err(Error::NotFound("User not found"));
            }
            let badges_earned = tx.award_earned_badges(user_id, local_date, now).await?;
            let created = EntryCreated {
                entry: entry.clone(),
                badges_earned,
            };
            if let Some(key) = idempotent {
                let response = StoredResponse {
                    status: 201,
                    body: serde_json::to_string(&created).map_err(Error::internal)?,
                };
                tx.save_response(user_id, &key.key, &response).await?;
            }
            tx.commit().await?;
            Ok(CreateOutcome::Created(Box::new(created)))
        })
    }

    /// Applies `changes` to the user's entry `id` (`local_date` is the entry's new day when
    /// its timestamp changes), refreshes the totals of its old and new day (when amounts or the
    /// day change) and awards the badges the write earns, in one transaction. `None` when the
    /// user has no such entry.
    pub async fn update_entry(
        &self,
        user_id: &str,
        id: &str,
        changes: &EntryFields,
        local_date: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<Option<Entry>> {
        with_db!(self, |conn| {
            let mut tx = begin_write(conn, self.dialect(), self.persistent).await?;
            tx.lock_user(user_id).await?;
            let previous_day: Option<NaiveDate> = self
                .query_scalar("SELECT local_date FROM food_entries WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(previous_day) = previous_day else {
                tx.rollback().await?;
                return Ok(None);
            };
            let entry: Entry = self
                .query_as(UPDATE_ENTRY)
                .bind(id)
                .bind(user_id)
                .bind(&changes.name)
                .bind(changes.calories)
                .bind(changes.meal_type)
                .bind(changes.timestamp)
                .bind(local_date)
                .bind(changes.serving_size.is_some())
                .bind(changes.serving_size.clone().flatten())
                .bind(changes.protein.is_some())
                .bind(changes.protein.flatten())
                .bind(changes.carbs.is_some())
                .bind(changes.carbs.flatten())
                .bind(changes.fat.is_some())
                .bind(changes.fat.flatten())
                .bind(changes.notes.is_some())
                .bind(changes.notes.clone().flatten())
                .bind(changes.image_key.is_some())
                .bind(changes.image_key.clone().flatten())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let day = local_date.unwrap_or(previous_day);
            if changes.touches_totals() {
                tx.refresh_days(user_id, [previous_day, day], now).await?;
            }
            tx.award_earned_badges(user_id, day, now).await?;
            tx.commit().await?;
            Ok(Some(entry))
        })
    }

    /// Deletes the user's entry `id` and refreshes its day's totals, in one transaction;
    /// `false` when the user has no such entry. Badges stay.
    pub async fn delete_entry(&self, user_id: &str, id: &str, now: DateTime<Utc>) -> Result<bool> {
        with_db!(self, |conn| {
            let mut tx = begin_write(conn, self.dialect(), self.persistent).await?;
            tx.lock_user(user_id).await?;
            let day: Option<NaiveDate> = self
                .query_scalar(
                    "DELETE FROM food_entries WHERE id = $1 AND user_id = $2 RETURNING local_date",
                )
                .bind(id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(day) = day else {
                tx.rollback().await?;
                return Ok(false);
            };
            tx.refresh_days(user_id, [day, day], now).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
