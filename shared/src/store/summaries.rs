//! Summaries: a user's days from `daily_totals`, with the goals they are measured against.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use super::profile::lenient_json;
use super::{Dialect, Store, with_db};
use crate::domain::goals::NutritionGoals;
use crate::domain::summary::{DateRange, DayTotals};
use crate::error::Result;

/// The user's goals joined with their days in the range: one indexed range read of
/// `daily_totals` (its primary key is `(user_id, local_date)`), and at least one row (the
/// goals) even when no day has entries.
macro_rules! days_query {
    ($goals:literal) => {
        concat!(
            "SELECT ",
            $goals,
            " AS nutrition_goals, d.local_date, d.entries, ",
            "CAST(d.calories AS DOUBLE PRECISION), CAST(d.protein AS DOUBLE PRECISION), ",
            "CAST(d.carbs AS DOUBLE PRECISION), CAST(d.fat AS DOUBLE PRECISION) ",
            "FROM users u ",
            "LEFT JOIN user_preferences p ON p.user_id = u.id ",
            "LEFT JOIN daily_totals d ON d.user_id = u.id AND d.local_date BETWEEN $2 AND $3 ",
            "WHERE u.id = $1"
        )
    };
}

const DAYS_POSTGRES: &str = days_query!("p.nutrition_goals::text");
const DAYS_SQLITE: &str = days_query!("p.nutrition_goals");

type DayRow = (
    Option<String>,
    Option<NaiveDate>,
    Option<i32>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

impl Store {
    /// The user's current goals (the defaults when unset) and the sums of each of their days in
    /// `range` that has entries, in one round trip.
    pub async fn nutrition_days(
        &self,
        user_id: &str,
        range: DateRange,
    ) -> Result<(NutritionGoals, BTreeMap<NaiveDate, DayTotals>)> {
        let sql = match self.dialect() {
            Dialect::Postgres => DAYS_POSTGRES,
            Dialect::Sqlite => DAYS_SQLITE,
        };
        let rows: Vec<DayRow> = with_db!(self, |conn| {
            Ok(self
                .query_as(sql)
                .bind(user_id)
                .bind(range.start())
                .bind(range.end())
                .fetch_all(&mut **conn)
                .await?)
        })?;
        let stored: Option<Value> = lenient_json(rows.first().and_then(|row| row.0.as_deref()));
        let days = rows
            .into_iter()
            .filter_map(|(_, date, entries, calories, protein, carbs, fat)| {
                let totals = DayTotals {
                    entries: i64::from(entries.unwrap_or_default()),
                    calories: calories.unwrap_or_default(),
                    protein: protein.unwrap_or_default(),
                    carbs: carbs.unwrap_or_default(),
                    fat: fat.unwrap_or_default(),
                };
                Some((date?, totals))
            })
            .collect();
        Ok((NutritionGoals::from_stored(stored.as_ref()), days))
    }
}
