//! Food diary entries (CONTRACT §3 "Food diary"): the entry's JSON and the one validation of
//! `POST` and `PATCH` bodies. What entries share with the other logs (the user's day, the list
//! query, paging, idempotency) is in [`super::records`].

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::badges::EarnedBadge;
use super::cursor::Cursor;
use super::records::{self, Filter, Kind, Positioned};
use crate::error::{Error, Result};
use crate::time::{self, amount};
use crate::validate::spec::{Choice, Key, Number, Text};
use crate::validate::{Body, Field, Fields, Len, Mode, Presence, Spec, Unknown};

pub const MEAL_TYPES: [&str; 4] = ["breakfast", "lunch", "dinner", "snack"];

/// The problem stated for an `imageKey` that is not one of the caller's food images.
pub const IMAGE_KEY_PROBLEM: &str = "must be the key of a food image you uploaded";

pub const NAME: Spec<Text> = Spec {
    name: "name",
    presence: Presence::Required,
    rule: Text(Len::between(1, 255)),
    doc: "1–255 characters after trimming",
    example: "\"Grilled Chicken Salad\"",
};
pub const CALORIES: Spec<Number> = Spec {
    name: "calories",
    presence: Presence::Required,
    rule: Number {
        min: 0.0,
        max: 10_000.0,
    },
    doc: "kcal (a JSON number; 2 decimals are kept)",
    example: "350",
};
pub const MEAL_TYPE: Spec<Choice> = Spec {
    name: "mealType",
    presence: Presence::Required,
    rule: Choice(&MEAL_TYPES),
    doc: "",
    example: "\"lunch\"",
};
pub const SERVING_SIZE: Spec<Text> = Spec {
    name: "servingSize",
    presence: Presence::Nullable,
    rule: Text(Len::at_most(255)),
    doc: "At most 255 characters; empty or null means none",
    example: "\"1 bowl\"",
};
/// Grams of a macro.
const fn macro_spec(name: &'static str, example: &'static str) -> Spec<Number> {
    Spec {
        name,
        presence: Presence::Nullable,
        rule: Number {
            min: 0.0,
            max: 1000.0,
        },
        doc: "Grams (a JSON number; 2 decimals are kept), or null",
        example,
    }
}
pub const PROTEIN: Spec<Number> = macro_spec("protein", "30");
pub const CARBS: Spec<Number> = macro_spec("carbs", "20");
pub const FAT: Spec<Number> = macro_spec("fat", "15");
pub const NOTES: Spec<Text> = Spec {
    name: "notes",
    presence: Presence::Nullable,
    rule: Text(Len::at_most(2000)),
    doc: "At most 2000 characters; empty or null means none",
    example: "\"No dressing\"",
};
pub const IMAGE_KEY: Spec<Key> = Spec {
    name: "imageKey",
    presence: Presence::Nullable,
    rule: Key(IMAGE_KEY_PROBLEM),
    doc: "The key of an image the caller uploaded to `food-images`, or null",
    example: "\"user-1/5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f.jpg\"",
};

/// The body of `POST /food-entries` (and, any subset of it, of `PATCH`). Other fields are
/// ignored: the Image Service sends its analysis along.
pub static BODY: Body = Body {
    fields: &[
        &NAME,
        &CALORIES,
        &MEAL_TYPE,
        &SERVING_SIZE,
        &PROTEIN,
        &CARBS,
        &FAT,
        &NOTES,
        &records::TIMESTAMP,
        &IMAGE_KEY,
    ],
    unknown: Unknown::Ignore,
    doc: "A food entry. Fields not named here are ignored.",
};

/// The `mealType` filter of `GET /food-entries`.
pub const MEAL_FILTER: Filter = Filter {
    param: "mealType",
    choices: &MEAL_TYPES,
};

/// The food diary among the logs.
pub struct Food;

impl Kind for Food {
    const CREATE: &'static str = "POST /food-entries";
    const NOT_FOUND: &'static str = "Food entry not found";
    const DELETED: &'static str = "Food entry deleted successfully";
}

/// An entry as every endpoint shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f", "userId": "user-1",
    "name": "Grilled Chicken Salad", "calories": 350, "mealType": "lunch",
    "servingSize": "1 bowl", "protein": 30, "carbs": 20, "fat": 15, "notes": null,
    "imageKey": null, "timestamp": "2024-07-11T10:30:00.000Z",
    "createdAt": "2024-07-11T10:31:02.120Z"}))]
pub struct Entry {
    pub id: String,
    pub user_id: String,
    pub name: String,
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub calories: f64,
    /// `breakfast`, `lunch`, `dinner` or `snack`.
    pub meal_type: String,
    #[schema(required = true)]
    pub serving_size: Option<String>,
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub protein: Option<f64>,
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub carbs: Option<f64>,
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub fat: Option<f64>,
    #[schema(required = true)]
    pub notes: Option<String>,
    /// An image in the `food-images` bucket (`GET /images/food-images/{imageKey}`).
    #[schema(required = true)]
    pub image_key: Option<String>,
    /// When the food was eaten.
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    #[sqlx(rename = "eaten_at")]
    pub timestamp: DateTime<Utc>,
    /// When the entry was logged.
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl Positioned for Entry {
    fn position(&self) -> Cursor {
        Cursor {
            timestamp: self.timestamp,
            id: self.id.clone(),
        }
    }
}

/// What `POST` and `PATCH /food-entries` answer: the entry and the badges the write earned.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryCreated {
    #[serde(flatten)]
    pub entry: Entry,
    /// The badges this write earned (empty when none).
    pub badges_earned: Vec<EarnedBadge>,
}

/// A `POST /food-entries` body, validated: an entry still to be logged.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    pub name: String,
    pub calories: f64,
    pub meal_type: &'static str,
    pub serving_size: Option<String>,
    pub protein: Option<f64>,
    pub carbs: Option<f64>,
    pub fat: Option<f64>,
    pub notes: Option<String>,
    pub image_key: Option<String>,
    /// `None`: now.
    pub timestamp: Option<DateTime<Utc>>,
}

crate::body_schema!(NewEntry, "NewFoodEntry", BODY, Mode::Create);
crate::body_schema!(EntryFields, "FoodEntryChanges", BODY, Mode::Change);

impl NewEntry {
    pub fn read(body: &Value, now: DateTime<Utc>) -> Result<Self> {
        let fields = read(body, Mode::Create, now)?;
        Self::complete(fields).ok_or_else(|| {
            Error::internal("required entry fields passed validation without values")
        })
    }

    /// The new entry in `fields`, when it has every required field.
    pub fn complete(fields: EntryFields) -> Option<Self> {
        Some(Self {
            name: fields.name?,
            calories: fields.calories?,
            meal_type: fields.meal_type?,
            serving_size: fields.serving_size.flatten(),
            protein: fields.protein.flatten(),
            carbs: fields.carbs.flatten(),
            fat: fields.fat.flatten(),
            notes: fields.notes.flatten(),
            image_key: fields.image_key.flatten(),
            timestamp: fields.timestamp,
        })
    }

    /// The entry `user_id` logs `now`.
    pub fn into_entry(self, user_id: &str, now: DateTime<Utc>) -> Entry {
        Entry {
            id: records::new_id(),
            user_id: user_id.to_owned(),
            name: self.name,
            calories: self.calories,
            meal_type: self.meal_type.to_owned(),
            serving_size: self.serving_size,
            protein: self.protein,
            carbs: self.carbs,
            fat: self.fat,
            notes: self.notes,
            image_key: self.image_key,
            timestamp: self.timestamp.unwrap_or(now),
            created_at: now,
        }
    }
}

/// What a `POST` or `PATCH` body says about an entry, validated. `None` leaves a field
/// alone; `Some(None)` clears a nullable one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EntryFields {
    pub name: Option<String>,
    pub calories: Option<f64>,
    pub meal_type: Option<&'static str>,
    pub serving_size: Option<Option<String>>,
    pub protein: Option<Option<f64>>,
    pub carbs: Option<Option<f64>>,
    pub fat: Option<Option<f64>>,
    pub notes: Option<Option<String>>,
    pub image_key: Option<Option<String>>,
    pub timestamp: Option<DateTime<Utc>>,
}

impl EntryFields {
    /// The image key the body names (to check that the caller owns it).
    pub fn new_image_key(&self) -> Option<&str> {
        self.image_key.as_ref()?.as_deref()
    }

    /// `entry` with the change applied.
    pub fn apply(&self, entry: &Entry) -> Entry {
        let pick = |change: &Option<Option<String>>, stored: &Option<String>| {
            change.clone().unwrap_or_else(|| stored.clone())
        };
        Entry {
            name: self.name.clone().unwrap_or_else(|| entry.name.clone()),
            calories: self.calories.unwrap_or(entry.calories),
            meal_type: self
                .meal_type
                .map_or_else(|| entry.meal_type.clone(), str::to_owned),
            serving_size: pick(&self.serving_size, &entry.serving_size),
            protein: self.protein.unwrap_or(entry.protein),
            carbs: self.carbs.unwrap_or(entry.carbs),
            fat: self.fat.unwrap_or(entry.fat),
            notes: pick(&self.notes, &entry.notes),
            image_key: pick(&self.image_key, &entry.image_key),
            timestamp: self.timestamp.unwrap_or(entry.timestamp),
            ..entry.clone()
        }
    }

    /// Whether the change may alter a day's totals: an amount, or the day itself.
    pub fn touches_totals(&self) -> bool {
        self.calories.is_some()
            || self.protein.is_some()
            || self.carbs.is_some()
            || self.fat.is_some()
            || self.timestamp.is_some()
    }
}

/// A `POST /food-entries` body as the new entry of `user_id`, logged `now`.
pub fn parse_new_entry(body: &Value, user_id: &str, now: DateTime<Utc>) -> Result<Entry> {
    Ok(NewEntry::read(body, now)?.into_entry(user_id, now))
}

/// A `PATCH /food-entries/{id}` body: any of the `POST` fields, validated the same way; a
/// body that changes none of them is a 400.
pub fn parse_entry_changes(body: &Value, now: DateTime<Utc>) -> Result<EntryFields> {
    read(body, Mode::Change, now)
}

/// The one validation of an entry body, in its [`BODY`] shape: on create `name`, `calories`
/// and `mealType` are required and a null `timestamp` means now; on change every field is
/// optional, and the ones an entry cannot be without cannot be null.
fn read(body: &Value, mode: Mode, now: DateTime<Utc>) -> Result<EntryFields> {
    let mut fields = Fields::of_body(body, &BODY, mode)?;
    let entry = read_fields(&mut fields, now);
    fields.finish()?;
    Ok(entry)
}

/// A nullable amount of `fields`, kept to 2 decimals.
pub fn read_amount(fields: &mut Fields<'_>, spec: &Spec<Number>) -> Option<Option<f64>> {
    fields
        .read(spec)
        .update()
        .map(|value| value.map(amount::round))
}

/// A nullable text of `fields`; an empty text is no text.
pub fn read_text(fields: &mut Fields<'_>, spec: &Spec<Text>) -> Option<Option<String>> {
    fields
        .read(spec)
        .update()
        .map(|value| value.filter(|text| !text.is_empty()))
}

/// The entry fields of `fields` (a saved meal's items are read with the same readers);
/// problems are recorded in `fields`.
pub fn read_fields(fields: &mut Fields<'_>, now: DateTime<Utc>) -> EntryFields {
    EntryFields {
        name: fields.read(&NAME).value(),
        calories: fields.read(&CALORIES).value().map(amount::round),
        meal_type: fields.read(&MEAL_TYPE).value(),
        serving_size: read_text(fields, &SERVING_SIZE),
        protein: read_amount(fields, &PROTEIN),
        carbs: read_amount(fields, &CARBS),
        fat: read_amount(fields, &FAT),
        notes: read_text(fields, &NOTES),
        image_key: match fields.read(&IMAGE_KEY) {
            Field::Value(key) => Some(Some(key.as_str().to_owned())),
            field => field.update().map(|_| None),
        },
        timestamp: records::read_timestamp(fields, now),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::error::FieldErrors;

    fn now() -> DateTime<Utc> {
        time::parse_instant("2024-07-11T10:31:02.120Z").unwrap()
    }

    fn problems(result: Result<impl std::fmt::Debug>) -> FieldErrors {
        match result {
            Err(Error::Validation(fields)) => fields,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_full_entry_is_read_and_trimmed() {
        let body = json!({"name": "  Grilled Chicken Salad ", "calories": 350, "mealType": "lunch",
            "servingSize": "1 bowl", "protein": 30.555, "carbs": 20, "fat": null, "notes": "",
            "imageKey": "user-1/photo.jpg", "timestamp": "2024-07-11T12:30:00+02:00",
            "confidence": 0.93, "detectedItems": ["chicken"]});
        let entry = parse_new_entry(&body, "user-1", now()).unwrap();
        assert_eq!(entry.name, "Grilled Chicken Salad");
        assert_eq!(entry.calories, 350.0);
        assert_eq!(entry.meal_type, "lunch");
        assert_eq!(entry.serving_size.as_deref(), Some("1 bowl"));
        assert_eq!(entry.protein, Some(30.56));
        assert_eq!(entry.fat, None);
        assert_eq!(entry.notes, None, "an empty text is no text");
        assert_eq!(entry.image_key.as_deref(), Some("user-1/photo.jpg"));
        assert_eq!(
            time::format_instant(&entry.timestamp),
            "2024-07-11T10:30:00.000Z"
        );
        assert_eq!(entry.created_at, now());
        assert_eq!(entry.user_id, "user-1");
        assert!(uuid::Uuid::parse_str(&entry.id).is_ok());
    }

    #[test]
    fn the_timestamp_defaults_to_the_time_of_logging() {
        for body in [
            json!({"name": "Tea", "calories": 0, "mealType": "snack"}),
            json!({"name": "Tea", "calories": 0, "mealType": "snack", "timestamp": null}),
        ] {
            assert_eq!(parse_new_entry(&body, "u", now()).unwrap().timestamp, now());
        }
    }

    #[test]
    fn every_field_is_checked_and_named() {
        let body = json!({"name": " ", "calories": "350", "mealType": "brunch",
            "servingSize": "x".repeat(256), "protein": -1, "carbs": 1000.5, "fat": true,
            "notes": "n".repeat(2001), "imageKey": "../etc/passwd", "timestamp": "yesterday"});
        let errors = problems(parse_new_entry(&body, "u", now()));
        let named: Vec<&str> = errors.keys().map(String::as_str).collect();
        let mut expected = BODY.names();
        expected.sort_unstable();
        assert_eq!(named, expected);
        assert_eq!(
            errors["mealType"],
            "must be one of: breakfast, lunch, dinner, snack"
        );
        assert_eq!(errors["calories"], "must be a number between 0 and 10000");
    }

    #[test]
    fn nul_characters_are_rejected_not_stored() {
        let body = json!({"name": "a\u{0}b", "calories": 1, "mealType": "snack", "notes": "\u{0}"});
        let errors = problems(parse_new_entry(&body, "u", now()));
        assert_eq!(errors["name"], "must not contain NUL characters");
        assert_eq!(errors["notes"], "must not contain NUL characters");
    }

    #[test]
    fn required_fields_are_required_on_create_only() {
        let errors = problems(parse_new_entry(&json!({}), "u", now()));
        assert_eq!(errors.len(), 3);
        assert_eq!(errors["name"], "is required");
        let changes = parse_entry_changes(&json!({"calories": 10}), now()).unwrap();
        assert_eq!(
            changes,
            EntryFields {
                calories: Some(10.0),
                ..EntryFields::default()
            }
        );
    }

    #[test]
    fn bounds_are_inclusive() {
        let body = json!({"name": "n".repeat(255), "calories": 10000, "mealType": "dinner",
            "protein": 1000, "carbs": 0, "servingSize": "s".repeat(255), "notes": "ü".repeat(2000),
            "timestamp": "2024-07-12T10:31:02.120Z"});
        assert!(parse_new_entry(&body, "u", now()).is_ok());
        let late = json!({"name": "n", "calories": 1, "mealType": "dinner",
            "timestamp": "2024-07-12T10:31:02.121Z"});
        assert_eq!(
            problems(parse_new_entry(&late, "u", now()))["timestamp"],
            "must be at most 24 hours in the future"
        );
        let long = json!({"name": "n".repeat(256), "calories": 10000.01, "mealType": "dinner"});
        assert_eq!(problems(parse_new_entry(&long, "u", now())).len(), 2);
    }

    #[test]
    fn a_patch_must_change_something_and_cannot_clear_what_an_entry_needs() {
        let errors = problems(parse_entry_changes(&json!({"unknown": 1}), now()));
        assert!(errors["body"].starts_with("must change at least one of: name, calories"));
        for field in ["name", "calories", "mealType", "timestamp"] {
            let errors = problems(parse_entry_changes(&json!({field: null}), now()));
            assert_eq!(errors[field], "must not be null");
        }
        let cleared =
            parse_entry_changes(&json!({"notes": null, "imageKey": null}), now()).unwrap();
        assert!(!cleared.touches_totals());
        assert!(
            parse_entry_changes(&json!({"fat": null}), now())
                .unwrap()
                .touches_totals()
        );
        assert_eq!(cleared.notes, Some(None));
        assert_eq!(cleared.image_key, Some(None));
        assert_eq!(cleared.new_image_key(), None);
        assert!(matches!(
            parse_entry_changes(&json!([1]), now()),
            Err(Error::Validation(fields)) if fields.contains_key("body")
        ));
    }

    #[test]
    fn entries_serialize_as_the_contract_shows() {
        let body = json!({"name": "Grilled Chicken Salad", "calories": 350, "mealType": "lunch",
            "servingSize": "1 bowl", "protein": 30, "carbs": 20.5, "fat": 15,
            "timestamp": "2024-07-11T10:30:00Z"});
        let entry = parse_new_entry(&body, "user-1", now()).unwrap();
        let json = serde_json::to_value(EntryCreated {
            entry: entry.clone(),
            badges_earned: vec![],
        })
        .unwrap();
        assert_eq!(
            json,
            json!({"id": entry.id, "userId": "user-1", "name": "Grilled Chicken Salad",
                "calories": 350, "mealType": "lunch", "servingSize": "1 bowl", "protein": 30,
                "carbs": 20.5, "fat": 15, "notes": null, "imageKey": null,
                "timestamp": "2024-07-11T10:30:00.000Z", "createdAt": "2024-07-11T10:31:02.120Z",
                "badgesEarned": []})
        );
    }

    proptest! {
        #[test]
        fn accepted_amounts_have_at_most_two_decimals(calories in 0.0f64..10_000.0) {
            let body = json!({"name": "n", "calories": calories, "mealType": "snack"});
            let entry = parse_new_entry(&body, "u", now()).unwrap();
            prop_assert!((entry.calories * 100.0 - (entry.calories * 100.0).round()).abs() < 1e-6);
            prop_assert!((0.0..=10_000.0).contains(&entry.calories));
        }
    }
}
