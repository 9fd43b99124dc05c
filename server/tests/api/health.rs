//! `GET /health`: real checks of the database and the object store.

use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use serde_json::{Value, json};
use shared::AppState;
use shared::config::{Config, Env};
use testkit::{Backend, TestApp, backend_tests, closed_port};
use tower::ServiceExt;

async fn healthy_with_a_local_image_folder(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app.request(http::Method::GET, "/health").send().await;
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!({"status": "healthy", "service": "user-service",
               "checks": {"database": "connected", "minio": "connected"}})
    );
}

async fn healthy_with_s3(backend: Backend) {
    let app = TestApp::builder(backend).s3().start().await;
    let response = app.request(http::Method::GET, "/health").send().await;
    response.assert_status(200);
    assert_eq!(response.json()["checks"]["minio"], "connected");
}

backend_tests!(healthy_with_a_local_image_folder, healthy_with_s3);

/// The service on `vars`, without the harness's set-up (which would need the dependencies).
async fn health_of(vars: Vec<(&str, String)>) -> (u16, Value, String) {
    let data_dir = tempfile::tempdir().unwrap();
    let mut all = vec![
        ("DATA_DIR", data_dir.path().display().to_string()),
        ("JWT_SECRET", "s".to_owned()),
    ];
    all.extend(vars);
    let config = Config::load(&Env::from_pairs(all)).unwrap();
    let app = shared::http::app(server::routes(), AppState::new(config).unwrap());
    let request = Request::get("/health").body(Body::empty()).unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (status, serde_json::from_str(&text).unwrap(), text)
}

#[tokio::test]
async fn a_database_that_is_down_is_reported_quickly_and_without_secrets() {
    let started = Instant::now();
    let (status, body, text) = health_of(vec![(
        "DATABASE_URL",
        format!(
            "postgres://svc:db-password-123@127.0.0.1:{}/users",
            closed_port()
        ),
    )])
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["checks"]["database"], "disconnected");
    assert!(
        !text.contains("db-password-123") && !text.contains("svc"),
        "{text}"
    );
}

#[tokio::test]
async fn an_object_store_that_is_down_is_reported_without_secrets() {
    let (status, body, text) = health_of(vec![
        ("S3_ENDPOINT", format!("http://127.0.0.1:{}", closed_port())),
        ("S3_ACCESS_KEY", "access-key-abc".to_owned()),
        ("S3_SECRET_KEY", "secret-key-xyz".to_owned()),
    ])
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["database"], "connected");
    assert_eq!(body["checks"]["minio"], "disconnected");
    for secret in ["access-key-abc", "secret-key-xyz", "127.0.0.1"] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[tokio::test]
async fn a_missing_bucket_is_unhealthy() {
    // The local folder exists but no bucket was ever created in it.
    let (status, body, _) = health_of(vec![]).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["minio"], "disconnected");
}
