//! Food diary entries (CONTRACT §3 "Food diary"): the entry's JSON, the one validation of
//! `POST` and `PATCH` bodies, the list query and its paging cursor.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::badges::EarnedBadge;
use super::cursor::{Cursor, CursorKey};
use crate::error::{Error, FieldErrors, Result};
use crate::objects::ObjectKey;
use crate::time::{self, UserZone, amount};
use crate::validate::{Field, Fields, Len, Presence};

pub const MEAL_TYPES: [&str; 4] = ["breakfast", "lunch", "dinner", "snack"];

/// The body fields of `POST` and `PATCH /food-entries`; others are ignored (the Image Service
/// sends its analysis along).
pub const FIELDS: [&str; 10] = [
    "name",
    "calories",
    "mealType",
    "servingSize",
    "protein",
    "carbs",
    "fat",
    "notes",
    "timestamp",
    "imageKey",
];

/// How far ahead of now an entry's `timestamp` may be.
pub const MAX_AHEAD: Duration = Duration::hours(24);

/// The most entries one page of `GET /food-entries` holds (and its default size).
pub const MAX_PAGE: u32 = 1000;

/// The problem stated for an `imageKey` that is not one of the caller's food images.
pub const IMAGE_KEY_PROBLEM: &str = "must be the key of a food image you uploaded";

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

/// `POST /food-entries`' answer: the entry and the badges it earned.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryCreated {
    #[serde(flatten)]
    pub entry: Entry,
    /// The badges this entry earned (empty when none).
    pub badges_earned: Vec<EarnedBadge>,
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

    /// Whether the change may alter a day's totals: an amount, or the day itself.
    pub fn touches_totals(&self) -> bool {
        self.calories.is_some()
            || self.protein.is_some()
            || self.carbs.is_some()
            || self.fat.is_some()
            || self.timestamp.is_some()
    }
}

/// Which request a body belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    Create,
    Update,
}

/// A `POST /food-entries` body as the new entry of `user_id`, logged `now`.
pub fn parse_new_entry(body: &Value, user_id: &str, now: DateTime<Utc>) -> Result<Entry> {
    let fields = read(body, Write::Create, now)?;
    let (Some(name), Some(calories), Some(meal_type)) =
        (fields.name, fields.calories, fields.meal_type)
    else {
        return Err(Error::internal(
            "required entry fields passed validation without values",
        ));
    };
    Ok(Entry {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user_id.to_owned(),
        name,
        calories,
        meal_type: meal_type.to_owned(),
        serving_size: fields.serving_size.flatten(),
        protein: fields.protein.flatten(),
        carbs: fields.carbs.flatten(),
        fat: fields.fat.flatten(),
        notes: fields.notes.flatten(),
        image_key: fields.image_key.flatten(),
        timestamp: fields.timestamp.unwrap_or(now),
        created_at: now,
    })
}

/// A `PATCH /food-entries/{id}` body: any of the `POST` fields, validated the same way; a
/// body that changes none of them is a 400.
pub fn parse_entry_changes(body: &Value, now: DateTime<Utc>) -> Result<EntryFields> {
    let changes = read(body, Write::Update, now)?;
    if changes == EntryFields::default() {
        return Err(Error::field(
            "body",
            format!("must change at least one of: {}", FIELDS.join(", ")),
        ));
    }
    Ok(changes)
}

/// The one validation of an entry body. On create `name`, `calories` and `mealType` are
/// required and a null `timestamp` means now; on update every field is optional, and the ones
/// an entry cannot be without (`name`, `calories`, `mealType`, `timestamp`) cannot be null.
fn read(body: &Value, write: Write, now: DateTime<Utc>) -> Result<EntryFields> {
    let mut fields = Fields::of(body)?;
    let required = match write {
        Write::Create => Presence::Required,
        Write::Update => Presence::Optional,
    };
    let timestamp_presence = match write {
        Write::Create => Presence::Nullable,
        Write::Update => Presence::Optional,
    };
    let read_amount = |fields: &mut Fields, name: &str| {
        fields
            .number(name, Presence::Nullable, 0.0..=1000.0)
            .update()
            .map(|value| value.map(amount::round))
    };
    let read_text = |fields: &mut Fields, name: &str, max: usize| {
        fields
            .text(name, Presence::Nullable, Len::at_most(max))
            .update()
            // An empty text is no text.
            .map(|value| value.filter(|text| !text.is_empty()))
    };
    let entry = EntryFields {
        name: fields.text("name", required, Len::between(1, 255)).value(),
        calories: fields
            .number("calories", required, 0.0..=10_000.0)
            .value()
            .map(amount::round),
        meal_type: fields.choice("mealType", required, &MEAL_TYPES).value(),
        serving_size: read_text(&mut fields, "servingSize", 255),
        protein: read_amount(&mut fields, "protein"),
        carbs: read_amount(&mut fields, "carbs"),
        fat: read_amount(&mut fields, "fat"),
        notes: read_text(&mut fields, "notes", 2000),
        image_key: fields
            .parsed("imageKey", Presence::Nullable, IMAGE_KEY_PROBLEM, |raw| {
                ObjectKey::parse(raw).map(|key| key.as_str().to_owned())
            })
            .update(),
        timestamp: match fields.parsed(
            "timestamp",
            timestamp_presence,
            "must be an RFC 3339 instant",
            time::parse_instant,
        ) {
            Field::Value(at) if at > now + MAX_AHEAD => {
                fields.reject("timestamp", "must be at most 24 hours in the future");
                None
            }
            field => field.value(),
        },
    };
    fields.finish()?;
    Ok(entry)
}

/// Which entries `GET /food-entries` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// The first user's day (inclusive).
    pub from: Option<NaiveDate>,
    /// The last user's day (inclusive).
    pub to: Option<NaiveDate>,
    pub meal_type: Option<&'static str>,
}

/// One page of a listing: entries by `(timestamp, id)`, after a cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryQuery {
    pub filter: EntryFilter,
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl EntryQuery {
    /// Every entry of a user, `limit` at a time (the export walks a history this way).
    pub fn all(limit: u32) -> Self {
        Self {
            filter: EntryFilter::default(),
            after: None,
            limit,
        }
    }
}

/// A page of entries and, when more match, where the next page starts.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryPage {
    pub entries: Vec<Entry>,
    pub next: Option<Cursor>,
}

impl Cursor {
    pub fn after(entry: &Entry) -> Self {
        Self {
            timestamp: entry.timestamp,
            id: entry.id.clone(),
        }
    }
}

/// The query string of `GET /food-entries`: `date` (a `YYYY-MM-DD` day or an instant, meaning
/// the user's day containing it), or `startDate` / `endDate` (inclusive, either alone, the
/// same forms), `mealType`, `limit` (1-1000, default 1000) and `cursor`. Other parameters are
/// ignored; each problem names its parameter.
pub fn parse_list_query(raw: Option<&str>, zone: UserZone, key: &CursorKey) -> Result<EntryQuery> {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut errors = FieldErrors::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if params.iter().any(|(seen, _)| *seen == name) {
            errors.insert(name.into_owned(), "must be given at most once".into());
        } else {
            params.push((name.into_owned(), value.into_owned()));
        }
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(seen, _)| seen == name)
            .map(|(_, value)| value.as_str())
    };
    let mut reject = |name: &str, problem: &str| {
        errors
            .entry(name.to_owned())
            .or_insert_with(|| problem.to_owned());
    };
    let mut day = |name: &str| {
        let raw = param(name)?;
        let day =
            time::parse_date(raw).or_else(|| time::parse_instant(raw).map(|at| zone.day_of(&at)));
        if day.is_none() {
            reject(name, "must be a date (YYYY-MM-DD) or an RFC 3339 instant");
        }
        day
    };
    let (date, start, end) = (day("date"), day("startDate"), day("endDate"));
    let (from, to) = match date {
        Some(date) => (Some(date), Some(date)),
        None => (start, end),
    };
    if param("date").is_some() && (param("startDate").is_some() || param("endDate").is_some()) {
        reject("date", "cannot be combined with startDate or endDate");
    }
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        reject("endDate", "must not be before startDate");
    }
    let meal_type = param("mealType").and_then(|raw| {
        let found = MEAL_TYPES.iter().copied().find(|meal| *meal == raw);
        if found.is_none() {
            reject(
                "mealType",
                "must be one of: breakfast, lunch, dinner, snack",
            );
        }
        found
    });
    let limit = match param("limit") {
        None => MAX_PAGE,
        Some(raw) => match raw.parse::<u32>() {
            Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
            _ => {
                reject("limit", "must be an integer between 1 and 1000");
                MAX_PAGE
            }
        },
    };
    let after = param("cursor").and_then(|raw| {
        let cursor = Cursor::decode(raw, key);
        if cursor.is_none() {
            reject("cursor", "must be a cursor from X-Next-Cursor");
        }
        cursor
    });
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(EntryQuery {
        filter: EntryFilter {
            from,
            to,
            meal_type,
        },
        after,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

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
        let mut expected = FIELDS.to_vec();
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

    fn key() -> CursorKey {
        CursorKey::derive(&crate::secret::Secret::new("test-secret"))
    }

    fn query(raw: &str) -> Result<EntryQuery> {
        parse_list_query(Some(raw), "Pacific/Auckland".parse().unwrap(), &key())
    }

    fn date(raw: &str) -> Option<NaiveDate> {
        time::parse_date(raw)
    }

    #[test]
    fn list_filters_are_the_users_days() {
        let all = parse_list_query(None, UserZone::UTC, &key()).unwrap();
        assert_eq!(all, EntryQuery::all(MAX_PAGE));
        let day = query("date=2024-07-11&mealType=lunch&limit=5&other=1").unwrap();
        assert_eq!(day.filter.from, date("2024-07-11"));
        assert_eq!(day.filter.to, date("2024-07-11"));
        assert_eq!(day.filter.meal_type, Some("lunch"));
        assert_eq!(day.limit, 5);
        // 23:30 UTC is the next morning in Auckland.
        let instant = query("date=2024-07-11T23:30:00Z").unwrap();
        assert_eq!(instant.filter.from, date("2024-07-12"));
        let range = query("startDate=2024-07-01").unwrap();
        assert_eq!(
            (range.filter.from, range.filter.to),
            (date("2024-07-01"), None)
        );
        let range = query("endDate=2024-07-01").unwrap();
        assert_eq!(
            (range.filter.from, range.filter.to),
            (None, date("2024-07-01"))
        );
        assert!(query("startDate=2024-07-01&endDate=2024-07-01").is_ok());
    }

    #[test]
    fn bad_list_parameters_are_named() {
        let cases = [
            ("date=2024-02-30", "date"),
            ("date=today", "date"),
            ("startDate=2024-07-02&endDate=2024-07-01", "endDate"),
            ("date=2024-07-01&startDate=2024-07-01", "date"),
            ("mealType=brunch", "mealType"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=ten", "limit"),
            ("limit=1.5", "limit"),
            ("cursor=zz", "cursor"),
            ("cursor=", "cursor"),
            ("limit=1&limit=2", "limit"),
        ];
        for (raw, name) in cases {
            let errors = problems(query(raw));
            assert!(errors.contains_key(name), "{raw}: {errors:?}");
        }
    }

    proptest! {
        #[test]
        fn no_query_string_makes_a_500_or_a_panic(raw in ".{0,80}") {
            match parse_list_query(Some(&raw), UserZone::UTC, &key()) {
                Ok(query) => prop_assert!((1..=MAX_PAGE).contains(&query.limit)),
                Err(err) => prop_assert_eq!(err.code(), "VALIDATION_FAILED"),
            }
        }

        #[test]
        fn accepted_amounts_have_at_most_two_decimals(calories in 0.0f64..10_000.0) {
            let body = json!({"name": "n", "calories": calories, "mealType": "snack"});
            let entry = parse_new_entry(&body, "u", now()).unwrap();
            prop_assert!((entry.calories * 100.0 - (entry.calories * 100.0).round()).abs() < 1e-6);
            prop_assert!((0.0..=10_000.0).contains(&entry.calories));
        }
    }
}
