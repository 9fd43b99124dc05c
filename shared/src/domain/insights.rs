//! Insights: what a user's own days say. `GET /goals/recommendation` estimates the energy the
//! user spends from what they ate and how their weight moved, and turns it into goals;
//! `GET /reports` sums up a range. The database reads a range's day sums ([`InsightDays`]);
//! every figure is computed here, from them alone.
//!
//! The estimator, in four steps:
//! - **intake**: the mean of the calories of the window's days with food logged;
//! - **weight slope**: the ordinary least-squares slope of each weigh-in day's mean weight
//!   against its day number, `Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²` (Legendre 1805, Gauss 1809): the
//!   line that misses the weigh-ins by the least squared distance, so single swings of water
//!   and food weigh little;
//! - **energy balance**: what is eaten and not spent is stored, so the expenditure is
//!   `intake − slope × 7700` kcal a day for a slope in kg a day. 7700 kcal per kg of body weight
//!   change is the classic approximation (Wishnofsky M, *Caloric equivalents of gained or lost
//!   weight*, Am J Clin Nutr 1958;6(5):542–546); a real change mixes fat with water, glycogen
//!   and lean mass of other energy densities (Hall KD, *What is the required energy deficit per
//!   unit weight loss?*, Int J Obes 2008;32(3):573–576), which averages out over weeks, not days;
//! - **goals**: the expenditure plus the onboarding goal's adjustment, to the nearest 10 kcal and
//!   clamped as onboarding does ([`onboarding::calorie_goal`]), split into macros by onboarding's
//!   own rule ([`onboarding::macro_split`]) at the latest weigh-in's weight.
//!
//! Rounding is half away from zero everywhere (`f64::round`); figures are computed unrounded and
//! rounded when shown.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::goals::NutritionGoals;
use super::onboarding::{self, FitnessGoal};
use super::streaks::ActiveDays;
use super::summary::{DateRange, DayTotals, Targets};
use super::weights::{self, WeighInDay};
use crate::error::{Error, Result};
use crate::time::amount;
use crate::validate::spec::Number;
use crate::validate::{Body, Fields, Mode, Unknown};

/// A range of a user's days with what the insights measure them by, as one statement reads
/// them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InsightDays {
    /// The goals in force (the defaults when unset).
    pub targets: Targets,
    /// The onboarding goal; `None` without onboarding.
    pub fitness_goal: Option<FitnessGoal>,
    /// The weight of the user's latest weigh-in by timestamp, whenever it was.
    pub latest_weight: Option<f64>,
    /// The sums of each day of the range with records.
    pub days: BTreeMap<NaiveDate, DayTotals>,
    /// The trend of the last weigh-in day before the range.
    pub trend_before: Option<f64>,
    /// Each weigh-in day of the range.
    pub weigh_ins: BTreeMap<NaiveDate, WeighInDay>,
}

impl InsightDays {
    /// The days with at least one food entry.
    fn logged(&self) -> impl Iterator<Item = (NaiveDate, &DayTotals)> {
        self.days
            .iter()
            .filter(|(_, day)| day.entries > 0)
            .map(|(date, day)| (*date, day))
    }

    /// The days with at least one weigh-in, with their mean weight.
    fn weighed(&self) -> impl Iterator<Item = (NaiveDate, f64)> {
        self.weigh_ins
            .iter()
            .filter(|(_, day)| day.weigh_ins > 0)
            .map(|(date, day)| (*date, day.mean()))
    }
}

// --- The estimator ---------------------------------------------------------------------------

/// The days the recommendation looks at: the 28 that end yesterday (today is not over).
pub const WINDOW_DAYS: u32 = 28;
/// kcal per kg of body weight change: an approximation (see the module's sources).
pub const KCAL_PER_KG: f64 = 7700.0;
/// An estimated expenditure outside this (kcal a day) is taken to mean an incomplete log.
pub const PLAUSIBLE_EXPENDITURE: Number = Number {
    min: 1000.0,
    max: 6000.0,
};
/// Enough data: days with food logged, days with a weigh-in, and days between the first and
/// the last weigh-in day of the window, at least.
const ENOUGH_LOGGED_DAYS: u32 = 14;
const ENOUGH_WEIGH_IN_DAYS: u32 = 4;
const ENOUGH_WEIGH_IN_SPAN: i64 = 14;
/// High confidence: days with food logged and days with a weigh-in, at least.
const HIGH_LOGGED_DAYS: u32 = 24;
const HIGH_WEIGH_IN_DAYS: u32 = 8;

/// The window of a user whose today is `today`: the [`WINDOW_DAYS`] days that end yesterday.
pub fn window(today: NaiveDate) -> DateRange {
    DateRange::ending(today.pred_opt().unwrap_or(today), WINDOW_DAYS)
}

/// The ordinary least-squares slope of `y` against `x`, `Σ(x − x̄)(y − ȳ) / Σ(x − x̄)²`;
/// `None` unless there are two different `x`.
pub fn least_squares_slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
    let (covariance, variance) = points.iter().fold((0.0, 0.0), |(xy, xx), (x, y)| {
        (xy + (x - mean_x) * (y - mean_y), xx + (x - mean_x).powi(2))
    });
    (variance > 0.0).then(|| covariance / variance)
}

/// Energy balance: the kcal a day spent by someone who eats `average_intake` kcal a day while
/// their weight moves by `slope` kg a day, `intake − slope × 7700`. Unrounded.
pub fn expenditure(average_intake: f64, slope: f64) -> f64 {
    average_intake - slope * KCAL_PER_KG
}

/// How sure the recommendation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// At least 24 days with food logged and 8 with a weigh-in.
    High,
    /// Enough data, less than for `high`.
    Medium,
    /// Not enough data, or an implausible estimate: no goals are recommended.
    Insufficient,
}

/// `GET /goals/recommendation`: a calorie goal from the user's own intake and weight over the
/// 28 days that end yesterday, recomputed at each call and never applied by itself.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"windowStart": "2024-06-13", "windowEnd": "2024-07-10",
    "loggedDays": 20, "weighInDays": 4, "averageIntake": 2175, "weightSlope": -0.36,
    "estimatedExpenditure": 2570,
    "currentGoals": {"calories": 1550, "protein": 120, "carbs": 171, "fat": 43},
    "recommendedGoals": {"calories": 2070, "protein": 157, "carbs": 230, "fat": 58},
    "confidence": "medium", "reason": null}))]
pub struct Recommendation {
    /// The first day of the window: 28 days before the caller's today.
    pub window_start: NaiveDate,
    /// The last day of the window: the caller's yesterday.
    pub window_end: NaiveDate,
    /// Days of the window with at least one food entry.
    pub logged_days: u32,
    /// Days of the window with at least one weigh-in.
    pub weigh_in_days: u32,
    /// The mean of the calories of the logged days (kcal, 2 decimals); null without any.
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub average_intake: Option<f64>,
    /// The least-squares slope of the weigh-in days' mean weights against the day, in kg per
    /// week (2 decimals); null with fewer than 2 weigh-in days.
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub weight_slope: Option<f64>,
    /// `averageIntake − (slope in kg per day) × 7700`, to the nearest 10 kcal, from the unrounded
    /// intake and slope; null when either is.
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub estimated_expenditure: Option<f64>,
    /// The goals in force.
    pub current_goals: NutritionGoals,
    /// `estimatedExpenditure` + the onboarding goal's adjustment (−500 / 0 / +500 kcal; 0
    /// without onboarding), to the nearest 10 and clamped to 1200–4000 kcal, with protein, fat
    /// and carbs as `POST /onboarding` computes them at the latest weigh-in's weight (protein
    /// as for `maintain_weight` without onboarding); null when `insufficient`.
    #[schema(required = true)]
    pub recommended_goals: Option<NutritionGoals>,
    pub confidence: Confidence,
    /// When `insufficient`, what is missing, in one sentence; else null.
    #[schema(required = true)]
    pub reason: Option<String>,
}

impl Recommendation {
    /// The recommendation of `window` (see [`window`]) from its days.
    pub fn of(window: DateRange, days: &InsightDays) -> Self {
        let logged: Vec<f64> = days.logged().map(|(_, day)| day.calories).collect();
        let logged_days = count(logged.len());
        let average_intake =
            (!logged.is_empty()).then(|| logged.iter().sum::<f64>() / logged.len() as f64);
        let weighed: Vec<(NaiveDate, f64)> = days.weighed().collect();
        let weigh_in_days = count(weighed.len());
        let points: Vec<(f64, f64)> = weighed
            .iter()
            .map(|(date, kg)| ((*date - window.start()).num_days() as f64, *kg))
            .collect();
        let slope = least_squares_slope(&points);
        let estimate = average_intake
            .zip(slope)
            .map(|(intake, slope)| onboarding::nearest_ten(expenditure(intake, slope)));
        let span = match (weighed.first(), weighed.last()) {
            (Some((first, _)), Some((last, _))) => (*last - *first).num_days(),
            _ => 0,
        };
        let goal = days.fitness_goal.unwrap_or(FitnessGoal::MaintainWeight);
        let kg = days
            .latest_weight
            .or_else(|| weighed.last().map(|(_, kg)| *kg));
        let verdict = match missing_data(logged_days, weigh_in_days, span) {
            Some(reason) => Err(reason),
            None => match estimate.zip(kg) {
                Some((kcal, kg)) if PLAUSIBLE_EXPENDITURE.contains(kcal) => {
                    let calories = onboarding::calorie_goal(kcal + goal.calorie_adjustment());
                    let confidence =
                        if logged_days >= HIGH_LOGGED_DAYS && weigh_in_days >= HIGH_WEIGH_IN_DAYS {
                            Confidence::High
                        } else {
                            Confidence::Medium
                        };
                    Ok((confidence, onboarding::macro_split(calories, kg, goal)))
                }
                _ => Err(implausible(estimate)),
            },
        };
        let (confidence, recommended_goals, reason) = match verdict {
            Ok((confidence, goals)) => (confidence, Some(goals), None),
            Err(reason) => (Confidence::Insufficient, None, Some(reason)),
        };
        Self {
            window_start: window.start(),
            window_end: window.end(),
            logged_days,
            weigh_in_days,
            average_intake: average_intake.map(amount::round),
            weight_slope: slope.map(|per_day| amount::round(per_day * 7.0)),
            estimated_expenditure: estimate,
            current_goals: days.targets.goals,
            recommended_goals,
            confidence,
            reason,
        }
    }

    /// The goals to apply; a 409 `CONFLICT` saying what is missing when there are none.
    pub fn into_goals(self) -> Result<NutritionGoals> {
        match (self.recommended_goals, self.reason) {
            (Some(goals), _) => Ok(goals),
            (None, reason) => Err(Error::Conflict(
                reason
                    .unwrap_or_else(|| "No goals can be recommended yet.".to_owned())
                    .into(),
            )),
        }
    }
}

fn count(days: usize) -> u32 {
    u32::try_from(days).unwrap_or(u32::MAX)
}

/// What the window lacks, as one sentence, or `None` when it has enough data.
fn missing_data(logged_days: u32, weigh_in_days: u32, span: i64) -> Option<String> {
    let mut missing = Vec::new();
    if logged_days < ENOUGH_LOGGED_DAYS {
        missing.push(format!(
            "at least {ENOUGH_LOGGED_DAYS} days with food logged ({logged_days} so far)"
        ));
    }
    if weigh_in_days < ENOUGH_WEIGH_IN_DAYS {
        missing.push(format!(
            "at least {ENOUGH_WEIGH_IN_DAYS} days with a weigh-in ({weigh_in_days} so far)"
        ));
    }
    if span < ENOUGH_WEIGH_IN_SPAN {
        missing.push(format!(
            "at least {ENOUGH_WEIGH_IN_SPAN} days between the first and the last weigh-in \
             ({span} so far)"
        ));
    }
    let (last, rest) = missing.split_last()?;
    let list = match rest {
        [] => last.clone(),
        _ => format!("{} and {last}", rest.join(", ")),
    };
    Some(format!(
        "Not enough data in the last {WINDOW_DAYS} days: a recommendation takes {list}."
    ))
}

/// Why an estimate with enough data behind it is refused.
fn implausible(estimate: Option<f64>) -> String {
    let Number { min, max } = PLAUSIBLE_EXPENDITURE;
    match estimate {
        Some(kcal) => format!(
            "The estimated expenditure of {kcal} kcal a day is outside {min}–{max} kcal, so the \
             food log is taken to be incomplete."
        ),
        None => "The expenditure cannot be estimated from these days.".to_owned(),
    }
}

/// The body of `POST /goals/recommendation/apply`: nothing.
pub static APPLY_BODY: Body = Body {
    fields: &[],
    unknown: Unknown::Deny,
    doc: "Nothing: no body, an empty one or `{}`. Any field is refused, each named.",
};

/// The body of `POST /goals/recommendation/apply`, validated: there is nothing in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApplyRequest;

crate::body_schema!(
    ApplyRequest,
    "ApplyRecommendation",
    APPLY_BODY,
    Mode::Create
);

impl ApplyRequest {
    /// No body, or an object without fields; each field given is a 400 naming it.
    pub fn read(body: Option<&Value>) -> Result<Self> {
        if let Some(body) = body {
            Fields::of_body(body, &APPLY_BODY, Mode::Create)?.finish()?;
        }
        Ok(Self)
    }
}

// --- Reports ---------------------------------------------------------------------------------

/// Sums or averages of a range's days: the six figures every day has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Averages {
    /// kcal eaten.
    #[serde(with = "amount")]
    pub calories: f64,
    /// Grams.
    #[serde(with = "amount")]
    pub protein: f64,
    /// Grams.
    #[serde(with = "amount")]
    pub carbs: f64,
    /// Grams.
    #[serde(with = "amount")]
    pub fat: f64,
    /// kcal of activities.
    #[serde(with = "amount")]
    pub calories_burned: f64,
    /// Millilitres of water.
    #[serde(with = "amount")]
    pub water: f64,
}

impl Averages {
    fn add(self, day: &DayTotals) -> Self {
        Self {
            calories: self.calories + day.calories,
            protein: self.protein + day.protein,
            carbs: self.carbs + day.carbs,
            fat: self.fat + day.fat,
            calories_burned: self.calories_burned + day.calories_burned,
            water: self.water + day.water as f64,
        }
    }

    /// Each figure divided by `days`, to 2 decimals.
    fn per(self, days: u32) -> Self {
        let per = |total: f64| amount::round(total / f64::from(days));
        Self {
            calories: per(self.calories),
            protein: per(self.protein),
            carbs: per(self.carbs),
            fat: per(self.fat),
            calories_burned: per(self.calories_burned),
            water: per(self.water),
        }
    }
}

/// Each macro's share of the energy of the three, in percent.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, ToSchema)]
pub struct MacroShare {
    /// 4 kcal per gram.
    #[serde(with = "amount")]
    pub protein: f64,
    /// 4 kcal per gram.
    #[serde(with = "amount")]
    pub carbs: f64,
    /// 9 kcal per gram.
    #[serde(with = "amount")]
    pub fat: f64,
}

impl MacroShare {
    /// The shares of the grams in `totals` (Atwater's 4 / 4 / 9 kcal per gram), each to 1
    /// decimal on its own (so the three may add up to 99.9 or 100.1); `None` without macros.
    fn of(totals: &Averages) -> Option<Self> {
        let [protein, carbs, fat] = [4.0 * totals.protein, 4.0 * totals.carbs, 9.0 * totals.fat];
        let energy = protein + carbs + fat;
        let share = |kcal: f64| (kcal / energy * 1000.0).round() / 10.0;
        (energy > 0.0).then(|| Self {
            protein: share(protein),
            carbs: share(carbs),
            fat: share(fat),
        })
    }
}

/// `GET /reports`: a range of the user's days summed up.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"startDate": "2024-07-01", "endDate": "2024-07-07",
    "calendarDays": 7, "loggedDays": 5,
    "perLoggedDay": {"calories": 1900, "protein": 95, "carbs": 210, "fat": 60,
                     "caloriesBurned": 280, "water": 1820},
    "perCalendarDay": {"calories": 1357.14, "protein": 67.86, "carbs": 150, "fat": 42.86,
                       "caloriesBurned": 200, "water": 1300},
    "macroShare": {"protein": 21.6, "carbs": 47.7, "fat": 30.7},
    "daysOnTarget": 4, "weightChange": -0.21, "longestStreak": 3}))]
pub struct Report {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Days from `startDate` to `endDate`, both included (future days too).
    pub calendar_days: u32,
    /// Days of the range with at least one food entry.
    pub logged_days: u32,
    /// The range's totals divided by `loggedDays` (2 decimals); null when it is 0. The totals
    /// are of every day of the range: activity and water of days without food count too.
    #[schema(required = true)]
    pub per_logged_day: Option<Averages>,
    /// The range's totals divided by `calendarDays` (2 decimals).
    pub per_calendar_day: Averages,
    /// Each macro's share of the energy of the three in the range's totals (4 / 4 / 9 kcal per
    /// gram), in percent with 1 decimal, each rounded on its own; null when no macros were
    /// logged.
    #[schema(required = true)]
    pub macro_share: Option<MacroShare>,
    /// Logged days whose calories are within ±10% of the current calorie goal, both ends
    /// included.
    pub days_on_target: u32,
    /// The trend on `endDate` minus the trend on `startDate` (kg, 2 decimals; the trend of
    /// `GET /weight-trend`, over the whole history); null unless both exist.
    #[serde(with = "amount::optional")]
    #[schema(required = true, value_type = Option<f64>)]
    pub weight_change: Option<f64>,
    /// The longest run of consecutive logged days inside the range (runs are cut at its ends).
    pub longest_streak: u32,
}

impl Report {
    /// The report of `range` from its days.
    pub fn of(range: DateRange, days: &InsightDays) -> Self {
        let totals = days.days.values().fold(Averages::default(), Averages::add);
        let logged: ActiveDays = days.logged().map(|(date, _)| date).collect();
        let logged_days = count(logged.len());
        let goal = days.targets.goals.calories;
        let days_on_target = count(
            days.logged()
                .filter(|(_, day)| 10.0 * (day.calories - goal).abs() <= goal)
                .count(),
        );
        let trend = weights::trend_days(range, days.trend_before, &days.weigh_ins);
        let on = |day: Option<&weights::TrendDay>| day.and_then(|day| day.trend);
        let weight_change = on(trend.first())
            .zip(on(trend.last()))
            .map(|(start, end)| amount::round(end - start));
        Self {
            start_date: range.start(),
            end_date: range.end(),
            calendar_days: range.day_count(),
            logged_days,
            per_logged_day: (logged_days > 0).then(|| totals.per(logged_days)),
            per_calendar_day: totals.per(range.day_count()),
            macro_share: MacroShare::of(&totals),
            days_on_target,
            weight_change,
            longest_streak: logged.longest_run(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::time::parse_date;

    fn date(raw: &str) -> NaiveDate {
        parse_date(raw).unwrap()
    }

    /// The README's window: the 28 days that end on July 10th.
    fn readme_window() -> DateRange {
        window(date("2024-07-11"))
    }

    fn food(calories: f64) -> DayTotals {
        DayTotals {
            entries: 1,
            calories,
            ..DayTotals::default()
        }
    }

    fn weighed(kg: f64) -> WeighInDay {
        WeighInDay::stored(1, kg, None)
    }

    /// `days` of `window`: food on the days numbered in `eaten` (0 is the window's first
    /// day), weigh-ins on those in `weights`.
    fn days_of(window: DateRange, eaten: &[(i64, f64)], weights: &[(i64, f64)]) -> InsightDays {
        let on = |n: i64| window.start() + Duration::days(n);
        InsightDays {
            days: eaten
                .iter()
                .map(|(n, kcal)| (on(*n), food(*kcal)))
                .collect(),
            weigh_ins: weights
                .iter()
                .map(|(n, kg)| (on(*n), weighed(*kg)))
                .collect(),
            latest_weight: weights.last().map(|(_, kg)| *kg),
            ..InsightDays::default()
        }
    }

    /// The README's example: 10 days at 2100 kcal and 10 at 2250, weigh-ins of 80, 79.7, 79 and
    /// 78.7 kg on the window's days 0, 9, 18 and 27, losing weight.
    fn readme_example() -> InsightDays {
        let eaten: Vec<(i64, f64)> = (0..10)
            .map(|n| (n, 2100.0))
            .chain((18..28).map(|n| (n, 2250.0)))
            .collect();
        let weights = [(0, 80.0), (9, 79.7), (18, 79.0), (27, 78.7)];
        InsightDays {
            fitness_goal: Some(FitnessGoal::LoseWeight),
            ..days_of(readme_window(), &eaten, &weights)
        }
    }

    #[test]
    fn the_window_is_the_28_days_that_end_yesterday() {
        let window = window(date("2024-03-01"));
        assert_eq!(window.start(), date("2024-02-02"));
        assert_eq!(window.end(), date("2024-02-29"));
        assert_eq!(window.day_count(), 28);
    }

    /// Every number of the README's worked example.
    #[test]
    fn the_readme_example() {
        let recommendation = Recommendation::of(readme_window(), &readme_example());
        // Slope −20.7 / 405 = −0.051111 kg a day = −0.357778 kg a week; the expenditure
        // 2175 + 0.051111 × 7700 = 2568.56 → 2570; losing: 2070 kcal; protein 78.7 × 2 = 157.4
        // → 157; fat 2070 × 0.25 / 9 = 57.5 → 58; carbs (2070 − 628 − 522) / 4 = 230.
        assert_eq!(
            serde_json::to_value(&recommendation).unwrap(),
            json!({"windowStart": "2024-06-13", "windowEnd": "2024-07-10", "loggedDays": 20,
                   "weighInDays": 4, "averageIntake": 2175, "weightSlope": -0.36,
                   "estimatedExpenditure": 2570,
                   "currentGoals": {"calories": 2000, "protein": 100, "carbs": 250, "fat": 70},
                   "recommendedGoals": {"calories": 2070, "protein": 157, "carbs": 230, "fat": 58},
                   "confidence": "medium", "reason": null})
        );
        let slope = least_squares_slope(&[(0.0, 80.0), (9.0, 79.7), (18.0, 79.0), (27.0, 78.7)]);
        assert!((slope.unwrap() - -20.7 / 405.0).abs() < 1e-12);
        assert_eq!(
            recommendation.into_goals().unwrap(),
            NutritionGoals {
                calories: 2070.0,
                protein: 157.0,
                carbs: 230.0,
                fat: 58.0
            }
        );
    }

    #[test]
    fn enough_of_everything_is_high_confidence() {
        // 24 days at 2500 kcal, 8 weigh-ins gaining 0.02 kg a day: 2500 − 154 = 2346 → 2350;
        // without onboarding nothing is added and protein is maintenance's 1.6 g/kg.
        let window = readme_window();
        let eaten: Vec<(i64, f64)> = (4..28).map(|n| (n, 2500.0)).collect();
        let weights: Vec<(i64, f64)> = (0..8)
            .map(|k| (1 + 3 * k, 70.0 + 0.02 * (1 + 3 * k) as f64))
            .collect();
        let recommendation = Recommendation::of(window, &days_of(window, &eaten, &weights));
        assert_eq!(recommendation.confidence, Confidence::High);
        assert_eq!(recommendation.weight_slope, Some(0.14));
        assert_eq!(recommendation.estimated_expenditure, Some(2350.0));
        // 70.44 × 1.6 = 112.7 → 113; fat 2350 / 36 = 65.28 → 65; carbs (2350 − 452 − 585) / 4.
        assert_eq!(
            recommendation.recommended_goals,
            Some(NutritionGoals {
                calories: 2350.0,
                protein: 113.0,
                carbs: 328.0,
                fat: 65.0
            })
        );
        // One logged day fewer is medium.
        let fewer = days_of(window, &eaten[1..], &weights);
        assert_eq!(
            Recommendation::of(window, &fewer).confidence,
            Confidence::Medium
        );
    }

    #[test]
    fn without_data_every_figure_that_needs_it_is_null() {
        let recommendation = Recommendation::of(readme_window(), &InsightDays::default());
        assert_eq!(
            serde_json::to_value(&recommendation).unwrap(),
            json!({"windowStart": "2024-06-13", "windowEnd": "2024-07-10", "loggedDays": 0,
                   "weighInDays": 0, "averageIntake": null, "weightSlope": null,
                   "estimatedExpenditure": null,
                   "currentGoals": {"calories": 2000, "protein": 100, "carbs": 250, "fat": 70},
                   "recommendedGoals": null, "confidence": "insufficient",
                   "reason": "Not enough data in the last 28 days: a recommendation takes at \
                              least 14 days with food logged (0 so far), at least 4 days with a \
                              weigh-in (0 so far) and at least 14 days between the first and the \
                              last weigh-in (0 so far)."})
        );
        let conflict = recommendation.into_goals().unwrap_err();
        assert_eq!(conflict.code(), "CONFLICT");
        assert!(conflict.body().error.starts_with("Not enough data"));
    }

    #[test]
    fn each_threshold_is_inclusive_and_named_when_missed() {
        let window = readme_window();
        let eaten: Vec<(i64, f64)> = (0..14).map(|n| (n, 2000.0)).collect();
        // Four weigh-ins exactly 14 days apart from first to last: just enough.
        let weights = [(0, 70.0), (5, 70.0), (10, 70.0), (14, 70.0)];
        let enough = Recommendation::of(window, &days_of(window, &eaten, &weights));
        assert_eq!(enough.confidence, Confidence::Medium);
        assert_eq!(enough.estimated_expenditure, Some(2000.0));
        let reason = |eaten: &[(i64, f64)], weights: &[(i64, f64)]| {
            Recommendation::of(window, &days_of(window, eaten, weights))
                .reason
                .unwrap()
        };
        assert_eq!(
            reason(&eaten[1..], &weights),
            "Not enough data in the last 28 days: a recommendation takes at least 14 days with \
             food logged (13 so far)."
        );
        assert_eq!(
            reason(&eaten, &weights[1..]),
            "Not enough data in the last 28 days: a recommendation takes at least 4 days with a \
             weigh-in (3 so far) and at least 14 days between the first and the last weigh-in \
             (9 so far)."
        );
        let close = [(0, 70.0), (5, 70.0), (10, 70.0), (13, 70.0)];
        assert!(reason(&eaten, &close).ends_with("the last weigh-in (13 so far)."));
    }

    #[test]
    fn an_implausible_expenditure_is_refused() {
        let window = readme_window();
        let weights = [(0, 70.0), (9, 70.0), (18, 70.0), (27, 70.0)];
        // The guard judges the estimate shown: 995 is 1000 to the nearest 10, 6005 is 6010.
        for (kcal, plausible) in [
            (994.0, false),
            (995.0, true),
            (6004.0, true),
            (6005.0, false),
        ] {
            let eaten: Vec<(i64, f64)> = (0..20).map(|n| (n, kcal)).collect();
            let recommendation = Recommendation::of(window, &days_of(window, &eaten, &weights));
            assert_eq!(
                recommendation.recommended_goals.is_some(),
                plausible,
                "{kcal}"
            );
            if !plausible {
                assert_eq!(recommendation.confidence, Confidence::Insufficient);
                let reason = recommendation.reason.unwrap();
                assert!(
                    reason.starts_with("The estimated expenditure of"),
                    "{reason}"
                );
                assert!(
                    reason.ends_with(
                        "is outside 1000–6000 kcal, so the food log is taken to be incomplete."
                    ),
                    "{reason}"
                );
            }
        }
    }

    #[test]
    fn the_figures_round_half_away_from_zero() {
        // Numbers exact in binary: a loss of 0.0625 kg a day (0.4375 a week → 0.44) at
        // 2303.75 kcal a day is 2303.75 + 481.25 = 2785 kcal → 2790.
        let window = readme_window();
        let eaten: Vec<(i64, f64)> = (0..20).map(|n| (n, 2303.75)).collect();
        let weights = [(0, 80.0), (8, 79.5), (16, 79.0), (24, 78.5)];
        let recommendation = Recommendation::of(window, &days_of(window, &eaten, &weights));
        assert_eq!(recommendation.average_intake, Some(2303.75));
        assert_eq!(recommendation.weight_slope, Some(-0.44));
        assert_eq!(recommendation.estimated_expenditure, Some(2790.0));
        assert_eq!(onboarding::nearest_ten(-2785.0), -2790.0);
    }

    #[test]
    fn the_apply_body_is_nothing() {
        assert_eq!(ApplyRequest::read(None).unwrap(), ApplyRequest);
        assert_eq!(ApplyRequest::read(Some(&json!({}))).unwrap(), ApplyRequest);
        let Err(Error::Validation(problems)) = ApplyRequest::read(Some(&json!({"calories": 2000})))
        else {
            panic!("a field is refused")
        };
        assert_eq!(problems["calories"], "unknown field");
        let Err(Error::Validation(problems)) = ApplyRequest::read(Some(&json!([]))) else {
            panic!("an array is refused")
        };
        assert_eq!(problems["body"], "must be a JSON object");
    }

    fn report_days() -> (DateRange, InsightDays) {
        let range = DateRange::parse(Some("2024-07-01"), Some("2024-07-07")).unwrap();
        let day = |calories, protein, carbs, fat| DayTotals {
            entries: 2,
            calories,
            protein,
            carbs,
            fat,
            ..DayTotals::default()
        };
        let days = BTreeMap::from([
            (date("2024-07-01"), day(1800.0, 100.0, 200.0, 60.0)),
            (date("2024-07-02"), day(2200.0, 110.0, 260.0, 70.0)),
            (date("2024-07-03"), day(2300.0, 90.0, 300.0, 80.0)),
            // Activity and water only: not a logged day.
            (
                date("2024-07-04"),
                DayTotals {
                    calories_burned: 400.0,
                    water: 1500,
                    ..DayTotals::default()
                },
            ),
            (
                date("2024-07-06"),
                DayTotals {
                    water: 1000,
                    calories_burned: 300.5,
                    ..day(1000.0, 0.0, 0.0, 0.0)
                },
            ),
            (date("2024-07-07"), day(2000.0, 100.0, 240.0, 50.0)),
        ]);
        let weigh_ins = BTreeMap::from([
            (date("2024-07-03"), WeighInDay::stored(1, 70.0, Some(70.4))),
            (
                date("2024-07-06"),
                WeighInDay::stored(2, 139.0, Some(70.19)),
            ),
        ]);
        (
            range,
            InsightDays {
                days,
                trend_before: Some(70.5),
                weigh_ins,
                ..InsightDays::default()
            },
        )
    }

    #[test]
    fn a_report_sums_up_its_range() {
        let (range, days) = report_days();
        // Totals: 9300 kcal, 400 g protein, 1000 g carbs, 260 g fat, 700.5 kcal burned, 2500 ml.
        // Energy of the macros: 1600 + 4000 + 2340 = 7940 kcal.
        assert_eq!(
            serde_json::to_value(Report::of(range, &days)).unwrap(),
            json!({"startDate": "2024-07-01", "endDate": "2024-07-07", "calendarDays": 7,
                   "loggedDays": 5,
                   "perLoggedDay": {"calories": 1860, "protein": 80, "carbs": 200, "fat": 52,
                                    "caloriesBurned": 140.1, "water": 500},
                   "perCalendarDay": {"calories": 1328.57, "protein": 57.14, "carbs": 142.86,
                                      "fat": 37.14, "caloriesBurned": 100.07, "water": 357.14},
                   "macroShare": {"protein": 20.2, "carbs": 50.4, "fat": 29.5},
                   // 1800, 2200 and 2000 are within 2000 ± 200; 2300 and 1000 are not.
                   "daysOnTarget": 3,
                   // 70.19 on the 7th (carried from the 6th) − 70.5 on the 1st (carried from
                   // before the range).
                   "weightChange": -0.31,
                   "longestStreak": 3})
        );
    }

    #[test]
    fn an_empty_report_has_zeros_and_nulls() {
        let range = DateRange::day(date("2024-07-01"));
        assert_eq!(
            serde_json::to_value(Report::of(range, &InsightDays::default())).unwrap(),
            json!({"startDate": "2024-07-01", "endDate": "2024-07-01", "calendarDays": 1,
                   "loggedDays": 0, "perLoggedDay": null,
                   "perCalendarDay": {"calories": 0, "protein": 0, "carbs": 0, "fat": 0,
                                      "caloriesBurned": 0, "water": 0},
                   "macroShare": null, "daysOnTarget": 0, "weightChange": null,
                   "longestStreak": 0})
        );
    }

    #[test]
    fn the_weight_change_needs_a_trend_at_both_ends() {
        let (range, mut days) = report_days();
        days.trend_before = None;
        // The first trend of the range is on the 3rd: none on the 1st.
        assert_eq!(Report::of(range, &days).weight_change, None);
        let from_the_start = DateRange::parse(Some("2024-07-03"), Some("2024-07-07")).unwrap();
        assert_eq!(Report::of(from_the_start, &days).weight_change, Some(-0.21));
    }

    /// Weigh-ins on distinct days of a window, as (day number, kg): a drift of up to 0.2 kg a
    /// day from a start, with a wobble of up to 1.5 kg either way.
    fn weigh_in_series() -> impl Strategy<Value = Vec<(i64, f64)>> {
        (
            prop::collection::btree_map(0i64..28, -1.5f64..1.5, 2..28),
            30.0f64..300.0,
            -0.2f64..0.2,
        )
            .prop_map(|(days, start, per_day)| {
                days.into_iter()
                    .map(|(d, wobble)| (d, start + per_day * d as f64 + wobble))
                    .collect()
            })
    }

    /// Days with food logged, as (day number, kcal).
    fn eaten_days() -> impl Strategy<Value = Vec<(i64, f64)>> {
        prop::collection::btree_map(0i64..28, 0.0f64..6000.0, 0..28)
            .prop_map(|days| days.into_iter().collect())
    }

    fn any_goal() -> impl Strategy<Value = Option<FitnessGoal>> {
        prop::option::of(prop::sample::select(vec![
            FitnessGoal::LoseWeight,
            FitnessGoal::MaintainWeight,
            FitnessGoal::GainWeight,
        ]))
    }

    proptest! {
        /// A perfectly linear weight series gives its exact slope.
        #[test]
        fn a_line_gives_its_own_slope(
            days in prop::collection::btree_set(0i64..28, 2..28),
            start in 20.0f64..500.0,
            per_day in -1.0f64..1.0,
        ) {
            let points: Vec<(f64, f64)> = days.iter().map(|&d| (d as f64, start + per_day * d as f64)).collect();
            let slope = least_squares_slope(&points).unwrap();
            prop_assert!((slope - per_day).abs() < 1e-9, "{slope} vs {per_day}");
        }

        /// Adding a constant to every weight changes neither the slope nor the estimate.
        #[test]
        fn shifting_every_weight_changes_nothing(
            eaten in eaten_days(),
            weights in weigh_in_series(),
            shift in -15.0f64..15.0,
        ) {
            let window = readme_window();
            let shifted: Vec<(i64, f64)> = weights.iter().map(|(d, kg)| (*d, kg + shift)).collect();
            let points = |weights: &[(i64, f64)]| -> Vec<(f64, f64)> {
                weights.iter().map(|(d, kg)| (*d as f64, *kg)).collect()
            };
            let (a, b) = (least_squares_slope(&points(&weights)).unwrap(), least_squares_slope(&points(&shifted)).unwrap());
            prop_assert!((a - b).abs() < 1e-9);
            let before = Recommendation::of(window, &days_of(window, &eaten, &weights));
            let after = Recommendation::of(window, &days_of(window, &eaten, &shifted));
            prop_assert_eq!(before.weight_slope, after.weight_slope);
            prop_assert_eq!(before.estimated_expenditure, after.estimated_expenditure);
            prop_assert_eq!(before.logged_days, after.logged_days);
        }

        /// At the same slope, eating more raises the estimate by exactly as much.
        #[test]
        fn more_intake_raises_the_estimate_by_as_much(
            eaten in eaten_days().prop_filter("a logged day", |days| !days.is_empty()),
            weights in weigh_in_series(),
            tens in 1u32..300,
        ) {
            let window = readme_window();
            let more = f64::from(tens) * 10.0;
            let fed: Vec<(i64, f64)> = eaten.iter().map(|(d, kcal)| (*d, kcal + more)).collect();
            let before = Recommendation::of(window, &days_of(window, &eaten, &weights));
            let after = Recommendation::of(window, &days_of(window, &fed, &weights));
            prop_assert_eq!(after.estimated_expenditure, before.estimated_expenditure.map(|kcal| kcal + more));
            let points: Vec<(f64, f64)> = weights.iter().map(|(d, kg)| (*d as f64, *kg)).collect();
            let slope = least_squares_slope(&points).unwrap();
            let intake = eaten[0].1;
            prop_assert!((expenditure(intake + more, slope) - expenditure(intake, slope) - more).abs() < 1e-6);
        }

        /// Whatever the days, recommended goals pass `PUT /nutrition-goals`.
        #[test]
        fn recommended_goals_always_pass_the_goals_validation(
            eaten in eaten_days(),
            weights in weigh_in_series(),
            goal in any_goal(),
        ) {
            let window = readme_window();
            let days = InsightDays { fitness_goal: goal, ..days_of(window, &eaten, &weights) };
            let recommendation = Recommendation::of(window, &days);
            prop_assert_eq!(recommendation.recommended_goals.is_some(), recommendation.reason.is_none());
            prop_assert_eq!(recommendation.confidence == Confidence::Insufficient, recommendation.reason.is_some());
            if let Some(goals) = recommendation.recommended_goals {
                prop_assert_eq!(goals.calories % 10.0, 0.0);
                let body = serde_json::to_value(goals).unwrap();
                prop_assert_eq!(NutritionGoals::from_body(&body).ok(), Some(goals), "{}", body);
            }
        }

        /// The two averages of a report are the same totals over two counts of days.
        #[test]
        fn a_reports_averages_share_their_totals(
            eaten in eaten_days(),
            length in 28u32..=366,
        ) {
            let range = DateRange::ending(date("2024-12-31"), length);
            let days = InsightDays {
                days: eaten.iter().map(|(n, kcal)| (range.start() + Duration::days(*n), food(*kcal))).collect(),
                ..InsightDays::default()
            };
            let report = Report::of(range, &days);
            let total: f64 = eaten.iter().map(|(_, kcal)| kcal).sum();
            prop_assert_eq!(report.logged_days as usize, eaten.len());
            prop_assert_eq!(report.per_calendar_day.calories, amount::round(total / f64::from(length)));
            prop_assert_eq!(report.per_logged_day.map(|a| a.calories), (!eaten.is_empty()).then(|| amount::round(total / eaten.len() as f64)));
            prop_assert!(report.longest_streak <= report.logged_days);
            prop_assert!(report.days_on_target <= report.logged_days);
        }
    }
}
