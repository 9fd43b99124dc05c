//! Activity (CONTRACT §3 "Health metrics"): the activity's JSON, the one validation of its
//! bodies, and the energy it burns: given, or MET × body weight × time.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::cursor::Cursor;
use super::records::{self, Kind, Positioned};
use crate::error::{Error, Result};
use crate::time::{self, UserZone, amount};
use crate::validate::spec::{Integer, Number, Text};
use crate::validate::{Body, Fields, Len, Mode, Presence, Spec, Unknown};

pub const NAME: Spec<Text> = Spec {
    name: "name",
    presence: Presence::Required,
    rule: Text(Len::between(1, 255)),
    doc: "1–255 characters after trimming",
    example: "\"Running\"",
};
pub const CALORIES_BURNED: Spec<Number> = Spec {
    name: "caloriesBurned",
    presence: Presence::Optional,
    rule: Number {
        min: 0.0,
        max: 10_000.0,
    },
    doc: "kcal; required unless `met` and `durationMinutes` are given, from which it is then computed (MET × kg × minutes / 60, with the latest weigh-in's weight)",
    example: "350",
};
pub const MET: Spec<Number> = Spec {
    name: "met",
    presence: Presence::Nullable,
    rule: Number {
        min: 1.0,
        max: 25.0,
    },
    doc: "The activity's metabolic equivalent (1 is sitting still), or null",
    example: "9.8",
};
pub const DURATION_MINUTES: Spec<Integer> = Spec {
    name: "durationMinutes",
    presence: Presence::Nullable,
    rule: Integer { min: 1, max: 1440 },
    doc: "Whole minutes, or null",
    example: "30",
};
pub const NOTES: Spec<Text> = Spec {
    name: "notes",
    presence: Presence::Nullable,
    rule: Text(Len::at_most(2000)),
    doc: "At most 2000 characters, or null",
    example: "\"Intervals\"",
};

/// The body of `POST /activity-entries` (and, any subset of it, of `PATCH`).
pub static BODY: Body = Body {
    fields: &[
        &NAME,
        &CALORIES_BURNED,
        &MET,
        &DURATION_MINUTES,
        &NOTES,
        &records::TIMESTAMP,
    ],
    unknown: Unknown::Deny,
    doc: "An activity: `caloriesBurned`, or `met` and `durationMinutes` to compute it from.",
};

/// The activities among the logs.
pub struct Activities;

impl Kind for Activities {
    const CREATE: &'static str = "POST /activity-entries";
    const NOT_FOUND: &'static str = "Activity entry not found";
    const DELETED: &'static str = "Activity entry deleted successfully";
}

/// An activity, as every endpoint shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "7b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "name": "Running",
    "caloriesBurned": 294, "met": 9.8, "durationMinutes": 30, "notes": null,
    "timestamp": "2024-07-11T18:00:00.000Z", "date": "2024-07-11",
    "createdAt": "2024-07-11T18:35:00.000Z"}))]
pub struct ActivityEntry {
    pub id: String,
    pub name: String,
    /// kcal.
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub calories_burned: f64,
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub met: Option<f64>,
    #[schema(required = true)]
    pub duration_minutes: Option<i32>,
    #[schema(required = true)]
    pub notes: Option<String>,
    /// When the activity happened.
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    #[sqlx(rename = "happened_at")]
    pub timestamp: DateTime<Utc>,
    /// The user's day of `timestamp`, fixed when the activity was written.
    #[sqlx(rename = "local_date")]
    pub date: NaiveDate,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl Positioned for ActivityEntry {
    fn position(&self) -> Cursor {
        Cursor {
            timestamp: self.timestamp,
            id: self.id.clone(),
        }
    }
}

/// kcal burned by `minutes` at `met` by a body of `kg`: `round(met × kg × minutes / 60)`,
/// half away from zero (Ainsworth BE et al., *2011 Compendium of Physical Activities*, Med Sci
/// Sports Exerc 2011;43(8):1575–1581: one MET is about 1 kcal per kg and hour).
pub fn calories_from_met(met: f64, kg: f64, minutes: i64) -> f64 {
    (met * kg * minutes as f64 / 60.0).round()
}

/// What a `POST` or `PATCH /activity-entries` body says, validated: `None` leaves a field
/// alone, `Some(None)` clears a nullable one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityFields {
    pub name: Option<String>,
    pub calories_burned: Option<f64>,
    pub met: Option<Option<f64>>,
    pub duration_minutes: Option<Option<i64>>,
    pub notes: Option<Option<String>>,
    pub timestamp: Option<DateTime<Utc>>,
}

crate::body_schema!(ActivityFields, "ActivityEntryChanges", BODY, Mode::Change);

/// A `POST /activity-entries` body, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewActivity(pub ActivityFields);

crate::body_schema!(NewActivity, "NewActivityEntry", BODY, Mode::Create);

/// What the problem of a `caloriesBurned` that cannot be computed says.
pub const NO_WEIGHT_PROBLEM: &str =
    "is required: there is no weigh-in to compute it from met and durationMinutes";

impl ActivityFields {
    pub fn read(body: &Value, mode: Mode, now: DateTime<Utc>) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, mode)?;
        let activity = Self {
            name: fields.read(&NAME).value(),
            calories_burned: fields.read(&CALORIES_BURNED).value().map(amount::round),
            met: fields
                .read(&MET)
                .update()
                .map(|value| value.map(amount::round)),
            duration_minutes: fields.read(&DURATION_MINUTES).update(),
            notes: fields
                .read(&NOTES)
                .update()
                .map(|value| value.filter(|text| !text.is_empty())),
            timestamp: records::read_timestamp(&mut fields, now),
        };
        if mode == Mode::Create && activity.calories_burned.is_none() && !fields.has_errors() {
            match (activity.met.flatten(), activity.duration_minutes.flatten()) {
                (Some(_), Some(_)) => {}
                (Some(_), None) => fields.reject(DURATION_MINUTES.name, "is required with met"),
                (None, Some(_)) => fields.reject(MET.name, "is required with durationMinutes"),
                (None, None) => fields.reject(
                    CALORIES_BURNED.name,
                    "is required unless met and durationMinutes are given",
                ),
            }
        }
        fields.finish()?;
        Ok(activity)
    }

    /// The MET and minutes to compute `caloriesBurned` from, when a change gives no
    /// `caloriesBurned` but changes either of them, merged with the stored activity.
    pub fn recompute_from(&self, stored: &ActivityEntry) -> Option<(f64, i64)> {
        if self.calories_burned.is_some() || (self.met.is_none() && self.duration_minutes.is_none())
        {
            return None;
        }
        let met = self.met.unwrap_or(stored.met)?;
        let minutes = self
            .duration_minutes
            .unwrap_or(stored.duration_minutes.map(i64::from))?;
        Some((met, minutes))
    }

    /// `entry` with the change applied; `computed` is the energy recomputed from the MET (see
    /// [`ActivityFields::recompute_from`]).
    pub fn apply(&self, entry: &ActivityEntry, computed: Option<f64>) -> ActivityEntry {
        ActivityEntry {
            name: self.name.clone().unwrap_or_else(|| entry.name.clone()),
            calories_burned: self
                .calories_burned
                .or(computed)
                .unwrap_or(entry.calories_burned),
            met: self.met.unwrap_or(entry.met),
            duration_minutes: match self.duration_minutes {
                Some(minutes) => minutes.and_then(|minutes| i32::try_from(minutes).ok()),
                None => entry.duration_minutes,
            },
            notes: self.notes.clone().unwrap_or_else(|| entry.notes.clone()),
            timestamp: self.timestamp.unwrap_or(entry.timestamp),
            ..entry.clone()
        }
    }

    /// Whether the change may alter a day's sum: the energy (given or recomputed), or the day.
    pub fn touches_days(&self) -> bool {
        self.calories_burned.is_some()
            || self.met.is_some()
            || self.duration_minutes.is_some()
            || self.timestamp.is_some()
    }
}

impl NewActivity {
    pub fn read(body: &Value, now: DateTime<Utc>) -> Result<Self> {
        ActivityFields::read(body, Mode::Create, now).map(Self)
    }

    /// The MET and minutes `caloriesBurned` must be computed from (none was given).
    pub fn needs_weight(&self) -> Option<(f64, i64)> {
        match self.0.calories_burned {
            Some(_) => None,
            None => Some((self.0.met.flatten()?, self.0.duration_minutes.flatten()?)),
        }
    }

    /// The activity, written `now`, on the user's day of its timestamp in `zone`;
    /// `calories_burned` is the given one, else the one computed from the MET.
    pub fn into_entry(
        self,
        computed: Option<f64>,
        zone: UserZone,
        now: DateTime<Utc>,
    ) -> Result<ActivityEntry> {
        let fields = self.0;
        let (Some(name), Some(calories_burned)) =
            (fields.name, fields.calories_burned.or(computed))
        else {
            return Err(Error::internal(
                "an activity passed validation without its values",
            ));
        };
        let timestamp = fields.timestamp.unwrap_or(now);
        Ok(ActivityEntry {
            id: records::new_id(),
            name,
            calories_burned,
            met: fields.met.flatten(),
            duration_minutes: fields
                .duration_minutes
                .flatten()
                .and_then(|minutes| i32::try_from(minutes).ok()),
            notes: fields.notes.flatten(),
            timestamp,
            date: zone.day_of(&timestamp),
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        time::parse_instant("2024-07-11T10:00:00Z").unwrap()
    }

    fn problems(body: Value) -> Vec<String> {
        match NewActivity::read(&body, now()) {
            Err(Error::Validation(errors)) => errors.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn either_the_energy_or_what_it_is_computed_from() {
        let given = NewActivity::read(
            &json!({"name": "Yoga", "caloriesBurned": 120, "met": 3, "durationMinutes": 60}),
            now(),
        )
        .unwrap();
        assert_eq!(given.needs_weight(), None, "a given caloriesBurned is kept");
        let computed = NewActivity::read(
            &json!({"name": "Run", "met": 9.8, "durationMinutes": 30}),
            now(),
        )
        .unwrap();
        assert_eq!(computed.needs_weight(), Some((9.8, 30)));
        assert_eq!(problems(json!({"name": "Run"})), ["caloriesBurned"]);
        assert_eq!(
            problems(json!({"name": "Run", "met": 9.8})),
            ["durationMinutes"]
        );
        assert_eq!(
            problems(json!({"name": "Run", "durationMinutes": 5})),
            ["met"]
        );
        assert_eq!(
            problems(json!({"name": "Run", "met": 26, "durationMinutes": 1441, "extra": 1})),
            ["durationMinutes", "extra", "met"]
        );
    }

    #[test]
    fn a_change_of_met_or_minutes_recomputes_with_the_stored_rest() {
        let stored = NewActivity::read(
            &json!({"name": "Run", "caloriesBurned": 300, "met": 9.8, "durationMinutes": 30}),
            now(),
        )
        .unwrap()
        .into_entry(None, UserZone::UTC, now())
        .unwrap();
        let change = |body| ActivityFields::read(&body, Mode::Change, now()).unwrap();
        assert_eq!(
            change(json!({"durationMinutes": 45})).recompute_from(&stored),
            Some((9.8, 45))
        );
        assert_eq!(
            change(json!({"met": 7, "caloriesBurned": 10})).recompute_from(&stored),
            None
        );
        assert_eq!(change(json!({"notes": "x"})).recompute_from(&stored), None);
        assert_eq!(change(json!({"met": null})).recompute_from(&stored), None);
    }

    #[test]
    fn the_worked_example() {
        // 30 minutes at 9.8 MET for 60 kg: 9.8 × 60 × 30 / 60 = 294 kcal.
        assert_eq!(calories_from_met(9.8, 60.0, 30), 294.0);
        // Halves go away from zero: 2.5 × 1 × 60 / 60 ... 1 × 20.5 × 60 / 60 = 20.5 → 21.
        assert_eq!(calories_from_met(1.0, 20.5, 60), 21.0);
    }

    proptest! {
        #[test]
        fn the_met_formula_is_proportional_and_whole(met in 1.0f64..25.0, kg in 20.0f64..500.0, minutes in 1i64..1440) {
            let kcal = calories_from_met(met, kg, minutes);
            prop_assert_eq!(kcal.fract(), 0.0);
            prop_assert!((kcal - met * kg * minutes as f64 / 60.0).abs() <= 0.5);
            // Twice as long burns twice as much, up to the rounding of each.
            let twice = calories_from_met(met, kg, minutes * 2);
            prop_assert!((twice - 2.0 * kcal).abs() <= 1.0);
        }
    }
}
