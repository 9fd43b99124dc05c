//! `POST /onboarding` (CONTRACT §3, Profile and onboarding).

use http::{Method, header};
use serde_json::{Value, json};
use testkit::{Backend, TestApp, backend_tests, sqlx, with_pool};

/// The contract's example user.
fn answers() -> Value {
    json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
           "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"})
}

async fn profile_of(app: &TestApp, user: &str) -> Value {
    let response = app.get("/profile", user).await;
    response.assert_status(200);
    response.json()
}

async fn onboarding_computes_and_stores_the_goals(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app.post("/onboarding", "ann", answers()).await;
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!({"message": "Onboarding data saved successfully",
               "nutritionGoals": {"calories": 1550, "protein": 120, "carbs": 171, "fat": 43}})
    );
    let profile = profile_of(&app, "ann").await;
    assert_eq!(profile["onboardingData"], answers());
    assert_eq!(
        profile["preferences"]["nutritionGoals"],
        json!({"calories": 1550, "protein": 120, "carbs": 171, "fat": 43})
    );
    // The computed goals are the ones every summary uses.
    let dashboard = app.get("/dashboard/summary?date=2024-07-11", "ann").await;
    dashboard.assert_status(200);
    assert_eq!(dashboard.json()["targetCalories"], 1550);
}

async fn onboarding_again_updates_answers_and_goals(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.put(
        "/nutrition-goals",
        "ann",
        json!({"calories": 3000, "protein": 200, "carbs": 300, "fat": 100}),
    )
    .await
    .assert_status(200);
    app.post("/onboarding", "ann", answers())
        .await
        .assert_status(200);
    let mut changed = answers();
    changed["gender"] = json!("male");
    changed["age"] = json!(40);
    changed["height"] = json!(180);
    changed["currentWeight"] = json!(80);
    changed["targetWeight"] = json!(82.5);
    changed["goal"] = json!("gain_weight");
    changed["activityLevel"] = json!("very_active");
    let response = app.post("/onboarding", "ann", changed.clone()).await;
    response.assert_status(200);
    // BMR 1730 × 1.725 + 500 → 3480 kcal; protein 144, fat 97, carbs 508.
    let goals = json!({"calories": 3480, "protein": 144, "carbs": 508, "fat": 97});
    assert_eq!(response.json()["nutritionGoals"], goals);
    let profile = profile_of(&app, "ann").await;
    assert_eq!(profile["onboardingData"], changed);
    assert_eq!(profile["preferences"]["nutritionGoals"], goals);
    let rows: i64 = with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM user_onboarding_data WHERE user_id = 'ann'")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(rows, 1);
}

async fn invalid_answers_are_rejected_and_change_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let before = profile_of(&app, "ann").await;
    let with = |field: &str, value: Value| {
        let mut body = answers();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = answers();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let mut cases: Vec<(Value, &str)> = vec![
        (json!([]), "body"),
        (with("age", json!(12)), "age"),
        (with("age", json!(121)), "age"),
        (with("age", json!(30.5)), "age"),
        (with("age", json!("30")), "age"),
        (with("gender", json!("Female")), "gender"),
        (with("gender", json!(null)), "gender"),
        (with("height", json!(49.9)), "height"),
        (with("height", json!(272.5)), "height"),
        (with("height", json!(true)), "height"),
        (with("currentWeight", json!(19)), "currentWeight"),
        (with("currentWeight", json!("60")), "currentWeight"),
        (with("targetWeight", json!(500.5)), "targetWeight"),
        (with("goal", json!("bulk")), "goal"),
        (with("activityLevel", json!("couch")), "activityLevel"),
    ];
    for field in [
        "age",
        "gender",
        "height",
        "currentWeight",
        "targetWeight",
        "goal",
        "activityLevel",
    ] {
        cases.push((without(field), field));
    }
    for (body, field) in cases {
        let response = app.post("/onboarding", "ann", body.clone()).await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
        assert_eq!(profile_of(&app, "ann").await, before, "after {body}");
    }

    let everything_missing = app.post("/onboarding", "ann", json!({})).await;
    let error = everything_missing.assert_error(400, "VALIDATION_FAILED");
    assert_eq!(error["fields"].as_object().unwrap().len(), 7);

    let malformed = app
        .request(Method::POST, "/onboarding")
        .user("ann")
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"age\": 30,")
        .send()
        .await;
    malformed.assert_error(400, "BAD_REQUEST");
    assert_eq!(profile_of(&app, "ann").await, before);
}

#[tokio::test]
async fn onboarding_requires_a_token() {
    let app = TestApp::start(Backend::Sqlite).await;
    let response = app
        .request(Method::POST, "/onboarding")
        .json(&answers())
        .send()
        .await;
    response.assert_error(401, "UNAUTHORIZED");
}

backend_tests!(
    onboarding_computes_and_stores_the_goals,
    onboarding_again_updates_answers_and_goals,
    invalid_answers_are_rejected_and_change_nothing,
);
