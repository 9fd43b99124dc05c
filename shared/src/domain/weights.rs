//! Body weight (CONTRACT §3 "Health metrics"): the weigh-in's JSON, the one validation of its
//! bodies, and the trend: the exponentially smoothed weight over the user's whole history.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::cursor::Cursor;
use super::records::{self, Kind, Positioned};
use super::summary::DateRange;
use crate::error::{Error, Result};
use crate::time::{self, UserZone, amount};
use crate::validate::spec::{Number, Text};
use crate::validate::{Body, Fields, Len, Mode, Presence, Spec, Unknown};

pub const WEIGHT: Spec<Number> = Spec {
    name: "weight",
    presence: Presence::Required,
    rule: Number {
        min: 20.0,
        max: 500.0,
    },
    doc: "Kilograms (2 decimals are kept)",
    example: "59.2",
};
pub const BODY_FAT: Spec<Number> = Spec {
    name: "bodyFat",
    presence: Presence::Nullable,
    rule: Number {
        min: 2.0,
        max: 75.0,
    },
    doc: "Percent, or null",
    example: "24.5",
};
pub const NOTES: Spec<Text> = Spec {
    name: "notes",
    presence: Presence::Nullable,
    rule: Text(Len::at_most(500)),
    doc: "At most 500 characters, or null",
    example: "\"After the morning run\"",
};

/// The body of `POST /weight-entries` (and, any subset of it, of `PATCH`).
pub static BODY: Body = Body {
    fields: &[&WEIGHT, &BODY_FAT, &NOTES, &records::TIMESTAMP],
    unknown: Unknown::Deny,
    doc: "A weigh-in.",
};

/// The weigh-ins among the logs.
pub struct Weights;

impl Kind for Weights {
    const CREATE: &'static str = "POST /weight-entries";
    const NOT_FOUND: &'static str = "Weight entry not found";
    const DELETED: &'static str = "Weight entry deleted successfully";
}

/// A weigh-in, as every endpoint shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "0d3c1f6e-0b8a-4c1e-8f3e-2a1b3c4d5e6f", "weight": 59.2,
    "bodyFat": null, "notes": null, "timestamp": "2024-07-11T07:00:00.000Z",
    "date": "2024-07-11", "createdAt": "2024-07-11T07:00:05.120Z"}))]
pub struct WeightEntry {
    pub id: String,
    /// Kilograms.
    #[serde(with = "amount")]
    #[schema(value_type = f64)]
    pub weight: f64,
    /// Percent.
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub body_fat: Option<f64>,
    #[schema(required = true)]
    pub notes: Option<String>,
    /// When the user weighed in.
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    #[sqlx(rename = "happened_at")]
    pub timestamp: DateTime<Utc>,
    /// The user's day of `timestamp`, fixed when the weigh-in was written.
    #[sqlx(rename = "local_date")]
    pub date: NaiveDate,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl Positioned for WeightEntry {
    fn position(&self) -> Cursor {
        Cursor {
            timestamp: self.timestamp,
            id: self.id.clone(),
        }
    }
}

/// A `POST` or `PATCH /weight-entries` body, validated: `None` leaves a field alone,
/// `Some(None)` clears a nullable one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WeightFields {
    pub weight: Option<f64>,
    pub body_fat: Option<Option<f64>>,
    pub notes: Option<Option<String>>,
    pub timestamp: Option<DateTime<Utc>>,
}

crate::body_schema!(WeightFields, "WeightEntryChanges", BODY, Mode::Change);

/// A `POST /weight-entries` body, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewWeight(pub WeightFields);

crate::body_schema!(NewWeight, "NewWeightEntry", BODY, Mode::Create);

impl WeightFields {
    pub fn read(body: &Value, mode: Mode, now: DateTime<Utc>) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, mode)?;
        let weight = Self {
            weight: fields.read(&WEIGHT).value().map(amount::round),
            body_fat: fields
                .read(&BODY_FAT)
                .update()
                .map(|value| value.map(amount::round)),
            notes: fields
                .read(&NOTES)
                .update()
                .map(|value| value.filter(|text| !text.is_empty())),
            timestamp: records::read_timestamp(&mut fields, now),
        };
        fields.finish()?;
        Ok(weight)
    }

    /// `entry` with the change applied.
    pub fn apply(&self, entry: &WeightEntry) -> WeightEntry {
        WeightEntry {
            weight: self.weight.unwrap_or(entry.weight),
            body_fat: self.body_fat.unwrap_or(entry.body_fat),
            notes: self.notes.clone().unwrap_or_else(|| entry.notes.clone()),
            timestamp: self.timestamp.unwrap_or(entry.timestamp),
            ..entry.clone()
        }
    }

    /// Whether the change may alter a day's mean: the weight, or the day itself.
    pub fn touches_days(&self) -> bool {
        self.weight.is_some() || self.timestamp.is_some()
    }
}

impl NewWeight {
    pub fn read(body: &Value, now: DateTime<Utc>) -> Result<Self> {
        WeightFields::read(body, Mode::Create, now).map(Self)
    }

    /// The weigh-in, written `now`, on the user's day of its timestamp in `zone`.
    pub fn into_entry(self, zone: UserZone, now: DateTime<Utc>) -> Result<WeightEntry> {
        let fields = self.0;
        let weight = fields
            .weight
            .ok_or_else(|| Error::internal("a weigh-in passed validation without its weight"))?;
        let timestamp = fields.timestamp.unwrap_or(now);
        Ok(WeightEntry {
            id: records::new_id(),
            weight,
            body_fat: fields.body_fat.flatten(),
            notes: fields.notes.flatten(),
            timestamp,
            date: zone.day_of(&timestamp),
            created_at: now,
        })
    }
}

/// The weigh-in `POST /onboarding` records: its `currentWeight`, now.
pub fn onboarding_weigh_in(kg: f64, date: NaiveDate, now: DateTime<Utc>) -> WeightEntry {
    WeightEntry {
        id: records::new_id(),
        weight: kg,
        body_fat: None,
        notes: None,
        timestamp: now,
        date,
        created_at: now,
    }
}

// --- The trend ---------------------------------------------------------------------------

/// How much of the gap to a day's weight the trend closes.
pub const SMOOTHING: f64 = 0.1;

/// The trend after a day whose weigh-ins average `weight`: that weight on the first day ever,
/// else `previous + 0.1 × (weight − previous)`. Unrounded.
pub fn next_trend(previous: Option<f64>, weight: f64) -> f64 {
    match previous {
        None => weight,
        Some(previous) => previous + SMOOTHING * (weight - previous),
    }
}

/// The trend after each day of `days` (ascending, each with its mean weight), carried on from
/// `previous` (the trend of the day before the first of them, if any).
pub fn trends(previous: Option<f64>, days: &[(NaiveDate, f64)]) -> Vec<(NaiveDate, f64)> {
    let mut trend = previous;
    days.iter()
        .map(|&(day, weight)| {
            let next = next_trend(trend, weight);
            trend = Some(next);
            (day, next)
        })
        .collect()
}

/// The trend as of `today`: the stored trend of the latest of `days` (weigh-in days) on or
/// before it, or `None` when there is none.
pub fn trend_as_of(days: &[(NaiveDate, Option<f64>)], today: NaiveDate) -> Option<f64> {
    days.iter()
        .filter(|(day, _)| *day <= today)
        .max_by_key(|(day, _)| *day)
        .and_then(|(_, trend)| *trend)
}

/// One weigh-in day as stored: the sum and count of its weigh-ins, and the trend after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeighInDay {
    pub weight_sum: f64,
    pub weigh_ins: i64,
    pub trend: f64,
}

impl WeighInDay {
    /// A day as its row holds it; one whose trend is not written has its own mean as trend.
    pub fn stored(weigh_ins: i64, weight_sum: f64, trend: Option<f64>) -> Self {
        Self {
            weight_sum,
            weigh_ins,
            trend: trend.unwrap_or(weight_sum / weigh_ins.max(1) as f64),
        }
    }

    /// The day's mean weight.
    pub fn mean(&self) -> f64 {
        self.weight_sum / self.weigh_ins.max(1) as f64
    }
}

/// One day of `GET /weight-trend`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendDay {
    pub date: NaiveDate,
    /// The mean of the day's weigh-ins (kg), or null.
    #[serde(with = "amount::optional")]
    #[schema(value_type = Option<f64>)]
    pub weight: Option<f64>,
    /// The smoothed weight of the day (kg), or null before the first weigh-in ever.
    #[serde(with = "amount::optional")]
    #[schema(value_type = Option<f64>)]
    pub trend: Option<f64>,
}

/// Every day of `range`: its mean weight, and the trend as of that day (carried over days
/// without weigh-ins, starting from `before`, the trend of the last weigh-in day before the
/// range).
pub fn trend_days(
    range: DateRange,
    before: Option<f64>,
    days: &BTreeMap<NaiveDate, WeighInDay>,
) -> Vec<TrendDay> {
    let mut trend = before;
    range
        .days()
        .map(|date| {
            let day = days.get(&date);
            if let Some(day) = day {
                trend = Some(day.trend);
            }
            TrendDay {
                date,
                weight: day.map(WeighInDay::mean),
                trend,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        time::parse_instant("2024-07-11T10:00:00Z").unwrap()
    }

    fn day(raw: &str) -> NaiveDate {
        time::parse_date(raw).unwrap()
    }

    #[test]
    fn the_trend_as_of_a_day_is_the_latest_weigh_in_day_up_to_it() {
        let days = [
            (day("2024-07-12"), Some(77.1)),
            (day("2024-07-10"), Some(80.0)),
            (day("2024-07-11"), None),
        ];
        assert_eq!(trend_as_of(&days, day("2024-07-09")), None);
        assert_eq!(trend_as_of(&days, day("2024-07-10")), Some(80.0));
        // A day whose trend is not written shows none, as the day's row says.
        assert_eq!(trend_as_of(&days, day("2024-07-11")), None);
        assert_eq!(trend_as_of(&days, day("2024-07-12")), Some(77.1));
        assert_eq!(trend_as_of(&days, day("2024-07-30")), Some(77.1));
        assert_eq!(trend_as_of(&[], day("2024-07-30")), None);
    }

    #[test]
    fn a_weigh_in_is_read_and_bounded() {
        let new = NewWeight::read(
            &json!({"weight": 59.257, "bodyFat": null, "notes": ""}),
            now(),
        )
        .unwrap()
        .into_entry(UserZone::UTC, now())
        .unwrap();
        assert_eq!((new.weight, new.body_fat, new.notes), (59.26, None, None));
        assert_eq!(new.timestamp, now());
        let errors = match NewWeight::read(
            &json!({"weight": 19.99, "bodyFat": 76, "notes": "x".repeat(501), "height": 1}),
            now(),
        ) {
            Err(Error::Validation(errors)) => errors,
            other => panic!("{other:?}"),
        };
        let named: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(named, ["bodyFat", "height", "notes", "weight"]);
        assert_eq!(errors["height"], "unknown field");
    }

    #[test]
    fn the_trend_starts_at_the_first_weigh_in_and_closes_a_tenth_of_each_gap() {
        let series = trends(
            None,
            &[(day("2024-07-01"), 80.0), (day("2024-07-03"), 70.0)],
        );
        assert_eq!(
            series,
            [(day("2024-07-01"), 80.0), (day("2024-07-03"), 79.0)]
        );
        let stored: BTreeMap<NaiveDate, WeighInDay> = series
            .iter()
            .map(|&(date, trend)| {
                (
                    date,
                    WeighInDay {
                        weight_sum: 80.0,
                        weigh_ins: 1,
                        trend,
                    },
                )
            })
            .collect();
        let range = DateRange::parse(Some("2024-06-30"), Some("2024-07-04")).unwrap();
        let shown: Vec<Option<f64>> = trend_days(range, None, &stored)
            .iter()
            .map(|d| d.trend)
            .collect();
        assert_eq!(
            shown,
            [None, Some(80.0), Some(80.0), Some(79.0), Some(79.0)]
        );
    }

    proptest! {
        /// The recurrence, unrolled: after n days of the same weight w from a trend t, the
        /// trend is w + (t − w)·0.9ⁿ; and it always lies between the trend and the weights.
        #[test]
        fn the_recurrence_converges_geometrically(start in 20.0f64..500.0, weight in 20.0f64..500.0, n in 1usize..60) {
            let days: Vec<(NaiveDate, f64)> = (0..n)
                .map(|i| (day("2024-01-01") + chrono::Duration::days(i as i64), weight))
                .collect();
            let last = trends(Some(start), &days).last().unwrap().1;
            let expected = weight + (start - weight) * 0.9f64.powi(n as i32);
            prop_assert!((last - expected).abs() < 1e-9 * start.max(weight));
            prop_assert!(last >= start.min(weight) - 1e-9 && last <= start.max(weight) + 1e-9);
        }

        /// Shifting every weight shifts every trend by the same amount.
        #[test]
        fn the_trend_moves_with_the_weights(weights in prop::collection::vec(20.0f64..400.0, 1..30), shift in -10.0f64..10.0) {
            let days: Vec<(NaiveDate, f64)> = weights.iter().enumerate()
                .map(|(i, w)| (day("2024-01-01") + chrono::Duration::days(i as i64), *w)).collect();
            let shifted: Vec<(NaiveDate, f64)> = days.iter().map(|(d, w)| (*d, w + shift)).collect();
            for ((_, a), (_, b)) in trends(None, &days).iter().zip(trends(None, &shifted)) {
                prop_assert!((a + shift - b).abs() < 1e-9);
            }
        }
    }
}
