//! The `users` table: who exists, with the zone of their day, and the row user sync creates.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::lease::commit;
use super::{Store, with_db};
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

/// What the database knows of a user id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// A user, with the zone of their day.
    Active(UserZone),
    /// The account's deletion has been asked for: none of its data is served any more.
    Leaving,
    /// No such user (yet).
    Unknown,
}

/// One row whatever the id: the user's zone, whether the user exists, whether their account
/// is being deleted (which may outlive the user's row, until their images are gone).
pub(super) const STANDING: &str = "\
SELECT p.timezone, u.id IS NOT NULL AS known, d.user_id IS NOT NULL AS leaving \
FROM (SELECT CAST($1 AS TEXT) AS id) AS k \
LEFT JOIN users u ON u.id = k.id \
LEFT JOIN user_preferences p ON p.user_id = u.id \
LEFT JOIN account_deletions d ON d.user_id = k.id";

impl Store {
    /// Whether the user exists and the zone of their day: one round trip answers both what
    /// authentication and what every day-based endpoint needs.
    pub async fn standing(&self, id: &str) -> Result<Standing> {
        let (zone, known, leaving): (Option<String>, bool, bool) = with_db!(self, |conn| {
            Ok(self
                .query_as(STANDING)
                .bind(id)
                .fetch_one(&mut **conn)
                .await?)
        })?;
        Ok(match (known, leaving) {
            (_, true) => Standing::Leaving,
            (false, false) => Standing::Unknown,
            (true, false) => Standing::Active(UserZone::stored(zone.as_deref())),
        })
    }

    /// Creates the user unless a row with this id exists. Concurrent first requests of one user
    /// all succeed and leave exactly one row.
    ///
    /// The Auth Service keeps emails unique and is their source of truth: an email still held
    /// here by another id (an account deleted there but not here, an email that moved) is
    /// released from that row, which keeps its data under `<its id>@released.invalid`, so a
    /// new user is never locked out by a stale one.
    pub async fn create_user(&self, user: &NewUser) -> Result<()> {
        with_db!(self, |conn| {
            let mut tx = super::begin(conn, self.dialect()).await?;
            // Every unique index arbitrates (`ON CONFLICT` without a target): PostgreSQL
            // raises a racing insert's violation of a non-arbiter index (the email) instead
            // of waiting.
            let insert = "INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4) \
                          ON CONFLICT DO NOTHING";
            let inserted = self
                .query(insert)
                .bind(&user.id)
                .bind(&user.email)
                .bind(&user.name)
                .bind(user.created_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if inserted == 0 {
                let released = self
                    .query(
                        "UPDATE users SET email = id || '@released.invalid' \
                         WHERE email = $1 AND id <> $2",
                    )
                    .bind(&user.email)
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if released > 0 {
                    tracing::warn!(user_id = %user.id, "released the email of a stale user row");
                    self.query(insert)
                        .bind(&user.id)
                        .bind(&user.email)
                        .bind(&user.name)
                        .bind(user.created_at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            commit(tx).await
        })?;
        match self.standing(&user.id).await? {
            Standing::Unknown => Err(Error::internal("a created user is not there")),
            _ => Ok(()),
        }
    }

    /// Which of `ids` are users, in one round trip.
    pub async fn existing_users(&self, ids: &[String]) -> Result<HashSet<String>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        // Each backend's own way to bind a list: an array, or a JSON array.
        let found: Vec<String> = with_db!(self,
            postgres: |conn| Ok(self
                .query_scalar("SELECT id FROM users WHERE id = ANY($1)")
                .bind(ids)
                .fetch_all(&mut **conn)
                .await?),
            sqlite: |conn| Ok(self
                .query_scalar("SELECT id FROM users WHERE id IN (SELECT value FROM json_each($1))")
                .bind(sqlx::types::Json(ids))
                .fetch_all(&mut **conn)
                .await?),
        )?;
        Ok(found.into_iter().collect())
    }
}
