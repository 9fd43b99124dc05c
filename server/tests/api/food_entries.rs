//! The food diary (CONTRACT §3 "Food diary"): entries, their validation, the user's days,
//! `daily_totals`, paging, idempotency, and the round trips each request makes.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::future::join_all;
use http::{Method, header};
use serde_json::{Value, json};
use testkit::sqlx;
use testkit::{Backend, TestApp, TestResponse, backend_tests, seed, with_pool};

/// A valid entry body eaten at `timestamp`.
pub(crate) fn entry_at(name: &str, timestamp: &str) -> Value {
    json!({"name": name, "calories": 100, "mealType": "lunch", "timestamp": timestamp})
}

/// `timestamp` of an instant.
pub(crate) fn instant(at: DateTime<Utc>) -> String {
    shared::time::format_instant(&at)
}

/// Noon UTC, `days` days ago.
pub(crate) fn days_ago(days: i64) -> String {
    let day = Utc::now().date_naive() - Duration::days(days);
    instant(day.and_hms_opt(12, 0, 0).unwrap().and_utc())
}

/// Posts an entry and returns the 201 body.
pub(crate) async fn post_entry(app: &TestApp, user: &str, body: Value) -> Value {
    let response = app.post("/food-entries", user, body).await;
    response.assert_status(201);
    response.json()
}

/// Makes sure the user exists, then gives them a time zone.
pub(crate) async fn set_zone(app: &TestApp, user: &str, zone: &str) {
    app.get("/streaks", user).await.assert_status(200);
    with_pool!(app.db, |pool| {
        sqlx::query(
            "INSERT INTO user_preferences (user_id, timezone, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET timezone = EXCLUDED.timezone",
        )
        .bind(user)
        .bind(zone)
        .bind(Utc::now())
        .execute(&pool)
        .await
        .unwrap()
        .rows_affected()
    });
}

/// A `SELECT COUNT(*)`.
pub(crate) async fn count(app: &TestApp, sql: &'static str) -> i64 {
    with_pool!(app.db, |pool| {
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    })
}

/// The user's day of each of their entries, by name.
async fn local_dates(app: &TestApp, user: &str) -> Vec<(String, NaiveDate)> {
    with_pool!(app.db, |pool| {
        sqlx::query_as("SELECT name, local_date FROM food_entries WHERE user_id = $1 ORDER BY name")
            .bind(user)
            .fetch_all(&pool)
            .await
            .unwrap()
    })
}

type DayRow = (String, NaiveDate, i64, f64, f64, f64, f64);

/// Asserts that `daily_totals` holds exactly one row per user's day with entries, with the
/// day's count and sums; returns the rows.
pub(crate) async fn assert_totals_exact(app: &TestApp) -> Vec<DayRow> {
    let (totals, expected): (Vec<DayRow>, Vec<DayRow>) = with_pool!(app.db, |pool| {
        let totals = sqlx::query_as(
            "SELECT user_id, local_date, CAST(entries AS BIGINT), \
                CAST(calories AS DOUBLE PRECISION), CAST(protein AS DOUBLE PRECISION), \
                CAST(carbs AS DOUBLE PRECISION), CAST(fat AS DOUBLE PRECISION) \
             FROM daily_totals ORDER BY user_id, local_date",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let expected = sqlx::query_as(
            "SELECT user_id, local_date, CAST(COUNT(*) AS BIGINT), \
                CAST(SUM(calories) AS DOUBLE PRECISION), \
                CAST(COALESCE(SUM(protein), 0) AS DOUBLE PRECISION), \
                CAST(COALESCE(SUM(carbs), 0) AS DOUBLE PRECISION), \
                CAST(COALESCE(SUM(fat), 0) AS DOUBLE PRECISION) \
             FROM food_entries GROUP BY user_id, local_date ORDER BY user_id, local_date",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        (totals, expected)
    });
    assert_eq!(totals.len(), expected.len(), "{totals:?} vs {expected:?}");
    for (got, want) in totals.iter().zip(&expected) {
        assert_eq!((&got.0, got.1, got.2), (&want.0, want.1, want.2));
        for (a, b) in [
            (got.3, want.3),
            (got.4, want.4),
            (got.5, want.5),
            (got.6, want.6),
        ] {
            assert!((a - b).abs() < 1e-6, "{got:?} vs {want:?}");
        }
    }
    totals
}

async fn record_image(app: &TestApp, owner: &str, bucket: &str) -> String {
    seed::user(app.state.store(), owner).await;
    seed::image(app.state.store(), bucket, owner).await
}

async fn posting_an_entry_answers_it_with_the_badges_it_earned(backend: Backend) {
    let app = TestApp::start(backend).await;
    let body = json!({"name": "  Grilled Chicken Salad ", "calories": 350.5, "mealType": "lunch",
        "servingSize": "1 bowl", "protein": 30, "carbs": 20.25, "fat": 15, "notes": "tasty",
        "timestamp": "2024-07-11T12:30:00+02:00"});
    let created = post_entry(&app, "ann", body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let created_at = created["createdAt"].as_str().unwrap().to_owned();
    assert!(shared::time::parse_instant(&created_at).is_some());
    assert_eq!(
        created,
        json!({"id": id, "userId": "ann", "name": "Grilled Chicken Salad", "calories": 350.5,
            "mealType": "lunch", "servingSize": "1 bowl", "protein": 30, "carbs": 20.25,
            "fat": 15, "notes": "tasty", "imageKey": null,
            "timestamp": "2024-07-11T10:30:00.000Z", "createdAt": created_at,
            "badgesEarned": [{"id": "first_entry", "name": "First Bite",
                "description": "Logged your first food entry",
                "earnedAt": created_at}]})
    );

    let read = app.get(&format!("/food-entries/{id}"), "ann").await;
    read.assert_status(200);
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("badgesEarned");
    assert_eq!(read.json(), expected);

    assert_eq!(
        local_dates(&app, "ann").await,
        vec![(
            "Grilled Chicken Salad".to_owned(),
            NaiveDate::from_ymd_opt(2024, 7, 11).unwrap()
        )]
    );
    let totals = assert_totals_exact(&app).await;
    assert_eq!(totals.len(), 1);
    assert_eq!(totals[0].2, 1);
    assert_eq!(totals[0].3, 350.5);

    let second = post_entry(&app, "ann", entry_at("Tea", "2024-07-11T15:00:00Z")).await;
    assert_eq!(second["badgesEarned"], json!([]));
}

async fn the_timestamp_defaults_to_now_and_unknown_fields_are_ignored(backend: Backend) {
    let app = TestApp::start(backend).await;
    // What the Image Service posts: its analysis rides along.
    let body = json!({"name": "Pizza", "calories": 800, "mealType": "dinner", "protein": null,
        "confidence": 0.92, "detectedItems": [{"name": "pizza"}], "userId": "someone-else",
        "id": "chosen-id", "createdAt": "2000-01-01T00:00:00Z"});
    let before = Utc::now() - Duration::seconds(1);
    let created = post_entry(&app, "ann", body).await;
    assert_eq!(created["timestamp"], created["createdAt"]);
    assert_eq!(created["userId"], "ann");
    assert_ne!(created["id"], "chosen-id");
    assert_eq!(created["protein"], Value::Null);
    let logged = shared::time::parse_instant(created["createdAt"].as_str().unwrap()).unwrap();
    assert!(logged >= before && logged <= Utc::now());
    assert!(created.get("confidence").is_none());
}

async fn invalid_bodies_are_400_naming_the_field_and_write_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let valid = json!({"name": "Soup", "calories": 120, "mealType": "dinner"});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let in_25_hours = instant(Utc::now() + Duration::hours(25));
    let cases: Vec<(Value, &str)> = vec![
        (without("name"), "name"),
        (with("name", json!("   ")), "name"),
        (with("name", json!("n".repeat(256))), "name"),
        (with("name", json!(42)), "name"),
        (with("name", json!("a\u{0}b")), "name"),
        (without("calories"), "calories"),
        (with("calories", json!("120")), "calories"),
        (with("calories", json!(true)), "calories"),
        (with("calories", json!(-1)), "calories"),
        (with("calories", json!(10000.5)), "calories"),
        (without("mealType"), "mealType"),
        (with("mealType", json!("brunch")), "mealType"),
        (with("mealType", json!("Lunch")), "mealType"),
        (with("servingSize", json!("s".repeat(256))), "servingSize"),
        (with("protein", json!(1000.01)), "protein"),
        (with("carbs", json!("5")), "carbs"),
        (with("fat", json!(-0.5)), "fat"),
        (with("notes", json!("n".repeat(2001))), "notes"),
        (with("timestamp", json!("2024-07-11")), "timestamp"),
        (with("timestamp", json!("yesterday")), "timestamp"),
        (with("timestamp", json!(in_25_hours)), "timestamp"),
        (with("imageKey", json!("../../etc/passwd")), "imageKey"),
        (with("imageKey", json!("ann/missing.jpg")), "imageKey"),
        (json!([valid.clone()]), "body"),
    ];
    for (body, field) in cases {
        let response = app.post("/food-entries", "ann", body.clone()).await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    let malformed = app
        .request(Method::POST, "/food-entries")
        .user("ann")
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"name\": ")
        .send()
        .await;
    malformed.assert_error(400, "BAD_REQUEST");
    let not_json = app
        .request(Method::POST, "/food-entries")
        .user("ann")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(valid.to_string())
        .send()
        .await;
    not_json.assert_error(400, "BAD_REQUEST");
    let too_large = with("notes", json!("n".repeat(70 * 1024)));
    app.post("/food-entries", "ann", too_large)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    app.request(Method::POST, "/food-entries")
        .json(&valid)
        .send()
        .await
        .assert_error(401, "UNAUTHORIZED");

    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM daily_totals").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM user_badges").await, 0);
}

async fn bounds_are_inclusive(backend: Backend) {
    let app = TestApp::start(backend).await;
    let body = json!({"name": "n".repeat(255), "calories": 10000, "mealType": "snack",
        "servingSize": "s".repeat(255), "protein": 1000, "carbs": 0, "fat": 0.005,
        "notes": "ü".repeat(2000), "timestamp": instant(Utc::now() + Duration::hours(23))});
    let created = post_entry(&app, "ann", body).await;
    assert_eq!(created["calories"], 10000);
    assert_eq!(created["fat"], 0.01);
    let zero = post_entry(
        &app,
        "ann",
        json!({"name": "Water", "calories": 0, "mealType": "snack"}),
    )
    .await;
    assert_eq!(zero["calories"], 0);
}

async fn image_keys_must_name_the_callers_food_images(backend: Backend) {
    let app = TestApp::start(backend).await;
    let buckets = app.state.buckets().clone();
    let own = record_image(&app, "ann", &buckets.food_images).await;
    let own_picture = record_image(&app, "ann", &buckets.profile_pictures).await;
    let others = record_image(&app, "bob", &buckets.food_images).await;
    let body = |key: &str| json!({"name": "Pizza", "calories": 800, "mealType": "dinner", "imageKey": key});

    let created = post_entry(&app, "ann", body(&own)).await;
    assert_eq!(created["imageKey"], own.as_str());
    for key in [&others, &own_picture] {
        let response = app.post("/food-entries", "ann", body(key)).await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert_eq!(
            error["fields"]["imageKey"],
            "must be the key of a food image you uploaded"
        );
    }
    let id = created["id"].as_str().unwrap();
    let path = format!("/food-entries/{id}");
    app.patch(&path, "ann", json!({"imageKey": others}))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    let cleared = app.patch(&path, "ann", json!({"imageKey": null})).await;
    cleared.assert_status(200);
    assert_eq!(cleared.json()["imageKey"], Value::Null);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 1);
}

async fn another_users_a_missing_and_a_malformed_entry_are_the_same_404(backend: Backend) {
    let app = TestApp::start(backend).await;
    let created = post_entry(&app, "ann", entry_at("Soup", "2024-07-11T12:00:00Z")).await;
    let id = created["id"].as_str().unwrap();
    let missing = uuid_like();
    let long = "x".repeat(37);
    let mut answers = Vec::new();
    for (path, user) in [
        (format!("/food-entries/{id}"), "bob"),
        (format!("/food-entries/{missing}"), "ann"),
        (format!("/food-entries/{long}"), "ann"),
        ("/food-entries/a%00b".to_owned(), "ann"),
        ("/food-entries/%20".to_owned(), "ann"),
        ("/food-entries/%FF".to_owned(), "ann"),
        ("/food-entries/%C3%A9%C3".to_owned(), "ann"),
    ] {
        for response in [
            app.get(&path, user).await,
            app.patch(&path, user, json!({"calories": 1})).await,
            app.delete(&path, user).await,
        ] {
            answers.push(response.assert_error(404, "NOT_FOUND"));
        }
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    let unchanged = app.get(&format!("/food-entries/{id}"), "ann").await;
    unchanged.assert_status(200);
    assert_eq!(unchanged.json()["calories"], 100);
}

fn uuid_like() -> String {
    "5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f".to_owned()
}

async fn patch_changes_only_the_given_fields(backend: Backend) {
    let app = TestApp::start(backend).await;
    let created = post_entry(
        &app,
        "ann",
        json!({"name": "Oatmeal", "calories": 350, "mealType": "breakfast", "servingSize": "1 bowl",
            "protein": 12, "carbs": 60, "fat": 7, "notes": "with honey",
            "timestamp": "2024-07-11T07:00:00Z"}),
    )
    .await;
    let path = format!("/food-entries/{}", created["id"].as_str().unwrap());
    let mut expected = created.clone();
    // A change earns what it earns; this one nothing.
    expected["badgesEarned"] = json!([]);

    let changed = app
        .patch(
            &path,
            "ann",
            json!({"calories": 400.5, "notes": null, "extra": 1}),
        )
        .await;
    changed.assert_status(200);
    expected["calories"] = json!(400.5);
    expected["notes"] = Value::Null;
    assert_eq!(changed.json(), expected);

    let moved = app
        .patch(
            &path,
            "ann",
            json!({"timestamp": "2024-07-12T20:00:00Z", "name": " Porridge ", "mealType": "dinner",
                "servingSize": "", "protein": null}),
        )
        .await;
    moved.assert_status(200);
    expected["timestamp"] = json!("2024-07-12T20:00:00.000Z");
    expected["name"] = json!("Porridge");
    expected["mealType"] = json!("dinner");
    expected["servingSize"] = Value::Null;
    expected["protein"] = Value::Null;
    assert_eq!(moved.json(), expected);
    expected.as_object_mut().unwrap().remove("badgesEarned");
    assert_eq!(app.get(&path, "ann").await.json(), expected);
    assert_eq!(
        local_dates(&app, "ann").await,
        vec![(
            "Porridge".to_owned(),
            NaiveDate::from_ymd_opt(2024, 7, 12).unwrap()
        )]
    );

    for (body, field) in [
        (json!({}), "body"),
        (json!({"unknown": 1}), "body"),
        (json!({"name": null}), "name"),
        (json!({"calories": null}), "calories"),
        (json!({"mealType": "brunch"}), "mealType"),
        (json!({"timestamp": null}), "timestamp"),
        (json!({"calories": 1, "fat": "5"}), "fat"),
        (
            json!({"timestamp": instant(Utc::now() + Duration::hours(25))}),
            "timestamp",
        ),
    ] {
        let response = app.patch(&path, "ann", body.clone()).await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    assert_eq!(
        app.get(&path, "ann").await.json(),
        expected,
        "rejected changes write nothing"
    );
    assert_totals_exact(&app).await;
}

async fn delete_answers_the_v1_message(backend: Backend) {
    let app = TestApp::start(backend).await;
    let created = post_entry(&app, "ann", entry_at("Soup", "2024-07-11T12:00:00Z")).await;
    let path = format!("/food-entries/{}", created["id"].as_str().unwrap());
    let deleted = app.delete(&path, "ann").await;
    deleted.assert_status(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Food entry deleted successfully"})
    );
    app.get(&path, "ann").await.assert_error(404, "NOT_FOUND");
    app.delete(&path, "ann")
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM daily_totals").await, 0);
}

async fn daily_totals_follow_every_write(backend: Backend) {
    let app = TestApp::start(backend).await;
    let post = |name: &str, timestamp: &str, calories: f64, protein: Value| {
        json!({"name": name, "calories": calories, "mealType": "lunch", "protein": protein,
            "carbs": 10.1, "timestamp": timestamp})
    };
    let a1 = post_entry(
        &app,
        "ann",
        post("a1", "2024-07-10T08:00:00Z", 100.1, json!(5)),
    )
    .await;
    post_entry(
        &app,
        "ann",
        post("a2", "2024-07-10T09:00:00Z", 200.2, Value::Null),
    )
    .await;
    let b1 = post_entry(
        &app,
        "ann",
        post("b1", "2024-07-11T08:00:00Z", 300.3, json!(1.5)),
    )
    .await;
    post_entry(
        &app,
        "bob",
        post("x", "2024-07-10T08:00:00Z", 50.0, json!(1)),
    )
    .await;
    let totals = assert_totals_exact(&app).await;
    assert_eq!(totals.len(), 3);
    assert_eq!(totals[0].2, 2, "two entries on ann's first day");

    let path = |entry: &Value| format!("/food-entries/{}", entry["id"].as_str().unwrap());
    // Move a1 to b1's day, then change its amounts, then move b1 to a new day.
    app.patch(
        &path(&a1),
        "ann",
        json!({"timestamp": "2024-07-11T18:00:00Z"}),
    )
    .await
    .assert_status(200);
    assert_totals_exact(&app).await;
    app.patch(
        &path(&a1),
        "ann",
        json!({"calories": 1, "protein": null, "fat": 2.25}),
    )
    .await
    .assert_status(200);
    assert_totals_exact(&app).await;
    app.patch(
        &path(&b1),
        "ann",
        json!({"timestamp": "2024-07-13T08:00:00Z"}),
    )
    .await
    .assert_status(200);
    let totals = assert_totals_exact(&app).await;
    let ann_days: Vec<NaiveDate> = totals
        .iter()
        .filter(|row| row.0 == "ann")
        .map(|row| row.1)
        .collect();
    assert_eq!(
        ann_days,
        ["2024-07-10", "2024-07-11", "2024-07-13"].map(|d| shared::time::parse_date(d).unwrap())
    );
    // Deleting the last entry of a day removes its row.
    app.delete(&path(&b1), "ann").await.assert_status(200);
    let totals = assert_totals_exact(&app).await;
    assert_eq!(totals.iter().filter(|row| row.0 == "ann").count(), 2);
}

async fn concurrent_edits_keep_daily_totals_exact(backend: Backend) {
    let app = TestApp::start(backend).await;
    let days = ["2024-07-10T12:00:00Z", "2024-07-11T12:00:00Z"];
    let mut ids = Vec::new();
    for i in 0..12 {
        let created = post_entry(&app, "ann", entry_at(&format!("e{i}"), days[i % 2])).await;
        ids.push(format!("/food-entries/{}", created["id"].as_str().unwrap()));
    }
    // At once: deletions, moves between the two days, changed amounts and new entries.
    let deletions = ids[..4].iter().map(|path| app.delete(path, "ann"));
    let moves = ids[4..8].iter().enumerate().map(|(i, path)| {
        app.patch(
            path,
            "ann",
            json!({"timestamp": days[(i + 1) % 2], "calories": 7.5}),
        )
    });
    let changes = ids[8..]
        .iter()
        .map(|path| app.patch(path, "ann", json!({"protein": 3})));
    let posts = (0..4).map(|i| app.post("/food-entries", "ann", entry_at("new", days[i % 2])));
    let (deleted, moved, changed, posted) = futures_util::join!(
        join_all(deletions),
        join_all(moves),
        join_all(changes),
        join_all(posts)
    );
    deleted.iter().for_each(|r| {
        r.assert_status(200);
    });
    for response in moved.iter().chain(&changed) {
        response.assert_status(200);
    }
    posted.iter().for_each(|r| {
        r.assert_status(201);
    });
    let totals = assert_totals_exact(&app).await;
    assert_eq!(totals.iter().map(|row| row.2).sum::<i64>(), 12);
}

async fn listing_filters_by_the_users_days_and_meal(backend: Backend) {
    let app = TestApp::start(backend).await;
    set_zone(&app, "ann", "America/Los_Angeles").await;
    // 2024-07-11 in Los Angeles is 07:00Z on the 11th to 07:00Z on the 12th.
    let entries = [
        ("late", "2024-07-12T06:59:59.999Z", "dinner"),
        ("first", "2024-07-11T07:00:00Z", "breakfast"),
        ("before", "2024-07-11T06:59:59Z", "snack"),
        ("next", "2024-07-12T07:00:00Z", "lunch"),
        ("mid", "2024-07-11T20:00:00Z", "lunch"),
    ];
    for (name, timestamp, meal) in entries {
        post_entry(
            &app,
            "ann",
            json!({"name": name, "calories": 1, "mealType": meal, "timestamp": timestamp}),
        )
        .await;
    }
    post_entry(&app, "bob", entry_at("bob's", "2024-07-11T20:00:00Z")).await;
    let names = |response: TestResponse| -> Vec<String> {
        response.assert_status(200);
        assert!(response.header("x-next-cursor").is_none());
        response
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = async |query: &str| app.get(&format!("/food-entries{query}"), "ann").await;
    assert_eq!(
        names(list("").await),
        ["before", "first", "mid", "late", "next"]
    );
    assert_eq!(
        names(list("?date=2024-07-11").await),
        ["first", "mid", "late"]
    );
    // An instant means the user's day that contains it (the 10th in Los Angeles).
    assert_eq!(names(list("?date=2024-07-11T06:00:00Z").await), ["before"]);
    assert_eq!(
        names(list("?startDate=2024-07-11").await),
        ["first", "mid", "late", "next"]
    );
    assert_eq!(
        names(list("?endDate=2024-07-11").await),
        ["before", "first", "mid", "late"]
    );
    assert_eq!(
        names(list("?startDate=2024-07-11&endDate=2024-07-12&mealType=lunch").await),
        ["mid", "next"]
    );
    assert_eq!(
        names(list("?date=2024-07-11&mealType=snack").await),
        Vec::<String>::new()
    );
}

async fn bad_list_parameters_are_400_naming_them(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (query, name) in [
        ("date=2024-02-30", "date"),
        ("date=tomorrow", "date"),
        ("startDate=07/11/2024", "startDate"),
        ("endDate=2024-7-1", "endDate"),
        ("startDate=2024-07-12&endDate=2024-07-11", "endDate"),
        ("date=2024-07-11&endDate=2024-07-11", "date"),
        ("mealType=brunch", "mealType"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=00", "cursor"),
    ] {
        let response = app.get(&format!("/food-entries?{query}"), "ann").await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][name].is_string(), "{query}: {error}");
    }
}

async fn paging_never_skips_or_repeats_entries_that_share_a_timestamp(backend: Backend) {
    let app = TestApp::start(backend).await;
    // 23 entries on 4 timestamps: most pages end in the middle of a group of equal ones.
    let timestamps = [
        "2024-07-11T08:00:00Z",
        "2024-07-11T12:00:00Z",
        "2024-07-11T12:00:00.001Z",
        "2024-07-12T08:00:00Z",
    ];
    let mut created = Vec::new();
    for i in 0..23 {
        let body = entry_at(&format!("e{i}"), timestamps[i % timestamps.len()]);
        created.push(
            post_entry(&app, "ann", body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    post_entry(&app, "bob", entry_at("bob's", timestamps[1])).await;

    let full = app.get("/food-entries", "ann").await;
    full.assert_status(200);
    assert!(full.header("x-next-cursor").is_none());
    let full: Vec<Value> = full.json().as_array().unwrap().clone();
    assert_eq!(full.len(), 23);
    let keys: Vec<(String, String)> = full
        .iter()
        .map(|e| {
            (
                e["timestamp"].as_str().unwrap().to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ascending by timestamp, then id");

    for limit in [1, 4, 5, 22, 23] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let query = match &cursor {
                Some(cursor) => format!("/food-entries?limit={limit}&cursor={cursor}"),
                None => format!("/food-entries?limit={limit}"),
            };
            let page = app.get(&query, "ann").await;
            page.assert_status(200);
            let entries = page.json().as_array().unwrap().clone();
            assert!(entries.len() <= limit);
            seen.extend(entries);
            pages += 1;
            match page.header("x-next-cursor") {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, full, "limit {limit}");
        assert_eq!(pages, 23_usize.div_ceil(limit), "limit {limit}");
    }

    // A cursor works with filters, and the last full page says nothing follows.
    let first = app
        .get("/food-entries?date=2024-07-11&limit=10", "ann")
        .await;
    let cursor = first.header("x-next-cursor").unwrap().to_owned();
    let rest = app
        .get(
            &format!("/food-entries?date=2024-07-11&limit=10&cursor={cursor}"),
            "ann",
        )
        .await;
    rest.assert_status(200);
    assert!(rest.header("x-next-cursor").is_none());
    let ids: BTreeSet<String> = first
        .json()
        .as_array()
        .unwrap()
        .iter()
        .chain(rest.json().as_array().unwrap())
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 18, "entries of the 11th, each once");
}

async fn a_retried_post_gets_the_first_answer_and_writes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let send = |user: &'static str, key: String, name: &'static str| {
        let app = &app;
        async move {
            app.request(Method::POST, "/food-entries")
                .user(user)
                .header(http::HeaderName::from_static("idempotency-key"), &key)
                .json(&json!({"name": name, "calories": 10, "mealType": "snack"}))
                .send()
                .await
        }
    };
    let first = send("ann", "key-1".into(), "Apple").await;
    first.assert_status(201);
    assert_eq!(first.json()["badgesEarned"][0]["id"], "first_entry");
    // A retry gets the first answer, byte for byte; the key with another body is a 422.
    let retry = send("ann", "key-1".into(), "Apple").await;
    retry.assert_status(201);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("content-type"), Some("application/json"));
    send("ann", "key-1".into(), "Banana")
        .await
        .assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 1);
    // The same body, however its JSON is written, is the same request.
    let reordered = app
        .request(Method::POST, "/food-entries")
        .user("ann")
        .header(http::HeaderName::from_static("idempotency-key"), "key-1")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(r#"{ "mealType": "snack",  "calories": 10, "name": "Apple" }"#)
        .send()
        .await;
    assert_eq!(reordered.body, first.body);

    // Another key, or another user with the same key, is a new request.
    let other = send("ann", "key-2".into(), "Banana").await;
    other.assert_status(201);
    assert_eq!(other.json()["badgesEarned"], json!([]));
    send("bob", "key-1".into(), "Cherry")
        .await
        .assert_status(201);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 3);

    // After 24 hours a key starts afresh.
    with_pool!(app.db, |pool| {
        sqlx::query("UPDATE idempotency_keys SET created_at = $1 WHERE idempotency_key = 'key-1'")
            .bind(Utc::now() - Duration::hours(25))
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    });
    let later = send("ann", "key-1".into(), "Date").await;
    later.assert_status(201);
    assert_eq!(later.json()["name"], "Date");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 4);

    for bad in ["k".repeat(256), " ".into()] {
        let response = send("ann", bad, "Egg").await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"]["Idempotency-Key"].is_string());
    }
    assert!(
        send("ann", "k".repeat(255), "Egg")
            .await
            .status
            .is_success()
    );
    // A rejected body stores no answer for its key: the corrected retry is processed.
    let rejected = app
        .request(Method::POST, "/food-entries")
        .user("ann")
        .header(http::HeaderName::from_static("idempotency-key"), "key-3")
        .json(&json!({"name": "Fig"}))
        .send()
        .await;
    rejected.assert_error(400, "VALIDATION_FAILED");
    send("ann", "key-3".into(), "Fig").await.assert_status(201);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 6);
    assert_totals_exact(&app).await;
}

async fn concurrent_requests_with_one_key_create_one_entry(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.get("/streaks", "ann").await.assert_status(200);
    let responses = join_all((0..8).map(|_| {
        app.request(Method::POST, "/food-entries")
            .user("ann")
            .header(http::HeaderName::from_static("idempotency-key"), "same")
            .json(&json!({"name": "Apple", "calories": 10, "mealType": "snack"}))
            .send()
    }))
    .await;
    for response in &responses {
        response.assert_status(201);
        assert_eq!(response.body, responses[0].body);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM user_badges").await, 1);
    assert_totals_exact(&app).await;
}

async fn the_first_requests_of_a_new_user_all_succeed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let responses = join_all((0..8).map(|i| {
        app.post(
            "/food-entries",
            "newbie",
            entry_at(&format!("e{i}"), &days_ago(1)),
        )
    }))
    .await;
    let mut first_entry_badges = 0;
    for response in &responses {
        response.assert_status(201);
        first_entry_badges += response.json()["badgesEarned"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|badge| badge["id"] == "first_entry")
            .count();
    }
    assert_eq!(
        first_entry_badges, 1,
        "exactly one entry earned the first badge"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM food_entries").await, 8);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM user_badges").await, 1);
    assert_totals_exact(&app).await;
}

async fn entries_land_on_the_users_day_near_midnight_utc(backend: Backend) {
    let app = TestApp::start(backend).await;
    set_zone(&app, "kiwi", "Pacific/Auckland").await;
    set_zone(&app, "angeleno", "America/Los_Angeles").await;
    // 23:30Z on the 11th is 11:30 on the 12th in Auckland; 02:00Z on the 12th is 19:00 on
    // the 11th in Los Angeles.
    post_entry(&app, "kiwi", entry_at("kiwi", "2024-07-11T23:30:00Z")).await;
    post_entry(
        &app,
        "angeleno",
        entry_at("angeleno", "2024-07-12T02:00:00Z"),
    )
    .await;
    post_entry(&app, "utc", entry_at("utc", "2024-07-11T23:30:00Z")).await;
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    assert_eq!(local_dates(&app, "kiwi").await[0].1, day("2024-07-12"));
    assert_eq!(local_dates(&app, "angeleno").await[0].1, day("2024-07-11"));
    assert_eq!(local_dates(&app, "utc").await[0].1, day("2024-07-11"));

    let found = |user: &'static str, date: &'static str| {
        let app = &app;
        async move {
            let response = app.get(&format!("/food-entries?date={date}"), user).await;
            response.assert_status(200);
            response.json().as_array().unwrap().len()
        }
    };
    assert_eq!(found("kiwi", "2024-07-12").await, 1);
    assert_eq!(found("kiwi", "2024-07-11").await, 0);
    assert_eq!(found("angeleno", "2024-07-11").await, 1);
    assert_eq!(found("angeleno", "2024-07-12").await, 0);
    assert_eq!(found("utc", "2024-07-11").await, 1);
    // The day of an entry is kept when its user later moves to another zone.
    set_zone(&app, "kiwi", "America/Los_Angeles").await;
    assert_eq!(found("kiwi", "2024-07-12").await, 1);
    assert_totals_exact(&app).await;
}

backend_tests!(
    posting_an_entry_answers_it_with_the_badges_it_earned,
    the_timestamp_defaults_to_now_and_unknown_fields_are_ignored,
    invalid_bodies_are_400_naming_the_field_and_write_nothing,
    bounds_are_inclusive,
    image_keys_must_name_the_callers_food_images,
    another_users_a_missing_and_a_malformed_entry_are_the_same_404,
    patch_changes_only_the_given_fields,
    delete_answers_the_v1_message,
    daily_totals_follow_every_write,
    concurrent_edits_keep_daily_totals_exact,
    listing_filters_by_the_users_days_and_meal,
    bad_list_parameters_are_400_naming_them,
    paging_never_skips_or_repeats_entries_that_share_a_timestamp,
    a_retried_post_gets_the_first_answer_and_writes_nothing,
    concurrent_requests_with_one_key_create_one_entry,
    the_first_requests_of_a_new_user_all_succeed,
    entries_land_on_the_users_day_near_midnight_utc,
);

/// The round trips of each request on PostgreSQL, statements prepared (authentication is 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_makes_the_fewest_round_trips() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    app.get("/streaks", "ann").await.assert_status(200);
    let post = |name: &'static str| app.post("/food-entries", "ann", entry_at(name, &days_ago(1)));
    let measure = |before: u64| app.round_trips() - before;

    // BEGIN, the locked insert with its day's totals, the badge facts, COMMIT.
    assert_eq!(app.round_trips_of(|| post("plain")).await, 1 + 4);
    for _ in 3..10 {
        post("filler").await.assert_status(201);
    }
    // The 10th entry earns a badge: one more statement.
    let before = app.round_trips();
    let tenth = post("tenth").await;
    assert_eq!(tenth.json()["badgesEarned"][0]["id"], "first_10_entries");
    assert_eq!(measure(before), 1 + 5);

    let keyed = |key: &'static str| {
        app.request(Method::POST, "/food-entries")
            .user("ann")
            .header(http::HeaderName::from_static("idempotency-key"), key)
            .json(&entry_at("keyed", &days_ago(1)))
            .send()
    };
    keyed("k1").await.assert_status(201);
    // A replay: BEGIN, the claim, the stored answer, ROLLBACK.
    assert_eq!(app.round_trips_of(|| keyed("k1")).await, 1 + 4);
    // A new key: the claim and the stored answer around the plain insert.
    let before = app.round_trips();
    keyed("k2").await.assert_status(201);
    assert_eq!(measure(before), 1 + 6);

    // An imageKey costs its ownership check.
    let image = record_image(&app, "ann", &app.state.buckets().food_images.clone()).await;
    let with_image = || {
        let mut body = entry_at("photo", &days_ago(1));
        body["imageKey"] = json!(image);
        app.post("/food-entries", "ann", body)
    };
    assert_eq!(app.round_trips_of(with_image).await, 1 + 5);

    let id = tenth.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/food-entries/{id}");
    assert_eq!(app.round_trips_of(|| app.get(&path, "ann")).await, 1 + 1);
    assert_eq!(
        app.round_trips_of(|| app.get(
            "/food-entries?startDate=2024-01-01&mealType=lunch&limit=5",
            "ann"
        ))
        .await,
        1 + 1
    );
    assert_eq!(
        app.round_trips_of(|| app.get("/badges", "ann")).await,
        1 + 1
    );
    assert_eq!(
        app.round_trips_of(|| app.get("/streaks", "ann")).await,
        1 + 1
    );
    // BEGIN, the entry and its day (locking the user's writes), the update, the days' sums,
    // the badge facts, COMMIT.
    assert_eq!(
        app.round_trips_of(|| app.patch(&path, "ann", json!({"calories": 5})))
            .await,
        1 + 6
    );
    // A change that leaves the amounts and the day alone leaves the totals alone.
    assert_eq!(
        app.round_trips_of(|| app.patch(&path, "ann", json!({"notes": "n"})))
            .await,
        1 + 5
    );
    // BEGIN, the deletion (locking the user's writes), the day's sums, the food's summary,
    // COMMIT.
    let mut deletions = Vec::new();
    for _ in 0..2 {
        let doomed = post("doomed").await.json()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let before = app.round_trips();
        app.delete(&format!("/food-entries/{doomed}"), "ann")
            .await
            .assert_status(200);
        deletions.push(measure(before));
    }
    assert_eq!(
        deletions[1],
        1 + 5,
        "after a first deletion prepared its statements"
    );
}
