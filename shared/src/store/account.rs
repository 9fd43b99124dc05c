//! Account deletion: every row of a user, at once.

use super::{Store, with_db};
use crate::error::Result;

impl Store {
    /// Deletes the user and every row that belongs to them, in one statement and so in one
    /// transaction: every table that names a user references `users(id) ON DELETE CASCADE`
    /// (preferences, onboarding, entries, daily totals, badges, images, idempotency keys; a
    /// test holds every foreign key to that). Returns whether the user existed.
    pub async fn delete_user(&self, id: &str) -> Result<bool> {
        let deleted = with_db!(&self.db, |pool| {
            self.query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }
}
