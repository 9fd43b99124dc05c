//! The food-entries function through its Lambda entry: the real binary, a Runtime API and API
//! Gateway HTTP API events.

use serde_json::{Value, json};
use testkit::lambda::{HttpEvent, HttpResult, LambdaFunction, refused_start};
use testkit::{access_token, sqlx, with_pool};

const BINARY: &str = env!("CARGO_BIN_EXE_food-entries");

async fn entries_in_database(function: &LambdaFunction) -> i64 {
    with_pool!(function.db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM food_entries")
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}

/// `GET|PATCH|DELETE /food-entries/{id}` as API Gateway sends it: the id in the path and as
/// the route's path parameter.
fn entry_event(method: &str, id: &str, token: &str) -> HttpEvent {
    HttpEvent::new(method, &format!("/food-entries/{id}"))
        .path_parameter("id", id)
        .bearer(token)
}

fn names(page: &HttpResult) -> Vec<String> {
    page.json()
        .as_array()
        .expect("an array of entries")
        .iter()
        .map(|entry| entry["name"].as_str().unwrap().to_owned())
        .collect()
}

/// `POST /exports` through the function's events: the document written to the test S3
/// server, read on its presigned URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_written_to_s3_and_read_on_its_url() {
    let function = LambdaFunction::builder(BINARY).s3().start().await;
    let token = access_token("ann");
    let entry = function
        .call(
            HttpEvent::new("POST", "/food-entries")
                .bearer(&token)
                .json(&json!({"name": "Soup", "calories": 120, "mealType": "lunch"})),
        )
        .await;
    entry.assert_status(201);
    let created = function
        .call(HttpEvent::new("POST", "/exports").bearer(&token))
        .await;
    created.assert_status(201);
    let created = created.json();
    let body = testkit::reqwest::get(created["url"].as_str().unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(created["bytes"].as_u64(), Some(body.len() as u64));
    let document: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(document["entries"][0]["id"], entry.json()["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faster_logging_answers_api_gateway_events() {
    let function = LambdaFunction::start(BINARY).await;
    let token = access_token("ann");
    let post = |path: &str, body: Value| HttpEvent::new("POST", path).bearer(&token).json(&body);
    for (name, at) in [
        ("Porridge", "2024-07-10T07:00:00Z"),
        ("Coffee", "2024-07-10T07:05:00Z"),
    ] {
        function
            .call(post(
                "/food-entries",
                json!({"name": name, "calories": 100, "mealType": "breakfast", "timestamp": at}),
            ))
            .await
            .assert_status(201);
    }

    // The day copied: the same clock times a day later.
    let copied = function
        .call(post(
            "/food-entries/copy",
            json!({"fromDate": "2024-07-10", "toDate": "2024-07-11"}),
        ))
        .await;
    copied.assert_status(201);
    let copies = copied.json();
    let times: Vec<&Value> = copies["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| &entry["timestamp"])
        .collect();
    assert_eq!(
        times,
        [
            &json!("2024-07-11T07:00:00.000Z"),
            &json!("2024-07-11T07:05:00.000Z")
        ]
    );
    assert_eq!(entries_in_database(&function).await, 4);

    let frequent = function
        .call(
            HttpEvent::new("GET", "/foods/frequent")
                .bearer(&token)
                .query("limit", "1"),
        )
        .await;
    frequent.assert_status(200);
    assert_eq!(frequent.json()[0]["timesLogged"], 2);

    // A meal from the logged breakfast, logged again at one and a half servings.
    let meal = function
        .call(post(
            "/meals",
            json!({"name": "Breakfast", "fromDate": "2024-07-11", "mealType": "breakfast"}),
        ))
        .await;
    meal.assert_status(201);
    let id = meal.json()["id"].as_str().unwrap().to_owned();
    let logged = function
        .call(
            HttpEvent::new("POST", &format!("/meals/{id}/log"))
                .path_parameter("id", &id)
                .bearer(&token)
                .json(
                    &json!({"mealType": "lunch", "timestamp": "2024-07-12T12:00:00Z",
                              "servings": 1.5}),
                ),
        )
        .await;
    logged.assert_status(201);
    assert_eq!(logged.json()["entries"][0]["calories"], 150);
    // Three days in a row.
    assert_eq!(logged.json()["badgesEarned"][0]["id"], "streak_3");
    let read = function
        .call(
            HttpEvent::new("GET", &format!("/meals/{id}"))
                .path_parameter("id", &id)
                .bearer(&token),
        )
        .await;
    assert_eq!(read.json()["totals"]["calories"], 200);
    let removed = function
        .call(
            HttpEvent::new("DELETE", &format!("/meals/{id}"))
                .path_parameter("id", &id)
                .bearer(&token),
        )
        .await;
    assert_eq!(removed.json()["message"], "Meal deleted successfully");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_food_diary_answers_api_gateway_events() {
    let function = LambdaFunction::start(BINARY).await;
    let token = access_token("ann");
    let post = |body: Value| {
        HttpEvent::new("POST", "/food-entries")
            .bearer(&token)
            .json(&body)
    };

    // A JSON body with an Idempotency-Key header; the retry gets the first answer.
    let brulee = json!({"name": "Crème brûlée", "calories": 350, "mealType": "dinner",
                        "protein": 5, "timestamp": "2024-07-11T19:30:00Z"});
    let created = function
        .call(post(brulee.clone()).header("Idempotency-Key", "retry-1"))
        .await;
    created.assert_status(201);
    let entry = created.json();
    assert_eq!(entry["name"], "Crème brûlée");
    assert_eq!(entry["timestamp"], "2024-07-11T19:30:00.000Z");
    assert_eq!(entry["badgesEarned"][0]["id"], "first_entry");
    let retried = function
        .call(post(brulee).header("Idempotency-Key", "retry-1"))
        .await;
    retried.assert_status(201);
    assert_eq!(retried.body, created.body);
    assert_eq!(entries_in_database(&function).await, 1);

    for body in [
        json!({"name": "Porridge", "calories": 300, "mealType": "breakfast",
               "timestamp": "2024-07-11T07:00:00Z"}),
        json!({"name": "Salad", "calories": 250, "mealType": "lunch",
               "timestamp": "2024-07-12T12:00:00Z"}),
    ] {
        function.call(post(body)).await.assert_status(201);
    }

    // Query parameters: a day and a meal type.
    let dinners = function
        .call(
            HttpEvent::new("GET", "/food-entries")
                .bearer(&token)
                .query("date", "2024-07-11")
                .query("mealType", "dinner"),
        )
        .await;
    dinners.assert_status(200);
    assert_eq!(names(&dinners), ["Crème brûlée"]);
    // An instant with an offset: its `+` arrives encoded in the raw query string.
    let day = function
        .call(
            HttpEvent::new("GET", "/food-entries")
                .bearer(&token)
                .query("date", "2024-07-12T01:30:00+02:00"),
        )
        .await;
    day.assert_status(200);
    assert_eq!(names(&day), ["Porridge", "Crème brûlée"]);

    // Paging: the cursor comes back in X-Next-Cursor, under a named stage too.
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut event = HttpEvent::new("GET", "/food-entries")
            .stage("prod")
            .bearer(&token)
            .query("limit", "2");
        if let Some(cursor) = &cursor {
            event = event.query("cursor", cursor);
        }
        let page = function.call(event).await;
        page.assert_status(200);
        pages.push(names(&page));
        match page.header("x-next-cursor") {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, [vec!["Porridge", "Crème brûlée"], vec!["Salad"]]);

    // One entry by its id: read, changed, deleted.
    let id = entry["id"].as_str().unwrap();
    let read = function.call(entry_event("GET", id, &token)).await;
    read.assert_status(200);
    let mut expected = entry.clone();
    expected.as_object_mut().unwrap().remove("badgesEarned");
    assert_eq!(read.json(), expected);
    let changed = function
        .call(entry_event("PATCH", id, &token).json(&json!({"calories": 420.25})))
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json()["calories"], 420.25);
    assert_eq!(changed.json()["name"], "Crème brûlée");

    let badges = function
        .call(HttpEvent::new("GET", "/badges").bearer(&token))
        .await;
    badges.assert_status(200);
    let badges = badges.json();
    assert_eq!(badges[0]["id"], "first_entry");
    assert_eq!(badges[0]["earned"], true);
    assert_eq!(badges[1]["progress"], json!({"current": 3, "target": 10}));
    let streaks = function
        .call(HttpEvent::new("GET", "/streaks").bearer(&token))
        .await;
    streaks.assert_status(200);
    assert_eq!(
        streaks.json(),
        json!({"currentStreak": 0, "longestStreak": 2, "lastLoggedDate": "2024-07-12"})
    );

    let deleted = function.call(entry_event("DELETE", id, &token)).await;
    deleted.assert_status(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Food entry deleted successfully"})
    );
    function
        .call(entry_event("GET", id, &token))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(entries_in_database(&function).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_food_entries_function_refuses() {
    let function = LambdaFunction::start(BINARY).await;
    let ann = access_token("ann");
    let created = function
        .call(
            HttpEvent::new("POST", "/food-entries")
                .bearer(&ann)
                .json(&json!({"name": "Apple", "calories": 95, "mealType": "snack"})),
        )
        .await;
    created.assert_status(201);
    let id = created.json()["id"].as_str().unwrap().to_owned();

    // Another user's entry and a malformed id are both missing.
    let bob = access_token("bob");
    for (method, id) in [
        ("GET", id.as_str()),
        ("DELETE", id.as_str()),
        ("GET", "not-an-id"),
    ] {
        function
            .call(entry_event(method, id, &bob))
            .await
            .assert_error(404, "NOT_FOUND");
    }
    let error = function
        .call(
            HttpEvent::new("POST", "/food-entries")
                .bearer(&ann)
                .json(&json!({"name": "Pear", "calories": -1, "mealType": "snack"})),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["calories"].is_string(), "{error}");
    let error = function
        .call(
            HttpEvent::new("GET", "/food-entries")
                .bearer(&ann)
                .query("limit", "0"),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["limit"].is_string(), "{error}");
    assert_eq!(entries_in_database(&function).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_food_entries_function_without_the_jwt_secret_refuses_to_start() {
    let env = [(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1/db".to_owned(),
    )];
    assert_eq!(
        refused_start(BINARY, &env).await,
        "configuration error: JWT_SECRET: not set; the Auth Service's HS256 secret is required"
    );
}
