//! Large payloads straight to object storage: direct uploads on signed URLs checked at their
//! first use, download links and exports written to the exports bucket; on the local folder
//! (signed URLs of the local server) and on the S3 test server (presigned URLs) alike.

use std::time::Duration;

use axum::body::Bytes;
use http::Method;
use serde_json::{Value, json};
use shared::objects::{ObjectKey, Signed};
use testkit::{Backend, ObjectBackend, TestApp, backend_and_store_tests, seed};

use crate::images::{PNG, food_images, profile_pictures, start};

const MIB: usize = 1024 * 1024;

/// The answer of a request sent to a signed URL: in-process when it is the local server's,
/// else over HTTP to the S3 server.
struct Sent {
    status: u16,
    body: Bytes,
}

/// The local server's URL of the test apps (`PUBLIC_BASE_URL` by default).
const LOCAL_BASE: &str = "http://127.0.0.1:8082";

async fn send(
    app: &TestApp,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Bytes,
) -> Sent {
    if let Some(path) = url.strip_prefix(LOCAL_BASE) {
        let mut request = app.request(method.parse().unwrap(), path);
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case("content-length") {
                request = request.header(name.parse().unwrap(), value);
            }
        }
        let response = request.body(body).send().await;
        return Sent {
            status: response.status.as_u16(),
            body: response.body,
        };
    }
    let client = reqwest::Client::new();
    let mut request = client.request(method.parse().unwrap(), url);
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name, value);
        }
    }
    let response = request
        .body(body)
        .send()
        .await
        .expect("the S3 server answers");
    Sent {
        status: response.status().as_u16(),
        body: response.bytes().await.unwrap(),
    }
}

/// The headers of a signed request, as the API gives them.
fn headers_of(upload: &Value) -> Vec<(String, String)> {
    upload["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect()
}

/// A PNG of exactly `size` bytes: the signature and a header, then padding.
fn png_of(size: usize) -> Bytes {
    let mut bytes = PNG.to_vec();
    bytes.resize(size, 0);
    Bytes::from(bytes)
}

async fn grant(app: &TestApp, user: &str, bucket: &str, content_type: &str, size: usize) -> Value {
    let response = app
        .post(
            &format!("/images/{bucket}/uploads"),
            user,
            json!({"contentType": content_type, "size": size}),
        )
        .await;
    response.assert_status(201);
    response.json()
}

async fn put(app: &TestApp, granted: &Value, bytes: Bytes) -> u16 {
    let upload = &granted["upload"];
    assert_eq!(upload["method"], "PUT");
    send(
        app,
        "PUT",
        upload["url"].as_str().unwrap(),
        &headers_of(upload),
        bytes,
    )
    .await
    .status
}

async fn a_5_mib_image_goes_up_and_down_on_signed_urls(backend: Backend, store: ObjectBackend) {
    let app = start(backend, store).await;
    let bucket = food_images(&app);
    let image = png_of(5 * MIB);
    let granted = grant(&app, "alice", &bucket, "image/png", image.len()).await;
    let key = granted["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("alice/") && key.ends_with(".png"), "{key}");
    assert_eq!(granted["url"], format!("/images/{bucket}/{key}"));
    let expires =
        shared::time::parse_instant(granted["upload"]["expiresAt"].as_str().unwrap()).unwrap();
    let ttl = expires - chrono::Utc::now();
    assert!(
        ttl > chrono::Duration::minutes(14) && ttl <= chrono::Duration::minutes(15),
        "{ttl}"
    );
    assert_eq!(put(&app, &granted, image.clone()).await, 200);

    // Its first use checks it; then it is read as any image, and named as an imageKey.
    let read = app.get(&format!("/images/{bucket}/{key}"), "alice").await;
    read.assert_status(200);
    assert_eq!(read.body, image);
    let entry = app
        .post(
            "/food-entries",
            "alice",
            json!({"name": "Soup", "calories": 100, "mealType": "lunch", "imageKey": key}),
        )
        .await;
    entry.assert_status(201);

    let link = app
        .get(&format!("/images/{bucket}/{key}/link"), "alice")
        .await;
    link.assert_status(200);
    let link = link.json();
    let expires = shared::time::parse_instant(link["expiresAt"].as_str().unwrap()).unwrap()
        - chrono::Utc::now();
    assert!(expires <= chrono::Duration::minutes(5), "{expires}");
    let downloaded = send(
        &app,
        "GET",
        link["url"].as_str().unwrap(),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(downloaded.status, 200);
    assert_eq!(downloaded.body, image);
    // Links are the owner's only.
    app.get(&format!("/images/{bucket}/{key}/link"), "bob")
        .await
        .assert_error(404, "NOT_FOUND");
}

async fn an_upload_that_is_not_its_type_is_deleted_at_first_use(
    backend: Backend,
    store: ObjectBackend,
) {
    let app = start(backend, store).await;
    let pictures = profile_pictures(&app);
    let images = food_images(&app);
    let fake = Bytes::from_static(b"<svg>not a png at all</svg>");
    let named = grant(&app, "alice", &pictures, "image/png", fake.len()).await;
    assert_eq!(put(&app, &named, fake.clone()).await, 200);
    let key = named["key"].as_str().unwrap();
    let object = ObjectKey::parse(key).unwrap();
    // As a profile picture: refused, and gone.
    let error = app
        .put("/profile", "alice", json!({"profilePicture": key}))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["profilePicture"].is_string(), "{error}");
    let objects = app.state.objects().await.unwrap();
    assert!(objects.etag(&pictures, &object).await.unwrap().is_none());
    app.get(&format!("/images/{pictures}/{key}"), "alice")
        .await
        .assert_error(404, "NOT_FOUND");

    // Read first: the same.
    let read = grant(&app, "alice", &images, "image/png", fake.len()).await;
    assert_eq!(put(&app, &read, fake.clone()).await, 200);
    let key = read["key"].as_str().unwrap();
    app.get(&format!("/images/{images}/{key}"), "alice")
        .await
        .assert_error(404, "NOT_FOUND");
    let error = app
        .post(
            "/food-entries",
            "alice",
            json!({"name": "Soup", "calories": 1, "mealType": "lunch", "imageKey": key}),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["imageKey"].is_string(), "{error}");

    // Granted but never sent: missing at its first use.
    let never = grant(&app, "alice", &images, "image/png", 100).await;
    let key = never["key"].as_str().unwrap();
    app.get(&format!("/images/{images}/{key}/link"), "alice")
        .await
        .assert_error(404, "NOT_FOUND");
    assert!(
        app.state
            .store()
            .upload("alice", &images, key)
            .await
            .unwrap()
            .is_none()
    );
}

async fn upload_grants_are_validated(backend: Backend, store: ObjectBackend) {
    let app = start(backend, store).await;
    let bucket = food_images(&app);
    for (body, field) in [
        (
            json!({"contentType": "image/svg+xml", "size": 10}),
            "contentType",
        ),
        (json!({"contentType": "image/png", "size": 0}), "size"),
        (
            json!({"contentType": "image/png", "size": 5 * MIB + 1}),
            "size",
        ),
        (json!({"contentType": "image/png"}), "size"),
        (
            json!({"contentType": "image/png", "size": 10, "key": "alice/x.png"}),
            "key",
        ),
    ] {
        let error = app
            .post(&format!("/images/{bucket}/uploads"), "alice", body.clone())
            .await
            .assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    app.post(
        "/images/no-such-bucket/uploads",
        "alice",
        json!({"contentType": "image/png", "size": 10}),
    )
    .await
    .assert_error(404, "NOT_FOUND");
}

async fn a_history_of_100_000_entries_is_exported_to_the_object_store(
    backend: Backend,
    store: ObjectBackend,
) {
    let app = start(backend, store).await;
    seed::user(app.state.store(), "ann").await;
    let first = shared::time::parse_date("2020-01-01").unwrap();
    let entries: Vec<seed::Entry> = (0..100_000)
        .map(|n| {
            seed::Entry::on(
                first + chrono::Duration::days(n / 50),
                100.0 + (n % 7) as f64,
            )
        })
        .collect();
    seed::entries(&app.db, "ann", &entries).await;

    let created = app.post("/exports", "ann", json!({})).await;
    created.assert_status(201);
    let created = created.json();
    assert_eq!(created["format"], "json");
    let bytes = created["bytes"].as_u64().unwrap();
    assert!(bytes > 20 * MIB as u64, "{bytes}");
    let downloaded = send(
        &app,
        "GET",
        created["url"].as_str().unwrap(),
        &[],
        Bytes::new(),
    )
    .await;
    assert_eq!(downloaded.status, 200);
    assert_eq!(downloaded.body.len() as u64, bytes);
    let document: Value = serde_json::from_slice(&downloaded.body).unwrap();
    assert_eq!(document["entries"].as_array().unwrap().len(), 100_000);
    assert_eq!(document["profile"]["stats"]["totalEntries"], 100_000);

    // One log as CSV, and a body that asks for nothing else.
    let csv = app
        .post(
            "/exports",
            "ann",
            json!({"format": "csv", "kind": "entries"}),
        )
        .await;
    csv.assert_status(201);
    let csv = csv.json();
    let downloaded = send(&app, "GET", csv["url"].as_str().unwrap(), &[], Bytes::new()).await;
    let text = String::from_utf8(downloaded.body.to_vec()).unwrap();
    assert_eq!(text.lines().count(), 1 + 100_000);
    app.post("/exports", "ann", json!({"format": "xml"}))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    app.post("/exports", "ann", json!({"since": "2020-01-01"}))
        .await
        .assert_error(400, "VALIDATION_FAILED");
    // No body at all: the JSON document.
    let bare = app
        .request(Method::POST, "/exports")
        .user("ann")
        .send()
        .await;
    bare.assert_status(201);
    assert_eq!(bare.json()["format"], "json");
}

backend_and_store_tests!(
    a_5_mib_image_goes_up_and_down_on_signed_urls,
    an_upload_that_is_not_its_type_is_deleted_at_first_use,
    upload_grants_are_validated,
    a_history_of_100_000_entries_is_exported_to_the_object_store,
);

/// The local server's URLs grant exactly what they were signed for: another object, method,
/// type or length, a tampered signature or an expired URL is a 403 and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_servers_signed_urls_are_refused_when_tampered_expired_or_reused() {
    let app = TestApp::start(Backend::Sqlite).await;
    let bucket = food_images(&app);
    let image = png_of(1000);
    let granted = grant(&app, "alice", &bucket, "image/png", image.len()).await;
    let url = granted["upload"]["url"].as_str().unwrap().to_owned();
    let headers = headers_of(&granted["upload"]);
    let key = granted["key"].as_str().unwrap().to_owned();
    let other = ObjectKey::generate("alice", "png").unwrap();
    let refused = |status: u16| assert_eq!(status, 403);

    let tampered = url.replace("signature=", "signature=0");
    refused(
        send(&app, "PUT", &tampered, &headers, image.clone())
            .await
            .status,
    );
    let moved = url.replace(&key, other.as_str());
    refused(
        send(&app, "PUT", &moved, &headers, image.clone())
            .await
            .status,
    );
    let later = url.replace("expires=", "expires=9");
    refused(
        send(&app, "PUT", &later, &headers, image.clone())
            .await
            .status,
    );
    refused(send(&app, "PUT", &url, &headers, png_of(999)).await.status);
    let jpeg = vec![("Content-Type".to_owned(), "image/jpeg".to_owned())];
    refused(send(&app, "PUT", &url, &jpeg, image.clone()).await.status);
    // An upload URL does not read.
    refused(send(&app, "GET", &url, &[], Bytes::new()).await.status);
    let objects = app.state.objects().await.unwrap();
    let object = ObjectKey::parse(&key).unwrap();
    assert!(objects.etag(&bucket, &object).await.unwrap().is_none());

    assert_eq!(
        send(&app, "PUT", &url, &headers, image.clone())
            .await
            .status,
        200
    );
    // Expired: signed for no time at all.
    let expired = objects
        .presign(
            &bucket,
            &object,
            Signed::Download { filename: None },
            Duration::ZERO,
        )
        .await
        .unwrap();
    let response = send(&app, "GET", &expired.url, &[], Bytes::new()).await;
    refused(response.status);
    assert!(String::from_utf8_lossy(&response.body).contains("expired"));
    let fresh = objects
        .presign(
            &bucket,
            &object,
            Signed::Download { filename: None },
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(
        send(&app, "GET", &fresh.url, &[], Bytes::new()).await.body,
        image
    );
    // A bucket or path the store does not have is no object at all.
    let outside = fresh
        .url
        .replace(&format!("/objects/{bucket}/"), "/objects/../");
    assert_eq!(
        send(&app, "GET", &outside, &[], Bytes::new()).await.status,
        404
    );
}

/// S3's presigned upload signs the content type and the length, and expires in 15 minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_upload_urls_sign_the_type_and_the_length() {
    let app = start(Backend::Sqlite, ObjectBackend::S3).await;
    let bucket = food_images(&app);
    let granted = grant(&app, "alice", &bucket, "image/jpeg", 2048).await;
    let url = reqwest::Url::parse(granted["upload"]["url"].as_str().unwrap()).unwrap();
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["X-Amz-Expires"], "900");
    let signed: Vec<&str> = query["X-Amz-SignedHeaders"].split(';').collect();
    for header in ["content-length", "content-type", "host"] {
        assert!(signed.contains(&header), "{signed:?}");
    }
    assert!(
        url.path().ends_with(granted["key"].as_str().unwrap()),
        "{url}"
    );
    let headers = headers_of(&granted["upload"]);
    assert!(
        headers.contains(&("content-type".to_owned(), "image/jpeg".to_owned())),
        "{headers:?}"
    );
    assert!(
        headers.contains(&("content-length".to_owned(), "2048".to_owned())),
        "{headers:?}"
    );
}
