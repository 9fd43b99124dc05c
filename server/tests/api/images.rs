//! Images (CONTRACT §3 "Images"): upload, owner-only read and delete, conditional reads, and
//! the binary round trip through the Lambda event path; on every pairing of a database
//! backend and an object store.

use std::time::Duration;

use axum::body::Body;
use axum::body::Bytes;
use futures_util::{StreamExt, stream};
use http::{Method, Request, header};
use serde_json::{Value, json};
use shared::objects::ObjectKey;
use testkit::sqlx;
use testkit::{Backend, ObjectBackend, TestApp, TestResponse, backend_and_store_tests, with_pool};

/// A real 1×1 PNG; its first byte (0x89) makes it invalid UTF-8.
pub const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\x64\xf8\xcf\x50\x0f\x00\x03\x86\x01\x80\x5a\x34\x7d\x6b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
/// [`PNG`] in base64, computed independently of this service (as API Gateway sends it).
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
/// A real 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
/// The head of a JFIF file.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";
/// The head of a lossless WebP file.
const WEBP: &[u8] = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00";

const MIB: usize = 1024 * 1024;

pub async fn start(backend: Backend, store: ObjectBackend) -> TestApp {
    TestApp::builder(backend).objects(store).start().await
}

pub fn profile_pictures(app: &TestApp) -> String {
    app.state.buckets().profile_pictures.clone()
}

pub fn food_images(app: &TestApp) -> String {
    app.state.buckets().food_images.clone()
}

/// Uploads `bytes` as `content_type` to `bucket` as `user`.
pub async fn upload(
    app: &TestApp,
    user: &str,
    bucket: &str,
    content_type: &str,
    bytes: &'static [u8],
) -> TestResponse {
    app.request(Method::POST, &format!("/images/{bucket}"))
        .user(user)
        .header(header::CONTENT_TYPE, content_type)
        .body(Bytes::from_static(bytes))
        .send()
        .await
}

/// Uploads a PNG and returns its key.
pub async fn upload_png(app: &TestApp, user: &str, bucket: &str) -> String {
    let response = upload(app, user, bucket, "image/png", PNG).await;
    response.assert_status(201);
    response.json()["key"].as_str().unwrap().to_owned()
}

async fn image_rows(app: &TestApp) -> i64 {
    with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM images")
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}

/// The owners with objects in `bucket`.
async fn owners_in(app: &TestApp, bucket: &str) -> Vec<String> {
    let objects = app.state.objects().await.unwrap();
    objects.list_owners(bucket, None, 100).await.unwrap()
}

async fn stored(app: &TestApp, bucket: &str, key: &str) -> Option<Bytes> {
    let objects = app.state.objects().await.unwrap();
    let key = ObjectKey::parse(key).unwrap();
    objects
        .get(bucket, &key)
        .await
        .unwrap()
        .map(|object| object.bytes)
}

async fn each_type_round_trips_with_caching_headers(backend: Backend, store: ObjectBackend) {
    let app = start(backend, store).await;
    let buckets = [profile_pictures(&app), food_images(&app)];
    let cases: [(&str, &[u8], &str); 4] = [
        ("image/jpeg", JPEG, "jpg"),
        ("image/png", PNG, "png"),
        ("image/webp", WEBP, "webp"),
        ("image/gif", GIF, "gif"),
    ];
    for (n, (content_type, bytes, extension)) in cases.into_iter().enumerate() {
        let bucket = &buckets[n % 2];
        let response = upload(&app, "alice", bucket, content_type, bytes).await;
        response.assert_status(201);
        let body = response.json();
        let key = body["key"].as_str().unwrap();
        assert!(key.starts_with("alice/"), "{key}");
        assert!(key.ends_with(&format!(".{extension}")), "{key}");
        let url = format!("/images/{bucket}/{key}");
        assert_eq!(body, json!({"bucket": bucket, "key": key, "url": url}));
        assert_eq!(response.header("location"), Some(url.as_str()));
        assert!(
            app.state
                .store()
                .upload("alice", bucket, key)
                .await
                .unwrap()
                .is_some()
        );

        let read = app.get(&url, "alice").await;
        read.assert_status(200);
        assert_eq!(read.body, bytes);
        assert_eq!(read.header("content-type"), Some(content_type));
        assert_eq!(
            read.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
        assert_eq!(read.header("cache-control"), Some("private"));
        assert_eq!(read.header("x-content-type-options"), Some("nosniff"));
        let etag = read.header("etag").expect("an ETag").to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

        for current in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"x\", {etag}"),
            "*".into(),
        ] {
            let cached = app
                .request(Method::GET, &url)
                .user("alice")
                .header(header::IF_NONE_MATCH, &current)
                .send()
                .await;
            cached.assert_status(304);
            assert!(cached.body.is_empty());
            assert_eq!(cached.header("etag"), Some(etag.as_str()));
            assert_eq!(cached.header("cache-control"), Some("private"));
        }
        let stale = app
            .request(Method::GET, &url)
            .user("alice")
            .header(header::IF_NONE_MATCH, "\"stale\"")
            .send()
            .await;
        stale.assert_status(200);
        assert_eq!(stale.body, bytes);
    }
    assert_eq!(image_rows(&app).await, 4);
}

async fn bad_uploads_are_refused_and_store_nothing(backend: Backend, store: ObjectBackend) {
    let app = start(backend, store).await;
    let bucket = profile_pictures(&app);

    for content_type in [
        "text/plain",
        "image/svg+xml",
        "application/octet-stream",
        "image/jpg",
    ] {
        upload(&app, "alice", &bucket, content_type, PNG)
            .await
            .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let undeclared = app
        .request(Method::POST, &format!("/images/{bucket}"))
        .user("alice")
        .body(Bytes::from_static(PNG))
        .send()
        .await;
    undeclared.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");

    // Bytes that are not of the declared type.
    for (content_type, bytes) in [
        ("image/png", JPEG),
        ("image/jpeg", PNG),
        ("image/gif", WEBP),
        ("image/webp", b"RIFF\x1a\x00\x00\x00WAVEfmt ".as_slice()),
        ("image/png", b"".as_slice()),
        (
            "image/png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".as_slice(),
        ),
    ] {
        upload(&app, "alice", &bucket, content_type, bytes)
            .await
            .assert_error(400, "BAD_REQUEST");
    }

    // Only the two configured buckets.
    for other in ["unknown", "images", "profile-pictures-2", "..", "%2e%2e"] {
        upload(&app, "alice", other, "image/png", PNG)
            .await
            .assert_error(404, "NOT_FOUND");
    }

    app.request(Method::POST, &format!("/images/{bucket}"))
        .header(header::CONTENT_TYPE, "image/png")
        .body(Bytes::from_static(PNG))
        .send()
        .await
        .assert_error(401, "UNAUTHORIZED");

    assert_eq!(image_rows(&app).await, 0);
    assert!(owners_in(&app, &bucket).await.is_empty());
    assert!(owners_in(&app, &food_images(&app)).await.is_empty());
}

fn png_of_size(size: usize) -> Bytes {
    let mut bytes = PNG.to_vec();
    bytes.resize(size, 0);
    Bytes::from(bytes)
}

async fn the_size_limit_is_5_mib(backend: Backend, store: ObjectBackend) {
    let app = start(backend, store).await;
    let bucket = profile_pictures(&app);
    let post = |body: Body, length: Option<usize>| {
        let mut request = Request::post(format!("/images/{bucket}"))
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token("alice")),
            )
            .header(header::CONTENT_TYPE, "image/png");
        if let Some(length) = length {
            request = request.header(header::CONTENT_LENGTH, length);
        }
        app.send(request.body(body).unwrap())
    };

    let exactly = png_of_size(5 * MIB);
    let response = post(Body::from(exactly.clone()), Some(exactly.len())).await;
    response.assert_status(201);
    let key = response.json()["key"].as_str().unwrap().to_owned();
    assert_eq!(stored(&app, &bucket, &key).await.unwrap(), exactly);

    // One byte more, with its length declared or not.
    post(Body::from(png_of_size(5 * MIB + 1)), Some(5 * MIB + 1))
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    post(Body::from(png_of_size(5 * MIB + 1)), None)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    // A declared length over the limit is refused before the body is read.
    post(Body::from(Bytes::from_static(PNG)), Some(6 * MIB))
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    // A body that never ends is cut off at the limit, not buffered.
    let endless = stream::iter(
        std::iter::once(Bytes::from_static(PNG))
            .chain(std::iter::repeat(Bytes::from(vec![0u8; 64 * 1024]))),
    )
    .map(Ok::<_, std::convert::Infallible>);
    let cut_off = tokio::time::timeout(
        Duration::from_secs(30),
        post(Body::from_stream(endless), None),
    )
    .await
    .expect("an endless body is cut off");
    cut_off.assert_error(413, "PAYLOAD_TOO_LARGE");

    assert_eq!(image_rows(&app).await, 1);
}

async fn malformed_and_foreign_keys_are_404_and_touch_nothing(
    backend: Backend,
    store: ObjectBackend,
) {
    let app = start(backend, store).await;
    let pp = profile_pictures(&app);
    let fi = food_images(&app);
    let own = upload_png(&app, "alice", &pp).await;
    let foreign = upload_png(&app, "bob", &pp).await;
    let own_name = own.split_once('/').unwrap().1.to_owned();
    // Files outside the bucket that a path escaping it would reach (on disk).
    let images_root = app.data_dir.path().join("images");
    let outside = [
        app.data_dir.path().join("secret.png"),
        images_root.join("secret.png"),
        images_root.join(&pp).join("secret.png"),
    ];
    for file in &outside {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, PNG).unwrap();
    }

    let paths = [
        format!("/images/{pp}/{foreign}"),
        format!("/images/{pp}/alice/..%2F..%2Fsecret.png"),
        format!("/images/{pp}/alice/%2e%2e/%2e%2e/secret.png"),
        format!(
            "/images/{pp}/alice/%2e%2e%2fbob%2f{}",
            foreign.split_once('/').unwrap().1
        ),
        format!("/images/{pp}/alice/.."),
        format!("/images/{pp}/alice/%2e%2e"),
        format!("/images/{pp}/..%2Fsecret.png"),
        format!("/images/{pp}/%2e%2e/secret.png"),
        format!("/images/{pp}/alice%5C{own_name}"),
        format!("/images/{pp}/alice/..%5C..%5Csecret.png"),
        format!("/images/{pp}//alice/{own_name}"),
        format!("/images/{pp}/%2Falice%2F{own_name}"),
        format!("/images/{pp}/%2Fetc%2Fpasswd"),
        format!("/images/{pp}/alice//{own_name}"),
        format!("/images/{pp}/alice/"),
        format!("/images/{pp}/alice"),
        format!("/images/{pp}/alice/sub/{own_name}"),
        format!("/images/{pp}/alice/.hidden.png"),
        format!("/images/{pp}/alice/%FF.png"),
        format!("/images/{pp}/alice/missing.png"),
        format!("/images/{pp}/secret.png"),
        format!("/images/{fi}/{own}"),
        format!("/images/unknown/{own}"),
        format!("/images/..%2F{pp}/{own}"),
        format!("/images/%2e%2e/{pp}/{own}"),
    ];
    for path in &paths {
        for method in [Method::GET, Method::DELETE] {
            let response = app.request(method.clone(), path).user("alice").send().await;
            assert_eq!(
                response.status.as_u16(),
                404,
                "{method} {path}: {}",
                response.text()
            );
            assert_eq!(response.json()["code"], "NOT_FOUND", "{method} {path}");
        }
    }

    // Nothing was touched: both uploads and their records, and every file outside the bucket.
    assert_eq!(stored(&app, &pp, &own).await.unwrap(), PNG);
    assert_eq!(stored(&app, &pp, &foreign).await.unwrap(), PNG);
    assert!(
        app.state
            .store()
            .upload("bob", &pp, &foreign)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(image_rows(&app).await, 2);
    for file in &outside {
        assert_eq!(std::fs::read(file).unwrap(), PNG, "{}", file.display());
    }
    app.get(&format!("/images/{pp}/{own}"), "alice")
        .await
        .assert_status(200);
    app.get(&format!("/images/{pp}/{foreign}"), "bob")
        .await
        .assert_status(200);
}

async fn delete_removes_the_image_its_record_and_what_named_it(
    backend: Backend,
    store: ObjectBackend,
) {
    let app = start(backend, store).await;
    let pp = profile_pictures(&app);
    let fi = food_images(&app);
    let picture = upload_png(&app, "alice", &pp).await;
    let photo = upload_png(&app, "alice", &fi).await;
    let kept = upload_png(&app, "alice", &fi).await;
    let now = shared::time::now();
    with_pool!(app.db, |pool| {
        sqlx::query("UPDATE users SET profile_picture = $1 WHERE id = 'alice'")
            .bind(&picture)
            .execute(&pool)
            .await
            .unwrap();
        for (id, key) in [("e1", &photo), ("e2", &kept)] {
            sqlx::query(
                "INSERT INTO food_entries (id, user_id, name, calories, meal_type, created_at, \
                 eaten_at, local_date, image_key) \
                 VALUES ($1, 'alice', 'Toast', 120, 'breakfast', $2, $2, $3, $4)",
            )
            .bind(id)
            .bind(now)
            .bind(now.date_naive())
            .bind(key)
            .execute(&pool)
            .await
            .unwrap();
        }
    });

    for (bucket, key) in [(&pp, &picture), (&fi, &photo)] {
        let url = format!("/images/{bucket}/{key}");
        let deleted = app.delete(&url, "alice").await;
        deleted.assert_status(200);
        assert_eq!(
            deleted.json(),
            json!({"message": "Image deleted successfully"})
        );
        app.get(&url, "alice").await.assert_error(404, "NOT_FOUND");
        assert!(stored(&app, bucket, key).await.is_none());
        assert!(
            app.state
                .store()
                .upload("alice", bucket, key)
                .await
                .unwrap()
                .is_none()
        );
        app.delete(&url, "alice")
            .await
            .assert_error(404, "NOT_FOUND");
    }

    let (picture_now, image_keys): (Option<String>, Vec<(String, Option<String>)>) =
        with_pool!(app.db, |pool| {
            let picture =
                sqlx::query_scalar("SELECT profile_picture FROM users WHERE id = 'alice'")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            let keys = sqlx::query_as("SELECT id, image_key FROM food_entries ORDER BY id")
                .fetch_all(&pool)
                .await
                .unwrap();
            (picture, keys)
        });
    assert_eq!(picture_now, None);
    assert_eq!(
        image_keys,
        vec![
            ("e1".to_owned(), None),
            ("e2".to_owned(), Some(kept.clone()))
        ]
    );
    assert_eq!(stored(&app, &fi, &kept).await.unwrap(), PNG);
    assert_eq!(image_rows(&app).await, 1);
}

async fn an_unrecorded_object_of_the_owner_is_served_and_deleted(
    backend: Backend,
    store: ObjectBackend,
) {
    let app = start(backend, store).await;
    let fi = food_images(&app);
    // Stored without a record, as the previous service stored its uploads.
    let key = ObjectKey::parse("alice/legacy-photo.gif").unwrap();
    let objects = app.state.objects().await.unwrap();
    objects
        .put(&fi, &key, Bytes::from_static(GIF), "image/gif")
        .await
        .unwrap();

    let url = format!("/images/{fi}/{key}");
    let read = app.get(&url, "alice").await;
    read.assert_status(200);
    assert_eq!(read.header("content-type"), Some("image/gif"));
    app.get(&url, "bob").await.assert_error(404, "NOT_FOUND");
    app.delete(&url, "bob").await.assert_error(404, "NOT_FOUND");
    app.delete(&url, "alice").await.assert_status(200);
    assert!(objects.get(&fi, &key).await.unwrap().is_none());
    app.delete(&url, "alice")
        .await
        .assert_error(404, "NOT_FOUND");
}

async fn every_image_endpoint_needs_a_token(backend: Backend, store: ObjectBackend) {
    let app = start(backend, store).await;
    let pp = profile_pictures(&app);
    let key = upload_png(&app, "alice", &pp).await;
    for method in [Method::GET, Method::DELETE] {
        app.request(method, &format!("/images/{pp}/{key}"))
            .send()
            .await
            .assert_error(401, "UNAUTHORIZED");
    }
    assert_eq!(stored(&app, &pp, &key).await.unwrap(), PNG);
}

/// An API Gateway HTTP API (payload 2.0) event, as API Gateway sends it.
fn gateway_event(method: &str, path: &str, token: &str, body: Option<(&str, &str)>) -> Value {
    let mut headers = json!({
        "authorization": format!("Bearer {token}"),
        "host": "abc123.execute-api.eu-west-1.amazonaws.com",
        "user-agent": "food-app/1.0",
        "x-forwarded-proto": "https",
    });
    if let Some((content_type, _)) = body {
        headers["content-type"] = json!(content_type);
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "food-app/1.0"
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "11/Jul/2024:10:30:00 +0000",
            "timeEpoch": 1_720_693_800_000_u64
        },
        "body": body.map(|(_, body)| body),
        "isBase64Encoded": body.is_some(),
    })
}

async fn a_binary_image_round_trips_through_the_lambda_event_path(
    backend: Backend,
    store: ObjectBackend,
) {
    // The images function's own router, as its Lambda serves it.
    let app = TestApp::builder(backend)
        .objects(store)
        .routes(images::router())
        .start()
        .await;
    let bucket = profile_pictures(&app);
    let token = app.token("lambda-user");

    let uploaded = app
        .lambda(gateway_event(
            "POST",
            &format!("/images/{bucket}"),
            &token,
            Some(("image/png", PNG_BASE64)),
        ))
        .await;
    assert_eq!(uploaded["statusCode"], 201, "{uploaded}");
    assert_eq!(uploaded["isBase64Encoded"], false, "JSON goes back as text");
    let created: Value = serde_json::from_str(uploaded["body"].as_str().unwrap()).unwrap();
    let key = created["key"].as_str().unwrap();
    assert!(
        key.starts_with("lambda-user/") && key.ends_with(".png"),
        "{key}"
    );
    assert_eq!(stored(&app, &bucket, key).await.unwrap(), PNG);

    let url = created["url"].as_str().unwrap();
    let read = app.lambda(gateway_event("GET", url, &token, None)).await;
    assert_eq!(read["statusCode"], 200, "{read}");
    assert_eq!(read["isBase64Encoded"], true);
    assert_eq!(read["body"], PNG_BASE64);
    assert_eq!(read["headers"]["content-type"], "image/png");
    assert_eq!(read["headers"]["content-length"], PNG.len().to_string());
    assert_eq!(read["headers"]["cache-control"], "private");
    let etag = read["headers"]["etag"].as_str().unwrap();

    let mut conditional = gateway_event("GET", url, &token, None);
    conditional["headers"]["if-none-match"] = json!(etag);
    let cached = app.lambda(conditional).await;
    assert_eq!(cached["statusCode"], 304, "{cached}");
    assert!(cached["body"].is_null() || cached["body"] == "", "{cached}");

    let deleted = app.lambda(gateway_event("DELETE", url, &token, None)).await;
    assert_eq!(deleted["statusCode"], 200, "{deleted}");
    let missing = app.lambda(gateway_event("GET", url, &token, None)).await;
    assert_eq!(missing["statusCode"], 404);
    let error: Value = serde_json::from_str(missing["body"].as_str().unwrap()).unwrap();
    assert_eq!(error["code"], "NOT_FOUND");
}

/// On AWS the buckets' names are generated; clients keep the contract's names.
#[tokio::test]
async fn the_contracts_bucket_names_reach_buckets_configured_otherwise() {
    let app = start(Backend::Sqlite, ObjectBackend::S3).await;
    let (configured_pp, configured_fi) = (profile_pictures(&app), food_images(&app));
    assert_ne!(configured_pp, "profile-pictures");
    for (contract, configured) in [
        ("profile-pictures", &configured_pp),
        ("food-images", &configured_fi),
    ] {
        let response = upload(&app, "alice", contract, "image/png", PNG).await;
        response.assert_status(201);
        let body = response.json();
        let key = body["key"].as_str().unwrap();
        let url = format!("/images/{contract}/{key}");
        assert_eq!(body, json!({"bucket": contract, "key": key, "url": url}));
        assert_eq!(stored(&app, configured, key).await.as_deref(), Some(PNG));
        for path in [url.clone(), format!("/images/{configured}/{key}")] {
            let read = app.get(&path, "alice").await;
            read.assert_status(200);
            assert_eq!(read.body, PNG);
        }
        app.delete(&url, "alice").await.assert_status(200);
        assert_eq!(stored(&app, configured, key).await, None);
    }
    // A profile picture is named from either bucket name.
    let key = upload_png(&app, "alice", "profile-pictures").await;
    app.put("/profile", "alice", json!({"profilePicture": key}))
        .await
        .assert_status(200);
    upload(&app, "alice", "other-images", "image/png", PNG)
        .await
        .assert_error(404, "NOT_FOUND");
}

backend_and_store_tests!(
    each_type_round_trips_with_caching_headers,
    bad_uploads_are_refused_and_store_nothing,
    the_size_limit_is_5_mib,
    malformed_and_foreign_keys_are_404_and_touch_nothing,
    delete_removes_the_image_its_record_and_what_named_it,
    an_unrecorded_object_of_the_owner_is_served_and_deleted,
    every_image_endpoint_needs_a_token,
    a_binary_image_round_trips_through_the_lambda_event_path,
);

#[tokio::test]
async fn reading_an_image_costs_one_round_trip_and_uploading_two() {
    let app = TestApp::builder(Backend::Postgres)
        .count_round_trips()
        .start()
        .await;
    let bucket = profile_pictures(&app);
    let key = upload_png(&app, "counted", &bucket).await;
    let url = format!("/images/{bucket}/{key}");
    assert_eq!(app.round_trips_of(|| app.get(&url, "counted")).await, 1);
    let uploads = app
        .round_trips_of(|| upload(&app, "counted", &bucket, "image/png", PNG))
        .await;
    assert_eq!(uploads, 2);
}
