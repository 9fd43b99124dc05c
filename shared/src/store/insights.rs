//! Insights: a range of a user's days with everything the recommendation and the reports
//! measure them by, in one statement: the summaries' day sums and targets
//! ([`super::summaries`]), the range's weigh-in days with the last one before it (as
//! `GET /weight-trend` reads them), the onboarding goal and the latest weigh-in.

use std::collections::BTreeMap;

use super::summaries::{DayRow, days_query};
use super::{Dialect, Store, with_db};
use crate::domain::insights::InsightDays;
use crate::domain::onboarding::FitnessGoal;
use crate::domain::summary::DateRange;
use crate::domain::weights::WeighInDay;
use crate::error::Result;

/// [`days_query!`] with the onboarding goal, the latest weigh-in (an uncorrelated subquery:
/// evaluated once, the last entry of an index) and two more arms: the range's weigh-in days,
/// and the last one before the range. Each arm is an indexed range read or lookup of its
/// table's primary key, so the statement costs the same whatever the length of the history.
macro_rules! insights_query {
    ($goals:literal) => {
        days_query!(
            $goals,
            columns: "o.fitness_goal, (SELECT CAST(w.weight AS DOUBLE PRECISION) \
                FROM weight_entries w WHERE w.user_id = $1 \
                ORDER BY w.happened_at DESC, w.id DESC LIMIT 1) AS latest_weight, ",
            joins: "LEFT JOIN user_onboarding_data o ON o.user_id = u.id ",
            arms: " UNION ALL SELECT 'weight', local_date, weigh_ins, \
                CAST(weight_sum AS DOUBLE PRECISION), trend, 0.0, 0.0 \
                FROM weight_days WHERE user_id = $1 AND local_date BETWEEN $2 AND $3 \
                UNION ALL SELECT * FROM (SELECT 'prior', local_date, weigh_ins, \
                CAST(weight_sum AS DOUBLE PRECISION), trend, 0.0, 0.0 \
                FROM weight_days WHERE user_id = $1 AND local_date < $2 \
                ORDER BY local_date DESC LIMIT 1) AS prior"
        )
    };
}

const INSIGHTS_POSTGRES: &str = insights_query!("p.nutrition_goals::text");
const INSIGHTS_SQLITE: &str = insights_query!("p.nutrition_goals");

/// A row of [`insights_query!`]: a summaries' row (a weigh-in day's count, sum and trend in
/// `n`, `a` and `b`) with the goal and the latest weight.
#[derive(Debug, sqlx::FromRow)]
struct InsightRow {
    #[sqlx(flatten)]
    day: DayRow,
    fitness_goal: Option<String>,
    latest_weight: Option<f64>,
}

impl Store {
    /// The user's days in `range` with everything the insights measure them by, in one
    /// round trip.
    pub async fn insight_days(&self, user_id: &str, range: DateRange) -> Result<InsightDays> {
        let sql = match self.dialect() {
            Dialect::Postgres => INSIGHTS_POSTGRES,
            Dialect::Sqlite => INSIGHTS_SQLITE,
        };
        let rows: Vec<InsightRow> = with_db!(self, |conn| {
            Ok(self
                .query_as(sql)
                .bind(user_id)
                .bind(range.start())
                .bind(range.end())
                .fetch_all(&mut **conn)
                .await?)
        })?;
        let first = rows.first();
        let mut insight = InsightDays {
            targets: DayRow::targets(first.map(|row| &row.day)),
            // A goal this build does not know counts as no onboarding.
            fitness_goal: first
                .and_then(|row| row.fitness_goal.as_deref())
                .and_then(FitnessGoal::from_name),
            latest_weight: first.and_then(|row| row.latest_weight),
            days: BTreeMap::new(),
            trend_before: None,
            weigh_ins: BTreeMap::new(),
        };
        for InsightRow { day, .. } in &rows {
            let weigh_in =
                || WeighInDay::stored(day.n.unwrap_or_default(), day.a.unwrap_or_default(), day.b);
            match (day.kind.as_deref(), day.local_date) {
                (Some("weight"), Some(date)) => {
                    insight.weigh_ins.insert(date, weigh_in());
                }
                (Some("prior"), Some(_)) => insight.trend_before = day.b,
                _ => day.add_to(&mut insight.days),
            }
        }
        Ok(insight)
    }
}
