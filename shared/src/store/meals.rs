//! Saved meals (`meals`): their items are one JSON list, always read and written whole.

use chrono::{DateTime, Utc};

use super::lease::commit;
use super::{Dialect, Store, with_db};
use crate::domain::meals::{MAX_MEALS, Meal, MealItem};
use crate::error::{Error, Result};

/// A meal as stored.
#[derive(sqlx::FromRow)]
struct MealRow {
    id: String,
    name: String,
    items: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl MealRow {
    fn into_meal(self) -> Result<Meal> {
        let items: Vec<MealItem> = serde_json::from_str(&self.items).map_err(Error::internal)?;
        Ok(Meal::new(
            self.id,
            self.name,
            items,
            self.created_at,
            self.updated_at,
        ))
    }
}

fn items_json(meal: &Meal) -> Result<String> {
    serde_json::to_string(&meal.items).map_err(Error::internal)
}

/// The user's meals by name (without regard to case), then id.
macro_rules! meals_query {
    ($filter:literal) => {
        concat!(
            "SELECT id, name, CAST(items AS TEXT) AS items, created_at, updated_at FROM meals ",
            "WHERE user_id = $1",
            $filter,
            " ORDER BY lower(name), id"
        )
    };
}

impl Store {
    /// Saves `meal` for the user, unless they have [`MAX_MEALS`] already (409) or are gone
    /// (404). The user's writes are serialized first, so concurrent saves never pass the
    /// limit.
    pub async fn create_meal(&self, user_id: &str, meal: &Meal) -> Result<()> {
        let items = items_json(meal)?;
        let (lock, insert) = match self.dialect() {
            Dialect::Postgres => (
                "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE",
                "INSERT INTO meals (id, user_id, name, items, created_at, updated_at) \
                 SELECT $2, $1, $3, CAST($4 AS JSONB), $5, $5 \
                 WHERE (SELECT COUNT(*) FROM meals WHERE user_id = $1) < $6 RETURNING id",
            ),
            Dialect::Sqlite => (
                "SELECT id FROM users WHERE id = $1",
                "INSERT INTO meals (id, user_id, name, items, created_at, updated_at) \
                 SELECT $2, $1, $3, $4, $5, $5 \
                 WHERE (SELECT COUNT(*) FROM meals WHERE user_id = $1) < $6 RETURNING id",
            ),
        };
        with_db!(self, |conn| {
            let mut tx = super::begin(conn, self.dialect()).await?;
            let user: Option<String> = self
                .query_scalar(lock)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            if user.is_none() {
                return Err(Error::NotFound("User not found"));
            }
            let saved: Option<String> = self
                .query_scalar(insert)
                .bind(user_id)
                .bind(&meal.id)
                .bind(&meal.name)
                .bind(&items)
                .bind(meal.created_at)
                .bind(MAX_MEALS)
                .fetch_optional(&mut *tx)
                .await?;
            if saved.is_none() {
                return Err(Error::Conflict(
                    format!("A user keeps at most {MAX_MEALS} meals").into(),
                ));
            }
            commit(tx).await
        })
    }

    /// The user's meals by name.
    pub async fn meals(&self, user_id: &str) -> Result<Vec<Meal>> {
        let rows: Vec<MealRow> = with_db!(self, |conn| {
            Ok(self
                .query_as(meals_query!(""))
                .bind(user_id)
                .fetch_all(&mut **conn)
                .await?)
        })?;
        rows.into_iter().map(MealRow::into_meal).collect()
    }

    /// The user's meal `id`; another user's is `None`, as a missing one is.
    pub async fn meal(&self, user_id: &str, id: &str) -> Result<Option<Meal>> {
        let row: Option<MealRow> = with_db!(self, |conn| {
            Ok(self
                .query_as(meals_query!(" AND id = $2"))
                .bind(user_id)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?)
        })?;
        row.map(MealRow::into_meal).transpose()
    }

    /// Replaces the name and items of the user's meal `meal.id`; `None` when there is none.
    pub async fn replace_meal(&self, user_id: &str, meal: &Meal) -> Result<Option<Meal>> {
        let items = items_json(meal)?;
        let sql = match self.dialect() {
            Dialect::Postgres => concat!(
                "UPDATE meals SET name = $3, items = CAST($4 AS JSONB), updated_at = $5 ",
                "WHERE user_id = $1 AND id = $2 ",
                "RETURNING id, name, CAST(items AS TEXT) AS items, created_at, updated_at"
            ),
            Dialect::Sqlite => concat!(
                "UPDATE meals SET name = $3, items = $4, updated_at = $5 ",
                "WHERE user_id = $1 AND id = $2 ",
                "RETURNING id, name, CAST(items AS TEXT) AS items, created_at, updated_at"
            ),
        };
        let row: Option<MealRow> = with_db!(self, |conn| {
            Ok(self
                .query_as(sql)
                .bind(user_id)
                .bind(&meal.id)
                .bind(&meal.name)
                .bind(&items)
                .bind(meal.updated_at)
                .fetch_optional(&mut **conn)
                .await?)
        })?;
        row.map(MealRow::into_meal).transpose()
    }

    /// Deletes the user's meal `id`; `false` when there is none.
    pub async fn delete_meal(&self, user_id: &str, id: &str) -> Result<bool> {
        let deleted: Option<String> = with_db!(self, |conn| {
            Ok(self
                .query_scalar("DELETE FROM meals WHERE user_id = $1 AND id = $2 RETURNING id")
                .bind(user_id)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?)
        })?;
        Ok(deleted.is_some())
    }
}
