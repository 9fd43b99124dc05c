//! `GET /streaks`: runs of consecutive user's days with entries, in the user's time zone.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use testkit::{Backend, TestApp, backend_tests};

use crate::food_entries::{days_ago, entry_at, instant, post_entry, set_zone};

async fn streaks_of(app: &TestApp, user: &str) -> Value {
    let response = app.get("/streaks", user).await;
    response.assert_status(200);
    response.json()
}

fn yesterday() -> String {
    (Utc::now().date_naive() - Duration::days(1)).to_string()
}

async fn a_new_user_has_no_streak(backend: Backend) {
    let app = TestApp::start(backend).await;
    assert_eq!(
        streaks_of(&app, "ann").await,
        json!({"currentStreak": 0, "longestStreak": 0, "lastLoggedDate": null})
    );
}

async fn the_current_streak_ends_today_or_yesterday(backend: Backend) {
    let app = TestApp::start(backend).await;
    // An older run of four days, a gap, then three days up to yesterday.
    for days in [12, 11, 10, 9, 3, 2, 1, 1] {
        post_entry(&app, "ann", entry_at("e", &days_ago(days))).await;
    }
    assert_eq!(
        streaks_of(&app, "ann").await,
        json!({"currentStreak": 3, "longestStreak": 4, "lastLoggedDate": yesterday()})
    );
    // Logging today extends it.
    post_entry(
        &app,
        "ann",
        json!({"name": "now", "calories": 1, "mealType": "snack"}),
    )
    .await;
    let streaks = streaks_of(&app, "ann").await;
    assert_eq!(streaks["currentStreak"], 4);
    assert_eq!(
        streaks["lastLoggedDate"],
        Utc::now().date_naive().to_string()
    );

    // A run that ended two days ago is no longer current.
    for days in [4, 3, 2] {
        post_entry(&app, "bob", entry_at("e", &days_ago(days))).await;
    }
    assert_eq!(
        streaks_of(&app, "bob").await,
        json!({"currentStreak": 0, "longestStreak": 3,
            "lastLoggedDate": (Utc::now().date_naive() - Duration::days(2)).to_string()})
    );
}

async fn a_back_dated_entry_joins_two_runs(backend: Backend) {
    let app = TestApp::start(backend).await;
    for days in [6, 5, 3, 2, 1] {
        post_entry(&app, "ann", entry_at("e", &days_ago(days))).await;
    }
    assert_eq!(streaks_of(&app, "ann").await["longestStreak"], 3);
    post_entry(&app, "ann", entry_at("bridge", &days_ago(4))).await;
    let streaks = streaks_of(&app, "ann").await;
    assert_eq!(streaks["longestStreak"], 6);
    assert_eq!(streaks["currentStreak"], 6);
}

async fn streaks_follow_the_users_time_zone(backend: Backend) {
    let app = TestApp::start(backend).await;
    set_zone(&app, "kiwi", "Pacific/Auckland").await;
    set_zone(&app, "angeleno", "America/Los_Angeles").await;
    // Auckland (UTC+12 in July): both on the 11th there, the 10th and 11th in UTC.
    for at in ["2024-07-10T13:00:00Z", "2024-07-11T11:30:00Z"] {
        post_entry(&app, "kiwi", entry_at("e", at)).await;
    }
    assert_eq!(
        streaks_of(&app, "kiwi").await,
        json!({"currentStreak": 0, "longestStreak": 1, "lastLoggedDate": "2024-07-11"})
    );
    // Los Angeles (UTC-7 in July): the 10th and 11th there, both the 11th in UTC.
    for at in ["2024-07-11T06:00:00Z", "2024-07-11T08:00:00Z"] {
        post_entry(&app, "angeleno", entry_at("e", at)).await;
    }
    assert_eq!(
        streaks_of(&app, "angeleno").await,
        json!({"currentStreak": 0, "longestStreak": 2, "lastLoggedDate": "2024-07-11"})
    );
    // Today and yesterday are the user's: an entry now and one 24 hours ago are two days in
    // any zone.
    for user in ["kiwi", "angeleno"] {
        for at in [Utc::now() - Duration::hours(24), Utc::now()] {
            post_entry(&app, user, entry_at("recent", &instant(at))).await;
        }
        assert_eq!(streaks_of(&app, user).await["currentStreak"], 2, "{user}");
    }
}

backend_tests!(
    a_new_user_has_no_streak,
    the_current_streak_ends_today_or_yesterday,
    a_back_dated_entry_joins_two_runs,
    streaks_follow_the_users_time_zone,
);
