//! Saved meals: a named list of foods to log in one step (`/meals`), and logging one
//! (`POST /meals/{id}/log`).
//!
//! An item is validated by the food entry's own rules ([`super::entries`]: the same fields,
//! bounds and readers), its problems named by position (`items[3].calories`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::entries::{self, Entry};
use super::records::{self, Kind};
use crate::error::{Error, Result};
use crate::time::{self, amount};
use crate::validate::spec::{Choice, Date, NestedList, Number, Text};
use crate::validate::{Body, Field, Fields, Len, Mode, Presence, Spec, Unknown};

/// The most meals a user keeps, and the most items a meal has.
pub const MAX_MEALS: i64 = 200;
pub const MAX_ITEMS: usize = 50;

/// Saved meals, as their handlers name them.
pub struct Meals;

impl Kind for Meals {
    const CREATE: &'static str = "POST /meals";
    const NOT_FOUND: &'static str = "Meal not found";
    const DELETED: &'static str = "Meal deleted successfully";
}

pub const NAME: Spec<Text> = Spec {
    name: "name",
    presence: Presence::Required,
    rule: Text(Len::between(1, 100)),
    doc: "1–100 characters after trimming",
    example: "\"Usual breakfast\"",
};

/// An item: the food fields of an entry, with the entry's own rules.
pub static ITEM: Body = Body {
    fields: &[
        &entries::NAME,
        &entries::CALORIES,
        &entries::PROTEIN,
        &entries::CARBS,
        &entries::FAT,
        &entries::SERVING_SIZE,
    ],
    unknown: Unknown::Deny,
    doc: "A food of the meal, validated as a food entry's fields are.",
};
pub const ITEMS: NestedList = NestedList {
    name: "items",
    presence: Presence::Optional,
    body: &ITEM,
    mode: Mode::Create,
    min: 1,
    max: MAX_ITEMS,
    doc: "1–50 foods; or give `fromDate` and `mealType` instead",
};
pub const FROM_DATE: Spec<Date> = Spec {
    name: "fromDate",
    presence: Presence::Optional,
    rule: Date,
    doc: "With `mealType`, instead of `items`: the meal's items are that meal's entries of this user's day",
    example: "\"2024-07-10\"",
};
pub const FROM_MEAL: Spec<Choice> = Spec {
    name: "mealType",
    presence: Presence::Optional,
    rule: entries::MEAL_TYPE.rule,
    doc: "With `fromDate`: the meal of that day to save",
    example: "\"breakfast\"",
};

/// The body of `POST /meals` and `PUT /meals/{id}`.
pub static BODY: Body = Body {
    fields: &[&NAME, &ITEMS, &FROM_DATE, &FROM_MEAL],
    unknown: Unknown::Deny,
    doc: "A saved meal: its name and its items, given or taken from a meal of the diary.",
};

/// A food of a saved meal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MealItem {
    pub name: String,
    #[serde(serialize_with = "amount::serialize")]
    #[schema(value_type = f64)]
    pub calories: f64,
    #[serde(serialize_with = "amount::optional::serialize")]
    #[schema(required = true, value_type = Option<f64>)]
    pub protein: Option<f64>,
    #[serde(serialize_with = "amount::optional::serialize")]
    #[schema(required = true, value_type = Option<f64>)]
    pub carbs: Option<f64>,
    #[serde(serialize_with = "amount::optional::serialize")]
    #[schema(required = true, value_type = Option<f64>)]
    pub fat: Option<f64>,
    #[schema(required = true)]
    pub serving_size: Option<String>,
}

impl MealItem {
    /// The food of `entry`.
    pub fn of_entry(entry: &Entry) -> Self {
        Self {
            name: entry.name.clone(),
            calories: entry.calories,
            protein: entry.protein,
            carbs: entry.carbs,
            fat: entry.fat,
            serving_size: entry.serving_size.clone(),
        }
    }
}

/// The sums of a meal's items (a null amount counts as 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct MealTotals {
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub calories: f64,
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub protein: f64,
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub carbs: f64,
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub fat: f64,
}

impl MealTotals {
    pub fn of(items: &[MealItem]) -> Self {
        let sum = |amount: fn(&MealItem) -> f64| amount::round(items.iter().map(amount).sum());
        Self {
            calories: sum(|item| item.calories),
            protein: sum(|item| item.protein.unwrap_or_default()),
            carbs: sum(|item| item.carbs.unwrap_or_default()),
            fat: sum(|item| item.fat.unwrap_or_default()),
        }
    }
}

/// A saved meal, as every endpoint shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "name": "Usual breakfast",
    "items": [{"name": "Oatmeal", "calories": 350, "protein": 12, "carbs": 60, "fat": 7,
               "servingSize": "1 bowl"},
              {"name": "Coffee", "calories": 5, "protein": null, "carbs": null, "fat": null,
               "servingSize": null}],
    "totals": {"calories": 355, "protein": 12, "carbs": 60, "fat": 7},
    "createdAt": "2024-07-11T07:35:00.000Z", "updatedAt": "2024-07-11T07:35:00.000Z"}))]
pub struct Meal {
    pub id: String,
    pub name: String,
    pub items: Vec<MealItem>,
    pub totals: MealTotals,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl Meal {
    pub fn new(
        id: String,
        name: String,
        items: Vec<MealItem>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        let totals = MealTotals::of(&items);
        Self {
            id,
            name,
            items,
            totals,
            created_at,
            updated_at,
        }
    }
}

/// Where a body's items come from.
#[derive(Clone, Debug, PartialEq)]
pub enum MealItems {
    Given(Vec<MealItem>),
    /// The entries of the meal `meal_type` of the user's day `date`.
    FromDiary {
        date: NaiveDate,
        meal_type: &'static str,
    },
}

/// A `POST /meals` or `PUT /meals/{id}` body, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct MealBody {
    pub name: String,
    pub items: MealItems,
}

crate::body_schema!(MealBody, "SavedMealBody", BODY, Mode::Create);

impl MealBody {
    pub fn read(body: &Value) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, Mode::Create)?;
        let name = fields.read(&NAME).value();
        let items = match fields.objects(&ITEMS) {
            Field::Value(objects) => {
                let mut items = Vec::with_capacity(objects.len());
                for mut object in objects {
                    items.push(read_item(&mut object));
                    fields.absorb(object);
                }
                Some(items)
            }
            _ => None,
        };
        let date = fields.read(&FROM_DATE).value();
        let meal_type = fields.read(&FROM_MEAL).value();
        let from_diary = fields.contains(FROM_DATE.name) || fields.contains(FROM_MEAL.name);
        if fields.contains(ITEMS.name) && from_diary {
            fields.reject(ITEMS.name, "cannot be combined with fromDate and mealType");
        } else if !fields.contains(ITEMS.name) && !from_diary {
            fields.reject(
                ITEMS.name,
                "is required unless fromDate and mealType are given",
            );
        } else if from_diary && !fields.contains(FROM_DATE.name) {
            fields.reject(FROM_DATE.name, "is required with mealType");
        } else if from_diary && !fields.contains(FROM_MEAL.name) {
            fields.reject(FROM_MEAL.name, "is required with fromDate");
        }
        fields.finish()?;
        let items = match (items, date, meal_type) {
            (Some(items), ..) => MealItems::Given(items.into_iter().flatten().collect()),
            (None, Some(date), Some(meal_type)) => MealItems::FromDiary { date, meal_type },
            _ => {
                return Err(Error::internal(
                    "a meal passed validation without its items",
                ));
            }
        };
        match name {
            Some(name) => Ok(Self { name, items }),
            None => Err(Error::internal("a meal passed validation without its name")),
        }
    }
}

/// An item of a body, read with the entry's readers; `None` when a problem was recorded.
fn read_item(fields: &mut Fields<'_>) -> Option<MealItem> {
    let name = fields.read(&entries::NAME).value();
    let calories = fields.read(&entries::CALORIES).value().map(amount::round);
    let protein = entries::read_amount(fields, &entries::PROTEIN);
    let carbs = entries::read_amount(fields, &entries::CARBS);
    let fat = entries::read_amount(fields, &entries::FAT);
    let serving_size = entries::read_text(fields, &entries::SERVING_SIZE);
    Some(MealItem {
        name: name?,
        calories: calories?,
        protein: protein.flatten(),
        carbs: carbs.flatten(),
        fat: fat.flatten(),
        serving_size: serving_size.flatten(),
    })
}

pub const LOG_MEAL_TYPE: Spec<Choice> = Spec {
    name: "mealType",
    presence: Presence::Required,
    rule: entries::MEAL_TYPE.rule,
    doc: "The meal the entries are logged as",
    example: "\"breakfast\"",
};
pub const SERVINGS: Spec<Number> = Spec {
    name: "servings",
    presence: Presence::Optional,
    rule: Number {
        min: 0.1,
        max: 20.0,
    },
    doc: "0.1–20 (default 1): multiplies the calories and macros of every item (2 decimals are kept)",
    example: "1.5",
};

/// The body of `POST /meals/{id}/log`.
pub static LOG_BODY: Body = Body {
    fields: &[&LOG_MEAL_TYPE, &records::TIMESTAMP, &SERVINGS],
    unknown: Unknown::Deny,
    doc: "How to log a saved meal: one entry per item.",
};

/// A `POST /meals/{id}/log` body, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct MealLog {
    pub meal_type: &'static str,
    pub timestamp: DateTime<Utc>,
    pub servings: f64,
}

crate::body_schema!(MealLog, "SavedMealLog", LOG_BODY, Mode::Create);

impl MealLog {
    pub fn read(body: &Value, now: DateTime<Utc>) -> Result<Self> {
        let mut fields = Fields::of_body(body, &LOG_BODY, Mode::Create)?;
        let meal_type = fields.read(&LOG_MEAL_TYPE).value();
        let timestamp = records::read_timestamp(&mut fields, now);
        let servings = fields.read(&SERVINGS).value().unwrap_or(1.0);
        fields.finish()?;
        match meal_type {
            Some(meal_type) => Ok(Self {
                meal_type,
                timestamp: timestamp.unwrap_or(now),
                servings,
            }),
            None => Err(Error::internal(
                "a meal log passed validation without its meal",
            )),
        }
    }

    /// The entries that log `meal` of `user_id`, written `now`: one per item, its amounts
    /// times `servings`. An entry over an entry's bounds (10000 kcal, 1000 g of a macro) is a
    /// 400 naming `servings`, as a `POST /food-entries` of it would be refused.
    pub fn entries(&self, meal: &Meal, user_id: &str, now: DateTime<Utc>) -> Result<Vec<Entry>> {
        let scale = |value: f64| amount::round(value * self.servings);
        let within = |spec: &Spec<Number>, value: f64| value <= spec.rule.max;
        let entries: Vec<Entry> = meal
            .items
            .iter()
            .map(|item| Entry {
                id: records::new_id(),
                user_id: user_id.to_owned(),
                name: item.name.clone(),
                calories: scale(item.calories),
                meal_type: self.meal_type.to_owned(),
                serving_size: item.serving_size.clone(),
                protein: item.protein.map(scale),
                carbs: item.carbs.map(scale),
                fat: item.fat.map(scale),
                notes: None,
                image_key: None,
                timestamp: self.timestamp,
                created_at: now,
            })
            .collect();
        let too_much = entries.iter().any(|entry| {
            !within(&entries::CALORIES, entry.calories)
                || [entry.protein, entry.carbs, entry.fat]
                    .into_iter()
                    .flatten()
                    .any(|grams| !within(&entries::PROTEIN, grams))
        });
        if too_much {
            return Err(Error::field(
                SERVINGS.name,
                "makes an entry of more than 10000 kcal or 1000 g of a macro",
            ));
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::FieldErrors;

    fn problems(body: Value) -> FieldErrors {
        match MealBody::read(&body) {
            Err(Error::Validation(fields)) => fields,
            other => panic!("expected a validation error for {body}, got {other:?}"),
        }
    }

    fn now() -> DateTime<Utc> {
        time::parse_instant("2024-07-11T10:00:00Z").unwrap()
    }

    #[test]
    fn items_are_read_with_the_entrys_rules_and_named_by_position() {
        let body = json!({"name": " Usual breakfast ", "items": [
            {"name": " Oatmeal ", "calories": 350.555, "protein": 12, "servingSize": ""},
            {"name": "Coffee", "calories": 5, "carbs": null}
        ]});
        let meal = MealBody::read(&body).unwrap();
        assert_eq!(meal.name, "Usual breakfast");
        let MealItems::Given(items) = meal.items else {
            panic!("items were given")
        };
        assert_eq!(items[0].name, "Oatmeal");
        assert_eq!(items[0].calories, 350.56);
        assert_eq!(items[0].serving_size, None);
        assert_eq!(items[1].carbs, None);
        let totals = MealTotals::of(&items);
        assert_eq!(
            (totals.calories, totals.protein, totals.fat),
            (355.56, 12.0, 0.0)
        );

        let mut items: Vec<Value> = (0..5)
            .map(|_| json!({"name": "x", "calories": 1}))
            .collect();
        items[3] = json!({"name": "x", "calories": "1", "fiber": 2});
        items[4] = json!("x");
        let errors = problems(json!({"name": "m", "items": items}));
        assert!(errors.contains_key("items[3].calories"), "{errors:?}");
        assert!(errors.contains_key("items[3].fiber"), "{errors:?}");
        assert_eq!(errors["items[4]"], "must be an object");
        assert!(!errors.contains_key("items[2].calories"));
        assert!(
            problems(json!({"name": "m", "items": [{"calories": 1}]}))
                .contains_key("items[0].name")
        );
    }

    #[test]
    fn items_are_given_or_taken_from_the_diary_never_both() {
        let meal =
            MealBody::read(&json!({"name": "m", "fromDate": "2024-07-10", "mealType": "lunch"}))
                .unwrap();
        assert_eq!(
            meal.items,
            MealItems::FromDiary {
                date: time::parse_date("2024-07-10").unwrap(),
                meal_type: "lunch"
            }
        );
        let item = json!({"name": "x", "calories": 1});
        for (body, field) in [
            (json!({"name": "m"}), "items"),
            (json!({"name": "m", "items": []}), "items"),
            (
                json!({"name": "m", "items": vec![item.clone(); 51]}),
                "items",
            ),
            (
                json!({"name": "m", "items": [item], "fromDate": "2024-07-10", "mealType": "lunch"}),
                "items",
            ),
            (json!({"name": "m", "fromDate": "2024-07-10"}), "mealType"),
            (json!({"name": "m", "mealType": "lunch"}), "fromDate"),
            (json!({"items": [{"name": "x", "calories": 1}]}), "name"),
            (
                json!({"name": "n".repeat(101), "items": [{"name": "x", "calories": 1}]}),
                "name",
            ),
        ] {
            assert!(problems(body.clone()).contains_key(field), "{body}");
        }
    }

    #[test]
    fn a_log_makes_one_entry_per_item_times_the_servings() {
        let meal = Meal::new(
            "m".into(),
            "Usual".into(),
            vec![
                MealItem {
                    name: "Oatmeal".into(),
                    calories: 350.0,
                    protein: Some(12.5),
                    carbs: None,
                    fat: Some(7.0),
                    serving_size: Some("1 bowl".into()),
                },
                MealItem {
                    name: "Coffee".into(),
                    calories: 5.0,
                    protein: None,
                    carbs: None,
                    fat: None,
                    serving_size: None,
                },
            ],
            now(),
            now(),
        );
        let log = MealLog::read(&json!({"mealType": "breakfast", "servings": 1.5}), now()).unwrap();
        let entries = log.entries(&meal, "ann", now()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[0].calories, entries[0].protein, entries[0].fat),
            (525.0, Some(18.75), Some(10.5))
        );
        assert_eq!(entries[1].calories, 7.5);
        assert!(
            entries
                .iter()
                .all(|e| e.meal_type == "breakfast" && e.timestamp == now())
        );
        assert_ne!(entries[0].id, entries[1].id);
        assert_eq!(
            MealLog::read(&json!({"mealType": "lunch"}), now())
                .unwrap()
                .servings,
            1.0
        );
        let huge = MealLog::read(&json!({"mealType": "lunch", "servings": 20}), now()).unwrap();
        let big = Meal::new(
            "b".into(),
            "Big".into(),
            vec![MealItem {
                calories: 600.0,
                ..meal.items[1].clone()
            }],
            now(),
            now(),
        );
        assert!(huge.entries(&big, "ann", now()).is_err());
        for (body, field) in [
            (json!({}), "mealType"),
            (json!({"mealType": "lunch", "servings": 0.05}), "servings"),
            (json!({"mealType": "lunch", "servings": 21}), "servings"),
            (json!({"mealType": "lunch", "at": "now"}), "at"),
        ] {
            let Err(Error::Validation(errors)) = MealLog::read(&body, now()) else {
                panic!("{body} is accepted")
            };
            assert!(errors.contains_key(field), "{body}");
        }
    }
}
