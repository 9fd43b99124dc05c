//! Streaks: runs of consecutive user's days with at least one entry (CONTRACT §3
//! "Achievements"). The database supplies the days (from `daily_totals`); everything about
//! runs is computed here.

use chrono::{Days, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

/// Distinct user's days with at least one entry, in ascending order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActiveDays(Vec<NaiveDate>);

impl FromIterator<NaiveDate> for ActiveDays {
    /// Any order, duplicates allowed.
    fn from_iter<I: IntoIterator<Item = NaiveDate>>(days: I) -> Self {
        let mut days: Vec<NaiveDate> = days.into_iter().collect();
        days.sort_unstable();
        days.dedup();
        Self(days)
    }
}

impl ActiveDays {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.0.binary_search(&day).is_ok()
    }

    /// The latest day with an entry.
    pub fn last(&self) -> Option<NaiveDate> {
        self.0.last().copied()
    }

    /// The length of the longest run anywhere.
    pub fn longest_run(&self) -> u32 {
        let mut longest = 0;
        let mut run = 0;
        let mut previous: Option<NaiveDate> = None;
        for &day in &self.0 {
            run = if previous.is_some_and(|previous| follows(previous, day)) {
                run + 1
            } else {
                1
            };
            longest = longest.max(run);
            previous = Some(day);
        }
        longest
    }

    /// The length of the run that contains `day`; 0 when `day` has no entry.
    pub fn run_through(&self, day: NaiveDate) -> u32 {
        let Ok(at) = self.0.binary_search(&day) else {
            return 0;
        };
        let before = self.0[..at]
            .iter()
            .rev()
            .zip(self.0[..=at].iter().rev())
            .take_while(|&(&earlier, &later)| follows(earlier, later))
            .count();
        let after = self.0[at..]
            .iter()
            .zip(self.0[at + 1..].iter())
            .take_while(|&(&earlier, &later)| follows(earlier, later))
            .count();
        (before + 1 + after) as u32
    }

    /// The run that ends today, else the one that ends yesterday, else 0. Days after `today`
    /// (entries logged up to a day ahead) do not count yet.
    pub fn current_run(&self, today: NaiveDate) -> u32 {
        let upto_today = &self.0[..self.0.partition_point(|&day| day <= today)];
        let Some(&last) = upto_today.last() else {
            return 0;
        };
        if last != today && !follows(last, today) {
            return 0;
        }
        let earlier = upto_today
            .iter()
            .rev()
            .zip(upto_today.iter().rev().skip(1))
            .take_while(|&(&later, &earlier)| follows(earlier, later))
            .count();
        (earlier + 1) as u32
    }
}

/// Whether `later` is the day after `earlier`.
fn follows(earlier: NaiveDate, later: NaiveDate) -> bool {
    earlier.succ_opt() == Some(later)
}

/// `day - reach ..= day + reach`, clamped to the calendar: the days that decide whether the run
/// through `day` is at least `reach + 1` long (a run that long through `day` is that long
/// within this window too).
pub fn window_around(day: NaiveDate, reach: u32) -> (NaiveDate, NaiveDate) {
    let reach = Days::new(u64::from(reach));
    (
        day.checked_sub_days(reach).unwrap_or(NaiveDate::MIN),
        day.checked_add_days(reach).unwrap_or(NaiveDate::MAX),
    )
}

/// `GET /streaks`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Streaks {
    /// The run of consecutive days with entries that ends today or yesterday (the user's
    /// days), else 0.
    pub current_streak: u32,
    /// The longest run anywhere in the history.
    pub longest_streak: u32,
    /// The latest user's day with an entry (`YYYY-MM-DD`), or null.
    #[schema(required = true, value_type = Option<String>, format = Date)]
    pub last_logged_date: Option<NaiveDate>,
}

impl Streaks {
    pub fn of(days: &ActiveDays, today: NaiveDate) -> Self {
        Self {
            current_streak: days.current_run(today),
            longest_streak: days.longest_run(),
            last_logged_date: days.last(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn day(offset: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 7, 1).unwrap() + chrono::Duration::days(offset)
    }

    fn days(offsets: &[i64]) -> ActiveDays {
        offsets.iter().map(|&offset| day(offset)).collect()
    }

    #[test]
    fn no_days_no_streaks() {
        let none = ActiveDays::default();
        assert_eq!(
            Streaks::of(&none, day(0)),
            Streaks {
                current_streak: 0,
                longest_streak: 0,
                last_logged_date: None
            }
        );
        assert_eq!(none.run_through(day(0)), 0);
    }

    #[test]
    fn runs_are_consecutive_days() {
        let logged = days(&[0, 1, 2, 4, 5, 9]);
        assert_eq!(logged.longest_run(), 3);
        assert_eq!(logged.run_through(day(1)), 3);
        assert_eq!(logged.run_through(day(5)), 2);
        assert_eq!(logged.run_through(day(9)), 1);
        assert_eq!(logged.run_through(day(3)), 0);
    }

    #[test]
    fn duplicates_and_order_do_not_matter() {
        assert_eq!(days(&[2, 0, 1, 1, 0]), days(&[0, 1, 2]));
        assert_eq!(days(&[2, 0, 1, 1, 0]).len(), 3);
    }

    #[test]
    fn a_back_dated_day_bridges_a_gap() {
        let before = days(&[0, 1, 3, 4, 5]);
        assert_eq!(before.longest_run(), 3);
        let after = days(&[0, 1, 2, 3, 4, 5]);
        assert_eq!(after.longest_run(), 6);
        assert_eq!(after.run_through(day(2)), 6);
    }

    #[test]
    fn the_current_streak_ends_today_or_yesterday() {
        let logged = days(&[0, 1, 2]);
        assert_eq!(logged.current_run(day(2)), 3, "ends today");
        assert_eq!(logged.current_run(day(3)), 3, "ends yesterday");
        assert_eq!(logged.current_run(day(4)), 0, "broken");
        assert_eq!(logged.current_run(day(1)), 2, "later days are not yet");
    }

    #[test]
    fn future_days_count_for_longest_but_not_current() {
        let logged = days(&[0, 1, 2]);
        let streaks = Streaks::of(&logged, day(1));
        assert_eq!(streaks.current_streak, 2);
        assert_eq!(streaks.longest_streak, 3);
        assert_eq!(streaks.last_logged_date, Some(day(2)));
    }

    #[test]
    fn the_window_is_clamped_to_the_calendar() {
        assert_eq!(
            window_around(NaiveDate::MIN, 29),
            (NaiveDate::MIN, NaiveDate::MIN + Days::new(29))
        );
        assert_eq!(window_around(day(0), 2), (day(-2), day(2)));
    }

    #[test]
    fn streaks_serialize_as_the_contract_says() {
        let json = serde_json::to_value(Streaks::of(&days(&[0, 1]), day(1))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"currentStreak": 2, "longestStreak": 2, "lastLoggedDate": "2024-07-02"})
        );
    }

    /// Whether `day` and the `n - 1` days before it all have entries.
    fn ends_run_of(set: &BTreeSet<i64>, end: i64, n: i64) -> bool {
        (end - n + 1..=end).all(|d| set.contains(&d))
    }

    fn brute_run_through(set: &BTreeSet<i64>, at: i64) -> u32 {
        if !set.contains(&at) {
            return 0;
        }
        let before = (1..).take_while(|k| set.contains(&(at - k))).count();
        let after = (1..).take_while(|k| set.contains(&(at + k))).count();
        (before + 1 + after) as u32
    }

    proptest! {
        #[test]
        fn runs_match_a_brute_force_count(offsets in proptest::collection::vec(0i64..120, 0..80), probe in 0i64..120) {
            let set: BTreeSet<i64> = offsets.iter().copied().collect();
            let logged = days(&offsets);
            prop_assert_eq!(logged.run_through(day(probe)), brute_run_through(&set, probe));
            let longest = set.iter().map(|&d| brute_run_through(&set, d)).max().unwrap_or(0);
            prop_assert_eq!(logged.longest_run(), longest);
            prop_assert!(logged.longest_run() as usize <= logged.len());
        }

        #[test]
        fn the_current_run_is_the_longest_suffix_ending_today_or_yesterday(
            offsets in proptest::collection::vec(0i64..60, 0..50),
            today in 0i64..70,
        ) {
            let set: BTreeSet<i64> = offsets.iter().copied().collect();
            let end = if set.contains(&today) { today } else { today - 1 };
            let expected = (0..=end + 1).rev().find(|&n| ends_run_of(&set, end, n)).unwrap_or(0);
            let current = days(&offsets).current_run(day(today));
            prop_assert_eq!(i64::from(current), expected);
            prop_assert!(current <= days(&offsets).longest_run());
        }

        #[test]
        fn the_window_around_a_day_decides_runs_up_to_its_length(
            offsets in proptest::collection::vec(0i64..150, 1..120),
            pick in any::<proptest::sample::Index>(),
            reach in 0u32..40,
        ) {
            let logged = days(&offsets);
            let at = offsets[pick.index(offsets.len())];
            let (first, last) = window_around(day(at), reach);
            let windowed: ActiveDays = offsets.iter().map(|&o| day(o)).filter(|d| (first..=last).contains(d)).collect();
            let cap = reach + 1;
            prop_assert_eq!(logged.run_through(day(at)).min(cap), windowed.run_through(day(at)).min(cap));
        }

        #[test]
        fn shifting_every_day_shifts_nothing_else(
            offsets in proptest::collection::vec(0i64..90, 0..60),
            today in 0i64..100,
            shift in -400i64..400,
        ) {
            let original = Streaks::of(&days(&offsets), day(today));
            let shifted_days: Vec<i64> = offsets.iter().map(|o| o + shift).collect();
            let shifted = Streaks::of(&days(&shifted_days), day(today + shift));
            prop_assert_eq!(original.current_streak, shifted.current_streak);
            prop_assert_eq!(original.longest_streak, shifted.longest_streak);
        }

        #[test]
        fn logging_another_day_never_shortens_a_streak(
            offsets in proptest::collection::vec(0i64..90, 0..60),
            extra in 0i64..90,
        ) {
            let before = days(&offsets);
            let mut more = offsets.clone();
            more.push(extra);
            let after = days(&more);
            prop_assert!(after.longest_run() >= before.longest_run());
            for &o in &offsets {
                prop_assert!(after.run_through(day(o)) >= before.run_through(day(o)));
            }
        }
    }
}
