//! Account deletion: every row of a user, at once, and the record that makes a deletion the
//! Auth Service has confirmed finish whatever fails afterwards.
//!
//! `account_deletions` holds one row per deletion asked for and not finished. It is written
//! and committed before the Auth Service is asked, so it survives whatever happens next, and
//! from then on the user's requests find them [`super::Standing::Leaving`] (404). The row is
//! locked while the Auth Service decides, with the user's rows deleted but not committed; a
//! refusal rolls that back and removes the record, a confirmation commits it. A row left behind unlocked (the database failed after the confirmation, or
//! the process died) is finished by the scheduled job: rows, images, record.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::lease::commit;
use super::{Dialect, Store, with_db};
use crate::error::{Error, Result};

/// What became of a deletion the Auth Service was asked for.
#[derive(Debug)]
pub enum Deletion<T> {
    /// Refused: nothing is deleted, the user is as before.
    Refused(T),
    /// Confirmed and the user's rows are deleted; their images remain to be deleted.
    Deleted(T),
    /// Confirmed, but the rows could not be deleted now: the scheduled job finishes it. The
    /// user's requests answer 404 meanwhile.
    Pending(T),
}

/// Every table that names a user references `users(id) ON DELETE CASCADE` (a test holds
/// every foreign key to that), so one statement removes all the user's rows.
const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

impl Store {
    /// Deletes the user's account if `decision` (the Auth Service's answer) `confirms` it.
    ///
    /// First the deletion is recorded (committed). Then, in a transaction that locks the
    /// record, the user's rows are deleted, uncommitted, and `decision` is awaited (it must be
    /// bounded in time: the user's rows stay locked meanwhile, and on SQLite the database's
    /// writes wait); a confirmation commits the deletion, anything else rolls it back and
    /// removes the record. A database that cannot record the deletion or delete the rows
    /// stops it before `decision` is awaited. When the database fails after a confirmation,
    /// the answer is still returned, as [`Deletion::Pending`].
    pub async fn delete_account_if<T>(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        decision: impl Future<Output = Result<T>>,
        confirms: impl Fn(&T) -> bool,
    ) -> Result<Deletion<T>> {
        with_db!(self, |conn| {
            self.query(
                "INSERT INTO account_deletions (user_id, requested_at) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(now)
            .execute(&mut **conn)
            .await?;
            Ok(())
        })?;
        let mut decision = Some(Box::pin(decision));
        let mut answer: Option<T> = None;
        let decided = self
            .with_deadline(self.deadline + crate::auth::FORWARD_TIMEOUT)
            .settle_deletion(user_id, now, &mut decision, &mut answer, &confirms)
            .await;
        match (decided, answer) {
            (Ok(true), Some(answer)) => Ok(Deletion::Deleted(answer)),
            (Ok(false), Some(answer)) => Ok(Deletion::Refused(answer)),
            (Err(err), Some(answer)) if confirms(&answer) => {
                tracing::error!(
                    user_id,
                    error = %crate::error::WithCauses(&err),
                    "the Auth Service deleted the account; its rows are left for the scheduled job"
                );
                Ok(Deletion::Pending(answer))
            }
            (Err(err), _) => {
                // Refused, or never asked: the record must go, or the job would finish it.
                if let Err(cleanup) = self.cancel_account_deletion(user_id).await {
                    tracing::error!(
                        user_id,
                        error = %crate::error::WithCauses(&cleanup),
                        "an account deletion that did not happen is still recorded"
                    );
                }
                Err(err)
            }
            (Ok(_), None) => Err(Error::internal(
                "an account deletion settled without an answer",
            )),
        }
    }

    /// The locked part of [`Store::delete_account_if`]: whether the rows were deleted. The
    /// rows are deleted (uncommitted, under a savepoint) before the decision is awaited, so a
    /// database that cannot delete them fails before anyone else is asked; the decision
    /// either releases the savepoint or rolls it back. It is awaited once, even when a dead
    /// connection makes the statements run again.
    async fn settle_deletion<T, F: Future<Output = Result<T>>>(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        decision: &mut Option<std::pin::Pin<Box<F>>>,
        answer: &mut Option<T>,
        confirms: &impl Fn(&T) -> bool,
    ) -> Result<bool> {
        use sqlx::Acquire;

        with_db!(self, |conn| {
            let mut tx = super::begin(conn, self.dialect()).await?;
            if self.dialect() == Dialect::Postgres {
                self.query("SELECT 1 FROM account_deletions WHERE user_id = $1 FOR UPDATE")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut rows = tx.begin().await?;
            self.query(DELETE_USER)
                .bind(user_id)
                .execute(&mut *rows)
                .await?;
            if let Some(pending) = decision.take() {
                *answer = Some(pending.await?);
            }
            let confirmed = answer.as_ref().is_some_and(confirms);
            if confirmed {
                rows.commit().await?;
                self.query("UPDATE account_deletions SET confirmed_at = $2 WHERE user_id = $1")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            } else {
                rows.rollback().await?;
                self.query("DELETE FROM account_deletions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            commit(tx).await?;
            Ok(confirmed)
        })
    }

    /// Removes the record of a deletion that did not happen.
    async fn cancel_account_deletion(&self, user_id: &str) -> Result<()> {
        with_db!(self, |conn| {
            self.query("DELETE FROM account_deletions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut **conn)
                .await?;
            Ok(())
        })
    }

    /// Up to `limit` deletions to finish: recorded and no longer being decided (on
    /// PostgreSQL a deletion being decided is locked and skipped; on SQLite its transaction
    /// holds the write lock, which this waits for). Their user rows are deleted here, in one
    /// transaction; what remains is their images, then [`Store::forget_account_deletion`].
    pub async fn finish_account_deletions(&self, limit: usize) -> Result<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let now = crate::time::now();
        with_db!(self,
            postgres: |conn| {
                let mut tx = super::begin(conn, Dialect::Postgres).await?;
                let ids: Vec<String> = self
                    .query_scalar(
                        "SELECT user_id FROM account_deletions ORDER BY requested_at, user_id \
                         LIMIT $1 FOR UPDATE SKIP LOCKED",
                    )
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                self.query("DELETE FROM users WHERE id = ANY($1)")
                    .bind(&ids)
                    .execute(&mut *tx)
                    .await?;
                self.query(
                    "UPDATE account_deletions SET confirmed_at = COALESCE(confirmed_at, $2) \
                     WHERE user_id = ANY($1)",
                )
                .bind(&ids)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                commit(tx).await?;
                Ok(ids)
            },
            sqlite: |conn| {
                let mut tx = super::begin(conn, Dialect::Sqlite).await?;
                let ids: Vec<String> = self
                    .query_scalar(
                        "SELECT user_id FROM account_deletions ORDER BY requested_at, user_id \
                         LIMIT $1",
                    )
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                let ids_json = sqlx::types::Json(&ids);
                self.query("DELETE FROM users WHERE id IN (SELECT value FROM json_each($1))")
                    .bind(ids_json)
                    .execute(&mut *tx)
                    .await?;
                self.query(
                    "UPDATE account_deletions SET confirmed_at = COALESCE(confirmed_at, $2) \
                     WHERE user_id IN (SELECT value FROM json_each($1))",
                )
                .bind(ids_json)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                commit(tx).await?;
                Ok(ids)
            },
        )
    }

    /// Forgets a deletion that is complete: the user's rows and images are gone.
    pub async fn forget_account_deletion(&self, user_id: &str) -> Result<()> {
        with_db!(self, |conn| {
            self.query(
                "DELETE FROM account_deletions WHERE user_id = $1 AND confirmed_at IS NOT NULL",
            )
            .bind(user_id)
            .execute(&mut **conn)
            .await?;
            Ok(())
        })
    }
}
