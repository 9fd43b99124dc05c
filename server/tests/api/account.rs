//! Account actions (CONTRACT §3 "Account actions") against the Auth Service as a real HTTP
//! peer (wiremock): what is forwarded, what comes back, and what an account deletion deletes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use http::{Method, header};
use serde_json::{Value, json};
use shared::maintenance::remove_orphaned_images;
use shared::objects::ObjectKey;
use shared::store::NewUser;
use testkit::sqlx;
use testkit::{
    Backend, FaultyS3, ObjectBackend, TestApp, TestResponse, backend_tests, closed_port_url,
    with_pool,
};
use wiremock::matchers::{body_json, header as has_header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::images::{food_images, profile_pictures, upload_png};

/// The only headers the Auth Service may see: ours, never the caller's others.
const FORWARDED_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "content-length",
    "accept",
    "host",
];

/// The tables that hold a user's rows (besides `users`).
const USER_TABLES: [&str; 16] = [
    "activity_days",
    "activity_entries",
    "daily_totals",
    "food_entries",
    "food_summaries",
    "idempotency_keys",
    "images",
    "meals",
    "user_badges",
    "user_onboarding_data",
    "user_preferences",
    "user_totals",
    "water_days",
    "water_entries",
    "weight_days",
    "weight_entries",
];

fn deletion() -> Value {
    json!({"password": "hunter2", "confirmationText": "DELETE"})
}

fn passwords() -> Value {
    json!({"currentPassword": "old pass ", "newPassword": "new-pass-1"})
}

async fn app_with(auth_url: &str, backend: Backend, store: ObjectBackend) -> TestApp {
    TestApp::builder(backend)
        .objects(store)
        .auth_service(auth_url)
        .start()
        .await
}

async fn create_user(app: &TestApp, id: &str) {
    app.state
        .store()
        .create_user(&NewUser {
            id: id.into(),
            email: format!("{id}@example.com"),
            name: Some(id.into()),
            created_at: shared::time::now(),
        })
        .await
        .unwrap();
}

/// What a user has here: their keys in both buckets.
struct Seeded {
    pictures: Vec<String>,
    photos: Vec<String>,
}

/// A user with a row in every table and images in both buckets.
async fn seed(app: &TestApp, user: &str) -> Seeded {
    create_user(app, user).await;
    let now = shared::time::now();
    with_pool!(app.db, |pool| {
        let statements = [
            "INSERT INTO user_preferences (user_id, created_at) VALUES ($1, $2)",
            "INSERT INTO user_onboarding_data (user_id, age, created_at) VALUES ($1, 30, $2)",
            "INSERT INTO user_badges (user_id, badge_id, badge_name, earned_at) \
             VALUES ($1, 'first_entry', 'First Bite', $2)",
            "INSERT INTO idempotency_keys (user_id, idempotency_key, created_at) \
             VALUES ($1, 'retry-1', $2)",
        ];
        for statement in statements {
            sqlx::query(statement)
                .bind(user)
                .bind(now)
                .execute(&pool)
                .await
                .unwrap();
        }
    });
    // The logs through the API, which keeps their days and totals.
    for (path, body) in [
        (
            "/food-entries",
            json!({"name": "Apple", "calories": 95, "mealType": "snack"}),
        ),
        ("/weight-entries", json!({"weight": 70.5})),
        (
            "/activity-entries",
            json!({"name": "Run", "caloriesBurned": 300}),
        ),
        ("/water-entries", json!({"amount": 250})),
        (
            "/meals",
            json!({"name": "Usual", "items": [{"name": "Apple", "calories": 95}]}),
        ),
    ] {
        app.post(path, user, body).await.assert_status(201);
    }
    let (pp, fi) = (profile_pictures(app), food_images(app));
    Seeded {
        pictures: vec![upload_png(app, user, &pp).await],
        photos: vec![
            upload_png(app, user, &fi).await,
            upload_png(app, user, &fi).await,
        ],
    }
}

/// The tables with a `user_id` column, from the database's own catalog; but
/// `account_deletions`, whose record of a deletion outlives the user's rows on purpose.
async fn tables_naming_users(app: &TestApp) -> Vec<String> {
    with_pool!(app.db, |pool| {
        let sql = match app.backend() {
            Backend::Postgres => {
                "SELECT DISTINCT table_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND column_name = 'user_id' \
                 AND table_name <> 'account_deletions' ORDER BY 1"
            }
            Backend::Sqlite => {
                "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND p.name = 'user_id' \
                 AND m.name <> 'account_deletions' ORDER BY 1"
            }
        };
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    })
}

/// How many rows each table holds of `user` (`users` included).
async fn rows_of(app: &TestApp, user: &str) -> BTreeMap<String, i64> {
    let tables = tables_naming_users(app).await;
    with_pool!(app.db, |pool| {
        let mut rows = BTreeMap::new();
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap();
        rows.insert("users".to_owned(), users);
        for table in &tables {
            // The names come from the catalog, not from input.
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE user_id = $1");
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(user)
                .fetch_one(&pool)
                .await
                .unwrap();
            rows.insert(table.clone(), count);
        }
        rows
    })
}

/// Whether each of the user's images is still stored.
async fn images_stored(app: &TestApp, seeded: &Seeded) -> Vec<bool> {
    let objects = app.state.objects().await.unwrap();
    let (pp, fi) = (profile_pictures(app), food_images(app));
    let keys = seeded
        .pictures
        .iter()
        .map(|key| (&pp, key))
        .chain(seeded.photos.iter().map(|key| (&fi, key)));
    let mut stored = Vec::new();
    for (bucket, key) in keys {
        let key = ObjectKey::parse(key).unwrap();
        stored.push(objects.etag(bucket, &key).await.unwrap().is_some());
    }
    stored
}

async fn delete_account(app: &TestApp, token: &str, body: &Value) -> TestResponse {
    app.request(Method::DELETE, "/account")
        .bearer(token)
        .json(body)
        .send()
        .await
}

async fn change_password(app: &TestApp, token: &str, body: &Value) -> TestResponse {
    app.request(Method::PUT, "/change-password")
        .bearer(token)
        .json(body)
        .send()
        .await
}

async fn deletion_answered(auth: &MockServer, status: u16, body: Value) {
    Mock::given(method("DELETE"))
        .and(path("/delete-account"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(auth)
        .await;
}

/// Asserts that only our own headers reached the Auth Service.
async fn assert_only_our_headers_reached(auth: &MockServer) {
    let received = auth.received_requests().await.unwrap();
    assert!(!received.is_empty());
    for request in received {
        for name in request.headers.keys() {
            assert!(
                FORWARDED_HEADERS.contains(&name.as_str()),
                "{} {} received {name}",
                request.method,
                request.url.path()
            );
        }
    }
}

/// A request carrying every header a proxy or browser could add, none of which is ours to
/// forward.
fn with_foreign_headers(request: testkit::TestRequest<'_>) -> testkit::TestRequest<'_> {
    [
        (header::COOKIE, "session=secret"),
        (header::CONNECTION, "keep-alive, x-private"),
        (header::HeaderName::from_static("keep-alive"), "timeout=5"),
        (header::TE, "trailers"),
        (header::UPGRADE, "h2c"),
        (header::PROXY_AUTHORIZATION, "Basic cHJveHk6c2VjcmV0"),
        (header::HeaderName::from_static("x-private"), "hop"),
        (
            header::HeaderName::from_static("x-forwarded-for"),
            "203.0.113.7",
        ),
        (
            header::HeaderName::from_static("x-forwarded-proto"),
            "https",
        ),
        (
            header::HeaderName::from_static("x-forwarded-host"),
            "api.example.com",
        ),
        (header::FORWARDED, "for=203.0.113.7"),
        (header::HeaderName::from_static("x-real-ip"), "203.0.113.7"),
        (header::HeaderName::from_static("x-request-id"), "req-1"),
        (header::ORIGIN, "https://app.example.com"),
        (header::REFERER, "https://app.example.com/settings"),
        (header::USER_AGENT, "food-app/1.0"),
        (header::ACCEPT_LANGUAGE, "de"),
    ]
    .into_iter()
    .fold(request, |request, (name, value)| {
        request.header(name, value)
    })
}

// --- Change password -----------------------------------------------------------------------

#[tokio::test]
async fn change_password_forwards_the_callers_token_and_body_and_returns_the_answer() {
    let auth = MockServer::start().await;
    let app = app_with(&auth.uri(), Backend::Sqlite, ObjectBackend::Local).await;
    let token = app.token("ann");
    Mock::given(method("PUT"))
        .and(path("/change-password"))
        .and(has_header(
            "authorization",
            format!("Bearer {token}").as_str(),
        ))
        .and(has_header("content-type", "application/json"))
        .and(body_json(passwords()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "Password updated successfully"}))
                .insert_header("set-cookie", "auth=1"),
        )
        .expect(1)
        .mount(&auth)
        .await;

    let response = with_foreign_headers(app.request(Method::PUT, "/change-password"))
        .bearer(&token)
        .json(&passwords())
        .send()
        .await;
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!({"message": "Password updated successfully"})
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.header("set-cookie"),
        None,
        "its headers stay there"
    );
    auth.verify().await;
    assert_only_our_headers_reached(&auth).await;
    // Forwarding needs no user here: nothing was created.
    assert_eq!(rows_of(&app, "ann").await["users"], 0);
}

#[tokio::test]
async fn change_password_refusals_come_back_as_they_are() {
    let cases = [
        (400, json!({"detail": "Current password is incorrect"})),
        (401, json!({"detail": "Could not validate credentials"})),
        (404, json!({"detail": "User not found"})),
        (
            422,
            json!({"detail": [{"loc": ["body", "newPassword"], "msg": "too short", "type": "value_error"}]}),
        ),
    ];
    for (status, body) in cases {
        let auth = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/change-password"))
            .respond_with(ResponseTemplate::new(status).set_body_json(&body))
            .mount(&auth)
            .await;
        let app = app_with(&auth.uri(), Backend::Sqlite, ObjectBackend::Local).await;
        let response = change_password(&app, &app.token("ann"), &passwords()).await;
        response.assert_status(status);
        assert_eq!(response.json(), body);
        if status == 401 {
            assert_eq!(response.header("www-authenticate"), Some("Bearer"));
        }
    }
}

#[tokio::test]
async fn change_password_validates_our_side_and_forwards_nothing_bad() {
    let auth = MockServer::start().await;
    let app = app_with(&auth.uri(), Backend::Sqlite, ObjectBackend::Local).await;
    let token = app.token("ann");
    let cases = [
        (json!({"newPassword": "x"}), "currentPassword"),
        (json!({"currentPassword": "x"}), "newPassword"),
        (
            json!({"currentPassword": "x", "newPassword": 12345678}),
            "newPassword",
        ),
        (
            json!({"currentPassword": null, "newPassword": "x"}),
            "currentPassword",
        ),
        (
            json!({"currentPassword": "", "newPassword": "x"}),
            "currentPassword",
        ),
        (
            json!({"currentPassword": ["x"], "newPassword": "x"}),
            "currentPassword",
        ),
        (json!(["x"]), "body"),
    ];
    for (body, field) in cases {
        let response = change_password(&app, &token, &body).await;
        let error = response.assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    let malformed = app
        .request(Method::PUT, "/change-password")
        .bearer(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"currentPassword\": ")
        .send()
        .await;
    malformed.assert_error(400, "BAD_REQUEST");
    app.request(Method::PUT, "/change-password")
        .json(&passwords())
        .send()
        .await
        .assert_error(401, "UNAUTHORIZED");
    assert!(auth.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn change_password_is_503_when_the_auth_service_fails_is_slow_is_down_or_is_not_configured() {
    let failing = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .mount(&failing)
        .await;
    let slow = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "too late"}))
                .set_delay(Duration::from_secs(20)),
        )
        .mount(&slow)
        .await;
    for url in [failing.uri(), slow.uri(), closed_port_url()] {
        let app = app_with(&url, Backend::Sqlite, ObjectBackend::Local).await;
        let started = Instant::now();
        let response = change_password(&app, &app.token("ann"), &passwords()).await;
        response.assert_error(503, "AUTH_SERVICE_UNAVAILABLE");
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{url}: took {:?}",
            started.elapsed()
        );
    }
    let unconfigured = TestApp::start(Backend::Sqlite).await;
    change_password(&unconfigured, &unconfigured.token("ann"), &passwords())
        .await
        .assert_error(503, "AUTH_SERVICE_UNAVAILABLE");
}

// --- Account deletion ----------------------------------------------------------------------

async fn a_confirmed_deletion_removes_every_row_and_image_of_the_user(backend: Backend) {
    for store in [ObjectBackend::Local, ObjectBackend::S3] {
        let auth = MockServer::start().await;
        let app = app_with(&auth.uri(), backend, store).await;
        let doomed = seed(&app, "doomed").await;
        let bystander = seed(&app, "bystander").await;
        let token = app.token("doomed");
        Mock::given(method("DELETE"))
            .and(path("/delete-account"))
            .and(has_header(
                "authorization",
                format!("Bearer {token}").as_str(),
            ))
            .and(body_json(deletion()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"message": "Account deleted"})),
            )
            .expect(1)
            .mount(&auth)
            .await;

        // Every table that names a user is seeded, so each one is checked.
        let tables = tables_naming_users(&app).await;
        assert_eq!(tables, USER_TABLES);
        let before = rows_of(&app, "doomed").await;
        assert!(before.values().all(|&rows| rows > 0), "{before:?}");

        let response = with_foreign_headers(app.request(Method::DELETE, "/account"))
            .bearer(&token)
            .json(&deletion())
            .send()
            .await;
        response.assert_status(200);
        assert_eq!(
            response.json(),
            json!({"message": "Account deleted successfully"})
        );
        auth.verify().await;
        assert_only_our_headers_reached(&auth).await;

        let after = rows_of(&app, "doomed").await;
        assert!(
            after.values().all(|&rows| rows == 0),
            "{store:?}: {after:?}"
        );
        assert_eq!(images_stored(&app, &doomed).await, [false; 3], "{store:?}");
        // Nobody else lost anything.
        assert_eq!(rows_of(&app, "bystander").await, before);
        assert_eq!(
            images_stored(&app, &bystander).await,
            [true; 3],
            "{store:?}"
        );
    }
}

async fn every_foreign_key_to_users_cascades(backend: Backend) {
    let app = TestApp::start(backend).await;
    let keys: Vec<(String, String)> = with_pool!(app.db, |pool| {
        let sql = match app.backend() {
            Backend::Postgres => {
                "SELECT conrelid::regclass::text, confdeltype::text FROM pg_constraint \
                 WHERE contype = 'f' AND confrelid = 'users'::regclass ORDER BY 1"
            }
            Backend::Sqlite => {
                "SELECT m.name, f.on_delete FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
                 WHERE m.type = 'table' AND f.\"table\" = 'users' ORDER BY 1"
            }
        };
        sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
    });
    let tables: Vec<&str> = keys.iter().map(|(table, _)| table.as_str()).collect();
    assert_eq!(tables, USER_TABLES);
    assert_eq!(tables_naming_users(&app).await, USER_TABLES);
    for (table, on_delete) in &keys {
        assert!(
            matches!(on_delete.as_str(), "c" | "CASCADE"),
            "{table}: ON DELETE {on_delete}"
        );
    }
}

async fn a_refused_or_failed_deletion_deletes_nothing(backend: Backend) {
    let refusals = [
        (400, json!({"detail": "Invalid password"})),
        (401, json!({"detail": "Could not validate credentials"})),
        (403, json!({"detail": "Confirmation text must be DELETE"})),
        (404, json!({"detail": "User not found"})),
    ];
    for (status, body) in refusals {
        let auth = MockServer::start().await;
        deletion_answered(&auth, status, body.clone()).await;
        let app = app_with(&auth.uri(), backend, ObjectBackend::Local).await;
        let seeded = seed(&app, "ann").await;
        let before = rows_of(&app, "ann").await;
        let response = delete_account(&app, &app.token("ann"), &deletion()).await;
        response.assert_status(status);
        assert_eq!(response.json(), body);
        assert_eq!(rows_of(&app, "ann").await, before, "after {status}");
        assert_eq!(images_stored(&app, &seeded).await, [true; 3]);
    }

    let failing = MockServer::start().await;
    deletion_answered(&failing, 500, json!({"detail": "Internal Server Error"})).await;
    let slow = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "Account deleted"}))
                .set_delay(Duration::from_secs(20)),
        )
        .mount(&slow)
        .await;
    for url in [failing.uri(), slow.uri(), closed_port_url()] {
        let app = app_with(&url, backend, ObjectBackend::Local).await;
        let seeded = seed(&app, "ann").await;
        let before = rows_of(&app, "ann").await;
        let started = Instant::now();
        delete_account(&app, &app.token("ann"), &deletion())
            .await
            .assert_error(503, "AUTH_SERVICE_UNAVAILABLE");
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{url}: took {:?}",
            started.elapsed()
        );
        assert_eq!(rows_of(&app, "ann").await, before, "{url}");
        assert_eq!(images_stored(&app, &seeded).await, [true; 3]);
    }

    let unconfigured = TestApp::start(backend).await;
    let seeded = seed(&unconfigured, "ann").await;
    let before = rows_of(&unconfigured, "ann").await;
    delete_account(&unconfigured, &unconfigured.token("ann"), &deletion())
        .await
        .assert_error(503, "AUTH_SERVICE_UNAVAILABLE");
    assert_eq!(rows_of(&unconfigured, "ann").await, before);
    assert_eq!(images_stored(&unconfigured, &seeded).await, [true; 3]);
}

/// The rows are deleted before the Auth Service is asked: a database that cannot delete them
/// stops the deletion while the account still exists everywhere.
async fn a_database_that_cannot_delete_stops_the_deletion_before_the_auth_service(
    backend: Backend,
) {
    let auth = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "Deleted"})))
        .expect(0)
        .mount(&auth)
        .await;
    let app = app_with(&auth.uri(), backend, ObjectBackend::Local).await;
    let seeded = seed(&app, "ann").await;
    let before = rows_of(&app, "ann").await;
    let refuse_deletes = match backend {
        Backend::Postgres => {
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'deletes refused'; END $$; \
             CREATE TRIGGER refuse BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION refuse();"
        }
        Backend::Sqlite => {
            "CREATE TRIGGER refuse BEFORE DELETE ON users \
             BEGIN SELECT RAISE(ABORT, 'deletes refused'); END;"
        }
    };
    with_pool!(app.db, |pool| {
        sqlx::raw_sql(refuse_deletes).execute(&pool).await.unwrap();
    });

    let response = delete_account(&app, &app.token("ann"), &deletion()).await;
    response.assert_error(500, "INTERNAL");
    assert!(!response.text().contains("deletes refused"));
    auth.verify().await;
    assert_eq!(rows_of(&app, "ann").await, before);
    assert_eq!(images_stored(&app, &seeded).await, [true; 3]);
}

async fn a_deletion_body_is_validated_before_anything_is_forwarded(backend: Backend) {
    let auth = MockServer::start().await;
    let app = app_with(&auth.uri(), backend, ObjectBackend::Local).await;
    seed(&app, "ann").await;
    let before = rows_of(&app, "ann").await;
    let token = app.token("ann");
    for (body, field) in [
        (json!({"confirmationText": "DELETE"}), "password"),
        (json!({"password": "x"}), "confirmationText"),
        (
            json!({"password": 1, "confirmationText": "DELETE"}),
            "password",
        ),
        (json!("DELETE"), "body"),
    ] {
        let error = delete_account(&app, &token, &body)
            .await
            .assert_error(400, "VALIDATION_FAILED");
        assert!(error["fields"][field].is_string(), "{body}: {error}");
    }
    app.request(Method::DELETE, "/account")
        .bearer(&token)
        .send()
        .await
        .assert_error(400, "BAD_REQUEST");
    assert!(auth.received_requests().await.unwrap().is_empty());
    assert_eq!(rows_of(&app, "ann").await, before);
}

async fn image_deletion_failing_midway_is_finished_by_the_orphan_scan(backend: Backend) {
    let logs = testkit::logs::capture();
    let auth = MockServer::start().await;
    deletion_answered(&auth, 200, json!({"message": "Account deleted"})).await;
    let proxy = FaultyS3::start().await;
    let app = TestApp::builder(backend)
        .s3_at(proxy.endpoint())
        .auth_service(&auth.uri())
        .start()
        .await;
    let doomed = seed(&app, "doomed").await;
    let bystander = seed(&app, "bystander").await;
    let fi = food_images(&app);

    // The object store fails after the first bucket: the food images cannot be deleted.
    proxy.refuse_deletions_in(Some(&fi));
    let response = delete_account(&app, &app.token("doomed"), &deletion()).await;
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!({"message": "Account deleted successfully"})
    );
    assert!(
        rows_of(&app, "doomed")
            .await
            .values()
            .all(|&rows| rows == 0)
    );
    assert_eq!(images_stored(&app, &doomed).await, [false, true, true]);
    // The log says why, not only what.
    let line = logs
        .text()
        .lines()
        .find(|line| line.contains("images of a deleted account left for the scheduled job"))
        .map(str::to_owned)
        .expect("the failure is logged");
    assert!(
        line.contains("AccessDenied") || line.contains("403"),
        "{line}"
    );

    // Once the store works again, the scheduled scan removes the leftovers and nothing else.
    proxy.refuse_deletions_in(None);
    let objects = app.state.objects().await.unwrap();
    let scan = remove_orphaned_images(app.state.store(), objects, &fi, None, 100)
        .await
        .unwrap();
    assert_eq!((scan.owners_removed, scan.objects_removed), (1, 2));
    assert_eq!(images_stored(&app, &doomed).await, [false; 3]);
    assert_eq!(images_stored(&app, &bystander).await, [true; 3]);
}

async fn a_deleted_user_with_a_still_valid_token_is_not_recreated(backend: Backend) {
    let auth = MockServer::start().await;
    deletion_answered(&auth, 200, json!({"message": "Account deleted"})).await;
    let app = app_with(&auth.uri(), backend, ObjectBackend::Local).await;
    seed(&app, "gone").await;
    let token = app.token("gone");
    delete_account(&app, &token, &deletion())
        .await
        .assert_status(200);

    // The Auth Service no longer knows the user: every request that needs them is a 404.
    auth.reset().await;
    Mock::given(method("GET"))
        .and(path("/profile"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"detail": "User not found"})))
        .mount(&auth)
        .await;
    let pp = profile_pictures(&app);
    let upload = app
        .request(Method::POST, &format!("/images/{pp}"))
        .bearer(&token)
        .header(header::CONTENT_TYPE, "image/png")
        .body(crate::images::PNG)
        .send()
        .await;
    upload.assert_error(404, "NOT_FOUND");
    delete_account(&app, &token, &deletion())
        .await
        .assert_error(404, "NOT_FOUND");
    assert!(rows_of(&app, "gone").await.values().all(|&rows| rows == 0));
    // Logging out needs no user, and still answers.
    app.request(Method::POST, "/logout")
        .bearer(&token)
        .send()
        .await
        .assert_status(200);

    // Were the Auth Service to know them still, they would start afresh, with nothing old.
    auth.reset().await;
    Mock::given(method("GET"))
        .and(path("/profile"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "gone", "email": "gone@example.com", "name": "G"})),
        )
        .mount(&auth)
        .await;
    upload_png(&app, "gone", &pp).await;
    let rows = rows_of(&app, "gone").await;
    assert_eq!((rows["users"], rows["images"]), (1, 1));
    assert_eq!(rows.values().sum::<i64>(), 2, "{rows:?}");
}

backend_tests!(
    a_confirmed_deletion_removes_every_row_and_image_of_the_user,
    every_foreign_key_to_users_cascades,
    a_refused_or_failed_deletion_deletes_nothing,
    a_database_that_cannot_delete_stops_the_deletion_before_the_auth_service,
    a_deletion_body_is_validated_before_anything_is_forwarded,
    image_deletion_failing_midway_is_finished_by_the_orphan_scan,
    a_deleted_user_with_a_still_valid_token_is_not_recreated,
);

// --- Logout --------------------------------------------------------------------------------

#[tokio::test]
async fn logout_is_forwarded_and_needs_no_user() {
    let auth = MockServer::start().await;
    let app = app_with(&auth.uri(), Backend::Sqlite, ObjectBackend::Local).await;
    let token = app.token("ann");
    Mock::given(method("POST"))
        .and(path("/logout"))
        .and(has_header(
            "authorization",
            format!("Bearer {token}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "Logged out"})))
        .expect(4)
        .mount(&auth)
        .await;

    let response = with_foreign_headers(app.request(Method::POST, "/logout"))
        .bearer(&token)
        .send()
        .await;
    response.assert_status(200);
    assert_eq!(response.json(), json!({"message": "Logout successful"}));
    // A JSON body, when there is one, goes along.
    let with_body = app
        .request(Method::POST, "/logout")
        .bearer(&token)
        .json(&json!({"refreshToken": "r-1"}))
        .send()
        .await;
    with_body.assert_status(200);
    // A body that is not JSON stays behind; the logout still happens.
    for (content_type, body) in [("application/json", ""), ("text/plain", "bye")] {
        let response = app
            .request(Method::POST, "/logout")
            .bearer(&token)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await;
        response.assert_status(200);
        assert_eq!(response.json(), json!({"message": "Logout successful"}));
    }
    auth.verify().await;
    let received = auth.received_requests().await.unwrap();
    assert!(received[0].body.is_empty());
    assert_eq!(
        received[1].body_json::<Value>().unwrap(),
        json!({"refreshToken": "r-1"})
    );
    assert!(received[2].body.is_empty() && received[3].body.is_empty());
    assert_only_our_headers_reached(&auth).await;
    assert_eq!(rows_of(&app, "ann").await["users"], 0);

    app.request(Method::POST, "/logout")
        .send()
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn logout_succeeds_whatever_the_auth_service_does() {
    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"detail": "Token revoked"})))
        .mount(&refusing)
        .await;
    let failing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("Internal Server Error"))
        .mount(&failing)
        .await;
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(20)))
        .mount(&slow)
        .await;
    for url in [refusing.uri(), failing.uri(), slow.uri(), closed_port_url()] {
        let app = app_with(&url, Backend::Sqlite, ObjectBackend::Local).await;
        let started = Instant::now();
        let response = app
            .request(Method::POST, "/logout")
            .bearer(&app.token("ann"))
            .send()
            .await;
        response.assert_status(200);
        assert_eq!(response.json(), json!({"message": "Logout successful"}));
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{url}: took {:?}",
            started.elapsed()
        );
    }
    let unconfigured = TestApp::start(Backend::Sqlite).await;
    unconfigured
        .request(Method::POST, "/logout")
        .bearer(&unconfigured.token("ann"))
        .send()
        .await
        .assert_status(200);
}

// --- Deletions that always finish ----------------------------------------------------------

/// The database goes away after the Auth Service was asked and before our commit: the answer
/// is the usual 200, the user is gone for every request from then on, and the scheduled job
/// finishes the deletion, images included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_deletion_finishes_though_the_database_is_cut_before_the_commit() {
    let auth = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/delete-account"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "Account deleted"}))
                .set_delay(Duration::from_millis(1500)),
        )
        .expect(1)
        .mount(&auth)
        .await;
    let app = TestApp::builder(Backend::Postgres)
        .faulty_network()
        .auth_service(&auth.uri())
        .start()
        .await;
    let doomed = seed(&app, "doomed").await;
    let bystander = seed(&app, "bystander").await;
    let before = rows_of(&app, "bystander").await;
    let token = app.token("doomed");

    let body = deletion();
    let deletion_request = delete_account(&app, &token, &body);
    let cut_while_asking = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        app.network().cut();
    };
    let (response, ()) = tokio::join!(deletion_request, cut_while_asking);
    response.assert_status(200);
    assert_eq!(
        response.json(),
        json!({"message": "Account deleted successfully"})
    );
    auth.verify().await;

    // The commit never happened: the rows are still there, but none is served.
    app.network().restore();
    assert!(rows_of(&app, "doomed").await["users"] == 1);
    app.get("/profile", "doomed")
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/food-entries", "doomed")
        .await
        .assert_error(404, "NOT_FOUND");

    let report = badge_recalc::run(&app.state).await.unwrap();
    assert_eq!(report.accounts_deleted, 1);
    assert!(
        rows_of(&app, "doomed")
            .await
            .values()
            .all(|&rows| rows == 0)
    );
    assert_eq!(images_stored(&app, &doomed).await, [false; 3]);
    assert_eq!(deletions_recorded(&app).await, 0);
    assert_eq!(rows_of(&app, "bystander").await, before);
    assert_eq!(images_stored(&app, &bystander).await, [true; 3]);
    // Run again, it finds nothing more to do.
    assert_eq!(
        badge_recalc::run(&app.state)
            .await
            .unwrap()
            .accounts_deleted,
        0
    );
}

/// A deletion whose answer is still awaited is the request's own: the job leaves it alone, and
/// a refusal leaves the user as they were.
async fn a_deletion_being_decided_is_left_alone_by_the_job(backend: Backend) {
    let auth = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/delete-account"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"detail": "Invalid password"}))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&auth)
        .await;
    let app = app_with(&auth.uri(), backend, ObjectBackend::Local).await;
    let seeded = seed(&app, "ann").await;
    let before = rows_of(&app, "ann").await;
    let token = app.token("ann");
    let job_meanwhile = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        // Meanwhile the user's requests find them leaving.
        app.get("/profile", "ann")
            .await
            .assert_error(404, "NOT_FOUND");
        badge_recalc::run(&app.state).await.unwrap()
    };
    let body = deletion();
    let (response, report) = tokio::join!(delete_account(&app, &token, &body), job_meanwhile);
    response.assert_status(400);
    assert_eq!(report.accounts_deleted, 0);
    assert_eq!(rows_of(&app, "ann").await, before);
    assert_eq!(images_stored(&app, &seeded).await, [true; 3]);
    assert_eq!(deletions_recorded(&app).await, 0);
    app.get("/profile", "ann").await.assert_status(200);
}

backend_tests!(a_deletion_being_decided_is_left_alone_by_the_job);

async fn deletions_recorded(app: &TestApp) -> i64 {
    with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM account_deletions")
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}
