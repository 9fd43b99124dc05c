//! `make demo`: a user with 60 days of history, written through the API.

use chrono::{Duration, Utc};
use testkit::{Backend, TestApp, backend_tests};

async fn the_demo_user_gets_60_days_of_history_with_every_badge(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.token(server::demo::USER_ID);
    let now = Utc::now();
    let written = server::demo::populate(app.router(), &token, now)
        .await
        .unwrap()
        .expect("a new user gets the history");
    // 58 days with entries, a weigh-in every third day, water every day: today's only up to
    // now.
    assert!(written.entries > 150, "{written:?}");
    assert_eq!(written.weigh_ins, 20);
    assert!(
        written.activities > 10 && written.water >= 4 * 57,
        "{written:?}"
    );
    let catalogue = [
        "first_entry",
        "first_10_entries",
        "entries_50",
        "entries_100",
        "streak_3",
        "week_streak",
        "month_streak",
    ];
    let mut earned = written.badges.clone();
    earned.sort_unstable();
    let mut expected = catalogue.to_vec();
    expected.sort_unstable();
    assert_eq!(earned, expected, "each badge earned once, by some entry");

    let user = server::demo::USER_ID;
    let today = now.date_naive();
    let first = today - Duration::days(59);
    let entries = app
        .get(
            &format!("/food-entries?startDate={first}&endDate={today}&limit=1"),
            user,
        )
        .await;
    entries.assert_status(200);
    assert_eq!(
        entries.json()[0]["timestamp"].as_str().unwrap()[..10],
        first.to_string()
    );
    let streaks = app.get("/streaks", user).await.json();
    assert_eq!(streaks["currentStreak"], 38, "{streaks}");
    assert_eq!(streaks["lastLoggedDate"], today.to_string());
    let summary = app
        .get(
            &format!("/nutrition-summary?startDate={first}&endDate={today}"),
            user,
        )
        .await
        .json();
    let days = summary.as_array().unwrap();
    let empty: Vec<_> = days.iter().filter(|day| day["entriesCount"] == 0).collect();
    assert_eq!(empty.len(), 2, "the two gap days: {empty:?}");
    assert!(
        days.iter()
            .any(|day| day["waterConsumed"].as_i64() > Some(1500))
    );
    let profile = app.get("/profile", user).await.json();
    assert_eq!(profile["stats"]["totalEntries"], written.entries);
    assert!(profile["stats"]["latestWeight"].as_f64().unwrap() < 72.5);

    // A second run leaves the history as it is.
    let again = server::demo::populate(app.router(), &token, now)
        .await
        .unwrap();
    assert!(again.is_none());
    let profile = app.get("/profile", user).await.json();
    assert_eq!(profile["stats"]["totalEntries"], written.entries);
}

backend_tests!(the_demo_user_gets_60_days_of_history_with_every_badge);
