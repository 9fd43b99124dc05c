//! `job_cursors`: where a scheduled job stopped, so its next run resumes there; and the
//! housekeeping of `idempotency_keys`.

use chrono::{DateTime, Utc};

use super::{Store, with_db};
use crate::error::Result;

/// A job's saved position. Both `None`: no run in progress.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobCursor {
    /// The last item done (a user id for the badge recalculation).
    pub position: Option<String>,
    /// When the run in progress started.
    pub run_started_at: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn job_cursor(&self, job: &str) -> Result<JobCursor> {
        let row: Option<(Option<String>, Option<DateTime<Utc>>)> = with_db!(self, |conn| {
            Ok(self
                .query_as("SELECT position, run_started_at FROM job_cursors WHERE job = $1")
                .bind(job)
                .fetch_optional(&mut **conn)
                .await?)
        })?;
        Ok(row
            .map(|(position, run_started_at)| JobCursor {
                position,
                run_started_at,
            })
            .unwrap_or_default())
    }

    pub async fn save_job_cursor(&self, job: &str, cursor: &JobCursor) -> Result<()> {
        with_db!(self, |conn| {
            self.query(
                "INSERT INTO job_cursors (job, position, run_started_at, updated_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (job) DO UPDATE SET position = EXCLUDED.position, \
                    run_started_at = EXCLUDED.run_started_at, updated_at = EXCLUDED.updated_at",
            )
            .bind(job)
            .bind(&cursor.position)
            .bind(cursor.run_started_at)
            .bind(crate::time::now())
            .execute(&mut **conn)
            .await?;
            Ok(())
        })
    }

    /// Deletes up to `limit` idempotency keys created before `before`; returns how many.
    pub async fn delete_expired_idempotency_keys(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<u64> {
        with_db!(self, |conn| {
            Ok(self
                .query(
                    "DELETE FROM idempotency_keys WHERE (user_id, idempotency_key) IN ( \
                    SELECT user_id, idempotency_key FROM idempotency_keys \
                    WHERE created_at < $1 LIMIT $2)",
                )
                .bind(before)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .execute(&mut **conn)
                .await?
                .rows_affected())
        })
    }
}
