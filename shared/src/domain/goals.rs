//! Nutrition goals: their bounds, the defaults, the one validation of the shape that
//! `PUT /nutrition-goals` and `PUT /profile` (`preferences.nutritionGoals`) both accept, and the
//! lenient reading of goals as stored (rows of the previous service may hold odd values).

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::time::amount;
use crate::validate::spec::Number;
use crate::validate::{Body, Fields, Mode, Presence, Spec, Unknown};

/// kcal per day.
pub const CALORIES: Spec<Number> = Spec {
    name: "calories",
    presence: Presence::Required,
    rule: Number {
        min: 800.0,
        max: 4000.0,
    },
    doc: "kcal per day (a JSON number)",
    example: "2000",
};
/// Grams per day.
pub const PROTEIN: Spec<Number> = Spec {
    name: "protein",
    presence: Presence::Required,
    rule: Number {
        min: 10.0,
        max: 500.0,
    },
    doc: "Grams per day (a JSON number)",
    example: "100",
};
/// Grams per day.
pub const CARBS: Spec<Number> = Spec {
    name: "carbs",
    presence: Presence::Required,
    rule: Number {
        min: 20.0,
        max: 1000.0,
    },
    doc: "Grams per day (a JSON number)",
    example: "250",
};
/// Grams per day.
pub const FAT: Spec<Number> = Spec {
    name: "fat",
    presence: Presence::Required,
    rule: Number {
        min: 10.0,
        max: 400.0,
    },
    doc: "Grams per day (a JSON number)",
    example: "70",
};

/// The body of `PUT /nutrition-goals` (and of `preferences.nutritionGoals`): all four.
pub static BODY: Body = Body {
    fields: &[&CALORIES, &PROTEIN, &CARBS, &FAT],
    unknown: Unknown::Deny,
    doc: "A user's daily targets: kcal and grams of each macro, all four required.",
};

/// A user's daily targets: kcal and grams of each macro.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NutritionGoals {
    #[serde(with = "amount")]
    pub calories: f64,
    #[serde(with = "amount")]
    pub protein: f64,
    #[serde(with = "amount")]
    pub carbs: f64,
    #[serde(with = "amount")]
    pub fat: f64,
}

crate::body_schema!(NutritionGoals, "NutritionGoals", BODY, Mode::Create);

impl NutritionGoals {
    /// The goals of a user who has set none; every summary uses them too.
    pub const DEFAULT: NutritionGoals = NutritionGoals {
        calories: 2000.0,
        protein: 100.0,
        carbs: 250.0,
        fat: 70.0,
    };

    /// The body of `PUT /nutrition-goals`.
    pub fn from_body(body: &Value) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, Mode::Create)?;
        let goals = Self::read(&mut fields);
        fields.finish()?;
        // Every goal is required: when no problem was recorded, each one holds a value.
        goals.ok_or_else(|| Error::internal("goals validated without their values"))
    }

    /// Reads the goals shape from `fields` (a body of [`BODY`]'s shape): all four required,
    /// JSON numbers within their bounds, kept to 2 decimals as they are shown. Problems are
    /// recorded in `fields`; `None` when there were any.
    pub fn read(fields: &mut Fields<'_>) -> Option<Self> {
        let mut number = |spec| fields.read(spec).value().map(amount::round);
        let calories = number(&CALORIES);
        let protein = number(&PROTEIN);
        let carbs = number(&CARBS);
        let fat = number(&FAT);
        Some(Self {
            calories: calories?,
            protein: protein?,
            carbs: carbs?,
            fat: fat?,
        })
    }

    /// Goals as stored (`user_preferences.nutrition_goals`), read leniently: each key that is a
    /// positive number (or a string holding one) is taken as it is, any other key falls back to
    /// its default. Nothing stored means the defaults.
    pub fn from_stored(stored: Option<&Value>) -> Self {
        let pick = |key: &str, default: f64| {
            stored
                .and_then(|goals| goals.get(key))
                .and_then(lenient_number)
                .filter(|value| value.is_finite() && *value > 0.0)
                .unwrap_or(default)
        };
        let defaults = Self::DEFAULT;
        Self {
            calories: pick("calories", defaults.calories),
            protein: pick("protein", defaults.protein),
            carbs: pick("carbs", defaults.carbs),
            fat: pick("fat", defaults.fat),
        }
    }
}

fn lenient_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::FieldErrors;

    fn read(body: Value) -> Result<NutritionGoals, FieldErrors> {
        match NutritionGoals::from_body(&body) {
            Ok(goals) => Ok(goals),
            Err(Error::Validation(problems)) => Err(problems),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn valid_goals_are_read_to_two_decimals() {
        let goals = read(json!({"calories": 1800, "protein": 90.555, "carbs": 200, "fat": 60}));
        assert_eq!(
            goals,
            Ok(NutritionGoals {
                calories: 1800.0,
                protein: 90.56,
                carbs: 200.0,
                fat: 60.0
            })
        );
    }

    #[test]
    fn the_bounds_are_inclusive() {
        assert!(read(json!({"calories": 800, "protein": 10, "carbs": 20, "fat": 10})).is_ok());
        assert!(read(json!({"calories": 4000, "protein": 500, "carbs": 1000, "fat": 400})).is_ok());
        let problems =
            read(json!({"calories": 799.99, "protein": 500.01, "carbs": 19, "fat": 401}))
                .unwrap_err();
        assert_eq!(problems.len(), 4);
        assert_eq!(
            problems["calories"],
            "must be a number between 800 and 4000"
        );
        assert_eq!(problems["fat"], "must be a number between 10 and 400");
    }

    #[test]
    fn every_goal_is_required_and_must_be_a_json_number() {
        let problems =
            read(json!({"calories": "2000", "protein": true, "carbs": null})).unwrap_err();
        assert_eq!(
            problems["calories"],
            "must be a number between 800 and 4000"
        );
        assert_eq!(problems["protein"], "must be a number between 10 and 500");
        assert_eq!(problems["carbs"], "must not be null");
        assert_eq!(problems["fat"], "is required");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let problems =
            read(json!({"calories": 2000, "protein": 100, "carbs": 250, "fat": 70, "fibre": 30}))
                .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems["fibre"], "unknown field");
    }

    #[test]
    fn stored_goals_fall_back_per_key_to_the_defaults() {
        assert_eq!(NutritionGoals::from_stored(None), NutritionGoals::DEFAULT);
        assert_eq!(
            NutritionGoals::from_stored(Some(&json!("nonsense"))),
            NutritionGoals::DEFAULT
        );
        let odd = json!({"calories": "1800", "protein": null, "carbs": -5, "fat": 60.5, "x": 1});
        assert_eq!(
            NutritionGoals::from_stored(Some(&odd)),
            NutritionGoals {
                calories: 1800.0,
                protein: 100.0,
                carbs: 250.0,
                fat: 60.5
            }
        );
    }

    #[test]
    fn goals_serialize_as_plain_numbers() {
        let json = serde_json::to_value(NutritionGoals {
            protein: 90.5,
            ..NutritionGoals::DEFAULT
        })
        .unwrap();
        assert_eq!(
            json,
            json!({"calories": 2000, "protein": 90.5, "carbs": 250, "fat": 70})
        );
        let defaults = serde_json::to_value(NutritionGoals::DEFAULT).unwrap();
        assert_eq!(
            NutritionGoals::from_body(&defaults).unwrap(),
            NutritionGoals::DEFAULT
        );
    }
}
