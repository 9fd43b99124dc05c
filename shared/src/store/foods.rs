//! The summaries of the user's foods (`food_summaries`): one row per food, with how many
//! entries are that food and the values of the latest of them. Every write of an entry
//! refreshes the summaries of the foods it touches, in its own transaction, from the entries
//! themselves: the count is counted and the latest entry looked up through the index of
//! entries by food, so a changed or deleted entry counts as it now is and a deleted latest
//! entry falls back to the one before. Listing foods reads the summaries alone.
//!
//! A food's key is `lower(trim(name))` with `COALESCE(serving_size, '')`, computed by the
//! database in the index, in the refresh and in the migration that filled the summaries, so
//! the three always agree (PostgreSQL folds the case of every letter; SQLite of ASCII ones).

use serde::Serialize;

use super::{Dialect, Store, with_db};
use crate::domain::foods::{Food, FoodOrder};
use crate::error::Result;

/// The food an entry logs: its name and serving, as the refresh takes them (a JSON list of
/// them is bound, however many foods a write touches).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FoodRef<'a> {
    pub name: &'a str,
    pub serving_size: Option<&'a str>,
}

/// The foods `refs` name as JSON, for the refresh.
pub(super) fn foods_json(refs: &[FoodRef<'_>]) -> sqlx::Result<String> {
    serde_json::to_string(refs).map_err(|err| sqlx::Error::Encode(Box::new(err)))
}

/// PostgreSQL's refresh of the foods of the JSON list `$foods` (`$1` the user), as common
/// table expressions to put before a statement: it runs whatever that statement reads.
macro_rules! refresh_foods_postgres {
    ($foods:literal) => {
        concat!(
            "WITH keys AS (SELECT DISTINCT lower(trim(k.name)) AS name_key, ",
            "COALESCE(k.serving_size, '') AS serving_key ",
            "FROM json_to_recordset(CAST(", $foods, " AS json)) AS k(name text, serving_size text)), ",
            "found AS (SELECT keys.name_key, keys.serving_key, c.n, l.name, l.serving_size, ",
            "l.calories, l.protein, l.carbs, l.fat, l.meal_type, l.eaten_at, l.id FROM keys ",
            "CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM food_entries e WHERE e.user_id = $1 ",
            "AND lower(trim(e.name)) = keys.name_key ",
            "AND COALESCE(e.serving_size, '') = keys.serving_key) c ",
            "LEFT JOIN LATERAL (SELECT e.* FROM food_entries e WHERE e.user_id = $1 ",
            "AND lower(trim(e.name)) = keys.name_key ",
            "AND COALESCE(e.serving_size, '') = keys.serving_key ",
            "ORDER BY e.eaten_at DESC, e.id DESC LIMIT 1) l ON TRUE), ",
            "kept AS (INSERT INTO food_summaries (user_id, name_key, serving_key, times_logged, ",
            "name, serving_size, calories, protein, carbs, fat, meal_type, last_logged_at, ",
            "last_entry_id) SELECT $1, name_key, serving_key, n, name, serving_size, calories, ",
            "protein, carbs, fat, meal_type, eaten_at, id FROM found WHERE n > 0 ",
            "ON CONFLICT (user_id, name_key, serving_key) DO UPDATE SET ",
            "times_logged = EXCLUDED.times_logged, name = EXCLUDED.name, ",
            "serving_size = EXCLUDED.serving_size, calories = EXCLUDED.calories, ",
            "protein = EXCLUDED.protein, carbs = EXCLUDED.carbs, fat = EXCLUDED.fat, ",
            "meal_type = EXCLUDED.meal_type, last_logged_at = EXCLUDED.last_logged_at, ",
            "last_entry_id = EXCLUDED.last_entry_id), ",
            "gone AS (DELETE FROM food_summaries f USING found WHERE f.user_id = $1 ",
            "AND f.name_key = found.name_key AND f.serving_key = found.serving_key AND found.n = 0) "
        )
    };
}
pub(super) use refresh_foods_postgres;

/// The refresh on its own: `$1` the user, `$2` the foods.
pub(super) const REFRESH_POSTGRES: &str = concat!(refresh_foods_postgres!("$2"), "SELECT 1");

/// SQLite's refresh, in two statements: `$1` the user, `$2` the foods.
pub(super) const REFRESH_SQLITE: [&str; 2] = [
    "INSERT INTO food_summaries (user_id, name_key, serving_key, times_logged, name, \
     serving_size, calories, protein, carbs, fat, meal_type, last_logged_at, last_entry_id) \
     SELECT $1, k.name_key, k.serving_key, (SELECT COUNT(*) FROM food_entries c \
        WHERE c.user_id = $1 AND lower(trim(c.name)) = k.name_key \
        AND COALESCE(c.serving_size, '') = k.serving_key), \
     l.name, l.serving_size, l.calories, l.protein, l.carbs, l.fat, l.meal_type, l.eaten_at, l.id \
     FROM (SELECT DISTINCT lower(trim(json_extract(value, '$.name'))) AS name_key, \
        COALESCE(json_extract(value, '$.serving_size'), '') AS serving_key FROM json_each($2)) k \
     JOIN food_entries l ON l.id = (SELECT e.id FROM food_entries e WHERE e.user_id = $1 \
        AND lower(trim(e.name)) = k.name_key AND COALESCE(e.serving_size, '') = k.serving_key \
        ORDER BY e.eaten_at DESC, e.id DESC LIMIT 1) \
     WHERE true \
     ON CONFLICT (user_id, name_key, serving_key) DO UPDATE SET \
        times_logged = EXCLUDED.times_logged, name = EXCLUDED.name, \
        serving_size = EXCLUDED.serving_size, calories = EXCLUDED.calories, \
        protein = EXCLUDED.protein, carbs = EXCLUDED.carbs, fat = EXCLUDED.fat, \
        meal_type = EXCLUDED.meal_type, last_logged_at = EXCLUDED.last_logged_at, \
        last_entry_id = EXCLUDED.last_entry_id",
    "DELETE FROM food_summaries WHERE user_id = $1 \
     AND (name_key, serving_key) IN (SELECT lower(trim(json_extract(value, '$.name'))), \
        COALESCE(json_extract(value, '$.serving_size'), '') FROM json_each($2)) \
     AND NOT EXISTS (SELECT 1 FROM food_entries e WHERE e.user_id = $1 \
        AND lower(trim(e.name)) = food_summaries.name_key \
        AND COALESCE(e.serving_size, '') = food_summaries.serving_key)",
];

/// The user's foods (`$1`), by `$order`, at most `$2`: a range of an index of the summaries.
macro_rules! foods_query {
    ($order:literal) => {
        concat!(
            "SELECT name, serving_size, CAST(calories AS DOUBLE PRECISION) AS calories, ",
            "CAST(protein AS DOUBLE PRECISION) AS protein, CAST(carbs AS DOUBLE PRECISION) AS carbs, ",
            "CAST(fat AS DOUBLE PRECISION) AS fat, meal_type, last_logged_at, ",
            "CAST(times_logged AS BIGINT) AS times_logged FROM food_summaries WHERE user_id = $1 ",
            "ORDER BY ", $order, " LIMIT $2"
        )
    };
}

const RECENT: &str = foods_query!("last_logged_at DESC, last_entry_id DESC");
const FREQUENT: &str = foods_query!("times_logged DESC, last_logged_at DESC, last_entry_id DESC");

impl Store {
    /// The user's foods in `order`, at most `limit`, in one indexed read.
    pub async fn foods(&self, user_id: &str, order: FoodOrder, limit: u32) -> Result<Vec<Food>> {
        let sql = match order {
            FoodOrder::Recent => RECENT,
            FoodOrder::Frequent => FREQUENT,
        };
        with_db!(self, |conn| {
            Ok(self
                .query_as(sql)
                .bind(user_id)
                .bind(i64::from(limit))
                .fetch_all(&mut **conn)
                .await?)
        })
    }
}

/// The refresh statements of `dialect`.
pub(super) fn refresh_statements(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Postgres => std::slice::from_ref(&REFRESH_POSTGRES),
        Dialect::Sqlite => &REFRESH_SQLITE,
    }
}
