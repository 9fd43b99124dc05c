//! Water (CONTRACT §3 "Health metrics"): the drink's JSON and the one validation of its
//! bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::cursor::Cursor;
use super::records::{self, Kind, Positioned};
use crate::error::{Error, Result};
use crate::time::{self, UserZone};
use crate::validate::spec::Integer;
use crate::validate::{Body, Fields, Mode, Presence, Spec, Unknown};

pub const AMOUNT: Spec<Integer> = Spec {
    name: "amount",
    presence: Presence::Required,
    rule: Integer { min: 1, max: 5000 },
    doc: "Millilitres, a whole number",
    example: "250",
};

/// The body of `POST /water-entries` (and, any subset of it, of `PATCH`).
pub static BODY: Body = Body {
    fields: &[&AMOUNT, &records::TIMESTAMP],
    unknown: Unknown::Deny,
    doc: "Water drunk.",
};

/// The water log among the logs.
pub struct Water;

impl Kind for Water {
    const CREATE: &'static str = "POST /water-entries";
    const NOT_FOUND: &'static str = "Water entry not found";
    const DELETED: &'static str = "Water entry deleted successfully";
}

/// Water drunk, as every endpoint shows it.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "3c2b1a09-8f7e-4d6c-b5a4-9382716e5f4d", "amount": 250,
    "timestamp": "2024-07-11T09:15:00.000Z", "date": "2024-07-11",
    "createdAt": "2024-07-11T09:15:01.000Z"}))]
pub struct WaterEntry {
    pub id: String,
    /// Millilitres.
    pub amount: i32,
    /// When it was drunk.
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    #[sqlx(rename = "happened_at")]
    pub timestamp: DateTime<Utc>,
    /// The user's day of `timestamp`, fixed when the entry was written.
    #[sqlx(rename = "local_date")]
    pub date: NaiveDate,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl Positioned for WaterEntry {
    fn position(&self) -> Cursor {
        Cursor {
            timestamp: self.timestamp,
            id: self.id.clone(),
        }
    }
}

/// What a `POST` or `PATCH /water-entries` body says, validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WaterFields {
    pub amount: Option<i64>,
    pub timestamp: Option<DateTime<Utc>>,
}

crate::body_schema!(WaterFields, "WaterEntryChanges", BODY, Mode::Change);

/// A `POST /water-entries` body, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewWater(pub WaterFields);

crate::body_schema!(NewWater, "NewWaterEntry", BODY, Mode::Create);

impl WaterFields {
    pub fn read(body: &Value, mode: Mode, now: DateTime<Utc>) -> Result<Self> {
        let mut fields = Fields::of_body(body, &BODY, mode)?;
        let water = Self {
            amount: fields.read(&AMOUNT).value(),
            timestamp: records::read_timestamp(&mut fields, now),
        };
        fields.finish()?;
        Ok(water)
    }
}

impl WaterFields {
    /// `entry` with the change applied.
    pub fn apply(&self, entry: &WaterEntry) -> WaterEntry {
        WaterEntry {
            amount: self
                .amount
                .and_then(|amount| i32::try_from(amount).ok())
                .unwrap_or(entry.amount),
            timestamp: self.timestamp.unwrap_or(entry.timestamp),
            ..entry.clone()
        }
    }
}

impl NewWater {
    pub fn read(body: &Value, now: DateTime<Utc>) -> Result<Self> {
        WaterFields::read(body, Mode::Create, now).map(Self)
    }

    /// The entry, written `now`, on the user's day of its timestamp in `zone`.
    pub fn into_entry(self, zone: UserZone, now: DateTime<Utc>) -> Result<WaterEntry> {
        let amount = self
            .0
            .amount
            .and_then(|amount| i32::try_from(amount).ok())
            .ok_or_else(|| Error::internal("water passed validation without its amount"))?;
        let timestamp = self.0.timestamp.unwrap_or(now);
        Ok(WaterEntry {
            id: records::new_id(),
            amount,
            timestamp,
            date: zone.day_of(&timestamp),
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_amount_is_a_whole_number_of_millilitres() {
        let now = time::parse_instant("2024-07-11T10:00:00Z").unwrap();
        let drunk = NewWater::read(&json!({"amount": 250.0}), now)
            .unwrap()
            .into_entry(UserZone::UTC, now)
            .unwrap();
        assert_eq!((drunk.amount, drunk.timestamp), (250, now));
        for bad in [
            json!({"amount": 0}),
            json!({"amount": 5001}),
            json!({"amount": 2.5}),
            json!({}),
            json!({"amount": 1, "x": 1}),
        ] {
            assert!(
                matches!(NewWater::read(&bad, now), Err(Error::Validation(_))),
                "{bad}"
            );
        }
    }
}
