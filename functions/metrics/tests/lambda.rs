//! The metrics function through its Lambda entry: the real binary, a Runtime API and API
//! Gateway HTTP API events.

use serde_json::{Value, json};
use testkit::lambda::{HttpEvent, LambdaFunction, refused_start};
use testkit::{access_token, seed};

const BINARY: &str = env!("CARGO_BIN_EXE_metrics");

/// `GET|PATCH|DELETE /{log}/{id}` as API Gateway routes it.
fn record(method: &str, log: &str, id: &str, token: &str) -> HttpEvent {
    HttpEvent::new(method, &format!("/{log}/{id}"))
        .path_parameter("id", id)
        .bearer(token)
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("an id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_logs_answer_api_gateway_events() {
    let function = LambdaFunction::start(BINARY).await;
    seed::user(&function.store, "ann").await;
    let token = access_token("ann");
    let post = |path: &str, body: Value| HttpEvent::new("POST", path).bearer(&token).json(&body);

    // Two weigh-ins; the trend starts at the first and closes a tenth of each gap.
    for (weight, at) in [(80, "2024-07-10T08:00:00Z"), (79, "2024-07-12T08:00:00Z")] {
        function
            .call(post(
                "/weight-entries",
                json!({"weight": weight, "timestamp": at}),
            ))
            .await
            .assert_status(201);
    }
    let trend = function
        .call(
            HttpEvent::new("GET", "/weight-trend")
                .bearer(&token)
                .query("startDate", "2024-07-09")
                .query("endDate", "2024-07-12"),
        )
        .await;
    trend.assert_status(200);
    assert_eq!(
        trend.json(),
        json!([
            {"date": "2024-07-09", "weight": null, "trend": null},
            {"date": "2024-07-10", "weight": 80, "trend": 80},
            {"date": "2024-07-11", "weight": null, "trend": 80},
            {"date": "2024-07-12", "weight": 79, "trend": 79.9},
        ])
    );

    // An activity from its MET and the latest weigh-in: 8 × 79 kg × 45 / 60.
    let cycled = function
        .call(post(
            "/activity-entries",
            json!({"name": " Cycling ", "met": 8, "durationMinutes": 45,
                   "timestamp": "2024-07-12T18:00:00Z"}),
        ))
        .await;
    cycled.assert_status(201);
    let cycled = cycled.json();
    assert_eq!(cycled["name"], "Cycling");
    assert_eq!(cycled["caloriesBurned"], 474);
    assert_eq!(cycled["date"], "2024-07-12");
    // A shorter ride is recomputed the same way.
    let shorter = function
        .call(
            record("PATCH", "activity-entries", &id_of(&cycled), &token)
                .json(&json!({"durationMinutes": 30})),
        )
        .await;
    shorter.assert_status(200);
    assert_eq!(shorter.json()["caloriesBurned"], 316);

    // Water, with a retried POST answered once.
    let drink = || {
        post(
            "/water-entries",
            json!({"amount": 500, "timestamp": "2024-07-12T09:00:00Z"}),
        )
        .header("idempotency-key", "drink-1")
    };
    let first = function.call(drink()).await;
    first.assert_status(201);
    let retried = function.call(drink()).await;
    retried.assert_status(201);
    assert_eq!(retried.json(), first.json());
    let listed = function
        .call(
            HttpEvent::new("GET", "/water-entries")
                .bearer(&token)
                .query("date", "2024-07-12"),
        )
        .await;
    listed.assert_status(200);
    assert_eq!(listed.json(), json!([first.json()]));
    let water = id_of(&first.json());
    let deleted = function
        .call(record("DELETE", "water-entries", &water, &token))
        .await;
    deleted.assert_status(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Water entry deleted successfully"})
    );
    function
        .call(record("GET", "water-entries", &water, &token))
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_metrics_function_refuses() {
    let function = LambdaFunction::start(BINARY).await;
    seed::user(&function.store, "bob").await;
    let token = access_token("bob");
    let post = |path: &str, body: Value| HttpEvent::new("POST", path).bearer(&token).json(&body);
    // No weigh-in yet: nothing to compute the calories from.
    let error = function
        .call(post(
            "/activity-entries",
            json!({"name": "Run", "met": 10, "durationMinutes": 30}),
        ))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["caloriesBurned"].is_string(), "{error}");
    // These bodies come from the app only: an unknown field is a mistake.
    let error = function
        .call(post("/water-entries", json!({"amount": 250, "unit": "ml"})))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["unit"].is_string(), "{error}");
    let error = function
        .call(
            HttpEvent::new("GET", "/weight-trend")
                .bearer(&token)
                .query("startDate", "2024-01-01")
                .query("endDate", "2025-01-02"),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error.to_string().contains("366"), "{error}");
    function
        .call(HttpEvent::new("GET", "/weight-entries"))
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_function_without_the_jwt_secret_refuses_to_start() {
    let env = [(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1/db".to_owned(),
    )];
    assert_eq!(
        refused_start(BINARY, &env).await,
        "configuration error: JWT_SECRET: not set; the Auth Service's HS256 secret is required"
    );
}
