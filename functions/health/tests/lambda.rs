//! The health function through its Lambda entry: the real binary, a Runtime API and
//! API Gateway HTTP API events.

use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::lambda::{
    FunctionProcess, HttpEvent, HttpResult, LambdaFunction, RuntimeApi, refused_start,
};

const BINARY: &str = env!("CARGO_BIN_EXE_health");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_api_gateway_events() {
    let function = LambdaFunction::builder(BINARY).s3().start().await;

    let healthy = function
        .call(HttpEvent::new("GET", "/health").query("probe", "1"))
        .await;
    assert_eq!(healthy.status, 200);
    assert_eq!(healthy.header("content-type"), Some("application/json"));
    assert_eq!(healthy.json()["checks"]["database"], "connected");
    assert_eq!(healthy.json()["checks"]["minio"], "connected");

    // A named stage puts its name in front of the path.
    let staged = function
        .call(HttpEvent::new("GET", "/health").stage("prod"))
        .await;
    assert_eq!(
        staged.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&staged.body)
    );

    let document = function.call(HttpEvent::new("GET", "/openapi.json")).await;
    assert_eq!(document.status, 200);
    assert_eq!(document.json()["openapi"], "3.1.0");

    let missing = function.call(HttpEvent::new("GET", "/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], "NOT_FOUND");

    // The request id is the invocation's AWS request id, unless the caller sent one.
    let aws_request_id = uuid::Uuid::new_v4().to_string();
    let event = HttpEvent::new("DELETE", "/health").to_json();
    let wrong_method =
        HttpResult::from_outcome(function.api.invoke_as(&aws_request_id, event).await);
    assert_eq!(wrong_method.status, 405);
    assert_eq!(
        wrong_method.header("x-request-id"),
        Some(aws_request_id.as_str())
    );
    let given = function
        .call(HttpEvent::new("GET", "/health").header("x-request-id", "mine"))
        .await;
    assert_eq!(given.header("x-request-id"), Some("mine"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_without_its_database_refuses_to_start_with_one_line() {
    assert_eq!(
        refused_start(BINARY, &[("JWT_SECRET", "s".to_owned())]).await,
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
    let unhealthy =
        HttpResult::from_outcome(api.invoke(HttpEvent::new("GET", "/health").to_json()).await);
    assert_eq!(unhealthy.status, 503);
    let body: Value = unhealthy.json();
    assert_eq!(body["checks"]["database"], "disconnected");
}
