//! Account deletion: every row of a user, at once.

use std::future::Future;

use super::{Store, with_db};
use crate::error::Result;

impl Store {
    /// Deletes the user and every row that belongs to them, in one statement (every table that
    /// names a user references `users(id) ON DELETE CASCADE`: preferences, onboarding, entries,
    /// daily totals, badges, images, idempotency keys; a test holds every foreign key to that),
    /// in a transaction that commits only when `decision` resolves to an answer that
    /// `confirms`; otherwise nothing is deleted. The answer is returned either way.
    ///
    /// The rows are deleted before `decision` is awaited, so a database that cannot delete
    /// them fails the call before anyone else is asked, and once the answer confirms, only the
    /// `COMMIT` remains. Meanwhile the user's rows stay locked (on SQLite, the database's
    /// writes wait), so `decision` must be bounded in time.
    pub async fn delete_user_if<T>(
        &self,
        id: &str,
        decision: impl Future<Output = Result<T>>,
        confirms: impl FnOnce(&T) -> bool,
    ) -> Result<T> {
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            self.query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let answer = decision.await?;
            if confirms(&answer) {
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            Ok(answer)
        })
    }
}
