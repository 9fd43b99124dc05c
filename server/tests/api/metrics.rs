//! The health logs (weigh-ins and the weight trend, activities, water) and what they change
//! elsewhere: the dashboard, the summaries, the profile's stats, the export and onboarding.

use chrono::{Duration, Utc};
use http::Method;
use serde_json::{Value, json};
use testkit::seed::{self, Entry};
use testkit::{Backend, TestApp, backend_tests};

async fn created(app: &TestApp, path: &str, user: &str, body: Value) -> Value {
    let response = app.post(path, user, body).await;
    response.assert_status(201);
    response.json()
}

fn id_of(record: &Value) -> &str {
    record["id"].as_str().expect("an id")
}

async fn weigh(app: &TestApp, user: &str, weight: f64, at: &str) -> Value {
    created(
        app,
        "/weight-entries",
        user,
        json!({"weight": weight, "timestamp": at}),
    )
    .await
}

async fn trend(app: &TestApp, user: &str, start: &str, end: &str) -> Value {
    let response = app
        .get(
            &format!("/weight-trend?startDate={start}&endDate={end}"),
            user,
        )
        .await;
    response.assert_status(200);
    response.json()
}

/// The `trend` of each day of the response.
fn trends(days: &Value) -> Vec<Value> {
    days.as_array()
        .unwrap()
        .iter()
        .map(|day| day["trend"].clone())
        .collect()
}

fn instant(at: chrono::DateTime<Utc>) -> String {
    shared::time::format_instant(&at)
}

async fn a_weigh_in_is_logged_read_changed_and_deleted_by_its_owner_only(backend: Backend) {
    let app = TestApp::start(backend).await;
    let weighed = created(
        &app,
        "/weight-entries",
        "ann",
        json!({"weight": 70.555, "bodyFat": 21.5, "notes": " after the run ",
               "timestamp": "2024-07-11T07:30:00+02:00"}),
    )
    .await;
    let created_at = weighed["createdAt"].as_str().unwrap();
    assert_eq!(
        weighed,
        json!({"id": weighed["id"], "weight": 70.56, "bodyFat": 21.5, "notes": "after the run",
               "timestamp": "2024-07-11T05:30:00.000Z", "date": "2024-07-11",
               "createdAt": created_at})
    );
    let path = format!("/weight-entries/{}", id_of(&weighed));
    assert_eq!(app.get(&path, "ann").await.json(), weighed);

    let changed = app
        .patch(&path, "ann", json!({"bodyFat": null, "notes": ""}))
        .await;
    changed.assert_status(200);
    let mut expected = weighed.clone();
    expected["bodyFat"] = Value::Null;
    expected["notes"] = Value::Null;
    assert_eq!(changed.json(), expected);

    // Another user's weigh-in looks missing, whatever they try.
    for response in [
        app.get(&path, "bob").await,
        app.patch(&path, "bob", json!({"weight": 99})).await,
        app.delete(&path, "bob").await,
        app.get("/weight-entries/not-an-id", "ann").await,
    ] {
        response.assert_error(404, "NOT_FOUND");
    }
    assert_eq!(app.get(&path, "ann").await.json(), expected);

    let deleted = app.delete(&path, "ann").await;
    deleted.assert_status(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Weight entry deleted successfully"})
    );
    app.get(&path, "ann").await.assert_error(404, "NOT_FOUND");
    assert_eq!(app.get("/weight-entries", "ann").await.json(), json!([]));
}

async fn bad_health_bodies_are_400_naming_the_field_and_write_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let far = instant(Utc::now() + Duration::hours(25));
    let cases = [
        ("/weight-entries", json!({}), "weight"),
        ("/weight-entries", json!({"weight": 19.99}), "weight"),
        ("/weight-entries", json!({"weight": 500.01}), "weight"),
        ("/weight-entries", json!({"weight": "70"}), "weight"),
        (
            "/weight-entries",
            json!({"weight": 70, "bodyFat": 1.9}),
            "bodyFat",
        ),
        (
            "/weight-entries",
            json!({"weight": 70, "bodyFat": 75.5}),
            "bodyFat",
        ),
        (
            "/weight-entries",
            json!({"weight": 70, "notes": "n".repeat(501)}),
            "notes",
        ),
        (
            "/weight-entries",
            json!({"weight": 70, "timestamp": far}),
            "timestamp",
        ),
        (
            "/weight-entries",
            json!({"weight": 70, "unit": "kg"}),
            "unit",
        ),
        ("/activity-entries", json!({"caloriesBurned": 100}), "name"),
        (
            "/activity-entries",
            json!({"name": "  ", "caloriesBurned": 100}),
            "name",
        ),
        (
            "/activity-entries",
            json!({"name": "Run"}),
            "caloriesBurned",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "caloriesBurned": -1}),
            "caloriesBurned",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "caloriesBurned": 10001}),
            "caloriesBurned",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "met": 8}),
            "durationMinutes",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "durationMinutes": 30}),
            "met",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "met": 0.5, "durationMinutes": 30}),
            "met",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "met": 8, "durationMinutes": 1441}),
            "durationMinutes",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "met": 8, "durationMinutes": 2.5}),
            "durationMinutes",
        ),
        (
            "/activity-entries",
            json!({"name": "Run", "caloriesBurned": 1, "notes": "n".repeat(2001)}),
            "notes",
        ),
        ("/water-entries", json!({}), "amount"),
        ("/water-entries", json!({"amount": 0}), "amount"),
        ("/water-entries", json!({"amount": 5001}), "amount"),
        ("/water-entries", json!({"amount": 250.5}), "amount"),
        (
            "/water-entries",
            json!({"amount": 250, "timestamp": "yesterday"}),
            "timestamp",
        ),
    ];
    for (path, body, field) in cases {
        let response = app.post(path, "ann", body.clone()).await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{path} {body}: {error}");
    }
    for path in ["/weight-entries", "/activity-entries", "/water-entries"] {
        assert_eq!(app.get(path, "ann").await.json(), json!([]), "{path}");
    }

    // A change names at least one field, each validated as in a POST.
    let drink = created(&app, "/water-entries", "ann", json!({"amount": 250})).await;
    let path = format!("/water-entries/{}", id_of(&drink));
    for (body, field) in [
        (json!({}), "body"),
        (json!({"amount": null}), "amount"),
        (json!({"amount": 9000}), "amount"),
        (json!({"size": 1}), "size"),
    ] {
        let error = app
            .patch(&path, "ann", body.clone())
            .await
            .assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    assert_eq!(app.get(&path, "ann").await.json(), drink);
}

async fn the_trend_smooths_the_whole_history_and_follows_every_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    // Before the range: it still starts the trend.
    weigh(&app, "ann", 80.0, "2024-06-01T07:00:00Z").await;
    // Two weigh-ins on the 10th: their mean, 78.9.
    weigh(&app, "ann", 78.4, "2024-07-10T07:00:00Z").await;
    let evening = weigh(&app, "ann", 79.4, "2024-07-10T19:00:00Z").await;
    weigh(&app, "ann", 77.0, "2024-07-12T07:00:00Z").await;
    weigh(&app, "bob", 120.0, "2024-07-11T07:00:00Z").await;

    // 80 → 80 + 0.1 × (78.9 − 80) = 79.89 → 79.89 + 0.1 × (77 − 79.89) = 79.601.
    let days = trend(&app, "ann", "2024-07-09", "2024-07-13").await;
    assert_eq!(
        days,
        json!([
            {"date": "2024-07-09", "weight": null, "trend": 80},
            {"date": "2024-07-10", "weight": 78.9, "trend": 79.89},
            {"date": "2024-07-11", "weight": null, "trend": 79.89},
            {"date": "2024-07-12", "weight": 77, "trend": 79.6},
            {"date": "2024-07-13", "weight": null, "trend": 79.6},
        ])
    );
    // Before the first weigh-in there is no trend.
    assert_eq!(
        trend(&app, "ann", "2024-05-31", "2024-06-01").await,
        json!([
            {"date": "2024-05-31", "weight": null, "trend": null},
            {"date": "2024-06-01", "weight": 80, "trend": 80},
        ])
    );

    // The evening weigh-in moves to the 11th: the 10th is 78.4 alone, the 11th 79.4.
    let path = format!("/weight-entries/{}", id_of(&evening));
    app.patch(&path, "ann", json!({"timestamp": "2024-07-11T19:00:00Z"}))
        .await
        .assert_status(200);
    // 80 → 79.84 → 79.796 → 79.5164.
    assert_eq!(
        trends(&trend(&app, "ann", "2024-07-10", "2024-07-12").await),
        [json!(79.84), json!(79.8), json!(79.52)]
    );
    // Deleting the first weigh-in ever: the 10th starts the trend.
    let first = app
        .get("/weight-entries?endDate=2024-06-30", "ann")
        .await
        .json();
    app.delete(&format!("/weight-entries/{}", id_of(&first[0])), "ann")
        .await
        .assert_status(200);
    // 78.4 → 78.5 → 78.35.
    assert_eq!(
        trends(&trend(&app, "ann", "2024-07-10", "2024-07-12").await),
        [json!(78.4), json!(78.5), json!(78.35)]
    );
    // A new weigh-in earlier than all the others restarts it.
    weigh(&app, "ann", 90.0, "2024-01-01T07:00:00Z").await;
    assert_eq!(
        trends(&trend(&app, "ann", "2024-07-10", "2024-07-10").await),
        [json!(88.84)]
    );
    assert_eq!(
        trends(&trend(&app, "bob", "2024-07-10", "2024-07-11").await),
        [Value::Null, json!(120)]
    );
}

async fn trend_ranges_are_validated(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (query, field) in [
        ("", "startDate"),
        ("?startDate=2024-07-01", "endDate"),
        ("?startDate=2024-07-32&endDate=2024-08-01", "startDate"),
        ("?startDate=2024-07-02&endDate=2024-07-01", "endDate"),
        ("?startDate=2024-01-01&endDate=2025-01-01", "endDate"),
    ] {
        let error = app
            .get(&format!("/weight-trend{query}"), "ann")
            .await
            .assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{query}: {error}");
    }
    // 366 days is the most.
    let year = trend(&app, "ann", "2024-01-01", "2024-12-31").await;
    assert_eq!(year.as_array().unwrap().len(), 366);
}

async fn an_activity_burns_what_it_says_or_what_its_met_computes(backend: Backend) {
    let app = TestApp::start(backend).await;
    // No weigh-in: nothing to compute from.
    let error = app
        .post(
            "/activity-entries",
            "ann",
            json!({"name": "Run", "met": 10, "durationMinutes": 30}),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["caloriesBurned"].is_string(), "{error}");

    // The latest weigh-in by timestamp counts, not the latest written.
    weigh(&app, "ann", 70.0, "2024-07-12T07:00:00Z").await;
    weigh(&app, "ann", 90.0, "2024-07-01T07:00:00Z").await;
    let run = created(
        &app,
        "/activity-entries",
        "ann",
        json!({"name": "Run", "met": 9.8, "durationMinutes": 30, "notes": "",
               "timestamp": "2024-07-12T18:00:00Z"}),
    )
    .await;
    assert_eq!(
        run,
        json!({"id": run["id"], "name": "Run", "caloriesBurned": 343, "met": 9.8,
               "durationMinutes": 30, "notes": null, "timestamp": "2024-07-12T18:00:00.000Z",
               "date": "2024-07-12", "createdAt": run["createdAt"]})
    );
    // Given calories are kept, with or without a MET.
    let given = created(
        &app,
        "/activity-entries",
        "ann",
        json!({"name": "Swim", "caloriesBurned": 250.255, "met": 6, "durationMinutes": 60}),
    )
    .await;
    assert_eq!(given["caloriesBurned"], 250.26);

    // Changing the minutes recomputes with the latest weigh-in now (70 kg)...
    let path = format!("/activity-entries/{}", id_of(&run));
    let shorter = app
        .patch(&path, "ann", json!({"durationMinutes": 20}))
        .await;
    shorter.assert_status(200);
    assert_eq!(shorter.json()["caloriesBurned"], 229);
    // ...unless calories come with the change; a rename leaves them alone.
    let both = app
        .patch(&path, "ann", json!({"met": 12, "caloriesBurned": 300}))
        .await;
    assert_eq!(both.json()["caloriesBurned"], 300);
    assert_eq!(both.json()["met"], 12);
    let renamed = app.patch(&path, "ann", json!({"name": "Trail run"})).await;
    assert_eq!(renamed.json()["caloriesBurned"], 300);
    // A stored activity without a MET cannot be recomputed from minutes alone: kept.
    let swim = format!("/activity-entries/{}", id_of(&given));
    app.patch(&swim, "ann", json!({"met": null}))
        .await
        .assert_status(200);
    let longer = app
        .patch(&swim, "ann", json!({"durationMinutes": 90}))
        .await;
    assert_eq!(longer.json()["caloriesBurned"], 250.26);
}

async fn burned_calories_and_water_count_on_the_dashboard_and_summaries(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.put(
        "/nutrition-goals",
        "ann",
        json!({"calories": 2000, "protein": 100, "carbs": 250, "fat": 70}),
    )
    .await
    .assert_status(200);
    seed::entries(
        &app.db,
        "ann",
        &[Entry::on(
            shared::time::parse_date("2024-07-11").unwrap(),
            1500.0,
        )],
    )
    .await;
    for (burned, at) in [(300, "2024-07-11T07:00:00Z"), (101, "2024-07-11T18:00:00Z")] {
        created(
            &app,
            "/activity-entries",
            "ann",
            json!({"name": "Walk", "caloriesBurned": burned, "timestamp": at}),
        )
        .await;
    }
    for amount in [500, 750] {
        created(
            &app,
            "/water-entries",
            "ann",
            json!({"amount": amount, "timestamp": "2024-07-11T12:00:00Z"}),
        )
        .await;
    }
    // Bob's day is his own.
    created(
        &app,
        "/water-entries",
        "bob",
        json!({"amount": 999, "timestamp": "2024-07-11T12:00:00Z"}),
    )
    .await;

    let dashboard = |user: &'static str| {
        let app = &app;
        async move {
            let response = app.get("/dashboard/summary?date=2024-07-11", user).await;
            response.assert_status(200);
            response.json()
        }
    };
    let day = dashboard("ann").await;
    assert_eq!(day["caloriesBurned"], 401);
    assert_eq!(day["waterConsumed"], 1250);
    assert_eq!(day["waterGoal"], 2000);
    // exerciseCalories "none": burned calories are not added back.
    assert_eq!(day["caloriesRemaining"], 500);

    for (share, remaining) in [
        ("half", json!(700.5)),
        ("all", json!(901)),
        ("none", json!(500)),
    ] {
        app.put(
            "/profile",
            "ann",
            json!({"preferences": {"exerciseCalories": share, "waterGoal": 2500}}),
        )
        .await
        .assert_status(200);
        let day = dashboard("ann").await;
        assert_eq!(day["caloriesRemaining"], remaining, "{share}");
        assert_eq!(day["waterGoal"], 2500);
    }
    app.put(
        "/profile",
        "ann",
        json!({"preferences": {"exerciseCalories": "half"}}),
    )
    .await
    .assert_status(200);

    let summary = app
        .get(
            "/nutrition-summary?startDate=2024-07-10&endDate=2024-07-11",
            "ann",
        )
        .await;
    summary.assert_status(200);
    let days = summary.json();
    let pick = |day: &Value| {
        json!([
            day["date"],
            day["caloriesBurned"],
            day["caloriesRemaining"],
            day["waterConsumed"],
            day["waterGoal"]
        ])
    };
    assert_eq!(
        days.as_array()
            .unwrap()
            .iter()
            .map(pick)
            .collect::<Vec<_>>(),
        [
            json!(["2024-07-10", 0, 2000, 0, 2500]),
            json!(["2024-07-11", 401, 700.5, 1250, 2500]),
        ]
    );
    assert_eq!(dashboard("bob").await["waterConsumed"], 999);

    // Deleting an activity takes it off its day.
    let walks = app
        .get("/activity-entries?date=2024-07-11", "ann")
        .await
        .json();
    app.delete(&format!("/activity-entries/{}", id_of(&walks[0])), "ann")
        .await
        .assert_status(200);
    assert_eq!(dashboard("ann").await["caloriesBurned"], 101);

    for (body, field) in [
        (
            json!({"preferences": {"exerciseCalories": "most"}}),
            "exerciseCalories",
        ),
        (json!({"preferences": {"waterGoal": 499}}), "waterGoal"),
        (json!({"preferences": {"waterGoal": 10001}}), "waterGoal"),
        (json!({"preferences": {"waterGoal": 2000.5}}), "waterGoal"),
    ] {
        let error = app
            .put("/profile", "ann", body.clone())
            .await
            .assert_error(400, "VALIDATION_FAILED");
        let named = error["fields"][field].is_string()
            || error["fields"][format!("preferences.{field}")].is_string();
        assert!(named, "{body}: {error}");
    }
}

async fn the_profile_shows_the_latest_weight_and_todays_trend(backend: Backend) {
    let app = TestApp::start(backend).await;
    let stats = |user: &'static str| {
        let app = &app;
        async move { app.get("/profile", user).await.json()["stats"].clone() }
    };
    assert_eq!(stats("ann").await["latestWeight"], Value::Null);
    assert_eq!(stats("ann").await["weightTrend"], Value::Null);

    // Today begins at midnight UTC, the user's zone.
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    weigh(&app, "ann", 80.0, &instant(today - Duration::days(3))).await;
    weigh(&app, "ann", 70.0, &instant(today)).await;
    // Written last, weighed earlier: not the latest.
    weigh(&app, "ann", 75.0, &instant(today - Duration::days(2))).await;
    let ann = stats("ann").await;
    assert_eq!(ann["latestWeight"], 70);
    // 80 → 79.5 → 78.55 (today's).
    assert_eq!(ann["weightTrend"], 78.55);
    // Onboarding weighs in its currentWeight.
    app.post(
        "/onboarding",
        "bob",
        json!({"age": 30, "gender": "male", "height": 180, "currentWeight": 82.5,
               "targetWeight": 78, "goal": "lose_weight", "activityLevel": "lightly_active"}),
    )
    .await
    .assert_status(200);
    let bob = stats("bob").await;
    assert_eq!(
        [&bob["latestWeight"], &bob["weightTrend"]],
        [&json!(82.5); 2]
    );
    let weigh_ins = app.get("/weight-entries", "bob").await.json();
    assert_eq!(weigh_ins.as_array().unwrap().len(), 1);
    assert_eq!(weigh_ins[0]["weight"], 82.5);
}

async fn logs_are_listed_by_the_users_days_and_paged(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.put(
        "/profile",
        "ann",
        json!({"preferences": {"timezone": "America/New_York"}}),
    )
    .await
    .assert_status(200);
    // 02:00 UTC on the 12th is still the 11th in New York.
    for at in [
        "2024-07-11T12:00:00Z",
        "2024-07-12T02:00:00Z",
        "2024-07-12T02:00:00Z",
        "2024-07-12T02:00:00Z",
        "2024-07-12T15:00:00Z",
    ] {
        created(
            &app,
            "/water-entries",
            "ann",
            json!({"amount": 100, "timestamp": at}),
        )
        .await;
    }
    let dates = |records: &Value| {
        records
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["date"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let eleventh = app
        .get("/water-entries?date=2024-07-11", "ann")
        .await
        .json();
    assert_eq!(dates(&eleventh), ["2024-07-11"; 4]);
    let range = app
        .get(
            "/water-entries?startDate=2024-07-12&endDate=2024-07-12",
            "ann",
        )
        .await
        .json();
    assert_eq!(dates(&range), ["2024-07-12"]);

    // Pages of two, with the cursor of each: every record once.
    let mut path = "/water-entries?limit=2".to_owned();
    let mut walked = Vec::new();
    loop {
        let page = app.get(&path, "ann").await;
        page.assert_status(200);
        walked.extend(page.json().as_array().unwrap().clone());
        match page.header("x-next-cursor") {
            Some(cursor) => path = format!("/water-entries?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let all = app.get("/water-entries", "ann").await.json();
    assert_eq!(Value::Array(walked), all);
    assert_eq!(all.as_array().unwrap().len(), 5);

    for query in [
        "?date=2024-13-01",
        "?startDate=2024-07-12&endDate=2024-07-11",
        "?limit=0",
        "?limit=1001",
        "?cursor=forged",
    ] {
        app.get(&format!("/water-entries{query}"), "ann")
            .await
            .assert_error(400, "VALIDATION_FAILED");
    }
}

async fn a_retried_post_is_answered_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let post = |body: Value| {
        app.request(Method::POST, "/weight-entries")
            .user("ann")
            .header(http::HeaderName::from_static("idempotency-key"), "scale-1")
            .json(&body)
            .send()
    };
    let first = post(json!({"weight": 70})).await;
    first.assert_status(201);
    let again = post(json!({"weight": 70})).await;
    again.assert_status(201);
    assert_eq!(again.json(), first.json());
    post(json!({"weight": 71}))
        .await
        .assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    let weigh_ins = app.get("/weight-entries", "ann").await.json();
    assert_eq!(weigh_ins, json!([first.json()]));
}

async fn every_log_is_exported(backend: Backend) {
    let app = TestApp::start(backend).await;
    let weighed = weigh(&app, "ann", 70.0, "2024-07-11T07:00:00Z").await;
    let ran = created(
        &app,
        "/activity-entries",
        "ann",
        json!({"name": "Run, fast", "caloriesBurned": 300, "timestamp": "2024-07-11T08:00:00Z"}),
    )
    .await;
    let drank = created(
        &app,
        "/water-entries",
        "ann",
        json!({"amount": 250, "timestamp": "2024-07-11T09:00:00Z"}),
    )
    .await;
    weigh(&app, "bob", 99.0, "2024-07-11T07:00:00Z").await;

    let document = app.get("/export", "ann").await;
    document.assert_status(200);
    let document = document.json();
    assert_eq!(document["weights"], json!([weighed]));
    assert_eq!(document["activities"], json!([ran]));
    assert_eq!(document["water"], json!([drank]));

    let csv = |kind: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get(&format!("/export?format=csv&kind={kind}"), "ann")
                .await;
            response.assert_status(200);
            response.text().trim_start_matches('\u{feff}').to_owned()
        }
    };
    assert_eq!(
        csv("weights").await,
        format!(
            "id,timestamp,date,createdAt,weight,bodyFat,notes\r\n{},2024-07-11T07:00:00.000Z,2024-07-11,{},70,,\r\n",
            id_of(&weighed),
            weighed["createdAt"].as_str().unwrap()
        )
    );
    assert_eq!(
        csv("activities").await,
        format!(
            "id,timestamp,date,createdAt,name,caloriesBurned,met,durationMinutes,notes\r\n{},2024-07-11T08:00:00.000Z,2024-07-11,{},\"Run, fast\",300,,,\r\n",
            id_of(&ran),
            ran["createdAt"].as_str().unwrap()
        )
    );
    assert_eq!(
        csv("water").await,
        format!(
            "id,timestamp,date,createdAt,amount\r\n{},2024-07-11T09:00:00.000Z,2024-07-11,{},250\r\n",
            id_of(&drank),
            drank["createdAt"].as_str().unwrap()
        )
    );
    let entries = csv("entries").await;
    assert!(entries.starts_with("id,"), "{entries}");
    app.get("/export?format=csv&kind=steps", "ann")
        .await
        .assert_error(400, "VALIDATION_FAILED");
}

async fn a_day_is_the_users_own_when_written(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.put(
        "/profile",
        "ann",
        json!({"preferences": {"timezone": "Asia/Tokyo"}}),
    )
    .await
    .assert_status(200);
    // 20:00 UTC is 05:00 the next day in Tokyo.
    let weighed = weigh(&app, "ann", 60.0, "2024-07-11T20:00:00Z").await;
    assert_eq!(weighed["date"], "2024-07-12");
    // A later change of zone leaves the day where it was written.
    app.put(
        "/profile",
        "ann",
        json!({"preferences": {"timezone": "UTC"}}),
    )
    .await
    .assert_status(200);
    let path = format!("/weight-entries/{}", id_of(&weighed));
    let renoted = app.patch(&path, "ann", json!({"notes": "n"})).await;
    assert_eq!(renoted.json()["date"], "2024-07-12");
    // A new timestamp takes the day of the zone now.
    let moved = app
        .patch(&path, "ann", json!({"timestamp": "2024-07-11T20:00:00Z"}))
        .await;
    assert_eq!(moved.json()["date"], "2024-07-11");
}

backend_tests!(
    a_weigh_in_is_logged_read_changed_and_deleted_by_its_owner_only,
    bad_health_bodies_are_400_naming_the_field_and_write_nothing,
    the_trend_smooths_the_whole_history_and_follows_every_change,
    trend_ranges_are_validated,
    an_activity_burns_what_it_says_or_what_its_met_computes,
    burned_calories_and_water_count_on_the_dashboard_and_summaries,
    the_profile_shows_the_latest_weight_and_todays_trend,
    logs_are_listed_by_the_users_days_and_paged,
    a_retried_post_is_answered_once,
    every_log_is_exported,
    a_day_is_the_users_own_when_written,
);

/// The round trips of the health logs on PostgreSQL, statements prepared (authentication is
/// 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_health_request_makes_the_fewest_round_trips() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    weigh(&app, "ann", 70.0, "2024-07-01T07:00:00Z").await;
    let at = |day: u32| format!("2024-07-{day:02}T07:00:00Z");
    // BEGIN, the insert (locking the user, adding to its day, reading the trend's inputs),
    // the trend written, COMMIT.
    let mut day = 2;
    let mut next_weigh_in = || {
        day += 1;
        app.post(
            "/weight-entries",
            "ann",
            json!({"weight": 70.5, "timestamp": at(day)}),
        )
    };
    next_weigh_in().await.assert_status(201);
    let before = app.round_trips();
    next_weigh_in().await.assert_status(201);
    assert_eq!(app.round_trips() - before, 1 + 4);
    // BEGIN, the insert with its day, COMMIT.
    let water = || app.post("/water-entries", "ann", json!({"amount": 250}));
    assert_eq!(app.round_trips_of(water).await, 1 + 3);
    // One indexed read each.
    assert_eq!(
        app.round_trips_of(|| app.get(
            "/weight-trend?startDate=2023-07-05&endDate=2024-07-04",
            "ann"
        ))
        .await,
        1 + 1
    );
    assert_eq!(
        app.round_trips_of(|| app.get("/water-entries?limit=10", "ann"))
            .await,
        1 + 1
    );
    // The dashboard's day of every log, the goals and preferences: one statement.
    assert_eq!(
        app.round_trips_of(|| app.get("/dashboard/summary", "ann"))
            .await,
        1 + 1
    );
}
