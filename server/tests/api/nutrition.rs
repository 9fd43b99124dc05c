//! `PUT /nutrition-goals`, `GET /nutrition-summary` and `GET /dashboard/summary` (CONTRACT §3).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use http::{Method, header};
use serde_json::{Value, json};
use shared::time::{UserZone, parse_instant};
use testkit::seed::{self, Entry};
use testkit::{Backend, TestApp, backend_tests};

fn day(raw: &str) -> NaiveDate {
    shared::time::parse_date(raw).unwrap()
}

async fn goals_of(app: &TestApp, user: &str) -> Value {
    let response = app.get("/profile", user).await;
    response.assert_status(200);
    response.json()["preferences"]["nutritionGoals"].clone()
}

async fn summary(app: &TestApp, user: &str, start: &str, end: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/nutrition-summary?startDate={start}&endDate={end}"),
            user,
        )
        .await;
    response.assert_status(200);
    response.json().as_array().unwrap().clone()
}

async fn dashboard(app: &TestApp, user: &str, date: Option<&str>) -> Value {
    let path = match date {
        Some(date) => format!("/dashboard/summary?date={date}"),
        None => "/dashboard/summary".to_owned(),
    };
    let response = app.get(&path, user).await;
    response.assert_status(200);
    response.json()
}

async fn set_zone(app: &TestApp, user: &str, zone: UserZone) {
    app.put(
        "/profile",
        user,
        json!({"preferences": {"timezone": zone.name()}}),
    )
    .await
    .assert_status(200);
}

async fn goals_are_replaced_and_used_by_every_summary(backend: Backend) {
    let app = TestApp::start(backend).await;
    let goals = json!({"calories": 1800, "protein": 90.5, "carbs": 200, "fat": 60});
    let response = app.put("/nutrition-goals", "ann", goals.clone()).await;
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!({"message": "Nutrition goals updated successfully"})
    );
    assert_eq!(goals_of(&app, "ann").await, goals);

    let days = summary(&app, "ann", "2024-07-11", "2024-07-11").await;
    assert_eq!(days[0]["caloriesGoal"], 1800);
    assert_eq!(days[0]["proteinGoal"], 90.5);
    let today = dashboard(&app, "ann", None).await;
    assert_eq!(today["targetCalories"], 1800);
    assert_eq!(today["targetFat"], 60);

    // The bounds are inclusive.
    for edge in [
        json!({"calories": 800, "protein": 10, "carbs": 20, "fat": 10}),
        json!({"calories": 4000, "protein": 500, "carbs": 1000, "fat": 400}),
    ] {
        app.put("/nutrition-goals", "ann", edge.clone())
            .await
            .assert_status(200);
        assert_eq!(goals_of(&app, "ann").await, edge);
    }
}

async fn invalid_goals_are_rejected_and_change_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let goals = json!({"calories": 1800, "protein": 90, "carbs": 200, "fat": 60});
    app.put("/nutrition-goals", "ann", goals.clone())
        .await
        .assert_status(200);
    let with = |field: &str, value: Value| {
        let mut body = goals.clone();
        body[field] = value;
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!([1800, 90, 200, 60]), "body"),
        (json!({}), "calories"),
        (
            json!({"calories": 1800, "protein": 90, "carbs": 200}),
            "fat",
        ),
        (with("calories", json!(true)), "calories"),
        (with("calories", json!("1800")), "calories"),
        (with("calories", json!(null)), "calories"),
        (with("calories", json!(799.99)), "calories"),
        (with("calories", json!(4000.01)), "calories"),
        (with("protein", json!(9)), "protein"),
        (with("protein", json!(501)), "protein"),
        (with("protein", json!({"g": 90})), "protein"),
        (with("carbs", json!(19.5)), "carbs"),
        (with("carbs", json!(1001)), "carbs"),
        (with("fat", json!(9.99)), "fat"),
        (with("fat", json!(400.5)), "fat"),
        (with("fat", json!([60])), "fat"),
        (with("fibre", json!(30)), "fibre"),
    ];
    for (body, field) in cases {
        let response = app.put("/nutrition-goals", "ann", body.clone()).await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
        assert_eq!(goals_of(&app, "ann").await, goals, "after {body}");
    }
    let malformed = app
        .request(Method::PUT, "/nutrition-goals")
        .user("ann")
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"calories\": 18")
        .send()
        .await;
    malformed.assert_error(400, "BAD_REQUEST");
    assert_eq!(goals_of(&app, "ann").await, goals);
}

async fn the_summary_has_every_day_with_zeros_for_days_without_entries(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed::user(app.state.store(), "ann").await;
    seed::user(app.state.store(), "bob").await;
    seed::entries(
        &app.db,
        "ann",
        &[
            Entry::on(day("2024-07-09"), 999.0),
            Entry::on(day("2024-07-10"), 350.5).macros(12.0, 60.0, 7.25),
            Entry::on(day("2024-07-10"), 200.0),
            Entry::on(day("2024-07-12"), 500.0).macros(30.0, 20.0, 10.0),
        ],
    )
    .await;
    seed::entries(&app.db, "bob", &[Entry::on(day("2024-07-11"), 700.0)]).await;
    let goals = "\"caloriesGoal\": 2000, \"proteinGoal\": 100, \"carbsGoal\": 250, \"fatGoal\": 70, \
                 \"caloriesBurned\": 0, \"waterConsumed\": 0, \"waterGoal\": 2000";
    let expected: Value = serde_json::from_str(&format!(
        r#"[
        {{"date": "2024-07-10", "caloriesConsumed": 550.5, "caloriesRemaining": 1449.5, "proteinConsumed": 12,
          "carbsConsumed": 60, "fatConsumed": 7.25, "entriesCount": 2, {goals}}},
        {{"date": "2024-07-11", "caloriesConsumed": 0, "caloriesRemaining": 2000, "proteinConsumed": 0,
          "carbsConsumed": 0, "fatConsumed": 0, "entriesCount": 0, {goals}}},
        {{"date": "2024-07-12", "caloriesConsumed": 500, "caloriesRemaining": 1500, "proteinConsumed": 30,
          "carbsConsumed": 20, "fatConsumed": 10, "entriesCount": 1, {goals}}},
        {{"date": "2024-07-13", "caloriesConsumed": 0, "caloriesRemaining": 2000, "proteinConsumed": 0,
          "carbsConsumed": 0, "fatConsumed": 0, "entriesCount": 0, {goals}}}
        ]"#
    ))
    .unwrap();
    assert_eq!(
        Value::Array(summary(&app, "ann", "2024-07-10", "2024-07-13").await),
        expected
    );
}

/// Three years of history; a 366-day range that runs past its end.
async fn a_years_summary_of_a_long_history(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed::user(app.state.store(), "ann").await;
    let first = day("2021-01-01");
    let mut entries = Vec::new();
    for offset in 0..1095 {
        let date = first + Duration::days(offset);
        // Every fifth day has no entry; the others one to three, some without macros.
        if offset % 5 == 4 {
            continue;
        }
        for n in 0..=(offset % 3) {
            let calories = 100.0 + (offset % 50) as f64 + 0.25 * n as f64;
            let entry = Entry::on(date, calories);
            entries.push(match n {
                1 => entry,
                _ => entry.macros(10.0 + n as f64, 20.5, 5.0),
            });
        }
    }
    let mut expected: BTreeMap<NaiveDate, (i64, f64, f64, f64, f64)> = BTreeMap::new();
    for entry in &entries {
        let sums = expected.entry(entry.local_date).or_default();
        sums.0 += 1;
        sums.1 += entry.calories;
        sums.2 += entry.protein.unwrap_or_default();
        sums.3 += entry.carbs.unwrap_or_default();
        sums.4 += entry.fat.unwrap_or_default();
    }
    seed::entries(&app.db, "ann", &entries).await;

    let days = summary(&app, "ann", "2023-06-01", "2024-05-31").await;
    assert_eq!(days.len(), 366);
    let mut date = day("2023-06-01");
    let (mut logged, mut empty) = (0, 0);
    for summary in &days {
        assert_eq!(summary["date"], date.to_string());
        let (count, calories, protein, carbs, fat) =
            expected.get(&date).copied().unwrap_or_default();
        assert_eq!(summary["entriesCount"], count, "{date}");
        assert_eq!(
            summary["caloriesConsumed"].as_f64(),
            Some(calories),
            "{date}"
        );
        assert_eq!(summary["proteinConsumed"].as_f64(), Some(protein), "{date}");
        assert_eq!(summary["carbsConsumed"].as_f64(), Some(carbs), "{date}");
        assert_eq!(summary["fatConsumed"].as_f64(), Some(fat), "{date}");
        assert_eq!(summary["caloriesGoal"], 2000);
        assert_eq!(summary["caloriesBurned"], 0);
        if count == 0 {
            empty += 1;
        } else {
            logged += 1;
        }
        date = date.succ_opt().unwrap();
    }
    // June–December 2023 minus every fifth day, then five months past the history.
    assert_eq!((logged, empty), (171, 195));
}

async fn summary_parameters_are_validated(backend: Backend) {
    let app = TestApp::start(backend).await;
    let cases = [
        ("", vec!["startDate", "endDate"]),
        ("?startDate=2024-07-01", vec!["endDate"]),
        ("?endDate=2024-07-01", vec!["startDate"]),
        ("?startDate=2024-07-01&endDate=", vec!["endDate"]),
        (
            "?startDate=2024-02-30&endDate=2024-03-01",
            vec!["startDate"],
        ),
        (
            "?startDate=07/01/2024&endDate=2024-07-02",
            vec!["startDate"],
        ),
        (
            "?startDate=2024-07-01T00:00:00Z&endDate=2024-07-02",
            vec!["startDate"],
        ),
        ("?startDate=2024-07-02&endDate=2024-07-01", vec!["endDate"]),
        ("?startDate=2023-01-01&endDate=2024-01-02", vec!["endDate"]),
    ];
    for (query, fields) in cases {
        let response = app.get(&format!("/nutrition-summary{query}"), "ann").await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        let named: Vec<&str> = error["fields"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = fields.clone();
        expected.sort();
        assert_eq!(named, expected, "{query}: {error}");
    }
    // 366 days is the most, in a leap year as anywhere.
    assert_eq!(
        summary(&app, "ann", "2024-01-01", "2024-12-31").await.len(),
        366
    );
    assert_eq!(
        summary(&app, "ann", "2023-01-01", "2024-01-01").await.len(),
        366
    );
    let twice = app
        .get(
            "/nutrition-summary?startDate=2024-07-01&startDate=2024-07-02&endDate=2024-07-03",
            "ann",
        )
        .await;
    twice.assert_error(400, "BAD_REQUEST");
}

async fn the_dashboard_shows_a_day_against_the_goals(backend: Backend) {
    let app = TestApp::start(backend).await;
    seed::user(app.state.store(), "ann").await;
    app.put(
        "/nutrition-goals",
        "ann",
        json!({"calories": 1800, "protein": 90, "carbs": 200, "fat": 60}),
    )
    .await
    .assert_status(200);
    seed::entries(
        &app.db,
        "ann",
        &[
            Entry::on(day("2024-07-10"), 600.0).macros(20.0, 80.0, 10.0),
            Entry::on(day("2024-07-11"), 1500.5).macros(60.0, 150.0, 70.25),
            Entry::on(day("2024-07-11"), 400.0),
        ],
    )
    .await;
    assert_eq!(
        dashboard(&app, "ann", Some("2024-07-11")).await,
        json!({"caloriesConsumed": 1900.5, "caloriesRemaining": -100.5, "caloriesBurned": 0,
               "targetCalories": 1800, "proteinConsumed": 60, "targetProtein": 90,
               "carbsConsumed": 150, "targetCarbs": 200, "fatConsumed": 70.25, "targetFat": 60,
               "foodEntriesCount": 2, "waterConsumed": 0, "waterGoal": 2000})
    );
    assert_eq!(
        dashboard(&app, "ann", Some("2024-07-10")).await["caloriesRemaining"],
        1200
    );
    let empty = dashboard(&app, "ann", Some("2024-07-12")).await;
    assert_eq!(empty["caloriesConsumed"], 0);
    assert_eq!(empty["caloriesRemaining"], 1800);
    assert_eq!(empty["foodEntriesCount"], 0);

    for bad in ["2024-13-01", "yesterday", "2024-07-11T00:00:00Z", ""] {
        let response = app
            .get(&format!("/dashboard/summary?date={bad}"), "ann")
            .await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"]["date"].is_string(), "{bad}: {error}");
    }
}

/// Without `date` the dashboard shows the user's today. At any instant at least one of
/// Kiritimati (UTC+14) and Pago Pago (UTC−11) is on another date than UTC, so a dashboard on
/// UTC's today fails here whenever the test runs.
async fn the_dashboard_defaults_to_the_users_today(backend: Backend) {
    let app = TestApp::start(backend).await;
    let zones = [
        ("kiwi", "Pacific/Auckland"),
        ("angeleno", "America/Los_Angeles"),
        ("kiritimati", "Pacific/Kiritimati"),
        ("pago", "Pacific/Pago_Pago"),
    ];
    for (user, zone) in zones {
        let zone: UserZone = zone.parse().unwrap();
        set_zone(&app, user, zone).await;
        let today = zone.today();
        // A different amount on each day around today.
        let entries: Vec<Entry> = (-2i32..=2)
            .map(|offset| {
                let date = today + Duration::days(offset.into());
                let noon = zone.start_of(date) + Duration::hours(12);
                Entry::eaten(zone, noon, 1000.0 + f64::from(offset))
            })
            .collect();
        seed::entries(&app.db, user, &entries).await;
        let shown = dashboard(&app, user, None).await;
        // The day may turn between the seeding and the request.
        let now = zone.today();
        let calories = shown["caloriesConsumed"].as_f64().unwrap();
        let allowed = [today, now].map(|date| 1000.0 + (date - today).num_days() as f64);
        assert!(allowed.contains(&calories), "{user}: {shown}");
        assert_eq!(shown["foodEntriesCount"], 1);
    }
}

/// Entries around midnight UTC and around each zone's own midnight land on the user's day, in
/// the summary and on the dashboard.
async fn entries_near_midnight_land_on_the_users_day(backend: Backend) {
    let app = TestApp::start(backend).await;
    let auckland: UserZone = "Pacific/Auckland".parse().unwrap(); // UTC+12 in July
    let los_angeles: UserZone = "America/Los_Angeles".parse().unwrap(); // UTC−7 in July
    let eaten = [
        ("2024-07-11T11:30:00Z", 100.0), // Auckland 23:30 on the 11th; LA 04:30 on the 11th
        ("2024-07-11T12:30:00Z", 200.0), // Auckland 00:30 on the 12th; LA 05:30 on the 11th
        ("2024-07-11T23:30:00Z", 400.0), // Auckland 11:30 on the 12th; LA 16:30 on the 11th
        ("2024-07-12T00:30:00Z", 800.0), // Auckland 12:30 on the 12th; LA 17:30 on the 11th
        ("2024-07-12T06:30:00Z", 1600.0), // Auckland 18:30 on the 12th; LA 23:30 on the 11th
        ("2024-07-12T07:30:00Z", 3200.0), // Auckland 19:30 on the 12th; LA 00:30 on the 12th
    ];
    let expected = [
        ("kiwi", auckland, [0.0, 100.0, 6200.0, 0.0], [0, 1, 5, 0]),
        (
            "angeleno",
            los_angeles,
            [0.0, 3100.0, 3200.0, 0.0],
            [0, 5, 1, 0],
        ),
    ];
    for (user, zone, calories, counts) in expected {
        set_zone(&app, user, zone).await;
        let entries: Vec<Entry> = eaten
            .iter()
            .map(|(at, calories)| Entry::eaten(zone, parse_instant(at).unwrap(), *calories))
            .collect();
        seed::entries(&app.db, user, &entries).await;

        let days = summary(&app, user, "2024-07-10", "2024-07-13").await;
        let shown: Vec<(f64, i64)> = days
            .iter()
            .map(|day| {
                (
                    day["caloriesConsumed"].as_f64().unwrap(),
                    day["entriesCount"].as_i64().unwrap(),
                )
            })
            .collect();
        let wanted: Vec<(f64, i64)> = calories.into_iter().zip(counts).collect();
        assert_eq!(shown, wanted, "{user}");
        for (date, (calories, count)) in ["2024-07-11", "2024-07-12"].iter().zip(&wanted[1..3]) {
            let day = dashboard(&app, user, Some(date)).await;
            assert_eq!(
                day["caloriesConsumed"].as_f64(),
                Some(*calories),
                "{user} {date}"
            );
            assert_eq!(day["foodEntriesCount"], *count, "{user} {date}");
        }
    }
}

#[tokio::test]
async fn each_request_costs_two_round_trips() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    seed::user(app.state.store(), "ann").await;
    let entries: Vec<Entry> = (0..900)
        .map(|n| Entry::on(day("2022-01-01") + Duration::days(n), 500.0))
        .collect();
    seed::entries(&app.db, "ann", &entries).await;
    let goals = json!({"calories": 1800, "protein": 90, "carbs": 200, "fat": 60});
    let put_goals = app
        .round_trips_of(|| app.put("/nutrition-goals", "ann", goals.clone()))
        .await;
    let year = app
        .round_trips_of(|| {
            app.get(
                "/nutrition-summary?startDate=2023-01-01&endDate=2023-12-31",
                "ann",
            )
        })
        .await;
    let today = app
        .round_trips_of(|| app.get("/dashboard/summary", "ann"))
        .await;
    assert_eq!((put_goals, year, today), (2, 2, 2));
}

#[tokio::test]
async fn goals_and_summaries_require_a_token() {
    let app = TestApp::start(Backend::Sqlite).await;
    let requests = [
        (Method::PUT, "/nutrition-goals"),
        (
            Method::GET,
            "/nutrition-summary?startDate=2024-07-01&endDate=2024-07-02",
        ),
        (Method::GET, "/dashboard/summary"),
    ];
    for (method, path) in requests {
        let response = app
            .request(method, path)
            .json(&json!({"calories": 1800, "protein": 90, "carbs": 200, "fat": 60}))
            .send()
            .await;
        response.assert_error(401, "UNAUTHORIZED");
    }
}

backend_tests!(
    goals_are_replaced_and_used_by_every_summary,
    invalid_goals_are_rejected_and_change_nothing,
    the_summary_has_every_day_with_zeros_for_days_without_entries,
    a_years_summary_of_a_long_history,
    summary_parameters_are_validated,
    the_dashboard_shows_a_day_against_the_goals,
    the_dashboard_defaults_to_the_users_today,
    entries_near_midnight_land_on_the_users_day,
);
