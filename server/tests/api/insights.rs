//! `GET /goals/recommendation`, `POST /goals/recommendation/apply` and `GET /reports`: the
//! README's worked example end to end, the user's days in zones far from UTC, the refusals,
//! the bodies and parameters, and the round trips.

use std::future::Future;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use http::{Method, header};
use serde_json::{Value, json};
use shared::time::{UserZone, format_instant};
use testkit::seed::{self, Entry};
use testkit::{Backend, TestApp, backend_tests};

/// `hours` after the start of `zone`'s day `date`, as an instant.
fn local(zone: UserZone, date: NaiveDate, hours: f64) -> DateTime<Utc> {
    zone.start_of(date) + Duration::minutes((hours * 60.0).round() as i64)
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

async fn eat(app: &TestApp, user: &str, calories: f64, at: DateTime<Utc>) {
    app.post(
        "/food-entries",
        user,
        json!({"name": "Meal", "calories": calories, "mealType": "lunch",
               "timestamp": format_instant(&at)}),
    )
    .await
    .assert_status(201);
}

async fn weigh(app: &TestApp, user: &str, kg: f64, at: DateTime<Utc>) {
    app.post(
        "/weight-entries",
        user,
        json!({"weight": kg, "timestamp": format_instant(&at)}),
    )
    .await
    .assert_status(201);
}

async fn recommendation(app: &TestApp, user: &str) -> Value {
    let response = app.get("/goals/recommendation", user).await;
    response.assert_status(200);
    response.json()
}

async fn goals_of(app: &TestApp, user: &str) -> Value {
    let response = app.get("/profile", user).await;
    response.assert_status(200);
    response.json()["preferences"]["nutritionGoals"].clone()
}

async fn report(app: &TestApp, user: &str, start: &str, end: &str) -> Value {
    let response = app
        .get(&format!("/reports?startDate={start}&endDate={end}"), user)
        .await;
    response.assert_status(200);
    response.json()
}

/// Runs `scenario` (the attempt's number, the user's today in `zone`) again until the day did
/// not turn while it ran: the window moves with the day. Returns that day and the outcome.
async fn on_one_day<F, Fut, T>(zone: UserZone, scenario: F) -> (NaiveDate, T)
where
    F: Fn(u32, NaiveDate) -> Fut,
    Fut: Future<Output = T>,
{
    let mut attempt = 0;
    loop {
        let today = zone.today();
        let outcome = scenario(attempt, today).await;
        if zone.today() == today {
            return (today, outcome);
        }
        attempt += 1;
    }
}

/// The README's worked example, logged through the API: onboarding (losing weight, 78.7 kg,
/// its weigh-in today), 10 days at 2100 kcal and 10 at 2250, weigh-ins of 80, 79.7, 79 and 78.7
/// kg on the window's days 0, 9, 18 and 27.
async fn the_readme_example_is_recommended_and_applied(backend: Backend) {
    let app = TestApp::start(backend).await;
    let app = &app;
    let (today, (user, onboarded, recommended)) = on_one_day(UserZone::UTC, |attempt, today| async move {
        let user = format!("reader-{attempt}");
        let onboarded = app
            .post(
                "/onboarding",
                &user,
                json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 78.7,
                       "targetWeight": 70, "goal": "lose_weight", "activityLevel": "moderately_active"}),
            )
            .await;
        onboarded.assert_status(200);
        let day = |n: i64| today - Duration::days(28 - n);
        for n in 0..10 {
            // A day's calories are its entries' sum.
            eat(app, &user, 1400.0, local(UserZone::UTC, day(n), 8.0)).await;
            eat(app, &user, 700.0, local(UserZone::UTC, day(n), 19.0)).await;
        }
        for n in 18..28 {
            eat(app, &user, 2250.0, local(UserZone::UTC, day(n), 12.0)).await;
        }
        for (n, kg) in [(0, 80.0), (9, 79.7), (18, 79.0), (27, 78.7)] {
            weigh(app, &user, kg, local(UserZone::UTC, day(n), 7.0)).await;
        }
        let recommended = recommendation(app, &user).await;
        (user, onboarded.json()["nutritionGoals"].clone(), recommended)
    })
    .await;
    // Onboarding: 787 + 1031.25 − 150 − 161 = 1507.25; × 1.55 − 500 = 1836.24 → 1840 kcal.
    assert_eq!(
        onboarded,
        json!({"calories": 1840, "protein": 157, "carbs": 188, "fat": 51})
    );
    let expected_goals = json!({"calories": 2070, "protein": 157, "carbs": 230, "fat": 58});
    assert_eq!(
        recommended,
        json!({"windowStart": (today - Duration::days(28)).to_string(),
               "windowEnd": (today - Duration::days(1)).to_string(),
               "loggedDays": 20, "weighInDays": 4, "averageIntake": 2175, "weightSlope": -0.36,
               "estimatedExpenditure": 2570, "currentGoals": onboarded,
               "recommendedGoals": expected_goals, "confidence": "medium", "reason": null})
    );
    // Nothing is applied by itself.
    assert_eq!(goals_of(app, &user).await, onboarded);

    let applied = app
        .request(Method::POST, "/goals/recommendation/apply")
        .user(&user)
        .send()
        .await;
    applied.assert_status(200);
    assert_eq!(
        applied.json(),
        json!({"message": "Nutrition goals updated successfully", "nutritionGoals": expected_goals})
    );
    assert_eq!(goals_of(app, &user).await, expected_goals);
    let again = recommendation(app, &user).await;
    assert_eq!(again["currentGoals"], expected_goals);
    assert_eq!(again["recommendedGoals"], expected_goals);
}

/// The window is the user's 28 days before their today: records just inside and just outside
/// each of its ends, at the zone's own midnights (far from UTC's), count or do not. At any
/// instant at least one of Kiritimati (UTC+14) and Pago Pago (UTC−11) is on another date than
/// UTC, so a window of UTC's days fails here whenever the test runs.
async fn the_window_is_the_users_last_28_days(backend: Backend) {
    let app = TestApp::start(backend).await;
    let app = &app;
    for (name, zone) in [
        ("kiwi", "Pacific/Auckland"),
        ("angeleno", "America/Los_Angeles"),
        ("kiritimati", "Pacific/Kiritimati"),
        ("pago", "Pacific/Pago_Pago"),
    ] {
        let zone: UserZone = zone.parse().unwrap();
        let (today, shown) = on_one_day(zone, |attempt, today| async move {
            let user = format!("{name}-{attempt}");
            set_zone(app, &user, zone).await;
            let first = today - Duration::days(28);
            let minutes =
                |date: NaiveDate, minutes: i64| zone.start_of(date) + Duration::minutes(minutes);
            // Before the window, its first day, its last day (yesterday), today.
            eat(app, &user, 5000.0, minutes(first, -10)).await;
            eat(app, &user, 1000.0, minutes(first, 10)).await;
            eat(app, &user, 2000.0, minutes(today, -10)).await;
            eat(app, &user, 7000.0, minutes(today, 10)).await;
            weigh(app, &user, 90.0, minutes(first, -10)).await;
            weigh(app, &user, 80.0, minutes(first, 10)).await;
            weigh(app, &user, 79.0, minutes(today, -10)).await;
            weigh(app, &user, 60.0, minutes(today, 10)).await;
            recommendation(app, &user).await
        })
        .await;
        // A kilo less over the window's 27 days: −7/27 = −0.26 kg a week; 1500 + 7700/27 =
        // 1785.19 → 1790 kcal.
        assert_eq!(
            shown["windowStart"],
            (today - Duration::days(28)).to_string(),
            "{name}"
        );
        assert_eq!(
            shown["windowEnd"],
            (today - Duration::days(1)).to_string(),
            "{name}"
        );
        assert_eq!(
            (
                &shown["loggedDays"],
                &shown["averageIntake"],
                &shown["weighInDays"]
            ),
            (&json!(2), &json!(1500), &json!(2)),
            "{name}: {shown}"
        );
        assert_eq!(shown["weightSlope"], -0.26, "{name}");
        assert_eq!(shown["estimatedExpenditure"], 1790, "{name}");
        assert_eq!(shown["confidence"], "insufficient", "{name}");
        assert_eq!(shown["recommendedGoals"], Value::Null, "{name}");
    }
}

async fn too_little_data_is_insufficient_and_applies_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let goals = json!({"calories": 1800, "protein": 90, "carbs": 200, "fat": 60});
    app.put("/nutrition-goals", "newcomer", goals.clone())
        .await
        .assert_status(200);
    let shown = recommendation(&app, "newcomer").await;
    let reason = "Not enough data in the last 28 days: a recommendation takes at least 14 days \
                  with food logged (0 so far), at least 4 days with a weigh-in (0 so far) and at \
                  least 14 days between the first and the last weigh-in (0 so far).";
    assert_eq!(
        (
            &shown["loggedDays"],
            &shown["averageIntake"],
            &shown["weightSlope"],
            &shown["estimatedExpenditure"],
            &shown["currentGoals"],
            &shown["recommendedGoals"],
            &shown["confidence"],
            &shown["reason"],
        ),
        (
            &json!(0),
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &goals,
            &Value::Null,
            &json!("insufficient"),
            &json!(reason),
        )
    );
    let refused = app
        .post("/goals/recommendation/apply", "newcomer", json!({}))
        .await;
    let error = refused.assert_error(409, "CONFLICT");
    assert_eq!(error["error"], reason);
    assert_eq!(goals_of(&app, "newcomer").await, goals);
}

/// Three weeks of 400 kcal a day at a steady weight: enough days, but an expenditure no adult
/// has; the log is taken to be incomplete.
async fn an_implausible_estimate_is_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let app = &app;
    let (_, (user, shown)) = on_one_day(UserZone::UTC, |attempt, today| async move {
        let user = format!("nibbler-{attempt}");
        seed::user(app.state.store(), &user).await;
        let days: Vec<Entry> = (1..=21)
            .map(|n| Entry::on(today - Duration::days(n), 400.0))
            .collect();
        seed::entries(&app.db, &user, &days).await;
        for n in [1, 8, 15, 22] {
            let at = local(UserZone::UTC, today - Duration::days(n), 7.0);
            seed::weigh_in(app.state.store(), &user, UserZone::UTC, at, 70.0).await;
        }
        (user.clone(), recommendation(app, &user).await)
    })
    .await;
    assert_eq!(shown["estimatedExpenditure"], 400);
    assert_eq!(shown["confidence"], "insufficient");
    let reason = "The estimated expenditure of 400 kcal a day is outside 1000–6000 kcal, so the \
                  food log is taken to be incomplete.";
    assert_eq!(shown["reason"], reason);
    let error = app
        .request(Method::POST, "/goals/recommendation/apply")
        .user(&user)
        .send()
        .await
        .assert_error(409, "CONFLICT");
    assert_eq!(error["error"], reason);
}

/// Seeds the window of `user` (who exists): 24 days at 2500 kcal and 8 weigh-ins gaining
/// 0.02 kg a day. High confidence, 2500 − 154 = 2346 → 2350 kcal; without onboarding nothing
/// is added.
async fn log_steadily(app: &TestApp, user: &str, today: NaiveDate) {
    let days: Vec<Entry> = (1..=24)
        .map(|n| Entry::on(today - Duration::days(n), 2500.0).macros(120.0, 300.0, 80.0))
        .collect();
    seed::entries(&app.db, user, &days).await;
    for k in 0..8 {
        let n = 27 - 3 * k;
        let at = local(UserZone::UTC, today - Duration::days(n), 7.0);
        let kg = 70.0 + 0.02 * (27 - n) as f64;
        seed::weigh_in(app.state.store(), user, UserZone::UTC, at, kg).await;
    }
}

/// 70.42 kg × 1.6 = 112.67 → 113 g protein; fat 2350 / 36 = 65.28 → 65 g; carbs
/// (2350 − 452 − 585) / 4 = 328.25 → 328 g.
fn steady_goals() -> Value {
    json!({"calories": 2350, "protein": 113, "carbs": 328, "fat": 65})
}

async fn the_apply_body_is_empty_or_an_empty_object(backend: Backend) {
    let app = TestApp::start(backend).await;
    let app = &app;
    let (_, (user, shown)) = on_one_day(UserZone::UTC, |attempt, today| async move {
        let user = format!("steady-{attempt}");
        seed::user(app.state.store(), &user).await;
        log_steadily(app, &user, today).await;
        (user.clone(), recommendation(app, &user).await)
    })
    .await;
    assert_eq!(shown["confidence"], "high", "{shown}");
    assert_eq!(shown["recommendedGoals"], steady_goals(), "{shown}");
    let apply = || {
        app.request(Method::POST, "/goals/recommendation/apply")
            .user(&user)
    };
    // Refused, and nothing written.
    let unknown = apply()
        .json(&json!({"calories": 1800, "force": true}))
        .send()
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert_eq!(
        unknown["fields"],
        json!({"calories": "unknown field", "force": "unknown field"})
    );
    let array = apply()
        .json(&json!([]))
        .send()
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert_eq!(array["fields"]["body"], "must be a JSON object");
    apply()
        .header(header::CONTENT_TYPE, "application/json")
        .body("{")
        .send()
        .await
        .assert_error(400, "BAD_REQUEST");
    apply()
        .header(header::CONTENT_TYPE, "text/plain")
        .body("apply")
        .send()
        .await
        .assert_error(400, "BAD_REQUEST");
    assert_eq!(
        goals_of(app, &user).await,
        json!({"calories": 2000, "protein": 100, "carbs": 250, "fat": 70})
    );
    // Applied: without a body, with an empty one declared as JSON, with `{}`.
    let without = apply().send().await;
    let empty = apply()
        .header(header::CONTENT_TYPE, "application/json")
        .send()
        .await;
    let object = apply().json(&json!({})).send().await;
    for response in [without, empty, object] {
        response.assert_status(200);
        assert_eq!(response.json()["nutritionGoals"], steady_goals());
    }
    assert_eq!(goals_of(app, &user).await, steady_goals());
}

/// A report of five of a user's days in Auckland (UTC+12 in July), with records around both
/// midnights: the user's days decide what counts.
async fn a_report_sums_up_the_users_days(backend: Backend) {
    let app = TestApp::start(backend).await;
    let user = "kiwi";
    let auckland: UserZone = "Pacific/Auckland".parse().unwrap();
    set_zone(&app, user, auckland).await;
    let at = |raw: &str| shared::time::parse_instant(raw).unwrap();
    for (when, calories, macros) in [
        ("2024-07-09T11:50:00Z", 3000.0, None), // the 9th, 23:50: before the range
        ("2024-07-09T12:10:00Z", 1900.0, Some((100.0, 200.0, 70.0))), // the 10th, 00:10
        ("2024-07-10T23:00:00Z", 2100.0, Some((120.0, 250.0, 60.0))), // the 11th
        ("2024-07-12T00:00:00Z", 2500.0, Some((80.0, 300.0, 100.0))), // the 12th
        ("2024-07-14T11:50:00Z", 1000.0, None), // the 14th, 23:50
        ("2024-07-14T12:10:00Z", 4000.0, None), // the 15th, 00:10: after the range
    ] {
        let mut body = json!({"name": "Meal", "calories": calories, "mealType": "dinner",
                              "timestamp": when});
        if let Some((protein, carbs, fat)) = macros {
            body["protein"] = json!(protein);
            body["carbs"] = json!(carbs);
            body["fat"] = json!(fat);
        }
        app.post("/food-entries", user, body)
            .await
            .assert_status(201);
    }
    for (when, burned) in [
        ("2024-07-12T00:30:00Z", 300.0),
        ("2024-07-13T02:00:00Z", 450.5),
    ] {
        app.post(
            "/activity-entries",
            user,
            json!({"name": "Run", "caloriesBurned": burned, "timestamp": when}),
        )
        .await
        .assert_status(201);
    }
    for (when, amount) in [
        ("2024-07-09T11:00:00Z", 900), // the 9th
        ("2024-07-10T00:00:00Z", 500),
        ("2024-07-13T03:00:00Z", 1500),
    ] {
        app.post(
            "/water-entries",
            user,
            json!({"amount": amount, "timestamp": when}),
        )
        .await
        .assert_status(201);
    }
    // Trends: 80 from the 2nd; 79.8 on the 12th; 79.72 on the 14th; the 16th is after.
    for (when, kg) in [
        ("2024-07-01T20:00:00Z", 80.0),
        ("2024-07-11T20:00:00Z", 78.0),
        ("2024-07-13T20:00:00Z", 79.0),
        ("2024-07-15T20:00:00Z", 70.0),
    ] {
        weigh(&app, user, kg, at(when)).await;
    }

    // Totals: 7500 kcal, 300 g protein, 750 g carbs, 230 g fat, 750.5 kcal burned, 2000 ml;
    // the macros' energy 1200 + 3000 + 2070 = 6270 kcal.
    assert_eq!(
        report(&app, user, "2024-07-10", "2024-07-14").await,
        json!({"startDate": "2024-07-10", "endDate": "2024-07-14", "calendarDays": 5,
               "loggedDays": 4,
               "perLoggedDay": {"calories": 1875, "protein": 75, "carbs": 187.5, "fat": 57.5,
                                "caloriesBurned": 187.63, "water": 500},
               "perCalendarDay": {"calories": 1500, "protein": 60, "carbs": 150, "fat": 46,
                                  "caloriesBurned": 150.1, "water": 400},
               "macroShare": {"protein": 19.1, "carbs": 47.8, "fat": 33},
               // 1900 and 2100 are within 2000 ± 200; 2500 and 1000 are not.
               "daysOnTarget": 2,
               "weightChange": -0.28,
               "longestStreak": 3})
    );
    // Against the current goal, whenever it was set: 1000 ± 100 takes the 14th only.
    app.put(
        "/nutrition-goals",
        user,
        json!({"calories": 1000, "protein": 100, "carbs": 250, "fat": 70}),
    )
    .await
    .assert_status(200);
    let retargeted = report(&app, user, "2024-07-10", "2024-07-14").await;
    assert_eq!(retargeted["daysOnTarget"], 1);
    // A range from before the first weigh-in has no change; the 9th joins the run.
    let early = report(&app, user, "2024-06-20", "2024-07-14").await;
    assert_eq!(early["weightChange"], Value::Null);
    assert_eq!(early["longestStreak"], 4);
}

async fn an_empty_range_reports_zeros_and_nulls(backend: Backend) {
    let app = TestApp::start(backend).await;
    assert_eq!(
        report(&app, "ann", "2024-07-01", "2024-07-31").await,
        json!({"startDate": "2024-07-01", "endDate": "2024-07-31", "calendarDays": 31,
               "loggedDays": 0, "perLoggedDay": null,
               "perCalendarDay": {"calories": 0, "protein": 0, "carbs": 0, "fat": 0,
                                  "caloriesBurned": 0, "water": 0},
               "macroShare": null, "daysOnTarget": 0, "weightChange": null, "longestStreak": 0})
    );
}

async fn report_parameters_are_validated(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (query, field, problem) in [
        ("endDate=2024-07-01", "startDate", "is required"),
        ("startDate=2024-07-01", "endDate", "is required"),
        (
            "startDate=2024-07-01T00:00:00Z&endDate=2024-07-02",
            "startDate",
            "must be a date (YYYY-MM-DD)",
        ),
        (
            "startDate=2024-07-02&endDate=2024-07-01",
            "endDate",
            "must not be before startDate",
        ),
        (
            "startDate=2023-01-01&endDate=2024-01-02",
            "endDate",
            "must make a range of at most 366 days with startDate",
        ),
    ] {
        let error = app
            .get(&format!("/reports?{query}"), "ann")
            .await
            .assert_error(400, "VALIDATION_FAILED");
        assert_eq!(error["fields"][field], problem, "{query}: {error}");
    }
    app.get(
        "/reports?startDate=2024-07-01&endDate=2024-07-02&startDate=2024-07-01",
        "ann",
    )
    .await
    .assert_error(400, "BAD_REQUEST");
    let leap_year = report(&app, "ann", "2024-01-01", "2024-12-31").await;
    assert_eq!(leap_year["calendarDays"], 366);
}

#[tokio::test]
async fn insights_require_a_token() {
    let app = TestApp::start(Backend::Sqlite).await;
    for (method, path) in [
        (Method::GET, "/goals/recommendation"),
        (Method::POST, "/goals/recommendation/apply"),
        (
            Method::GET,
            "/reports?startDate=2024-07-01&endDate=2024-07-02",
        ),
    ] {
        app.request(method, path)
            .send()
            .await
            .assert_error(401, "UNAUTHORIZED");
    }
}

/// Each insight is the token's user check and one statement (the apply one more, its write),
/// for a short history as for three years of entries and weigh-ins.
#[tokio::test]
async fn each_insight_makes_the_fewest_round_trips_whatever_the_history() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    let app = &app;
    let (_, counts) = on_one_day(UserZone::UTC, |attempt, today| async move {
        let (short, long) = (format!("short-{attempt}"), format!("long-{attempt}"));
        for user in [&short, &long] {
            seed::user(app.state.store(), user).await;
        }
        // Three years before the window, the oldest weigh-in first (each recomputes the
        // trend of the days after it).
        let history: Vec<Entry> = (30..1100)
            .flat_map(|n| {
                let day = today - Duration::days(n);
                [Entry::on(day, 600.0), Entry::on(day, 900.0)]
            })
            .collect();
        seed::entries(&app.db, &long, &history).await;
        for n in (30..1100).rev().step_by(3) {
            let at = local(UserZone::UTC, today - Duration::days(n), 7.0);
            seed::weigh_in(app.state.store(), &long, UserZone::UTC, at, 72.0).await;
        }
        for user in [&short, &long] {
            log_steadily(app, user, today).await;
        }
        let year = format!(
            "/reports?startDate={}&endDate={today}",
            today - Duration::days(365)
        );
        let mut counts = Vec::new();
        for user in [&short, &long] {
            counts.push((
                app.round_trips_of(|| app.get("/goals/recommendation", user))
                    .await,
                app.round_trips_of(|| app.get(&year, user)).await,
                app.round_trips_of(|| app.post("/goals/recommendation/apply", user, json!({})))
                    .await,
            ));
        }
        counts
    })
    .await;
    assert_eq!(counts, [(1 + 1, 1 + 1, 1 + 2), (1 + 1, 1 + 1, 1 + 2)]);
    // Refused, the apply is its read only.
    assert_eq!(
        app.round_trips_of(|| app.post("/goals/recommendation/apply", "nobody", json!({})))
            .await,
        1 + 1
    );
}

backend_tests!(
    the_readme_example_is_recommended_and_applied,
    the_window_is_the_users_last_28_days,
    too_little_data_is_insufficient_and_applies_nothing,
    an_implausible_estimate_is_refused,
    the_apply_body_is_empty_or_an_empty_object,
    a_report_sums_up_the_users_days,
    an_empty_range_reports_zeros_and_nulls,
    report_parameters_are_validated,
);
