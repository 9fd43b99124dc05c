//! `user_badges` and the days that earn them: `GET /badges`, `GET /streaks` and the scheduled
//! recalculation. Days come from `daily_totals` (one row per user's day with entries), so
//! none of these reads grows with the number of entries.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Store, with_db};
use crate::domain::badges::Badge;
use crate::domain::streaks::ActiveDays;
use crate::error::Result;

/// Everything `GET /badges` needs about a user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BadgeRecord {
    pub days: ActiveDays,
    pub entries: u64,
    /// `(badge id, earned at)`.
    pub earned: Vec<(String, DateTime<Utc>)>,
}

/// A user's days, entry count and badge ids (for the recalculation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserActivity {
    pub days: ActiveDays,
    pub entries: u64,
    pub badges: Vec<String>,
}

/// Rows awarded per statement, so a batch stays within every backend's bind limit.
const AWARD_CHUNK: usize = 1000;

impl Store {
    /// The user's days with entries, the entry count and the badges earned, in one statement.
    pub async fn badge_record(&self, user_id: &str) -> Result<BadgeRecord> {
        type Row = (
            Option<NaiveDate>,
            Option<i64>,
            Option<String>,
            Option<DateTime<Utc>>,
        );
        let rows: Vec<Row> = with_db!(self, |conn| {
            Ok(self
                .query_as(
                    "SELECT local_date AS day, CAST(entries AS BIGINT) AS n, \
                        CAST(NULL AS TEXT) AS badge, CAST(NULL AS TIMESTAMPTZ) AS earned_at \
                     FROM daily_totals WHERE user_id = $1 \
                     UNION ALL \
                     SELECT NULL, NULL, badge_id, earned_at FROM user_badges WHERE user_id = $1",
                )
                .bind(user_id)
                .fetch_all(&mut **conn)
                .await?)
        })?;
        let mut days = Vec::new();
        let mut record = BadgeRecord::default();
        for row in rows {
            match row {
                (Some(day), entries, _, _) => {
                    days.push(day);
                    record.entries += non_negative(entries);
                }
                (None, _, Some(badge), Some(earned_at)) => record.earned.push((badge, earned_at)),
                _ => {}
            }
        }
        record.days = days.into_iter().collect();
        Ok(record)
    }

    /// The user's days with at least one entry.
    pub async fn active_days(&self, user_id: &str) -> Result<ActiveDays> {
        let days: Vec<NaiveDate> = with_db!(self, |conn| {
            Ok(self
                .query_scalar("SELECT local_date FROM daily_totals WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut **conn)
                .await?)
        })?;
        Ok(days.into_iter().collect())
    }

    /// Up to `limit` users, by id after `after`, with a day written since `since`.
    pub async fn recently_active_users(
        &self,
        since: DateTime<Utc>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        with_db!(self, |conn| {
            Ok(self
                .query_scalar(
                    "SELECT DISTINCT user_id FROM daily_totals \
                     WHERE updated_at >= $1 AND user_id > $2 ORDER BY user_id LIMIT $3",
                )
                .bind(since)
                // Every id sorts after the empty string.
                .bind(after.unwrap_or_default())
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&mut **conn)
                .await?)
        })
    }

    /// The whole record of days and badges of each of `user_ids`, in one statement.
    pub async fn activity_of(&self, user_ids: &[String]) -> Result<BTreeMap<String, UserActivity>> {
        type Row = (String, Option<NaiveDate>, Option<i64>, Option<String>);
        if user_ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        // Each backend's own way to bind a list: an array, or a JSON array.
        let rows: Vec<Row> = with_db!(self,
            postgres: |conn| Ok(self
                .query_as(
                    "SELECT user_id, local_date, CAST(entries AS BIGINT), CAST(NULL AS TEXT) \
                     FROM daily_totals WHERE user_id = ANY($1) \
                     UNION ALL \
                     SELECT user_id, NULL, NULL, badge_id FROM user_badges WHERE user_id = ANY($1)",
                )
                .bind(user_ids)
                .fetch_all(&mut **conn)
                .await?),
            sqlite: |conn| Ok(self
                .query_as(
                    "SELECT user_id, local_date, CAST(entries AS BIGINT), CAST(NULL AS TEXT) \
                     FROM daily_totals WHERE user_id IN (SELECT value FROM json_each($1)) \
                     UNION ALL \
                     SELECT user_id, NULL, NULL, badge_id FROM user_badges \
                     WHERE user_id IN (SELECT value FROM json_each($1))",
                )
                .bind(sqlx::types::Json(user_ids))
                .fetch_all(&mut **conn)
                .await?),
        )?;
        let mut days: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
        let mut activity: BTreeMap<String, UserActivity> = BTreeMap::new();
        for (user_id, day, entries, badge) in rows {
            let record = activity.entry(user_id.clone()).or_default();
            match (day, badge) {
                (Some(day), _) => {
                    days.entry(user_id).or_default().push(day);
                    record.entries += non_negative(entries);
                }
                (None, Some(badge)) => record.badges.push(badge),
                (None, None) => {}
            }
        }
        for (user_id, days) in days {
            if let Some(record) = activity.get_mut(&user_id) {
                record.days = days.into_iter().collect();
            }
        }
        Ok(activity)
    }

    /// Awards each `(user id, badge)` unless the user has it, or is gone (an account deleted
    /// since its activity was read must not fail the others' awards); returns how many were
    /// new.
    pub async fn award_badges(
        &self,
        awards: &[(String, &'static Badge)],
        earned_at: DateTime<Utc>,
    ) -> Result<u64> {
        let mut awarded = 0;
        for chunk in awards.chunks(AWARD_CHUNK) {
            awarded += with_db!(self, |conn| {
                // `columnN` names the columns of a VALUES list on both backends.
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO user_badges \
                     (user_id, badge_id, badge_name, badge_description, earned_at) \
                     SELECT column1, column2, column3, column4, column5 FROM (",
                );
                insert.push_values(chunk, |mut row, (user_id, badge)| {
                    row.push_bind(user_id.as_str())
                        .push_bind(badge.id)
                        .push_bind(badge.name)
                        .push_bind(badge.description)
                        .push_bind(earned_at);
                });
                insert.push(
                    ") AS awards WHERE EXISTS (SELECT 1 FROM users WHERE users.id = awards.column1) \
                     ON CONFLICT (user_id, badge_id) DO NOTHING",
                );
                Ok(insert
                    .build()
                    .persistent(self.persistent)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected())
            })?;
        }
        Ok(awarded)
    }
}

fn non_negative(count: Option<i64>) -> u64 {
    count
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or_default()
}
