//! The health function through its Lambda entry: the real binary, a Runtime API and
//! API Gateway HTTP API events.

use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::lambda::{FunctionProcess, HttpEvent, HttpResult, RuntimeApi, function_env};
use testkit::{Backend, TestDb};

const BINARY: &str = env!("CARGO_BIN_EXE_health");

async fn start() -> (RuntimeApi, FunctionProcess, TestDb) {
    let (db, _store) = TestDb::migrated(Backend::Postgres).await;
    let api = RuntimeApi::start().await;
    let env = function_env(&db, true).await;
    let process = FunctionProcess::spawn(BINARY.as_ref(), &api, &env);
    (api, process, db)
}

async fn call(api: &RuntimeApi, event: HttpEvent) -> HttpResult {
    HttpResult::from_outcome(api.invoke(event.to_json()).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_api_gateway_events() {
    let (api, _process, _db) = start().await;

    let healthy = call(&api, HttpEvent::new("GET", "/health").query("probe", "1")).await;
    assert_eq!(healthy.status, 200);
    assert_eq!(healthy.header("content-type"), Some("application/json"));
    assert_eq!(healthy.json()["checks"]["database"], "connected");
    assert_eq!(healthy.json()["checks"]["minio"], "connected");

    // A named stage puts its name in front of the path.
    let staged = call(&api, HttpEvent::new("GET", "/health").stage("prod")).await;
    assert_eq!(
        staged.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&staged.body)
    );

    let document = call(&api, HttpEvent::new("GET", "/openapi.json")).await;
    assert_eq!(document.status, 200);
    assert_eq!(document.json()["openapi"], "3.1.0");

    let missing = call(&api, HttpEvent::new("GET", "/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], "NOT_FOUND");

    // The request id is the invocation's AWS request id, unless the caller sent one.
    let aws_request_id = uuid::Uuid::new_v4().to_string();
    let event = HttpEvent::new("DELETE", "/health").to_json();
    let wrong_method = HttpResult::from_outcome(api.invoke_as(&aws_request_id, event).await);
    assert_eq!(wrong_method.status, 405);
    assert_eq!(
        wrong_method.header("x-request-id"),
        Some(aws_request_id.as_str())
    );
    let given = call(
        &api,
        HttpEvent::new("GET", "/health").header("x-request-id", "mine"),
    )
    .await;
    assert_eq!(given.header("x-request-id"), Some("mine"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_without_its_database_refuses_to_start_with_one_line() {
    let api = RuntimeApi::start().await;
    let output = std::process::Command::new(BINARY)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("JWT_SECRET", "s")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim(),
        "configuration error: DATABASE_URL: not set; a Lambda function needs a postgres:// URL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_builds_no_connection_before_the_first_request() {
    // A database nobody listens on: the function still starts and polls for its first event,
    // because the pool connects on first use.
    let api = RuntimeApi::start().await;
    let closed = testkit::closed_port();
    let started = Instant::now();
    let first_poll = api.first_poll();
    let mut process = FunctionProcess::spawn(
        BINARY.as_ref(),
        &api,
        &[
            (
                "DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:{closed}/none"),
            ),
            ("JWT_SECRET", "s".to_owned()),
        ],
    );
    tokio::time::timeout(Duration::from_secs(10), first_poll)
        .await
        .expect("the function asks for its first event");
    assert!(process.exited().is_none());
    assert!(started.elapsed() < Duration::from_secs(10));
    let unhealthy = call(&api, HttpEvent::new("GET", "/health")).await;
    assert_eq!(unhealthy.status, 503);
    let body: Value = unhealthy.json();
    assert_eq!(body["checks"]["database"], "disconnected");
}
