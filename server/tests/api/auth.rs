//! JWT verification and user sync (CONTRACT §2), through a probe route that uses the
//! extractors exactly as every protected endpoint does.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use chrono::Utc;
use futures_util::future::join_all;
use http::Method;
use serde_json::{Value, json};
use shared::AppState;
use shared::caller::CurrentUser;
use testkit::sqlx;
use testkit::{Backend, TestApp, TestAppBuilder, backend_tests, closed_port_url, sign, with_pool};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn probe() -> Router<AppState> {
    Router::new().route("/whoami", get(|user: CurrentUser| async move { user.id }))
}

fn app(backend: Backend) -> TestAppBuilder {
    TestApp::builder(backend).routes(probe())
}

async fn user_row(app: &TestApp, id: &str) -> Option<(String, Option<String>)> {
    with_pool!(app.db, |pool| {
        sqlx::query_as("SELECT email, name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&pool)
            .await
            .unwrap()
    })
}

async fn count_users(app: &TestApp) -> i64 {
    with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}

fn claims(user_id: &str, extra: Value) -> Value {
    let now = Utc::now().timestamp();
    let mut claims = json!({"user_id": user_id, "exp": now + 600, "iat": now});
    for (key, value) in extra.as_object().unwrap() {
        claims[key] = value.clone();
    }
    claims
}

async fn rejected_tokens_answer_401_json(backend: Backend) {
    let app = app(backend).start().await;
    let now = Utc::now().timestamp();
    let other_key = shared::auth::sign_token(
        &shared::secret::Secret::new("another-secret"),
        &claims("u1", json!({})),
    )
    .unwrap();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("basic scheme", Some("Basic dXNlcjpwYXNz".into())),
        ("empty bearer", Some("Bearer ".into())),
        ("garbage", Some("Bearer not.a.token".into())),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                sign(&claims("u1", json!({"exp": now - 120})))
            )),
        ),
        (
            "refresh token",
            Some(format!(
                "Bearer {}",
                sign(&claims("u1", json!({"type": "refresh"})))
            )),
        ),
        (
            "no user",
            Some(format!("Bearer {}", sign(&json!({"exp": now + 600})))),
        ),
        ("wrong secret", Some(format!("Bearer {other_key}"))),
        (
            "unsafe id",
            Some(format!("Bearer {}", sign(&claims("../etc", json!({}))))),
        ),
    ];
    for (case, authorization) in cases {
        let mut request = app.request(Method::GET, "/whoami");
        if let Some(value) = authorization {
            request = request.header(http::header::AUTHORIZATION, &value);
        }
        let response = request.send().await;
        response.assert_error(401, "UNAUTHORIZED");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer"),
            "{case}"
        );
    }
    assert_eq!(
        count_users(&app).await,
        0,
        "a rejected request writes nothing"
    );
}

async fn without_auth_service_users_come_from_the_token(backend: Backend) {
    let app = app(backend).start().await;
    let token = sign(&claims(
        "local-1",
        json!({"email": "ann@example.com", "name": "Ann"}),
    ));
    let response = app
        .request(Method::GET, "/whoami")
        .bearer(&token)
        .send()
        .await;
    response.assert_status(200);
    assert_eq!(response.text(), "local-1");
    assert_eq!(
        user_row(&app, "local-1").await,
        Some(("ann@example.com".into(), Some("Ann".into())))
    );

    let bare = sign(&claims("local-2", json!({})));
    app.request(Method::GET, "/whoami")
        .bearer(&bare)
        .send()
        .await
        .assert_status(200);
    assert_eq!(
        user_row(&app, "local-2").await,
        Some(("local-2@users.invalid".into(), None))
    );
}

async fn first_request_syncs_the_user_from_the_auth_service_once(backend: Backend) {
    let auth = MockServer::start().await;
    let app = app(backend).auth_service(&auth.uri()).start().await;
    let token = app.token("u-42");
    Mock::given(method("GET"))
        .and(path("/profile"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "u-42", "email": "real@example.com", "name": "Real Name"}),
            ),
        )
        .expect(1)
        .mount(&auth)
        .await;

    for _ in 0..3 {
        let response = app
            .request(Method::GET, "/whoami")
            .bearer(&token)
            .send()
            .await;
        response.assert_status(200);
    }
    assert_eq!(
        user_row(&app, "u-42").await,
        Some(("real@example.com".into(), Some("Real Name".into())))
    );
    auth.verify().await;
}

/// `GET /profile` reads the caller's standing with the profile; an unknown caller is synced as
/// by every other endpoint, and one the Auth Service does not know is not created.
async fn a_first_get_profile_syncs_the_user(backend: Backend) {
    let auth = MockServer::start().await;
    let app = TestApp::builder(backend)
        .auth_service(&auth.uri())
        .start()
        .await;
    let token = app.token("u-7");
    Mock::given(method("GET"))
        .and(path("/profile"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "u-7", "email": "seven@example.com", "name": "Seven"})),
        )
        .expect(1)
        .mount(&auth)
        .await;
    for _ in 0..2 {
        let response = app
            .request(Method::GET, "/profile")
            .bearer(&token)
            .send()
            .await;
        response.assert_status(200);
        let profile = response.json();
        assert_eq!(
            [&profile["userId"], &profile["email"], &profile["name"]],
            [&json!("u-7"), &json!("seven@example.com"), &json!("Seven")]
        );
    }
    auth.verify().await;

    Mock::given(method("GET"))
        .and(path("/profile"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"detail": "User not found"})))
        .mount(&auth)
        .await;
    app.get("/profile", "stranger")
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(user_row(&app, "stranger").await, None);
}

async fn concurrent_first_requests_create_one_user(backend: Backend) {
    let auth = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/profile"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "racer", "email": "racer@example.com", "name": "R"}))
                .set_delay(Duration::from_millis(50)),
        )
        .mount(&auth)
        .await;
    let app = app(backend).auth_service(&auth.uri()).start().await;
    let requests = (0..12).map(|_| app.request(Method::GET, "/whoami").user("racer").send());
    for response in join_all(requests).await {
        response.assert_status(200);
    }
    assert_eq!(count_users(&app).await, 1);
}

async fn auth_service_answers_map_to_the_contract(backend: Backend) {
    let cases = [
        (404, 404, "NOT_FOUND"),
        (401, 401, "UNAUTHORIZED"),
        (500, 503, "AUTH_SERVICE_UNAVAILABLE"),
        (502, 503, "AUTH_SERVICE_UNAVAILABLE"),
    ];
    for (upstream, status, code) in cases {
        let auth = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/profile"))
            .respond_with(ResponseTemplate::new(upstream).set_body_json(json!({"detail": "x"})))
            .mount(&auth)
            .await;
        let app = app(backend).auth_service(&auth.uri()).start().await;
        let response = app.get("/whoami", "someone").await;
        response.assert_error(status, code);
        assert_eq!(count_users(&app).await, 0, "upstream {upstream}");
    }
}

async fn a_profile_of_another_user_is_refused(backend: Backend) {
    let auth = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/profile"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "someone-else", "email": "x@y.z"})),
        )
        .mount(&auth)
        .await;
    let app = app(backend).auth_service(&auth.uri()).start().await;
    app.get("/whoami", "me")
        .await
        .assert_error(401, "UNAUTHORIZED");
    assert_eq!(count_users(&app).await, 0);
}

async fn a_slow_or_absent_auth_service_is_503_within_the_timeout(backend: Backend) {
    let slow = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/profile"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&slow)
        .await;
    let app = app(backend).auth_service(&slow.uri()).start().await;
    let started = Instant::now();
    app.get("/whoami", "slowpoke")
        .await
        .assert_error(503, "AUTH_SERVICE_UNAVAILABLE");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );

    let closed = closed_port_url();
    let app = self::app(backend).auth_service(&closed).start().await;
    app.get("/whoami", "nobody")
        .await
        .assert_error(503, "AUTH_SERVICE_UNAVAILABLE");
}

/// A new user whose email (the Auth Service keeps emails unique) is still held by an old row
/// here is served, not locked out: the stale row lets go of the email.
async fn a_stale_row_holding_the_email_never_locks_a_user_out(backend: Backend) {
    let auth = MockServer::start().await;
    let old = sign(&claims("old", json!({})));
    let new = sign(&claims("new", json!({})));
    for (id, token) in [("old", &old), ("new", &new)] {
        Mock::given(method("GET"))
            .and(path("/profile"))
            .and(wiremock::matchers::header(
                "authorization",
                format!("Bearer {token}").as_str(),
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": id, "email": "shared@example.com", "name": id})),
            )
            .mount(&auth)
            .await;
    }
    let app = app(backend).auth_service(&auth.uri()).start().await;
    app.request(Method::GET, "/whoami")
        .bearer(&old)
        .send()
        .await
        .assert_status(200);
    for _ in 0..2 {
        app.request(Method::GET, "/whoami")
            .bearer(&new)
            .send()
            .await
            .assert_status(200);
    }
    assert_eq!(count_users(&app).await, 2);
    // Without an Auth Service the token's email is as good.
    let local = self::app(backend).start().await;
    for user in ["first", "second"] {
        local
            .request(Method::GET, "/whoami")
            .bearer(&sign(&claims(user, json!({"email": "same@example.com"}))))
            .send()
            .await
            .assert_status(200);
    }
}

backend_tests!(
    rejected_tokens_answer_401_json,
    without_auth_service_users_come_from_the_token,
    first_request_syncs_the_user_from_the_auth_service_once,
    a_first_get_profile_syncs_the_user,
    concurrent_first_requests_create_one_user,
    auth_service_answers_map_to_the_contract,
    a_profile_of_another_user_is_refused,
    a_slow_or_absent_auth_service_is_503_within_the_timeout,
    a_stale_row_holding_the_email_never_locks_a_user_out,
);

#[tokio::test]
async fn a_known_user_costs_one_round_trip_to_authenticate() {
    let app = app(Backend::Postgres).count_round_trips().start().await;
    let round_trips = app.round_trips_of(|| app.get("/whoami", "counted")).await;
    assert_eq!(round_trips, 1);
}
