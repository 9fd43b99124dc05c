//! The health logs on the records mechanism ([`super::records`]): weigh-ins, activities and
//! water, each with its day sums (what the trend, the summaries and the dashboard read).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::params::Param;
use super::records::{Effect, KindSql, Stored, kind_sql};
use super::{Store, with_db};
use crate::domain::activities::{Activities, ActivityEntry};
use crate::domain::summary::DateRange;
use crate::domain::water::{Water, WaterEntry};
use crate::domain::weights::{WeighInDay, WeightEntry, Weights};
use crate::error::Result;

impl Stored for Weights {
    type Record = WeightEntry;
    const SQL: KindSql = kind_sql! {
        table: "weight_entries",
        time: "happened_at",
        select: "id, CAST(weight AS DOUBLE PRECISION) AS weight, \
                 CAST(body_fat AS DOUBLE PRECISION) AS body_fat, notes, happened_at, local_date, \
                 created_at",
        filter: None,
        values: ["weight" = "$5", "body_fat" = "$6", "notes" = "$7", "happened_at" = "$8"],
        days: "weight_days",
        count: "weigh_ins",
        sums: ["weight_sum" = "weight"],
        // What the trend needs, read in the insert itself: the written day as upserted, the
        // days after it, the trend before it (see `TREND_INPUTS`).
        then: "SELECT json_build_object(\
            'before', (SELECT b.trend FROM weight_days b WHERE b.user_id = $1 AND b.local_date < $3 \
                ORDER BY b.local_date DESC LIMIT 1), \
            'days', (SELECT json_agg(json_build_object('date', t.local_date, 'count', t.weigh_ins, \
                'sum', t.weight_sum) ORDER BY t.local_date) FROM (\
                SELECT local_date, weigh_ins, weight_sum FROM day \
                UNION ALL SELECT l.local_date, l.weigh_ins, l.weight_sum FROM weight_days l \
                WHERE l.user_id = $1 AND l.local_date > $3) t))::text FROM day",
    };
    const EFFECT: Effect = Effect::Trend;

    fn values(entry: &WeightEntry) -> Vec<Param<'_>> {
        vec![
            Param::Real(Some(entry.weight)),
            Param::Real(entry.body_fat),
            Param::Text(entry.notes.as_deref()),
            Param::Instant(entry.timestamp),
        ]
    }

    fn id(entry: &WeightEntry) -> &str {
        &entry.id
    }

    fn created_at(entry: &WeightEntry) -> DateTime<Utc> {
        entry.created_at
    }
}

impl Stored for Activities {
    type Record = ActivityEntry;
    const SQL: KindSql = kind_sql! {
        table: "activity_entries",
        time: "happened_at",
        select: "id, name, CAST(calories_burned AS DOUBLE PRECISION) AS calories_burned, \
                 CAST(met AS DOUBLE PRECISION) AS met, duration_minutes, notes, happened_at, \
                 local_date, created_at",
        filter: None,
        values: [
            "name" = "$5",
            "calories_burned" = "$6",
            "met" = "$7",
            "duration_minutes" = "$8",
            "notes" = "$9",
            "happened_at" = "$10",
        ],
        days: "activity_days",
        count: "activities",
        sums: ["calories_burned" = "calories_burned"],
    };
    const EFFECT: Effect = Effect::None;

    fn values(entry: &ActivityEntry) -> Vec<Param<'_>> {
        vec![
            Param::Text(Some(&entry.name)),
            Param::Real(Some(entry.calories_burned)),
            Param::Real(entry.met),
            Param::Int(entry.duration_minutes.map(i64::from)),
            Param::Text(entry.notes.as_deref()),
            Param::Instant(entry.timestamp),
        ]
    }

    fn id(entry: &ActivityEntry) -> &str {
        &entry.id
    }

    fn created_at(entry: &ActivityEntry) -> DateTime<Utc> {
        entry.created_at
    }
}

impl Stored for Water {
    type Record = WaterEntry;
    const SQL: KindSql = kind_sql! {
        table: "water_entries",
        time: "happened_at",
        select: "id, amount, happened_at, local_date, created_at",
        filter: None,
        values: ["amount" = "$5", "happened_at" = "$6"],
        days: "water_days",
        count: "drinks",
        sums: ["amount_ml" = "amount"],
    };
    const EFFECT: Effect = Effect::None;

    fn values(entry: &WaterEntry) -> Vec<Param<'_>> {
        vec![
            Param::Int(Some(i64::from(entry.amount))),
            Param::Instant(entry.timestamp),
        ]
    }

    fn id(entry: &WaterEntry) -> &str {
        &entry.id
    }

    fn created_at(entry: &WaterEntry) -> DateTime<Utc> {
        entry.created_at
    }
}

/// The weigh-in days of a range, and the last one before it (whose trend carries into the
/// range): one indexed range read and one index lookup, in one statement.
const WEIGH_IN_DAYS: &str = "\
SELECT local_date, CAST(weigh_ins AS BIGINT), CAST(weight_sum AS DOUBLE PRECISION), trend \
    FROM weight_days WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 \
UNION ALL \
SELECT * FROM (SELECT local_date, CAST(weigh_ins AS BIGINT), CAST(weight_sum AS DOUBLE PRECISION), trend \
    FROM weight_days WHERE user_id = $1 AND local_date < $2 ORDER BY local_date DESC LIMIT 1) AS prior";

impl Store {
    /// The trend of the day before `range` (if the user had weighed in by then) and each
    /// weigh-in day of `range`.
    pub async fn weigh_in_days(
        &self,
        user_id: &str,
        range: DateRange,
    ) -> Result<(Option<f64>, BTreeMap<NaiveDate, WeighInDay>)> {
        let rows: Vec<(NaiveDate, i64, f64, Option<f64>)> = with_db!(self, |conn| {
            Ok(self
                .query_as(WEIGH_IN_DAYS)
                .bind(user_id)
                .bind(range.start())
                .bind(range.end())
                .fetch_all(&mut **conn)
                .await?)
        })?;
        let mut before = None;
        let mut days = BTreeMap::new();
        for (date, weigh_ins, weight_sum, trend) in rows {
            if date < range.start() {
                before = trend;
            } else {
                days.insert(date, WeighInDay::stored(weigh_ins, weight_sum, trend));
            }
        }
        Ok((before, days))
    }

    /// The weight of the user's latest weigh-in by timestamp, if any.
    pub async fn latest_weight(&self, user_id: &str) -> Result<Option<f64>> {
        with_db!(self, |conn| {
            Ok(self
                .query_scalar(
                    "SELECT CAST(weight AS DOUBLE PRECISION) FROM weight_entries WHERE user_id = $1 \
                     ORDER BY happened_at DESC, id DESC LIMIT 1",
                )
                .bind(user_id)
                .fetch_optional(&mut **conn)
                .await?)
        })
    }
}

/// What the trend of a user's weigh-in days from `$2` on is computed from: the trend of the
/// day before, and each day's count and sum of weigh-ins, as JSON `{"before", "days": [{"date",
/// "count", "sum"}]}`.
pub(super) const TREND_INPUTS: [&str; 2] = [
    "SELECT json_build_object(\
        'before', (SELECT trend FROM weight_days WHERE user_id = $1 AND local_date < $2 \
            ORDER BY local_date DESC LIMIT 1), \
        'days', (SELECT json_agg(json_build_object('date', local_date, 'count', weigh_ins, \
            'sum', weight_sum) ORDER BY local_date) \
            FROM weight_days WHERE user_id = $1 AND local_date >= $2))::text",
    "SELECT json_object(\
        'before', (SELECT trend FROM weight_days WHERE user_id = $1 AND local_date < $2 \
            ORDER BY local_date DESC LIMIT 1), \
        'days', (SELECT json_group_array(json_object('date', local_date, 'count', weigh_ins, \
            'sum', weight_sum)) FROM (SELECT * FROM weight_days \
            WHERE user_id = $1 AND local_date >= $2 ORDER BY local_date)))",
];

/// Writes the trends of `$2` (JSON `[{"date", "trend"}]`) to the user's weigh-in days.
pub(super) const WRITE_TRENDS: [&str; 2] = [
    "UPDATE weight_days w SET trend = v.trend \
     FROM json_to_recordset(CAST($2 AS json)) AS v(date date, trend double precision) \
     WHERE w.user_id = $1 AND w.local_date = v.date",
    "UPDATE weight_days SET trend = (SELECT json_extract(j.value, '$.trend') FROM json_each($2) j \
        WHERE json_extract(j.value, '$.date') = weight_days.local_date) \
     WHERE user_id = $1 AND local_date IN (SELECT json_extract(value, '$.date') FROM json_each($2))",
];

/// [`TREND_INPUTS`], read.
#[derive(Debug, serde::Deserialize)]
pub(super) struct TrendInputs {
    before: Option<f64>,
    #[serde(default)]
    days: Option<Vec<DayInput>>,
}

#[derive(Debug, serde::Deserialize)]
struct DayInput {
    date: chrono::NaiveDate,
    count: i64,
    sum: f64,
}

/// One day's trend, as [`WRITE_TRENDS`] takes it.
#[derive(Debug, serde::Serialize)]
pub(super) struct DayTrend {
    date: chrono::NaiveDate,
    trend: f64,
}

impl TrendInputs {
    /// The trend of each day, carried on from the day before (`domain::weights::trends`).
    pub(super) fn trends(&self) -> Vec<DayTrend> {
        let days: Vec<(chrono::NaiveDate, f64)> = self
            .days
            .iter()
            .flatten()
            .filter(|day| day.count > 0)
            .map(|day| (day.date, day.sum / day.count as f64))
            .collect();
        crate::domain::weights::trends(self.before, &days)
            .into_iter()
            .map(|(date, trend)| DayTrend { date, trend })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::assert_layout;

    #[test]
    fn every_statement_names_the_parameters_of_its_layout() {
        assert_layout(&Weights::SQL, 4);
        assert_layout(&Activities::SQL, 6);
        assert_layout(&Water::SQL, 2);
    }
}
