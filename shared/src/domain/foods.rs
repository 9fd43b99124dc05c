//! Recent and frequent foods: the distinct foods of the user's diary, each with the values of
//! its latest entry, so a food eaten before is logged again in one tap.
//!
//! A food is an entry's `name`, compared trimmed and without regard to case, with its
//! `servingSize` as it is: "Oatmeal" and " oatmeal" in "1 bowl" are one food, "Oatmeal" in
//! "2 bowls" another. The store keeps one summary per food up to date in the transaction of
//! every entry written, so listing them reads the summaries alone, however long the history.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::time::{self, amount};

/// The most foods a list answers, and how many it answers by default.
pub const MAX_LIMIT: u32 = 100;
pub const DEFAULT_LIMIT: u32 = 20;

/// How a list of foods is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoodOrder {
    /// The most recently eaten first.
    Recent,
    /// The most often logged first, then the most recently eaten.
    Frequent,
}

/// A food of the user's diary, with the values of its latest entry by `timestamp`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "Oatmeal", "servingSize": "1 bowl", "calories": 350,
    "protein": 12, "carbs": 60, "fat": 7, "mealType": "breakfast",
    "lastLoggedAt": "2024-07-11T07:30:00.000Z", "timesLogged": 14}))]
pub struct Food {
    /// The name as its latest entry has it.
    pub name: String,
    #[schema(required = true)]
    pub serving_size: Option<String>,
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub calories: f64,
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub protein: Option<f64>,
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub carbs: Option<f64>,
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub fat: Option<f64>,
    pub meal_type: String,
    /// The `timestamp` of the latest entry.
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub last_logged_at: DateTime<Utc>,
    /// How many entries of the diary are this food.
    pub times_logged: i64,
}

/// `limit` of a list of foods: 1–100, 20 when absent.
pub fn parse_limit(raw: Option<&str>) -> Result<u32> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => match raw.parse::<u32>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
            _ => Err(Error::field(
                "limit",
                format!("must be an integer between 1 and {MAX_LIMIT}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_1_to_100_and_20_by_default() {
        assert_eq!(parse_limit(None).unwrap(), 20);
        assert_eq!(parse_limit(Some("1")).unwrap(), 1);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for raw in ["0", "101", "-1", "2.5", "", "ten"] {
            let Err(Error::Validation(fields)) = parse_limit(Some(raw)) else {
                panic!("{raw:?} is accepted")
            };
            assert!(fields.contains_key("limit"), "{raw:?}");
        }
    }
}
