//! A user's days for summaries, on both backends.

use chrono::NaiveDate;
use shared::domain::goals::NutritionGoals;
use shared::domain::summary::{DateRange, DayTotals};
use testkit::seed::{self, Entry};
use testkit::{Backend, TestDb, backend_tests};

fn day(raw: &str) -> NaiveDate {
    shared::time::parse_date(raw).unwrap()
}

async fn days_are_the_users_own_within_the_range(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    seed::user(&store, "bob").await;
    seed::entries(
        &db,
        "ann",
        &[
            Entry::on(day("2024-06-30"), 100.0),
            Entry::on(day("2024-07-01"), 350.5).macros(12.0, 60.0, 7.25),
            Entry::on(day("2024-07-01"), 200.0),
            Entry::on(day("2024-07-03"), 500.0).macros(30.0, 20.0, 10.0),
            Entry::on(day("2024-07-04"), 100.0),
        ],
    )
    .await;
    seed::entries(&db, "bob", &[Entry::on(day("2024-07-02"), 900.0)]).await;

    let range = DateRange::parse(Some("2024-07-01"), Some("2024-07-03")).unwrap();
    let (targets, days) = store.nutrition_days("ann", range).await.unwrap();
    assert_eq!(targets.goals, NutritionGoals::DEFAULT);
    assert_eq!(
        days.into_iter().collect::<Vec<_>>(),
        [
            (
                day("2024-07-01"),
                DayTotals {
                    entries: 2,
                    calories: 550.5,
                    protein: 12.0,
                    carbs: 60.0,
                    fat: 7.25,
                    ..DayTotals::default()
                }
            ),
            (
                day("2024-07-03"),
                DayTotals {
                    entries: 1,
                    calories: 500.0,
                    protein: 30.0,
                    carbs: 20.0,
                    fat: 10.0,
                    ..DayTotals::default()
                }
            ),
        ]
    );
}

async fn the_goals_come_along_even_without_days(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    let goals = NutritionGoals {
        calories: 1800.0,
        protein: 90.0,
        carbs: 200.0,
        fat: 60.0,
    };
    store.set_nutrition_goals("ann", &goals).await.unwrap();
    let (stored, days) = store
        .nutrition_days("ann", DateRange::day(day("2024-07-01")))
        .await
        .unwrap();
    assert_eq!(stored.goals, goals);
    assert!(days.is_empty());
}

backend_tests!(
    days_are_the_users_own_within_the_range,
    the_goals_come_along_even_without_days,
);
