//! Copying a day of the diary, or one meal of it, to another day: `POST /food-entries/copy`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::badges::EarnedBadge;
use super::entries::{Entry, MEAL_TYPE};
use super::records;
use crate::error::{Error, Result};
use crate::time::UserZone;
use crate::validate::spec::{Choice, Date};
use crate::validate::{Body, Fields, Mode, Presence, Spec, Unknown};

/// The most entries one copy writes.
pub const MAX_ENTRIES: usize = 200;

pub const FROM_DATE: Spec<Date> = Spec {
    name: "fromDate",
    presence: Presence::Required,
    rule: Date,
    doc: "The user's day to copy from",
    example: "\"2024-07-10\"",
};
pub const TO_DATE: Spec<Date> = Spec {
    name: "toDate",
    presence: Presence::Required,
    rule: Date,
    doc: "The user's day to copy to: at most one day after the user's today",
    example: "\"2024-07-11\"",
};
pub const ONLY_MEAL: Spec<Choice> = Spec {
    name: "mealType",
    presence: Presence::Optional,
    rule: MEAL_TYPE.rule,
    doc: "Copy only this meal of the day (default: every entry of the day)",
    example: "\"breakfast\"",
};
pub const TO_MEAL: Spec<Choice> = Spec {
    name: "toMealType",
    presence: Presence::Optional,
    rule: MEAL_TYPE.rule,
    doc: "The meal type of the copies (only with `mealType`; default: the same)",
    example: "\"lunch\"",
};

/// The body of `POST /food-entries/copy`.
pub static BODY: Body = Body {
    fields: &[&FROM_DATE, &TO_DATE, &ONLY_MEAL, &TO_MEAL],
    unknown: Unknown::Deny,
    doc: "Which entries to copy where: every entry of the user's day `fromDate` (or of its meal `mealType`) to the day `toDate`.",
};

/// A `POST /food-entries/copy` body, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub meal_type: Option<&'static str>,
    pub to_meal_type: Option<&'static str>,
}

crate::body_schema!(CopyRequest, "FoodEntriesCopy", BODY, Mode::Create);

impl CopyRequest {
    /// Reads `body` for a user whose today is `today`.
    pub fn read(body: &Value, today: NaiveDate) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, Mode::Create)?;
        let from = fields.read(&FROM_DATE).value();
        let to = fields.read(&TO_DATE).value();
        let meal_type = fields.read(&ONLY_MEAL).value();
        let to_meal_type = fields.read(&TO_MEAL).value();
        if to.is_some_and(|to| to > today + Duration::days(1)) {
            fields.reject(TO_DATE.name, "must be at most one day after today");
        }
        if to_meal_type.is_some() && meal_type.is_none() {
            fields.reject(TO_MEAL.name, "is only allowed with mealType");
        }
        fields.finish()?;
        match (from, to) {
            (Some(from), Some(to)) => Ok(Self {
                from,
                to,
                meal_type,
                to_meal_type,
            }),
            _ => Err(Error::internal("a copy passed validation without its days")),
        }
    }

    /// The copies of `entries` (those of `from`, in the user's `zone`), written `now`: the
    /// same fields, a new id, the same time of day on `to`, the meal type `toMealType` when
    /// given. More than [`MAX_ENTRIES`] is a 400.
    pub fn copies(
        &self,
        entries: &[Entry],
        zone: UserZone,
        now: DateTime<Utc>,
    ) -> Result<Vec<Entry>> {
        if entries.len() > MAX_ENTRIES {
            return Err(Error::field(
                FROM_DATE.name,
                format!("has more than {MAX_ENTRIES} entries to copy"),
            ));
        }
        Ok(entries
            .iter()
            .map(|entry| Entry {
                id: records::new_id(),
                meal_type: self
                    .to_meal_type
                    .map_or_else(|| entry.meal_type.clone(), str::to_owned),
                timestamp: zone.instant_at(self.to, zone.time_of(&entry.timestamp)),
                created_at: now,
                ..entry.clone()
            })
            .collect())
    }
}

/// What a write of several entries answers: the entries and the badges it earned.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntriesCreated {
    pub entries: Vec<Entry>,
    /// The badges these entries earned (usually none).
    pub badges_earned: Vec<EarnedBadge>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::FieldErrors;
    use crate::time::{format_instant, parse_date, parse_instant};

    fn today() -> NaiveDate {
        parse_date("2024-07-11").unwrap()
    }

    fn problems(body: Value) -> FieldErrors {
        match CopyRequest::read(&body, today()) {
            Err(Error::Validation(fields)) => fields,
            other => panic!("expected a validation error for {body}, got {other:?}"),
        }
    }

    fn entry(timestamp: &str, meal_type: &str) -> Entry {
        let at = parse_instant(timestamp).unwrap();
        Entry {
            id: "e".into(),
            user_id: "ann".into(),
            name: "Oatmeal".into(),
            calories: 350.0,
            meal_type: meal_type.into(),
            serving_size: Some("1 bowl".into()),
            protein: Some(12.0),
            carbs: None,
            fat: None,
            notes: Some("n".into()),
            image_key: Some("ann/x.png".into()),
            timestamp: at,
            created_at: at,
        }
    }

    #[test]
    fn a_copy_names_two_days_and_maybe_a_meal() {
        let request = CopyRequest::read(
            &json!({"fromDate": "2024-07-10", "toDate": "2024-07-12", "mealType": "breakfast",
                    "toMealType": "lunch"}),
            today(),
        )
        .unwrap();
        assert_eq!(request.to, parse_date("2024-07-12").unwrap());
        assert_eq!(request.to_meal_type, Some("lunch"));
        for (body, field) in [
            (json!({"toDate": "2024-07-11"}), "fromDate"),
            (json!({"fromDate": "2024-07-10"}), "toDate"),
            (
                json!({"fromDate": "10/07/2024", "toDate": "2024-07-11"}),
                "fromDate",
            ),
            (
                json!({"fromDate": "2024-07-10", "toDate": "2024-07-13"}),
                "toDate",
            ),
            (
                json!({"fromDate": "2024-07-10", "toDate": "2024-07-11", "mealType": "brunch"}),
                "mealType",
            ),
            (
                json!({"fromDate": "2024-07-10", "toDate": "2024-07-11", "toMealType": "lunch"}),
                "toMealType",
            ),
            (
                json!({"fromDate": "2024-07-10", "toDate": "2024-07-11", "times": 2}),
                "times",
            ),
        ] {
            assert!(problems(body.clone()).contains_key(field), "{body}");
        }
    }

    #[test]
    fn copies_keep_everything_but_the_id_the_day_and_maybe_the_meal() {
        let berlin: UserZone = "Europe/Berlin".parse().unwrap();
        let request = CopyRequest {
            from: parse_date("2024-03-30").unwrap(),
            to: parse_date("2024-03-31").unwrap(),
            meal_type: Some("snack"),
            to_meal_type: Some("dinner"),
        };
        let now = parse_instant("2024-03-31T12:00:00Z").unwrap();
        // 08:15 and 02:30 Berlin time (+01:00); 02:30 does not exist on the 31st.
        let originals = [
            entry("2024-03-30T07:15:00Z", "snack"),
            entry("2024-03-30T01:30:00Z", "snack"),
        ];
        let copies = request.copies(&originals, berlin, now).unwrap();
        let instants: Vec<String> = copies
            .iter()
            .map(|c| format_instant(&c.timestamp))
            .collect();
        assert_eq!(
            instants,
            ["2024-03-31T06:15:00.000Z", "2024-03-31T01:00:00.000Z"]
        );
        for (copy, original) in copies.iter().zip(&originals) {
            assert_ne!(copy.id, original.id);
            assert_eq!(copy.meal_type, "dinner");
            assert_eq!(copy.created_at, now);
            assert_eq!(
                (
                    &copy.name,
                    copy.calories,
                    &copy.serving_size,
                    &copy.notes,
                    &copy.image_key
                ),
                (
                    &original.name,
                    original.calories,
                    &original.serving_size,
                    &original.notes,
                    &original.image_key
                )
            );
        }
        let too_many = vec![originals[0].clone(); MAX_ENTRIES + 1];
        assert!(matches!(
            request.copies(&too_many, berlin, now),
            Err(Error::Validation(fields)) if fields.contains_key("fromDate")
        ));
    }
}
