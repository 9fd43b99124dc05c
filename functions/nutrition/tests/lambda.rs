//! The nutrition function through its Lambda entry: the real binary, a Runtime API and API
//! Gateway HTTP API events.

use chrono::NaiveDate;
use serde_json::json;
use testkit::access_token;
use testkit::lambda::{HttpEvent, LambdaFunction, refused_start};
use testkit::seed::{self, Entry};

const BINARY: &str = env!("CARGO_BIN_EXE_nutrition");

fn day(raw: &str) -> NaiveDate {
    raw.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goals_and_summaries_answer_api_gateway_events() {
    let function = LambdaFunction::start(BINARY).await;
    seed::user(&function.store, "ann").await;
    seed::entries(
        &function.db,
        "ann",
        &[
            Entry::on(day("2024-07-10"), 500.0).macros(30.0, 50.0, 10.0),
            Entry::on(day("2024-07-10"), 300.5).macros(10.0, 20.0, 5.0),
            Entry::on(day("2024-07-12"), 700.0),
        ],
    )
    .await;
    let token = access_token("ann");

    let goals = json!({"calories": 2200, "protein": 120, "carbs": 260, "fat": 70.5});
    let updated = function
        .call(
            HttpEvent::new("PUT", "/nutrition-goals")
                .bearer(&token)
                .json(&goals),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(
        updated.json(),
        json!({"message": "Nutrition goals updated successfully"})
    );

    let summary = function
        .call(
            HttpEvent::new("GET", "/nutrition-summary")
                .stage("prod")
                .bearer(&token)
                .query("startDate", "2024-07-10")
                .query("endDate", "2024-07-12"),
        )
        .await;
    summary.assert_status(200);
    // Whole amounts are JSON integers; days without entries are there, with zeros.
    let goals_of = |day: serde_json::Value| {
        let mut day = day;
        for (name, goal) in [
            ("caloriesGoal", json!(2200)),
            ("proteinGoal", json!(120)),
            ("carbsGoal", json!(260)),
            ("fatGoal", json!(70.5)),
            ("caloriesBurned", json!(0)),
            ("waterConsumed", json!(0)),
            ("waterGoal", json!(2000)),
        ] {
            day[name] = goal;
        }
        day
    };
    assert_eq!(
        summary.json(),
        json!([
            goals_of(
                json!({"date": "2024-07-10", "caloriesConsumed": 800.5, "caloriesRemaining": 1399.5,
                "proteinConsumed": 40, "carbsConsumed": 70, "fatConsumed": 15,
                "entriesCount": 2})
            ),
            goals_of(
                json!({"date": "2024-07-11", "caloriesConsumed": 0, "caloriesRemaining": 2200,
                "proteinConsumed": 0, "carbsConsumed": 0, "fatConsumed": 0,
                "entriesCount": 0})
            ),
            goals_of(
                json!({"date": "2024-07-12", "caloriesConsumed": 700, "caloriesRemaining": 1500,
                "proteinConsumed": 0, "carbsConsumed": 0, "fatConsumed": 0,
                "entriesCount": 1})
            ),
        ])
    );

    let dashboard = function
        .call(
            HttpEvent::new("GET", "/dashboard/summary")
                .bearer(&token)
                .query("date", "2024-07-10"),
        )
        .await;
    dashboard.assert_status(200);
    assert_eq!(
        dashboard.json(),
        json!({"caloriesConsumed": 800.5, "caloriesRemaining": 1399.5, "caloriesBurned": 0,
               "targetCalories": 2200, "proteinConsumed": 40, "targetProtein": 120,
               "carbsConsumed": 70, "targetCarbs": 260, "fatConsumed": 15, "targetFat": 70.5,
               "foodEntriesCount": 2, "waterConsumed": 0, "waterGoal": 2000})
    );
    // Without a date: the user's today, which has no entries.
    let today = function
        .call(HttpEvent::new("GET", "/dashboard/summary").bearer(&token))
        .await;
    today.assert_status(200);
    assert_eq!(today.json()["foodEntriesCount"], 0);
    assert_eq!(today.json()["caloriesRemaining"], 2200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_parameters_are_400() {
    let function = LambdaFunction::start(BINARY).await;
    let token = access_token("ann");
    let summary = |start: &str, end: &str| {
        HttpEvent::new("GET", "/nutrition-summary")
            .bearer(&token)
            .query("startDate", start)
            .query("endDate", end)
    };

    let error = function
        .call(summary("2024-13-01", "2024-12-31"))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["startDate"].is_string(), "{error}");
    function
        .call(summary("2024-07-12", "2024-07-10"))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    let missing = function
        .call(
            HttpEvent::new("GET", "/nutrition-summary")
                .bearer(&token)
                .query("startDate", "2024-07-10"),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(missing["fields"]["endDate"].is_string(), "{missing}");
    // A parameter given twice reaches the function in the raw query string.
    function
        .call(summary("2024-07-10", "2024-07-11").query("startDate", "2024-07-09"))
        .await
        .assert_error(400, "BAD_REQUEST");
    let error = function
        .call(
            HttpEvent::new("GET", "/dashboard/summary")
                .bearer(&token)
                .query("date", "10/07/2024"),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["date"].is_string(), "{error}");

    // A body of the wrong shape.
    let error = function
        .call(
            HttpEvent::new("PUT", "/nutrition-goals")
                .bearer(&token)
                .json(&json!({"calories": "2000", "protein": 100, "carbs": 250, "fat": 70})),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["calories"].is_string(), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nutrition_function_with_an_unusable_database_url_refuses_to_start() {
    // A URL the configuration accepts but the driver cannot use: the line still names it.
    let env = [
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1/db?sslmode=sometimes".to_owned(),
        ),
        ("JWT_SECRET", "s".to_owned()),
    ];
    assert_eq!(
        refused_start(BINARY, &env).await,
        "start-up failed: internal error: DATABASE_URL is not a valid postgres URL"
    );
}
