//! What every route shares: 404 and 405 as JSON, CORS, body limits, malformed JSON, request
//! ids, and a panic that becomes a plain 500.

use axum::Router;
use axum::routing::{get, post};
use http::{Method, header};
use serde_json::json;
use shared::AppState;
use shared::http::JsonBody;
use testkit::{Backend, TestApp};

fn probe() -> Router<AppState> {
    Router::new()
        .route(
            "/echo",
            post(|JsonBody(body): JsonBody| async move { axum::Json(body) }),
        )
        .route("/boom", get(boom))
}

async fn boom() -> &'static str {
    panic!("secret internals")
}

#[tokio::test]
async fn unknown_paths_are_404_json() {
    let app = TestApp::start(Backend::Sqlite).await;
    for path in ["/nope", "/health/extra", "/"] {
        let response = app.request(Method::GET, path).send().await;
        response.assert_error(404, "NOT_FOUND");
    }
}

#[tokio::test]
async fn a_known_path_with_a_wrong_method_is_405_json() {
    let app = TestApp::start(Backend::Sqlite).await;
    for method in [Method::POST, Method::DELETE, Method::PUT] {
        let response = app.request(method, "/health").send().await;
        response.assert_error(405, "METHOD_NOT_ALLOWED");
    }
}

#[tokio::test]
async fn cors_preflight_is_answered_for_any_origin_by_default() {
    let app = TestApp::start(Backend::Sqlite).await;
    let response = app
        .request(Method::OPTIONS, "/profile")
        .header(header::ORIGIN, "https://app.example.com")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type",
        )
        .send()
        .await;
    response.assert_status(200);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    let methods = response.header("access-control-allow-methods").unwrap();
    assert!(
        methods.contains("PUT") && methods.contains("PATCH"),
        "{methods}"
    );
    let headers = response
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("idempotency-key"),
        "{headers}"
    );
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::builder(Backend::Sqlite)
        .var(
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com,https://admin.example.com",
        )
        .start()
        .await;
    let allowed = app
        .request(Method::GET, "/health")
        .header(header::ORIGIN, "https://admin.example.com")
        .send()
        .await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://admin.example.com")
    );
    let exposed = allowed
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("x-next-cursor"), "{exposed}");

    let refused = app
        .request(Method::GET, "/health")
        .header(header::ORIGIN, "https://evil.example.com")
        .send()
        .await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn json_bodies_are_checked_and_bounded() {
    let app = TestApp::builder(Backend::Sqlite)
        .routes(probe())
        .start()
        .await;

    let ok = app
        .request(Method::POST, "/echo")
        .json(&json!({"a": 1}))
        .send()
        .await;
    ok.assert_status(200);
    assert_eq!(ok.json(), json!({"a": 1}));

    let malformed = app
        .request(Method::POST, "/echo")
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"a\": ")
        .send()
        .await;
    malformed.assert_error(400, "BAD_REQUEST");

    let not_json = app
        .request(Method::POST, "/echo")
        .header(header::CONTENT_TYPE, "text/plain")
        .body("{\"a\": 1}")
        .send()
        .await;
    not_json.assert_error(400, "BAD_REQUEST");

    let no_type = app.request(Method::POST, "/echo").body("{}").send().await;
    no_type.assert_error(400, "BAD_REQUEST");

    let big = json!({"text": "x".repeat(64 * 1024)});
    let too_large = app.request(Method::POST, "/echo").json(&big).send().await;
    too_large.assert_error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn a_panic_is_a_500_without_internals() {
    let app = TestApp::builder(Backend::Sqlite)
        .routes(probe())
        .start()
        .await;
    let response = app.request(Method::GET, "/boom").send().await;
    let body = response.assert_error(500, "INTERNAL");
    assert!(!response.text().contains("secret internals"), "{body}");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::start(Backend::Sqlite).await;
    let fresh = app.request(Method::GET, "/health").send().await;
    assert_eq!(fresh.header("x-request-id").map(str::len), Some(36));
    let given = app
        .request(Method::GET, "/nope")
        .header(http::HeaderName::from_static("x-request-id"), "req-123")
        .send()
        .await;
    assert_eq!(given.header("x-request-id"), Some("req-123"));
}
