//! How statements reach PostgreSQL: prepared once per connection and kept (the default), or
//! unnamed (`DB_STATEMENT_CACHE_CAPACITY=0`), so that a pooler such as RDS Proxy does not pin
//! the session. Checked on the wire, and through PgBouncer in transaction pooling mode.

use futures_util::future::join_all;
use serde_json::json;
use testkit::{Backend, TestApp};

/// A user's journey through most of the store: preferences, onboarding, entries (with a badge,
/// an edit, a deletion), listings and summaries.
async fn journey(app: &TestApp, user: &str) {
    app.put(
        "/nutrition-goals",
        user,
        json!({"calories": 2100, "protein": 110, "carbs": 240, "fat": 70}),
    )
    .await
    .assert_status(200);
    app.post(
        "/onboarding",
        user,
        json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
               "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"}),
    )
    .await
    .assert_status(200);
    app.put(
        "/profile",
        user,
        json!({"name": "Journey", "preferences": {"timezone": "Europe/Berlin"}}),
    )
    .await
    .assert_status(200);
    let created = app
        .post(
            "/food-entries",
            user,
            json!({"name": "Toast", "calories": 210, "mealType": "breakfast"}),
        )
        .await;
    created.assert_status(201);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("/food-entries/{id}"),
        user,
        json!({"calories": 230}),
    )
    .await
    .assert_status(200);
    for path in [
        "/profile".to_owned(),
        "/food-entries".to_owned(),
        format!("/food-entries/{id}"),
        "/nutrition-summary?startDate=2024-01-01&endDate=2024-01-31".to_owned(),
        "/dashboard/summary".to_owned(),
        "/badges".to_owned(),
        "/streaks".to_owned(),
    ] {
        app.get(&path, user).await.assert_status(200);
    }
    app.delete(&format!("/food-entries/{id}"), user)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn behind_a_pooler_no_statement_is_named() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .var("DB_STATEMENT_CACHE_CAPACITY", "0")
        .start()
        .await;
    // Migrations (at start) are the migrator's own; from here on every statement is ours.
    let before = app.named_statements();
    journey(&app, "journeyer").await;
    assert_eq!(app.named_statements() - before, 0);
    // At no price: an unnamed statement is parsed, bound and run in one exchange.
    let round_trips = app
        .round_trips_of(|| app.get("/profile", "journeyer"))
        .await;
    assert_eq!(round_trips, 1);
}

#[tokio::test]
async fn behind_a_pooler_the_hottest_statements_call_routines() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .var("DB_STATEMENT_CACHE_CAPACITY", "0")
        .start()
        .await;
    journey(&app, "caller").await;
    // The profile, with the caller's standing in it.
    let before = app.routine_calls();
    app.get("/profile", "caller").await.assert_status(200);
    assert_eq!(app.routine_calls() - before, 1);
    // The standing, the insert, the foods and badges; then, with a key, its claim too.
    let entry = json!({"name": "Tea", "calories": 2, "mealType": "snack"});
    let before = app.routine_calls();
    app.post("/food-entries", "caller", entry.clone())
        .await
        .assert_status(201);
    assert_eq!(app.routine_calls() - before, 3);
    let before = app.routine_calls();
    app.request(http::Method::POST, "/food-entries")
        .user("caller")
        .header(http::HeaderName::from_static("idempotency-key"), "tea-1")
        .json(&entry)
        .send()
        .await
        .assert_status(201);
    assert_eq!(app.routine_calls() - before, 4);
}

#[tokio::test]
async fn kept_statements_call_no_routine() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    journey(&app, "caller").await;
    assert_eq!(app.routine_calls(), 0);
}

#[tokio::test]
async fn by_default_statements_are_prepared_once_and_kept() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    let before = app.named_statements();
    journey(&app, "journeyer").await;
    assert!(app.named_statements() > before);
    let round_trips = app
        .round_trips_of(|| app.get("/profile", "journeyer"))
        .await;
    assert_eq!(round_trips, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_transaction_pooler_every_request_works() {
    // Five client connections share two server connections, each held for one transaction
    // (or one statement outside of any): every exchange must stand on its own.
    let app = TestApp::builder(Backend::Postgres)
        .pgbouncer()
        .start()
        .await;
    let users: Vec<String> = (0..8).map(|n| format!("pooled{n}")).collect();
    join_all(users.iter().map(|user| journey(&app, user))).await;
    for user in &users {
        let profile = app.get("/profile", user).await;
        profile.assert_status(200);
        assert_eq!(profile.json()["stats"]["totalEntries"], 0, "{user}");
    }
}
