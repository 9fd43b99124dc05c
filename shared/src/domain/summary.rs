//! Daily summaries and the dashboard: what the user ate, burned and drank on each of their
//! days against their goals. The database sums each day (`daily_totals`, `activity_days`,
//! `water_days`); days without records are filled in here, with zeros.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use super::goals::NutritionGoals;
use super::profile::{DEFAULT_WATER_GOAL, ExerciseCalories};
use crate::error::{Error, FieldErrors, Result};
use crate::time::{amount, parse_date};

/// What a date parameter must look like.
pub const DATE_PROBLEM: &str = "must be a date (YYYY-MM-DD)";

/// The user's days from `start` to `end`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl DateRange {
    /// The longest range a summary covers, in days (a leap year).
    pub const MAX_DAYS: i64 = 366;

    /// The range of `GET /nutrition-summary`: both dates required, `endDate` not before
    /// `startDate`, at most [`Self::MAX_DAYS`] days.
    pub fn parse(start: Option<&str>, end: Option<&str>) -> Result<Self> {
        let mut problems = FieldErrors::new();
        let mut date = |name: &str, raw: Option<&str>| match raw.map(parse_date) {
            Some(Some(date)) => Some(date),
            Some(None) => {
                problems.insert(name.to_owned(), DATE_PROBLEM.to_owned());
                None
            }
            None => {
                problems.insert(name.to_owned(), "is required".to_owned());
                None
            }
        };
        let (start, end) = (date("startDate", start), date("endDate", end));
        if let (Some(start), Some(end)) = (start, end) {
            let days = (end - start).num_days() + 1;
            if days < 1 {
                problems.insert("endDate".into(), "must not be before startDate".into());
            } else if days > Self::MAX_DAYS {
                problems.insert(
                    "endDate".into(),
                    format!(
                        "must make a range of at most {} days with startDate",
                        Self::MAX_DAYS
                    ),
                );
            } else {
                return Ok(Self { start, end });
            }
        }
        Err(Error::Validation(problems))
    }

    /// A single day.
    pub fn day(date: NaiveDate) -> Self {
        Self {
            start: date,
            end: date,
        }
    }

    /// The `days` days (at least one) that end with `end`.
    pub fn ending(end: NaiveDate, days: u32) -> Self {
        let back = Days::new(u64::from(days.max(1) - 1));
        Self {
            start: end.checked_sub_days(back).unwrap_or(NaiveDate::MIN),
            end,
        }
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// How many days it holds.
    pub fn day_count(&self) -> u32 {
        u32::try_from((self.end - self.start).num_days() + 1).unwrap_or(u32::MAX)
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let end = self.end;
        self.start.iter_days().take_while(move |day| *day <= end)
    }
}

/// The `date` of `GET /dashboard/summary`.
pub fn parse_day(raw: &str) -> Result<NaiveDate> {
    parse_date(raw).ok_or_else(|| Error::field("date", DATE_PROBLEM))
}

/// One day's sums: food from `daily_totals`, activity from `activity_days`, water from
/// `water_days`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DayTotals {
    pub entries: i64,
    pub calories: f64,
    pub protein: f64,
    pub carbs: f64,
    pub fat: f64,
    /// kcal of the day's activities.
    pub calories_burned: f64,
    /// Millilitres of the day's water.
    pub water: i64,
}

/// What a user measures their days against: the goals, how much activity is added back to
/// the calorie budget, the water goal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Targets {
    pub goals: NutritionGoals,
    pub exercise_calories: ExerciseCalories,
    pub water_goal: i64,
}

impl Default for Targets {
    fn default() -> Self {
        Self {
            goals: NutritionGoals::DEFAULT,
            exercise_calories: ExerciseCalories::None,
            water_goal: DEFAULT_WATER_GOAL,
        }
    }
}

impl Targets {
    /// The calories left of the day's budget: `goal − consumed + k × burned`, `k` the share
    /// of `exerciseCalories` (0, ½ or 1), to 2 decimals; negative when over.
    pub fn calories_remaining(&self, day: &DayTotals) -> f64 {
        amount::round(
            self.goals.calories - day.calories
                + self.exercise_calories.share() * day.calories_burned,
        )
    }
}

/// One day of `GET /nutrition-summary`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DaySummary {
    pub date: NaiveDate,
    #[serde(with = "amount")]
    pub calories_consumed: f64,
    /// kcal of the day's activities.
    #[serde(with = "amount")]
    pub calories_burned: f64,
    #[serde(with = "amount")]
    pub calories_goal: f64,
    /// `caloriesGoal − caloriesConsumed + k × caloriesBurned`, `k` from
    /// `preferences.exerciseCalories` (0, 0.5, 1).
    #[serde(with = "amount")]
    pub calories_remaining: f64,
    #[serde(with = "amount")]
    pub protein_consumed: f64,
    #[serde(with = "amount")]
    pub protein_goal: f64,
    #[serde(with = "amount")]
    pub carbs_consumed: f64,
    #[serde(with = "amount")]
    pub carbs_goal: f64,
    #[serde(with = "amount")]
    pub fat_consumed: f64,
    #[serde(with = "amount")]
    pub fat_goal: f64,
    pub entries_count: i64,
    /// Millilitres.
    pub water_consumed: i64,
    /// Millilitres.
    pub water_goal: i64,
}

/// One object per day of `range`, in order; a day without records has zeros.
pub fn daily_summaries(
    range: DateRange,
    targets: Targets,
    totals: &BTreeMap<NaiveDate, DayTotals>,
) -> Vec<DaySummary> {
    let goals = targets.goals;
    range
        .days()
        .map(|date| {
            let day = totals.get(&date).copied().unwrap_or_default();
            DaySummary {
                date,
                calories_consumed: day.calories,
                calories_burned: day.calories_burned,
                calories_goal: goals.calories,
                calories_remaining: targets.calories_remaining(&day),
                protein_consumed: day.protein,
                protein_goal: goals.protein,
                carbs_consumed: day.carbs,
                carbs_goal: goals.carbs,
                fat_consumed: day.fat,
                fat_goal: goals.fat,
                entries_count: day.entries,
                water_consumed: day.water,
                water_goal: targets.water_goal,
            }
        })
        .collect()
}

/// `GET /dashboard/summary`: one day against the goals.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    #[serde(with = "amount")]
    pub calories_consumed: f64,
    /// `targetCalories − caloriesConsumed + k × caloriesBurned`, `k` from
    /// `preferences.exerciseCalories` (0 by default: the goal minus what was eaten); negative
    /// when over.
    #[serde(with = "amount")]
    pub calories_remaining: f64,
    /// kcal of the day's activities.
    #[serde(with = "amount")]
    pub calories_burned: f64,
    #[serde(with = "amount")]
    pub target_calories: f64,
    #[serde(with = "amount")]
    pub protein_consumed: f64,
    #[serde(with = "amount")]
    pub target_protein: f64,
    #[serde(with = "amount")]
    pub carbs_consumed: f64,
    #[serde(with = "amount")]
    pub target_carbs: f64,
    #[serde(with = "amount")]
    pub fat_consumed: f64,
    #[serde(with = "amount")]
    pub target_fat: f64,
    pub food_entries_count: i64,
    /// Millilitres.
    pub water_consumed: i64,
    /// Millilitres.
    pub water_goal: i64,
}

impl Dashboard {
    pub fn new(targets: Targets, day: DayTotals) -> Self {
        let goals = targets.goals;
        Self {
            calories_consumed: day.calories,
            calories_remaining: targets.calories_remaining(&day),
            calories_burned: day.calories_burned,
            target_calories: goals.calories,
            protein_consumed: day.protein,
            target_protein: goals.protein,
            carbs_consumed: day.carbs,
            target_carbs: goals.carbs,
            fat_consumed: day.fat,
            target_fat: goals.fat,
            food_entries_count: day.entries,
            water_consumed: day.water,
            water_goal: targets.water_goal,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn date(raw: &str) -> NaiveDate {
        parse_date(raw).unwrap()
    }

    fn problems(start: Option<&str>, end: Option<&str>) -> FieldErrors {
        match DateRange::parse(start, end) {
            Err(Error::Validation(problems)) => problems,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_range_is_inclusive_and_at_most_366_days() {
        let leap_year = DateRange::parse(Some("2024-01-01"), Some("2024-12-31")).unwrap();
        assert_eq!(leap_year.days().count(), 366);
        assert_eq!(leap_year.day_count(), 366);
        assert_eq!(DateRange::ending(date("2024-12-31"), 366), leap_year);
        let one_day = DateRange::parse(Some("2024-07-11"), Some("2024-07-11")).unwrap();
        assert_eq!(one_day.days().collect::<Vec<_>>(), [date("2024-07-11")]);
        assert_eq!(one_day, DateRange::day(date("2024-07-11")));
        assert_eq!(one_day.day_count(), 1);
        assert_eq!(DateRange::ending(date("2024-07-11"), 0), one_day);
        assert_eq!(
            problems(Some("2023-01-01"), Some("2024-01-02"))["endDate"],
            "must make a range of at most 366 days with startDate"
        );
        assert_eq!(
            problems(Some("2024-07-11"), Some("2024-07-10"))["endDate"],
            "must not be before startDate"
        );
    }

    #[test]
    fn both_dates_are_required_and_must_be_dates() {
        let found = problems(None, None);
        assert_eq!(found["startDate"], "is required");
        assert_eq!(found["endDate"], "is required");
        let found = problems(Some("2024-02-30"), Some("2024-07-11T00:00:00Z"));
        assert_eq!(found["startDate"], DATE_PROBLEM);
        assert_eq!(found["endDate"], DATE_PROBLEM);
        assert_eq!(problems(Some("2024-07-11"), None).len(), 1);
        assert!(
            matches!(parse_day("11/07/2024"), Err(Error::Validation(f)) if f["date"] == DATE_PROBLEM)
        );
        assert_eq!(parse_day("2024-07-11").unwrap(), date("2024-07-11"));
    }

    #[test]
    fn days_without_entries_are_zeros_in_the_summary() {
        let range = DateRange::parse(Some("2024-07-10"), Some("2024-07-12")).unwrap();
        let totals = BTreeMap::from([(
            date("2024-07-11"),
            DayTotals {
                entries: 2,
                calories: 550.5,
                protein: 12.0,
                carbs: 60.0,
                fat: 7.25,
                calories_burned: 300.0,
                water: 750,
            },
        )]);
        let days = daily_summaries(range, Targets::default(), &totals);
        assert_eq!(
            serde_json::to_value(&days).unwrap(),
            json!([
                {"date": "2024-07-10", "caloriesConsumed": 0, "caloriesBurned": 0, "caloriesGoal": 2000,
                 "caloriesRemaining": 2000,
                 "proteinConsumed": 0, "proteinGoal": 100, "carbsConsumed": 0, "carbsGoal": 250,
                 "fatConsumed": 0, "fatGoal": 70, "entriesCount": 0, "waterConsumed": 0, "waterGoal": 2000},
                {"date": "2024-07-11", "caloriesConsumed": 550.5, "caloriesBurned": 300, "caloriesGoal": 2000,
                 "caloriesRemaining": 1449.5,
                 "proteinConsumed": 12, "proteinGoal": 100, "carbsConsumed": 60, "carbsGoal": 250,
                 "fatConsumed": 7.25, "fatGoal": 70, "entriesCount": 2, "waterConsumed": 750, "waterGoal": 2000},
                {"date": "2024-07-12", "caloriesConsumed": 0, "caloriesBurned": 0, "caloriesGoal": 2000,
                 "caloriesRemaining": 2000,
                 "proteinConsumed": 0, "proteinGoal": 100, "carbsConsumed": 0, "carbsGoal": 250,
                 "fatConsumed": 0, "fatGoal": 70, "entriesCount": 0, "waterConsumed": 0, "waterGoal": 2000}
            ])
        );
    }

    #[test]
    fn the_dashboard_shows_what_remains_even_when_over() {
        let targets = Targets {
            goals: NutritionGoals {
                calories: 1800.0,
                ..NutritionGoals::DEFAULT
            },
            ..Targets::default()
        };
        let day = DayTotals {
            entries: 3,
            calories: 2100.25,
            protein: 80.0,
            carbs: 200.0,
            fat: 90.0,
            calories_burned: 401.0,
            water: 1250,
        };
        let over = Dashboard::new(targets, day);
        assert_eq!(
            serde_json::to_value(over).unwrap(),
            json!({"caloriesConsumed": 2100.25, "caloriesRemaining": -300.25, "caloriesBurned": 401,
                   "targetCalories": 1800, "proteinConsumed": 80, "targetProtein": 100,
                   "carbsConsumed": 200, "targetCarbs": 250, "fatConsumed": 90, "targetFat": 70,
                   "foodEntriesCount": 3, "waterConsumed": 1250, "waterGoal": 2000})
        );
        // Half or all of the activity goes back into the budget.
        for (share, remaining) in [
            (ExerciseCalories::Half, -99.75),
            (ExerciseCalories::All, 100.75),
        ] {
            let targets = Targets {
                exercise_calories: share,
                ..targets
            };
            assert_eq!(Dashboard::new(targets, day).calories_remaining, remaining);
        }
        let empty = Dashboard::new(targets, DayTotals::default());
        assert_eq!(empty.calories_remaining, 1800.0);
        assert_eq!(empty.food_entries_count, 0);
    }

    proptest! {
        #[test]
        fn a_summary_has_every_day_once_in_order_with_the_days_totals(
            start in 0i64..20_000,
            length in 1i64..=DateRange::MAX_DAYS,
            logged in prop::collection::btree_map(0i64..400, 1i64..10, 0..50),
        ) {
            let first = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(start);
            let last = first + chrono::Duration::days(length - 1);
            let range = DateRange::parse(Some(&first.to_string()), Some(&last.to_string())).unwrap();
            let totals: BTreeMap<NaiveDate, DayTotals> = logged
                .iter()
                .map(|(offset, entries)| {
                    let day = DayTotals { entries: *entries, calories: 100.0 * *entries as f64, ..DayTotals::default() };
                    (first + chrono::Duration::days(*offset), day)
                })
                .collect();
            let days = daily_summaries(range, Targets::default(), &totals);
            prop_assert_eq!(days.len() as i64, length);
            prop_assert_eq!(days.first().map(|d| d.date), Some(first));
            prop_assert!(days.windows(2).all(|pair| pair[1].date == pair[0].date.succ_opt().unwrap()));
            let in_range: i64 = totals.range(first..=last).map(|(_, day)| day.entries).sum();
            prop_assert_eq!(days.iter().map(|d| d.entries_count).sum::<i64>(), in_range);
            for day in &days {
                let expected = totals.get(&day.date).map_or(0, |t| t.entries);
                prop_assert_eq!(day.entries_count, expected);
                prop_assert_eq!(day.calories_consumed, 100.0 * expected as f64);
            }
        }
    }
}
