//! Summaries: a user's days from their day sums (`daily_totals`, `activity_days`,
//! `water_days`), with the targets they are measured against.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use super::profile::lenient_json;
use super::{Dialect, Store, with_db};
use crate::domain::goals::NutritionGoals;
use crate::domain::profile::{DEFAULT_WATER_GOAL, ExerciseCalories};
use crate::domain::summary::{DateRange, DayTotals, Targets};
use crate::error::Result;

/// The user's targets joined with their days in the range: one indexed range read of each
/// day table (their primary keys are `(user_id, local_date)`), and at least one row (the
/// targets) even when no day has a record. `kind` tells the tables' rows apart; every sum is
/// a float in every arm (SQLite would hand back an integer `0`, which is no `f64`).
macro_rules! days_query {
    ($goals:literal) => {
        concat!(
            "SELECT ", $goals, " AS nutrition_goals, p.exercise_calories, ",
            "CAST(p.water_goal AS BIGINT) AS water_goal, d.kind, d.local_date, ",
            "CAST(d.n AS BIGINT) AS n, d.a, d.b, d.c, d.e ",
            "FROM users u LEFT JOIN user_preferences p ON p.user_id = u.id LEFT JOIN (",
            "SELECT 'food' AS kind, local_date, entries AS n, CAST(calories AS DOUBLE PRECISION) AS a, ",
            "CAST(protein AS DOUBLE PRECISION) AS b, CAST(carbs AS DOUBLE PRECISION) AS c, ",
            "CAST(fat AS DOUBLE PRECISION) AS e ",
            "FROM daily_totals WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 ",
            "UNION ALL SELECT 'activity', local_date, activities, ",
            "CAST(calories_burned AS DOUBLE PRECISION), 0.0, 0.0, 0.0 ",
            "FROM activity_days WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 ",
            "UNION ALL SELECT 'water', local_date, drinks, CAST(amount_ml AS DOUBLE PRECISION), 0.0, 0.0, 0.0 ",
            "FROM water_days WHERE user_id = $1 AND local_date BETWEEN $2 AND $3",
            ") d ON TRUE WHERE u.id = $1"
        )
    };
}

const DAYS_POSTGRES: &str = days_query!("p.nutrition_goals::text");
const DAYS_SQLITE: &str = days_query!("p.nutrition_goals");

type DayRow = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<NaiveDate>,
    Option<i64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

impl Store {
    /// The user's current targets (the defaults when unset) and the sums of each of their
    /// days in `range` that has records, in one round trip.
    pub async fn nutrition_days(
        &self,
        user_id: &str,
        range: DateRange,
    ) -> Result<(Targets, BTreeMap<NaiveDate, DayTotals>)> {
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
        let targets = match rows.first() {
            Some((goals, exercise, water, ..)) => {
                let stored: Option<Value> = lenient_json(goals.as_deref());
                Targets {
                    goals: NutritionGoals::from_stored(stored.as_ref()),
                    exercise_calories: exercise
                        .as_deref()
                        .and_then(ExerciseCalories::from_name)
                        .unwrap_or_default(),
                    water_goal: water.unwrap_or(DEFAULT_WATER_GOAL),
                }
            }
            None => Targets::default(),
        };
        let mut days: BTreeMap<NaiveDate, DayTotals> = BTreeMap::new();
        for (_, _, _, kind, date, n, a, b, c, e) in rows {
            let (Some(kind), Some(date)) = (kind, date) else {
                continue;
            };
            let day = days.entry(date).or_default();
            let a = a.unwrap_or_default();
            match kind.as_str() {
                "food" => {
                    day.entries = n.unwrap_or_default();
                    day.calories = a;
                    day.protein = b.unwrap_or_default();
                    day.carbs = c.unwrap_or_default();
                    day.fat = e.unwrap_or_default();
                }
                "activity" => day.calories_burned = a,
                _ => day.water = a.round() as i64,
            }
        }
        Ok((targets, days))
    }
}
