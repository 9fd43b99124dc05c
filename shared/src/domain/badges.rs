//! The badge catalogue and what earns each badge (CONTRACT §3 "Achievements").
//!
//! Badges are awarded by the store with an insert-if-absent under the `(user_id, badge_id)`
//! unique constraint, so each is earned once; they are never taken back.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::streaks;

/// What a badge is earned for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// At least this many entries in total.
    Entries(u32),
    /// Entries on at least this many consecutive user's days.
    Streak(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Badge {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub goal: Goal,
}

/// Every badge, in the contract's order (which `GET /badges` keeps).
pub const CATALOGUE: [Badge; 7] = [
    Badge {
        id: "first_entry",
        name: "First Bite",
        description: "Logged your first food entry",
        goal: Goal::Entries(1),
    },
    Badge {
        id: "first_10_entries",
        name: "Getting Started",
        description: "Logged 10 food entries",
        goal: Goal::Entries(10),
    },
    Badge {
        id: "entries_50",
        name: "Dedicated Logger",
        description: "Logged 50 food entries",
        goal: Goal::Entries(50),
    },
    Badge {
        id: "entries_100",
        name: "Century Club",
        description: "Logged 100 food entries",
        goal: Goal::Entries(100),
    },
    Badge {
        id: "streak_3",
        name: "On a Roll",
        description: "Logged food entries for 3 consecutive days",
        goal: Goal::Streak(3),
    },
    Badge {
        id: "week_streak",
        name: "Week Streak Champion",
        description: "Logged food entries for 7 consecutive days",
        goal: Goal::Streak(7),
    },
    Badge {
        id: "month_streak",
        name: "Monthly Master",
        description: "Logged food entries for 30 consecutive days",
        goal: Goal::Streak(30),
    },
];

/// The largest entry count any badge asks for: a count capped here decides every badge.
pub const ENTRIES_CAP: u32 = largest_target(false);

/// How many days on either side of a written day decide the streak badges it can earn
/// (the longest streak goal, less the day itself).
pub const STREAK_REACH: u32 = largest_target(true) - 1;

const fn largest_target(streaks: bool) -> u32 {
    let mut largest = 0;
    let mut i = 0;
    while i < CATALOGUE.len() {
        let target = match CATALOGUE[i].goal {
            Goal::Entries(n) if !streaks => n,
            Goal::Streak(n) if streaks => n,
            _ => 0,
        };
        if target > largest {
            largest = target;
        }
        i += 1;
    }
    largest
}

/// The days to read when a write lands on `day`: enough to decide every streak badge.
pub fn evaluation_window(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    streaks::window_around(day, STREAK_REACH)
}

/// How far a user has come: their entries and a streak length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Entries in total (a count capped at [`ENTRIES_CAP`] or above is as good).
    pub entries: u64,
    /// The streak that counts: the run through the written day, or the longest run.
    pub streak: u32,
}

impl Badge {
    pub fn target(&self) -> u32 {
        match self.goal {
            Goal::Entries(n) | Goal::Streak(n) => n,
        }
    }

    /// Progress towards the target, at most the target.
    pub fn current(&self, progress: &Progress) -> u32 {
        let reached = match self.goal {
            Goal::Entries(_) => u32::try_from(progress.entries).unwrap_or(u32::MAX),
            Goal::Streak(_) => progress.streak,
        };
        reached.min(self.target())
    }

    pub fn is_earned_by(&self, progress: &Progress) -> bool {
        self.current(progress) >= self.target()
    }
}

/// The catalogue's badges that `progress` earns, in catalogue order.
pub fn earned_by(progress: &Progress) -> impl Iterator<Item = &'static Badge> + '_ {
    CATALOGUE
        .iter()
        .filter(move |badge| badge.is_earned_by(progress))
}

/// The badges `progress` earns that are not among `held` (badge ids), in catalogue order.
pub fn newly_earned<'a>(
    progress: &'a Progress,
    held: &'a [String],
) -> impl Iterator<Item = &'static Badge> + 'a {
    earned_by(progress).filter(move |badge| !held.iter().any(|id| id == badge.id))
}

pub fn find(id: &str) -> Option<&'static Badge> {
    CATALOGUE.iter().find(|badge| badge.id == id)
}

/// A badge a user has earned, as the profile, `POST /food-entries` (`badgesEarned`) and the
/// export show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EarnedBadge {
    /// The catalogue id.
    #[schema(example = "week_streak")]
    pub id: String,
    #[schema(example = "Week Streak Champion")]
    pub name: String,
    /// Empty when a badge of the previous service has none.
    pub description: String,
    #[serde(with = "crate::time::instant")]
    #[schema(value_type = String, format = DateTime, example = "2024-06-01T10:00:00.000Z")]
    pub earned_at: DateTime<Utc>,
}

impl EarnedBadge {
    pub fn new(badge: &Badge, earned_at: DateTime<Utc>) -> Self {
        Self {
            id: badge.id.to_owned(),
            name: badge.name.to_owned(),
            description: badge.description.to_owned(),
            earned_at,
        }
    }
}

/// One catalogue badge in `GET /badges`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BadgeStatus {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub earned: bool,
    /// When it was earned, or null.
    #[serde(with = "crate::time::optional_instant")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub earned_at: Option<DateTime<Utc>>,
    pub progress: BadgeProgress,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct BadgeProgress {
    /// Entries logged, or the longest streak in days, up to the target (the target once earned).
    pub current: u32,
    pub target: u32,
}

/// The whole catalogue for a user with `progress` (entries in total, longest streak) and the
/// badges they have earned (`(badge id, earned at)`).
pub fn statuses(progress: &Progress, earned: &[(String, DateTime<Utc>)]) -> Vec<BadgeStatus> {
    CATALOGUE
        .iter()
        .map(|badge| {
            let earned_at = earned
                .iter()
                .find(|(id, _)| id == badge.id)
                .map(|&(_, at)| at);
            // A badge is never taken back: once earned its progress stays complete, even after
            // entries are deleted.
            let current = match earned_at {
                Some(_) => badge.target(),
                None => badge.current(progress),
            };
            BadgeStatus {
                id: badge.id,
                name: badge.name,
                description: badge.description,
                earned: earned_at.is_some(),
                earned_at,
                progress: BadgeProgress {
                    current,
                    target: badge.target(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_catalogue_is_the_contracts() {
        let ids: Vec<&str> = CATALOGUE.iter().map(|badge| badge.id).collect();
        assert_eq!(
            ids,
            [
                "first_entry",
                "first_10_entries",
                "entries_50",
                "entries_100",
                "streak_3",
                "week_streak",
                "month_streak"
            ]
        );
        let names: Vec<&str> = CATALOGUE.iter().map(|badge| badge.name).collect();
        assert_eq!(
            names,
            [
                "First Bite",
                "Getting Started",
                "Dedicated Logger",
                "Century Club",
                "On a Roll",
                "Week Streak Champion",
                "Monthly Master"
            ]
        );
        assert_eq!(
            find("week_streak").unwrap().description,
            "Logged food entries for 7 consecutive days"
        );
        assert!(find("nope").is_none());
        assert_eq!(ENTRIES_CAP, 100);
        assert_eq!(STREAK_REACH, 29);
    }

    #[test]
    fn thresholds_are_inclusive() {
        let ids = |entries, streak| -> Vec<&str> {
            earned_by(&Progress { entries, streak })
                .map(|badge| badge.id)
                .collect()
        };
        assert!(ids(0, 0).is_empty());
        assert_eq!(ids(1, 1), ["first_entry"]);
        assert_eq!(ids(9, 2), ["first_entry"]);
        assert_eq!(ids(10, 3), ["first_entry", "first_10_entries", "streak_3"]);
        assert_eq!(
            ids(100, 30),
            CATALOGUE.iter().map(|badge| badge.id).collect::<Vec<_>>()
        );
    }

    #[test]
    fn only_badges_not_held_are_new() {
        let progress = Progress {
            entries: 10,
            streak: 3,
        };
        let held = ["first_entry".to_owned(), "streak_3".to_owned()];
        let new: Vec<&str> = newly_earned(&progress, &held)
            .map(|badge| badge.id)
            .collect();
        assert_eq!(new, ["first_10_entries"]);
        assert_eq!(newly_earned(&Progress::default(), &[]).count(), 0);
    }

    #[test]
    fn statuses_show_earned_badges_as_complete() {
        let at = crate::time::parse_instant("2024-06-01T10:00:00Z").unwrap();
        let progress = Progress {
            entries: 4,
            streak: 2,
        };
        let list = statuses(&progress, &[("first_10_entries".into(), at)]);
        assert_eq!(list.len(), CATALOGUE.len());
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!({"id": "first_entry", "name": "First Bite",
                "description": "Logged your first food entry", "earned": false, "earnedAt": null,
                "progress": {"current": 1, "target": 1}})
        );
        assert_eq!(json[1]["earned"], true);
        assert_eq!(json[1]["earnedAt"], "2024-06-01T10:00:00.000Z");
        assert_eq!(
            json[1]["progress"],
            serde_json::json!({"current": 10, "target": 10})
        );
        assert_eq!(
            json[2]["progress"],
            serde_json::json!({"current": 4, "target": 50})
        );
        assert_eq!(
            json[4]["progress"],
            serde_json::json!({"current": 2, "target": 3})
        );
    }

    #[test]
    fn an_earned_badge_serializes_as_in_the_profile() {
        let at = crate::time::parse_instant("2024-06-01T10:00:00Z").unwrap();
        let json =
            serde_json::to_value(EarnedBadge::new(find("week_streak").unwrap(), at)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "week_streak", "name": "Week Streak Champion",
                "description": "Logged food entries for 7 consecutive days",
                "earnedAt": "2024-06-01T10:00:00.000Z"})
        );
    }

    proptest! {
        #[test]
        fn more_progress_never_earns_fewer_badges(
            entries in 0u64..300, streak in 0u32..60, more_entries in 0u64..50, more_streak in 0u32..10,
        ) {
            let less = Progress { entries, streak };
            let more = Progress { entries: entries + more_entries, streak: streak + more_streak };
            for badge in earned_by(&less) {
                prop_assert!(badge.is_earned_by(&more));
            }
            for badge in &CATALOGUE {
                prop_assert!(badge.current(&less) <= badge.target());
                prop_assert_eq!(badge.is_earned_by(&less), badge.current(&less) == badge.target());
            }
        }

        #[test]
        fn a_count_capped_at_the_largest_target_decides_the_same(entries in 0u64..10_000, streak in 0u32..60) {
            let exact = Progress { entries, streak };
            let capped = Progress { entries: entries.min(u64::from(ENTRIES_CAP)), streak };
            prop_assert_eq!(earned_by(&exact).collect::<Vec<_>>(), earned_by(&capped).collect::<Vec<_>>());
        }
    }
}
