//! The `users` table: who exists, with the zone of their day, and the row user sync creates.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{Db, Store, with_db};
use crate::error::{Error, Result};
use crate::time::UserZone;

/// A user as the Auth Service (or, locally, the token) describes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// The user's time zone, or `None` when the user does not exist: one round trip answers
    /// both what authentication and what every day-based endpoint needs.
    pub async fn user_zone(&self, id: &str) -> Result<Option<UserZone>> {
        let row: Option<(Option<String>,)> = with_db!(&self.db, |pool| {
            self.query_as(
                "SELECT p.timezone FROM users u \
                 LEFT JOIN user_preferences p ON p.user_id = u.id WHERE u.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(zone,)| {
            // A zone this build does not know (an older tz database) falls back to UTC.
            zone.and_then(|name| name.parse().ok()).unwrap_or_default()
        }))
    }

    /// Creates the user unless a row with this id exists. Concurrent first requests of one user
    /// all succeed and leave exactly one row; an email that belongs to another id is a conflict.
    pub async fn create_user(&self, user: &NewUser) -> Result<()> {
        // Every unique index arbitrates (`ON CONFLICT` without a target): PostgreSQL raises a
        // racing insert's violation of a non-arbiter index (the email) instead of waiting.
        let created = with_db!(&self.db, |pool| {
            self.query(
                "INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(user.created_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        // Nothing inserted: either this user was created meanwhile, or the email is taken.
        if created == 1 || self.user_zone(&user.id).await?.is_some() {
            return Ok(());
        }
        Err(Error::Conflict(
            "This email address belongs to another account".into(),
        ))
    }

    /// Which of `ids` are users, in one round trip.
    pub async fn existing_users(&self, ids: &[String]) -> Result<HashSet<String>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        // Each backend's own way to bind a list: an array, or a JSON array.
        let found: Vec<String> = match &self.db {
            Db::Postgres(pool) => {
                self.query_scalar("SELECT id FROM users WHERE id = ANY($1)")
                    .bind(ids)
                    .fetch_all(pool)
                    .await?
            }
            #[cfg(feature = "sqlite")]
            Db::Sqlite(pool) => {
                self.query_scalar(
                    "SELECT id FROM users WHERE id IN (SELECT value FROM json_each($1))",
                )
                .bind(sqlx::types::Json(ids))
                .fetch_all(pool)
                .await?
            }
        };
        Ok(found.into_iter().collect())
    }
}
