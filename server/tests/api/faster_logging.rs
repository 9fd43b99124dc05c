//! Faster logging: recent and frequent foods, copying a day or a meal, saved meals.

use std::collections::BTreeSet;

use http::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp, backend_tests, sqlx, with_pool};

use crate::food_entries::{assert_totals_exact, days_ago, post_entry, set_zone};

fn food(name: &str, serving: Option<&str>, calories: f64, timestamp: &str) -> Value {
    json!({"name": name, "servingSize": serving, "calories": calories, "mealType": "breakfast",
           "protein": 10, "timestamp": timestamp})
}

async fn foods(app: &TestApp, user: &str, list: &str) -> Vec<Value> {
    let response = app.get(&format!("/foods/{list}"), user).await;
    response.assert_status(200);
    response.json().as_array().unwrap().clone()
}

/// `[name, servingSize, calories, timesLogged]` of each food.
fn summary(foods: &[Value]) -> Vec<Value> {
    foods
        .iter()
        .map(|f| json!([f["name"], f["servingSize"], f["calories"], f["timesLogged"]]))
        .collect()
}

/// `user_totals` agrees with `daily_totals`, for every user.
async fn assert_user_totals_exact(app: &TestApp) {
    let rows: Vec<(String, i64, f64, i64)> = with_pool!(app.db, |pool| {
        sqlx::query_as(
            "SELECT t.user_id, CAST(t.entries AS BIGINT) - CAST(COALESCE(SUM(d.entries), 0) AS BIGINT), \
                CAST(t.calories AS DOUBLE PRECISION) - CAST(COALESCE(SUM(d.calories), 0) AS DOUBLE PRECISION), \
                CAST(t.tracking_days AS BIGINT) - COUNT(d.user_id) \
             FROM user_totals t LEFT JOIN daily_totals d ON d.user_id = t.user_id \
             GROUP BY t.user_id, t.entries, t.calories, t.tracking_days",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    });
    for (user, entries, calories, days) in rows {
        assert_eq!((entries, days), (0, 0), "{user}");
        assert!(calories.abs() < 1e-6, "{user}");
    }
}

async fn foods_are_distinct_by_name_and_serving_with_their_latest_values(backend: Backend) {
    let app = TestApp::start(backend).await;
    post_entry(
        &app,
        "ann",
        food("Oatmeal", Some("1 bowl"), 350.0, &days_ago(3)),
    )
    .await;
    let latest = post_entry(
        &app,
        "ann",
        food(" OATMEAL ", Some("1 bowl"), 300.0, &days_ago(1)),
    )
    .await;
    let other_serving = post_entry(
        &app,
        "ann",
        food("Oatmeal", Some("2 bowls"), 700.0, &days_ago(2)),
    )
    .await;
    for days in [6, 5, 4] {
        post_entry(&app, "ann", food("Coffee", None, 5.0, &days_ago(days))).await;
    }
    post_entry(&app, "bob", food("Tea", None, 2.0, &days_ago(1))).await;

    let recent = foods(&app, "ann", "recent").await;
    assert_eq!(
        summary(&recent),
        [
            json!(["OATMEAL", "1 bowl", 300, 2]),
            json!(["Oatmeal", "2 bowls", 700, 1]),
            json!(["Coffee", null, 5, 3]),
        ]
    );
    assert_eq!(
        recent[0],
        json!({"name": "OATMEAL", "servingSize": "1 bowl", "calories": 300, "protein": 10,
               "carbs": null, "fat": null, "mealType": "breakfast",
               "lastLoggedAt": latest["timestamp"], "timesLogged": 2})
    );
    assert_eq!(
        summary(&foods(&app, "ann", "frequent").await),
        [
            json!(["Coffee", null, 5, 3]),
            json!(["OATMEAL", "1 bowl", 300, 2]),
            json!(["Oatmeal", "2 bowls", 700, 1]),
        ]
    );
    assert_eq!(
        summary(&foods(&app, "bob", "recent").await),
        [json!(["Tea", null, 2, 1])]
    );

    // The latest is deleted: the one before it counts again.
    app.delete(
        &format!("/food-entries/{}", latest["id"].as_str().unwrap()),
        "ann",
    )
    .await
    .assert_status(200);
    // A change moves an entry to another food; a new latest takes over its values.
    let path = format!("/food-entries/{}", other_serving["id"].as_str().unwrap());
    app.patch(&path, "ann", json!({"name": "Porridge"}))
        .await
        .assert_status(200);
    assert_eq!(
        summary(&foods(&app, "ann", "recent").await),
        [
            json!(["Porridge", "2 bowls", 700, 1]),
            json!(["Oatmeal", "1 bowl", 350, 1]),
            json!(["Coffee", null, 5, 3]),
        ]
    );
    app.patch(
        &path,
        "ann",
        json!({"calories": 650, "timestamp": days_ago(7)}),
    )
    .await
    .assert_status(200);
    let recent = foods(&app, "ann", "recent").await;
    assert_eq!(summary(&recent)[2], json!(["Porridge", "2 bowls", 650, 1]));

    let limited = app.get("/foods/frequent?limit=1", "ann").await;
    assert_eq!(
        summary(&limited.json().as_array().unwrap().clone()),
        [json!(["Coffee", null, 5, 3])]
    );
    for limit in ["0", "101", "x"] {
        app.get(&format!("/foods/recent?limit={limit}"), "ann")
            .await
            .assert_error(400, "VALIDATION_FAILED");
    }
    // Deleting every entry of a food removes it.
    let entries = app.get("/food-entries", "ann").await.json();
    for entry in entries.as_array().unwrap() {
        if entry["name"] == "Porridge" {
            app.delete(
                &format!("/food-entries/{}", entry["id"].as_str().unwrap()),
                "ann",
            )
            .await
            .assert_status(200);
        }
    }
    assert_eq!(foods(&app, "ann", "recent").await.len(), 2);
}

/// Entries of `date` in the caller's zone: `[mealType, name, timestamp]`.
async fn day_of(app: &TestApp, user: &str, date: &str) -> Vec<Value> {
    let entries = app.get(&format!("/food-entries?date={date}"), user).await;
    entries.assert_status(200);
    entries
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["mealType"], e["name"], e["timestamp"]]))
        .collect()
}

async fn a_day_is_copied_at_the_same_local_times_across_a_dst_gap(backend: Backend) {
    let app = TestApp::start(backend).await;
    set_zone(&app, "ann", "Europe/Berlin").await;
    // March 30th 2024 in Berlin is at +01:00; on the 31st 02:00–03:00 does not exist.
    for (name, meal, at) in [
        ("Rusk", "snack", "2024-03-30T01:30:00Z"),
        ("Muesli", "breakfast", "2024-03-30T07:15:00Z"),
        ("Soup", "lunch", "2024-03-30T11:00:00Z"),
    ] {
        let mut body = food(name, None, 100.0, at);
        body["mealType"] = json!(meal);
        body["notes"] = json!("kept");
        post_entry(&app, "ann", body).await;
    }
    let copied = app
        .post(
            "/food-entries/copy",
            "ann",
            json!({"fromDate": "2024-03-30", "toDate": "2024-03-31"}),
        )
        .await;
    copied.assert_status(201);
    let copied = copied.json();
    assert_eq!(copied["badgesEarned"], json!([]));
    let entries = copied["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(
        entries
            .iter()
            .all(|e| e["notes"] == "kept" && e["userId"] == "ann")
    );
    // 02:30 moves to the gap's end, 03:00 (+02:00); the others keep their clock time.
    let expected = [
        json!(["snack", "Rusk", "2024-03-31T01:00:00.000Z"]),
        json!(["breakfast", "Muesli", "2024-03-31T06:15:00.000Z"]),
        json!(["lunch", "Soup", "2024-03-31T10:00:00.000Z"]),
    ];
    assert_eq!(day_of(&app, "ann", "2024-03-31").await, expected);
    let read = |e: &Value| json!([e["mealType"], e["name"], e["timestamp"]]);
    assert_eq!(entries.iter().map(read).collect::<Vec<_>>(), expected);
    // The originals stay.
    assert_eq!(day_of(&app, "ann", "2024-03-30").await.len(), 3);

    // One meal, as another meal: back to +01:00 clocks a day later.
    let breakfast = app
        .post(
            "/food-entries/copy",
            "ann",
            json!({"fromDate": "2024-03-31", "toDate": "2024-04-01", "mealType": "breakfast",
                   "toMealType": "dinner"}),
        )
        .await;
    breakfast.assert_status(201);
    assert_eq!(
        day_of(&app, "ann", "2024-04-01").await,
        [json!(["dinner", "Muesli", "2024-04-01T06:15:00.000Z"])]
    );
    let summary = app
        .get("/dashboard/summary?date=2024-03-31", "ann")
        .await
        .json();
    assert_eq!(summary["foodEntriesCount"], 3);
    assert_eq!(foods(&app, "ann", "frequent").await[0]["timesLogged"], 3);
    assert_totals_exact(&app).await;
    assert_user_totals_exact(&app).await;

    for (body, status, field) in [
        (
            json!({"fromDate": "2024-03-29", "toDate": "2024-04-02"}),
            404,
            None,
        ),
        (
            json!({"fromDate": "2024-03-30", "toDate": "2024-03-31", "mealType": "dinner"}),
            404,
            None,
        ),
        (
            json!({"fromDate": "2024-03-30", "toDate": "2999-01-01"}),
            400,
            Some("toDate"),
        ),
        (
            json!({"fromDate": "2024-03-30", "toDate": "2024-03-31", "toMealType": "lunch"}),
            400,
            Some("toMealType"),
        ),
        (json!({"fromDate": "2024-03-30"}), 400, Some("toDate")),
    ] {
        let response = app.post("/food-entries/copy", "ann", body.clone()).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{body}: {}",
            response.text()
        );
        if let Some(field) = field {
            assert!(response.json()["fields"][field].is_string(), "{body}");
        }
    }
    // Another user's day is not the caller's.
    app.post(
        "/food-entries/copy",
        "bob",
        json!({"fromDate": "2024-03-30", "toDate": "2024-03-31"}),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    assert_eq!(day_of(&app, "ann", "2024-04-01").await.len(), 1);
}

async fn new_yorks_gap_and_repeated_hour_are_crossed_too(backend: Backend) {
    let app = TestApp::start(backend).await;
    set_zone(&app, "ann", "America/New_York").await;
    // 02:30 EST on March 9th; on the 10th 02:00–03:00 is skipped; on November 3rd 01:30
    // happens twice.
    post_entry(
        &app,
        "ann",
        food("Milk", None, 60.0, "2024-03-09T07:30:00Z"),
    )
    .await;
    post_entry(
        &app,
        "ann",
        food("Toast", None, 80.0, "2024-03-09T06:30:00Z"),
    )
    .await;
    for to in ["2024-03-10", "2024-11-03"] {
        app.post(
            "/food-entries/copy",
            "ann",
            json!({"fromDate": "2024-03-09", "toDate": to}),
        )
        .await
        .assert_status(201);
    }
    assert_eq!(
        day_of(&app, "ann", "2024-03-10").await,
        [
            json!(["breakfast", "Toast", "2024-03-10T06:30:00.000Z"]),
            json!(["breakfast", "Milk", "2024-03-10T07:00:00.000Z"]),
        ]
    );
    // 01:30 is its first occurrence, still at −04:00; 02:30 is after the change, at −05:00.
    assert_eq!(
        day_of(&app, "ann", "2024-11-03").await,
        [
            json!(["breakfast", "Toast", "2024-11-03T05:30:00.000Z"]),
            json!(["breakfast", "Milk", "2024-11-03T07:30:00.000Z"]),
        ]
    );
}

async fn concurrent_retries_of_a_copy_copy_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    for days in [3, 3, 3] {
        post_entry(&app, "ann", food("Egg", None, 80.0, &days_ago(days))).await;
    }
    let from = &days_ago(3)[..10];
    let to = &days_ago(1)[..10];
    let body = json!({"fromDate": from, "toDate": to});
    let retry = || {
        app.request(Method::POST, "/food-entries/copy")
            .user("ann")
            .header(http::HeaderName::from_static("idempotency-key"), "copy-1")
            .json(&body)
            .send()
    };
    let answers = futures_util::future::join_all((0..4).map(|_| retry())).await;
    let bodies: BTreeSet<String> = answers
        .iter()
        .map(|answer| {
            answer.assert_status(201);
            answer.text()
        })
        .collect();
    assert_eq!(bodies.len(), 1, "every retry gets the first answer");
    assert_eq!(day_of(&app, "ann", to).await.len(), 3);
    let mut other = body.clone();
    other["mealType"] = json!("breakfast");
    app.request(Method::POST, "/food-entries/copy")
        .user("ann")
        .header(http::HeaderName::from_static("idempotency-key"), "copy-1")
        .json(&other)
        .send()
        .await
        .assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    assert_totals_exact(&app).await;
}

async fn a_copy_over_200_entries_is_refused_and_writes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    testkit::seed::user(app.state.store(), "ann").await;
    let day = shared::time::parse_date("2024-07-10").unwrap();
    let entries = vec![testkit::seed::Entry::on(day, 10.0); 201];
    testkit::seed::entries(&app.db, "ann", &entries).await;
    let error = app
        .post(
            "/food-entries/copy",
            "ann",
            json!({"fromDate": "2024-07-10", "toDate": "2024-07-11"}),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["fromDate"].is_string(), "{error}");
    assert!(day_of(&app, "ann", "2024-07-11").await.is_empty());
}

fn items() -> Value {
    json!([
        {"name": " Oatmeal ", "calories": 350, "protein": 12.5, "carbs": 60, "fat": 7,
         "servingSize": "1 bowl"},
        {"name": "Coffee", "calories": 5}
    ])
}

async fn saved_meals_are_kept_listed_changed_and_deleted_by_their_owner(backend: Backend) {
    let app = TestApp::start(backend).await;
    let created = app
        .post(
            "/meals",
            "ann",
            json!({"name": " Usual breakfast ", "items": items()}),
        )
        .await;
    created.assert_status(201);
    let meal = created.json();
    assert_eq!(meal["name"], "Usual breakfast");
    assert_eq!(
        meal["items"],
        json!([
            {"name": "Oatmeal", "calories": 350, "protein": 12.5, "carbs": 60, "fat": 7,
             "servingSize": "1 bowl"},
            {"name": "Coffee", "calories": 5, "protein": null, "carbs": null, "fat": null,
             "servingSize": null}
        ])
    );
    assert_eq!(
        meal["totals"],
        json!({"calories": 355, "protein": 12.5, "carbs": 60, "fat": 7})
    );
    assert_eq!(meal["createdAt"], meal["updatedAt"]);
    let path = format!("/meals/{}", meal["id"].as_str().unwrap());
    assert_eq!(app.get(&path, "ann").await.json(), meal);
    app.post(
        "/meals",
        "ann",
        json!({"name": "apple snack", "items": [{"name": "Apple", "calories": 95}]}),
    )
    .await
    .assert_status(201);
    app.post(
        "/meals",
        "ann",
        json!({"name": "Zest", "items": [{"name": "Lemon", "calories": 17}]}),
    )
    .await
    .assert_status(201);
    let names: Vec<Value> = app
        .get("/meals", "ann")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("apple snack"),
            json!("Usual breakfast"),
            json!("Zest")
        ]
    );

    let replaced = app
        .request(Method::PUT, &path)
        .user("ann")
        .json(&json!({"name": "Light breakfast", "items": [{"name": "Tea", "calories": 2}]}))
        .send()
        .await;
    replaced.assert_status(200);
    let replaced = replaced.json();
    assert_eq!(replaced["name"], "Light breakfast");
    assert_eq!(replaced["totals"]["calories"], 2);
    assert_eq!(replaced["createdAt"], meal["createdAt"]);
    assert_eq!(app.get(&path, "ann").await.json(), replaced);

    // Another user's meal looks missing, whatever they try.
    for response in [
        app.get(&path, "bob").await,
        app.request(Method::PUT, &path)
            .user("bob")
            .json(&json!({"name": "Mine", "items": items()}))
            .send()
            .await,
        app.delete(&path, "bob").await,
        app.post(&format!("{path}/log"), "bob", json!({"mealType": "lunch"}))
            .await,
        app.get("/meals/not-a-meal", "ann").await,
    ] {
        response.assert_error(404, "NOT_FOUND");
    }
    assert!(
        app.get("/meals", "bob")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    let deleted = app.delete(&path, "ann").await;
    deleted.assert_status(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Meal deleted successfully"})
    );
    app.get(&path, "ann").await.assert_error(404, "NOT_FOUND");
}

async fn meal_bodies_are_validated_as_entries_are(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut many = vec![json!({"name": "x", "calories": 1}); 5];
    many[3] = json!({"name": "x", "calories": 10001});
    for (body, field) in [
        (json!({"name": "m", "items": many}), "items[3].calories"),
        (
            json!({"name": "m", "items": [{"name": "", "calories": 1}]}),
            "items[0].name",
        ),
        (
            json!({"name": "m", "items": [{"name": "x", "calories": 1, "mealType": "lunch"}]}),
            "items[0].mealType",
        ),
        (json!({"name": "m", "items": []}), "items"),
        (json!({"name": "m"}), "items"),
        (json!({"items": items()}), "name"),
        (
            json!({"name": "m", "items": items(), "fromDate": "2024-07-10", "mealType": "lunch"}),
            "items",
        ),
        (json!({"name": "m", "fromDate": "2024-07-10"}), "mealType"),
    ] {
        let error = app
            .post("/meals", "ann", body.clone())
            .await
            .assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    assert!(
        app.get("/meals", "ann")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn a_meal_is_made_from_a_logged_meal_and_logged_in_one_step(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (name, meal) in [
        ("Eggs", "breakfast"),
        ("Juice", "breakfast"),
        ("Salad", "lunch"),
    ] {
        let mut body = food(name, Some("1 plate"), 200.0, "2024-07-10T08:00:00Z");
        body["mealType"] = json!(meal);
        post_entry(&app, "ann", body).await;
    }
    let made = app
        .post(
            "/meals",
            "ann",
            json!({"name": "Breakfast", "fromDate": "2024-07-10", "mealType": "breakfast"}),
        )
        .await;
    made.assert_status(201);
    let meal = made.json();
    let names: Vec<&Value> = meal["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["name"])
        .collect();
    assert_eq!(names.len(), 2);
    assert_eq!(meal["totals"]["calories"], 400);
    app.post(
        "/meals",
        "ann",
        json!({"name": "Dinner", "fromDate": "2024-07-10", "mealType": "dinner"}),
    )
    .await
    .assert_error(404, "NOT_FOUND");

    let log = format!("/meals/{}/log", meal["id"].as_str().unwrap());
    let logged = app
        .post(
            &log,
            "ann",
            json!({"mealType": "lunch", "timestamp": "2024-07-11T12:00:00Z", "servings": 1.5}),
        )
        .await;
    logged.assert_status(201);
    let logged = logged.json();
    let entries = logged["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for entry in entries {
        assert_eq!(entry["calories"], 300);
        assert_eq!(entry["protein"], 15);
        assert_eq!(entry["mealType"], "lunch");
        assert_eq!(entry["timestamp"], "2024-07-11T12:00:00.000Z");
        assert_eq!(entry["servingSize"], "1 plate");
    }
    // Two days in a row, and a 5th entry: no badge yet but the streak's.
    assert_eq!(logged["badgesEarned"], json!([]));
    assert_eq!(day_of(&app, "ann", "2024-07-11").await.len(), 2);
    let eggs = foods(&app, "ann", "frequent").await;
    assert_eq!(eggs[0]["timesLogged"], 2);

    // Retried with its key: logged once.
    let retry = || {
        app.request(Method::POST, &log)
            .user("ann")
            .header(http::HeaderName::from_static("idempotency-key"), "log-1")
            .json(&json!({"mealType": "snack", "timestamp": "2024-07-12T16:00:00Z"}))
            .send()
    };
    let answers = futures_util::future::join_all((0..3).map(|_| retry())).await;
    let bodies: BTreeSet<String> = answers.iter().map(|a| a.text()).collect();
    assert_eq!(bodies.len(), 1);
    assert_eq!(day_of(&app, "ann", "2024-07-12").await.len(), 2);
    // The third day in a row earns the streak.
    let first: Value = serde_json::from_str(bodies.iter().next().unwrap()).unwrap();
    assert_eq!(first["badgesEarned"][0]["id"], "streak_3");

    for (body, field) in [
        (json!({}), "mealType"),
        (json!({"mealType": "lunch", "servings": 0}), "servings"),
        (json!({"mealType": "lunch", "servings": 20.5}), "servings"),
        (json!({"mealType": "lunch", "when": "now"}), "when"),
    ] {
        let error = app
            .post(&log, "ann", body.clone())
            .await
            .assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    assert_totals_exact(&app).await;
    assert_user_totals_exact(&app).await;
}

async fn a_user_keeps_at_most_200_meals(backend: Backend) {
    let app = TestApp::start(backend).await;
    testkit::seed::user(app.state.store(), "ann").await;
    with_pool!(app.db, |pool| {
        sqlx::query(
            "INSERT INTO meals (id, user_id, name, items, created_at, updated_at) \
             SELECT 'm' || CAST(n AS TEXT), 'ann', 'Meal ' || CAST(n AS TEXT), \
                    '[{\"name\":\"x\",\"calories\":1,\"protein\":null,\"carbs\":null,\"fat\":null,\"servingSize\":null}]', \
                    '2024-07-10T10:00:00Z', '2024-07-10T10:00:00Z' \
             FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 199) \
                   SELECT n FROM c) AS numbers",
        )
        .execute(&pool)
        .await
        .unwrap();
    });
    let meal = json!({"name": "One more", "items": [{"name": "x", "calories": 1}]});
    app.post("/meals", "ann", meal.clone())
        .await
        .assert_status(201);
    app.post("/meals", "ann", meal.clone())
        .await
        .assert_error(409, "CONFLICT");
    assert_eq!(
        app.get("/meals", "ann")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        200
    );
    app.post("/meals", "bob", meal).await.assert_status(201);
}

async fn saved_meals_are_exported(backend: Backend) {
    let app = TestApp::start(backend).await;
    let meal = app
        .post("/meals", "ann", json!({"name": "Usual", "items": items()}))
        .await
        .json();
    let document = app.get("/export", "ann").await.json();
    assert_eq!(document["meals"], json!([meal]));
    assert_eq!(app.get("/export", "bob").await.json()["meals"], json!([]));
}

backend_tests!(
    foods_are_distinct_by_name_and_serving_with_their_latest_values,
    a_day_is_copied_at_the_same_local_times_across_a_dst_gap,
    new_yorks_gap_and_repeated_hour_are_crossed_too,
    concurrent_retries_of_a_copy_copy_once,
    a_copy_over_200_entries_is_refused_and_writes_nothing,
    saved_meals_are_kept_listed_changed_and_deleted_by_their_owner,
    meal_bodies_are_validated_as_entries_are,
    a_meal_is_made_from_a_logged_meal_and_logged_in_one_step,
    a_user_keeps_at_most_200_meals,
    saved_meals_are_exported,
);

/// The round trips of faster logging on PostgreSQL, statements prepared (authentication is
/// 1): a copy of six entries costs what one `POST /food-entries` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faster_logging_makes_the_fewest_round_trips() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    for _ in 0..6 {
        post_entry(&app, "ann", food("Egg", None, 80.0, &days_ago(10))).await;
    }
    let post = || {
        app.post(
            "/food-entries",
            "ann",
            food("Egg", None, 80.0, &days_ago(20)),
        )
    };
    let one = app.round_trips_of(post).await;
    assert_eq!(one, 1 + 4);
    // Days apart, so that no copy closes a streak (a badge costs one more).
    let copy = |to: i64| {
        app.post(
            "/food-entries/copy",
            "ann",
            json!({"fromDate": &days_ago(10)[..10], "toDate": &days_ago(to)[..10]}),
        )
    };
    copy(14).await.assert_status(201);
    let before = app.round_trips();
    copy(17).await.assert_status(201);
    // The read of the day to copy, then exactly what one entry costs.
    assert_eq!(app.round_trips() - before, one + 1);
    assert_eq!(
        app.round_trips_of(|| app.get("/foods/recent", "ann")).await,
        1 + 1
    );
    assert_eq!(
        app.round_trips_of(|| app.get("/foods/frequent", "ann"))
            .await,
        1 + 1
    );
}
