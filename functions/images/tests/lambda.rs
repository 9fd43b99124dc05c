//! The images function through its Lambda entry: the real binary, a Runtime API and API
//! Gateway HTTP API events with base64 bodies, on the test S3 server.

use serde_json::json;
use testkit::access_token;
use testkit::lambda::{HttpEvent, LambdaFunction, invocation_of, refused_start};

const BINARY: &str = env!("CARGO_BIN_EXE_images");

/// A real 1×1 PNG; its first byte (0x89) makes it invalid UTF-8.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\x64\xf8\xcf\x50\x0f\x00\x03\x86\x01\x80\x5a\x34\x7d\x6b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

/// An event on one image, as API Gateway sends it for the route `/images/{bucket}/{key+}`.
fn image_event(method: &str, bucket: &str, key: &str, token: &str) -> HttpEvent {
    HttpEvent::new(method, &format!("/images/{bucket}/{key}"))
        .stage("prod")
        .path_parameter("bucket", bucket)
        .path_parameter("key", key)
        .bearer(token)
}

/// A direct upload through the function's events: the grant, the bytes sent straight to S3
/// on the presigned URL, then the image read and linked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_upload_and_a_link_through_api_gateway_events() {
    let function = LambdaFunction::builder(BINARY).s3().start().await;
    let bucket = function.var("FOOD_IMAGES_BUCKET").to_owned();
    let token = access_token("ann");
    let granted = function
        .call(
            HttpEvent::new("POST", &format!("/images/{bucket}/uploads"))
                .path_parameter("bucket", &bucket)
                .path_parameter("key", "uploads")
                .bearer(&token)
                .json(&json!({"contentType": "image/png", "size": PNG.len()})),
        )
        .await;
    granted.assert_status(201);
    let granted = granted.json();
    let upload = &granted["upload"];
    let client = testkit::reqwest::Client::new();
    let mut put = client
        .put(upload["url"].as_str().unwrap())
        .body(PNG.to_vec());
    for (name, value) in upload["headers"].as_object().unwrap() {
        if name != "content-length" {
            put = put.header(name, value.as_str().unwrap());
        }
    }
    assert_eq!(put.send().await.unwrap().status(), 200);
    let key = granted["key"].as_str().unwrap();
    let read = function
        .call(image_event("GET", &bucket, key, &token))
        .await;
    read.assert_status(200);
    assert_eq!(read.body, PNG);
    let link = function
        .call(image_event("GET", &bucket, &format!("{key}/link"), &token))
        .await;
    link.assert_status(200);
    let fetched = client
        .get(link.json()["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), PNG);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_image_round_trips_through_api_gateway_events() {
    let function = LambdaFunction::builder(BINARY)
        .s3()
        .var("RUST_LOG", "info")
        .start()
        .await;
    let bucket = function.var("FOOD_IMAGES_BUCKET").to_owned();
    let token = access_token("ann");

    let uploaded = function
        .call(
            HttpEvent::new("POST", &format!("/images/{bucket}"))
                .stage("prod")
                .path_parameter("bucket", &bucket)
                .bearer(&token)
                .header("content-length", &PNG.len().to_string())
                .binary("image/png", PNG),
        )
        .await;
    uploaded.assert_status(201);
    assert!(!uploaded.base64, "JSON goes back as text");
    let created = uploaded.json();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ann/") && key.ends_with(".png"), "{key}");
    let url = format!("/images/{bucket}/{key}");
    assert_eq!(created, json!({"bucket": bucket, "key": key, "url": url}));
    assert_eq!(uploaded.header("location"), Some(url.as_str()));

    // The bytes come back base64-encoded, exactly, with their caching headers.
    let read = function
        .call(image_event("GET", &bucket, &key, &token))
        .await;
    read.assert_status(200);
    assert!(read.base64);
    assert_eq!(read.body, PNG);
    assert_eq!(read.header("content-type"), Some("image/png"));
    assert_eq!(read.header("cache-control"), Some("private"));
    let content_length = PNG.len().to_string();
    assert_eq!(read.header("content-length"), Some(content_length.as_str()));
    let etag = read.header("etag").expect("an ETag").to_owned();

    let cached = function
        .call(image_event("GET", &bucket, &key, &token).header("if-none-match", &etag))
        .await;
    cached.assert_status(304);
    assert!(cached.body.is_empty());
    assert_eq!(cached.header("etag"), Some(etag.as_str()));

    // Only its owner reads it.
    function
        .call(image_event("GET", &bucket, &key, &access_token("bob")))
        .await
        .assert_error(404, "NOT_FOUND");

    let deleted = function
        .call(image_event("DELETE", &bucket, &key, &token))
        .await;
    deleted.assert_status(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Image deleted successfully"})
    );
    function
        .call(image_event("GET", &bucket, &key, &token))
        .await
        .assert_error(404, "NOT_FOUND");

    // JSON logs: the cold start with its init time, then every line names its invocation,
    // the handlers' own lines too.
    let logs = function
        .logs_until(|line| line["message"] == "image deleted")
        .await;
    let (cold, served): (Vec<_>, Vec<_>) = logs
        .iter()
        .partition(|line| line["message"] == "cold start");
    assert_eq!(cold.len(), 1, "{logs:#?}");
    assert!(cold[0]["init_ms"].is_number());
    for line in &served {
        assert!(invocation_of(line).is_some(), "{line}");
    }
    let upload_line = served
        .iter()
        .find(|line| line["message"] == "image uploaded")
        .expect("the upload is logged");
    assert_eq!(invocation_of(upload_line), uploaded.header("x-request-id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_that_are_not_images_are_refused() {
    let function = LambdaFunction::builder(BINARY).s3().start().await;
    let bucket = function.var("PROFILE_PICTURES_BUCKET").to_owned();
    let token = access_token("ann");
    let upload = |content_type: &str, bytes: &[u8]| {
        HttpEvent::new("POST", &format!("/images/{bucket}"))
            .bearer(&token)
            .binary(content_type, bytes)
    };
    function
        .call(upload("text/plain", b"hello"))
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    function
        .call(upload("image/gif", PNG))
        .await
        .assert_error(400, "BAD_REQUEST");
    function
        .call(
            HttpEvent::new("POST", "/images/other-bucket")
                .bearer(&token)
                .binary("image/png", PNG),
        )
        .await
        .assert_error(404, "NOT_FOUND");
    function
        .call(HttpEvent::new("POST", &format!("/images/{bucket}")).binary("image/png", PNG))
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_images_function_with_half_its_s3_keys_refuses_to_start() {
    let env = [
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1/db".to_owned(),
        ),
        ("JWT_SECRET", "s".to_owned()),
        ("S3_ACCESS_KEY", "key".to_owned()),
    ];
    assert_eq!(
        refused_start(BINARY, &env).await,
        "configuration error: S3_SECRET_KEY: not set (S3_ACCESS_KEY is)"
    );
}
