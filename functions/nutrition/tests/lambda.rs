//! The nutrition function through its Lambda entry: the real binary, a Runtime API and API
//! Gateway HTTP API events.

use chrono::{Duration, NaiveDate};
use serde_json::json;
use shared::time::UserZone;
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

/// The README's example without onboarding (so maintaining: nothing added, 1.6 g of protein
/// per kg), seeded for a user in UTC; again for a new user if the day turns meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insights_answer_api_gateway_events() {
    let function = LambdaFunction::start(BINARY).await;
    let call = |event: HttpEvent| function.call(event);
    let (user, today, recommended) = {
        let mut attempt = 0;
        loop {
            let today = UserZone::UTC.today();
            let user = format!("ann-{attempt}");
            seed::user(&function.store, &user).await;
            let day = |n: i64| today - Duration::days(28 - n);
            let eaten: Vec<Entry> = (0..10)
                .map(|n| Entry::on(day(n), 2100.0))
                .chain((18..28).map(|n| Entry::on(day(n), 2250.0).macros(100.0, 250.0, 80.0)))
                .collect();
            seed::entries(&function.db, &user, &eaten).await;
            for (n, kg) in [(0, 80.0), (9, 79.7), (18, 79.0), (27, 78.7)] {
                let at = UserZone::UTC.start_of(day(n)) + Duration::hours(7);
                seed::weigh_in(&function.store, &user, UserZone::UTC, at, kg).await;
            }
            let token = access_token(&user);
            let recommended =
                call(HttpEvent::new("GET", "/goals/recommendation").bearer(&token)).await;
            if UserZone::UTC.today() == today {
                break (user, today, recommended);
            }
            attempt += 1;
        }
    };
    let token = access_token(&user);
    recommended.assert_status(200);
    // 2570 kcal; protein 78.7 × 1.6 = 125.92 → 126 g; fat 2570 × 0.25 / 9 = 71.39 → 71 g;
    // carbs (2570 − 504 − 639) / 4 = 356.75 → 357 g.
    let goals = json!({"calories": 2570, "protein": 126, "carbs": 357, "fat": 71});
    assert_eq!(
        recommended.json(),
        json!({"windowStart": (today - Duration::days(28)).to_string(),
               "windowEnd": (today - Duration::days(1)).to_string(),
               "loggedDays": 20, "weighInDays": 4, "averageIntake": 2175, "weightSlope": -0.36,
               "estimatedExpenditure": 2570,
               "currentGoals": {"calories": 2000, "protein": 100, "carbs": 250, "fat": 70},
               "recommendedGoals": goals, "confidence": "medium", "reason": null})
    );

    // API Gateway sends a POST without a body with no body at all.
    for event in [
        HttpEvent::new("POST", "/goals/recommendation/apply"),
        HttpEvent::new("POST", "/goals/recommendation/apply").json(&json!({})),
    ] {
        let applied = call(event.bearer(&token)).await;
        applied.assert_status(200);
        assert_eq!(
            applied.json(),
            json!({"message": "Nutrition goals updated successfully", "nutritionGoals": goals})
        );
    }
    let error = call(
        HttpEvent::new("POST", "/goals/recommendation/apply")
            .bearer(&token)
            .json(&json!({"calories": 1800})),
    )
    .await
    .assert_error(400, "VALIDATION_FAILED");
    assert_eq!(error["fields"]["calories"], "unknown field");
    let newcomer = call(
        HttpEvent::new("POST", "/goals/recommendation/apply").bearer(&access_token("newcomer")),
    )
    .await
    .assert_error(409, "CONFLICT");
    assert!(
        newcomer["error"]
            .as_str()
            .unwrap()
            .starts_with("Not enough data")
    );

    // The last two weeks of the window: ten days at 2250 kcal, more than 10% under the 2570
    // now in force.
    let report = call(
        HttpEvent::new("GET", "/reports")
            .bearer(&token)
            .query("startDate", &(today - Duration::days(14)).to_string())
            .query("endDate", &(today - Duration::days(1)).to_string()),
    )
    .await;
    report.assert_status(200);
    let report = report.json();
    assert_eq!(
        (
            &report["calendarDays"],
            &report["loggedDays"],
            &report["longestStreak"],
            &report["daysOnTarget"],
        ),
        (&json!(14), &json!(10), &json!(10), &json!(0))
    );
    assert_eq!(report["perLoggedDay"]["calories"], 2250);
    assert_eq!(report["perCalendarDay"]["calories"], 1607.14);
    // 400 + 1000 + 720 kcal of macros a day.
    assert_eq!(
        report["macroShare"],
        json!({"protein": 18.9, "carbs": 47.2, "fat": 34})
    );
    // The trend: 79.97 from day 9, before the range, to 79.7557 after day 27.
    assert_eq!(report["weightChange"], -0.21);
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

    let error = function
        .call(
            HttpEvent::new("GET", "/reports")
                .bearer(&token)
                .query("startDate", "2024-07-12")
                .query("endDate", "2024-07-10"),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["endDate"].is_string(), "{error}");

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
