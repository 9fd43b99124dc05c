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
/// a float in every arm (SQLite would hand back an integer `0`, which is no `f64`). The
/// insights ([`super::insights`]) add columns, joins and arms of their own.
macro_rules! days_query {
    ($goals:literal) => {
        days_query!($goals, columns: "", joins: "", arms: "")
    };
    ($goals:literal, columns: $columns:literal, joins: $joins:literal, arms: $arms:literal) => {
        concat!(
            "SELECT ", $goals, " AS nutrition_goals, p.exercise_calories, ",
            "CAST(p.water_goal AS BIGINT) AS water_goal, ", $columns, "d.kind, d.local_date, ",
            "CAST(d.n AS BIGINT) AS n, d.a, d.b, d.c, d.e ",
            "FROM users u LEFT JOIN user_preferences p ON p.user_id = u.id ", $joins, "LEFT JOIN (",
            "SELECT 'food' AS kind, local_date, entries AS n, CAST(calories AS DOUBLE PRECISION) AS a, ",
            "CAST(protein AS DOUBLE PRECISION) AS b, CAST(carbs AS DOUBLE PRECISION) AS c, ",
            "CAST(fat AS DOUBLE PRECISION) AS e ",
            "FROM daily_totals WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 ",
            "UNION ALL SELECT 'activity', local_date, activities, ",
            "CAST(calories_burned AS DOUBLE PRECISION), 0.0, 0.0, 0.0 ",
            "FROM activity_days WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 ",
            "UNION ALL SELECT 'water', local_date, drinks, CAST(amount_ml AS DOUBLE PRECISION), 0.0, 0.0, 0.0 ",
            "FROM water_days WHERE user_id = $1 AND local_date BETWEEN $2 AND $3",
            $arms,
            ") d ON TRUE WHERE u.id = $1"
        )
    };
}
pub(super) use days_query;

const DAYS_POSTGRES: &str = days_query!("p.nutrition_goals::text");
const DAYS_SQLITE: &str = days_query!("p.nutrition_goals");

/// A row of [`days_query!`]: the user's targets, and one day sum of one table (its columns all
/// null when there is none).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct DayRow {
    nutrition_goals: Option<String>,
    exercise_calories: Option<String>,
    water_goal: Option<i64>,
    pub(super) kind: Option<String>,
    pub(super) local_date: Option<NaiveDate>,
    pub(super) n: Option<i64>,
    pub(super) a: Option<f64>,
    pub(super) b: Option<f64>,
    c: Option<f64>,
    e: Option<f64>,
}

impl DayRow {
    /// The targets every row carries: the defaults when unset, or without a row (no user).
    pub(super) fn targets(row: Option<&Self>) -> Targets {
        let Some(row) = row else {
            return Targets::default();
        };
        let stored: Option<Value> = lenient_json(row.nutrition_goals.as_deref());
        Targets {
            goals: NutritionGoals::from_stored(stored.as_ref()),
            exercise_calories: row
                .exercise_calories
                .as_deref()
                .and_then(ExerciseCalories::from_name)
                .unwrap_or_default(),
            water_goal: row.water_goal.unwrap_or(DEFAULT_WATER_GOAL),
        }
    }

    /// Adds a sum of food, activity or water to its day; rows of other kinds are not days'
    /// totals and are left alone.
    pub(super) fn add_to(&self, days: &mut BTreeMap<NaiveDate, DayTotals>) {
        let (Some(kind), Some(date)) = (self.kind.as_deref(), self.local_date) else {
            return;
        };
        if !matches!(kind, "food" | "activity" | "water") {
            return;
        }
        let day = days.entry(date).or_default();
        let a = self.a.unwrap_or_default();
        match kind {
            "food" => {
                day.entries = self.n.unwrap_or_default();
                day.calories = a;
                day.protein = self.b.unwrap_or_default();
                day.carbs = self.c.unwrap_or_default();
                day.fat = self.e.unwrap_or_default();
            }
            "activity" => day.calories_burned = a,
            _ => day.water = a.round() as i64,
        }
    }
}

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
        let targets = DayRow::targets(rows.first());
        let mut days = BTreeMap::new();
        for row in &rows {
            row.add_to(&mut days);
        }
        Ok((targets, days))
    }
}
