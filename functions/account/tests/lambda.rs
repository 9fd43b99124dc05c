//! The account function through its Lambda entry: the real binary, a Runtime API and API
//! Gateway HTTP API events, with the Auth Service as a wiremock server.

use serde_json::{Value, json};
use testkit::lambda::{HttpEvent, LambdaFunction, refused_start};
use testkit::{access_token, sqlx, with_pool};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const BINARY: &str = env!("CARGO_BIN_EXE_account");

fn passwords(current: &str) -> Value {
    json!({"currentPassword": current, "newPassword": "new-pass-1"})
}

fn deletion(password: &str) -> Value {
    json!({"password": password, "confirmationText": "DELETE"})
}

/// Answers `method path` with `status` and `body` when the request's body is `expected`.
async fn answer(
    auth: &MockServer,
    verb: &str,
    route: &str,
    expected: Value,
    status: u16,
    body: Value,
) {
    Mock::given(method(verb))
        .and(path(route))
        .and(body_json(expected))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(auth)
        .await;
}

/// What the Auth Service received at `route`, in order.
async fn received_at(auth: &MockServer, route: &str) -> Vec<Request> {
    auth.received_requests()
        .await
        .expect("requests are recorded")
        .into_iter()
        .filter(|request| request.url.path() == route)
        .collect()
}

fn authorization(request: &Request) -> Option<&str> {
    request
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
}

async fn users_named(function: &LambdaFunction, id: &str) -> i64 {
    with_pool!(function.db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_actions_are_forwarded_to_the_auth_service() {
    let auth = MockServer::start().await;
    let function = LambdaFunction::builder(BINARY)
        .s3()
        .var("AUTH_SERVICE_URL", &auth.uri())
        .start()
        .await;
    let token = access_token("ann");
    let bearer = format!("Bearer {token}");
    Mock::given(method("GET"))
        .and(path("/profile"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "ann", "email": "ann@example.com", "name": "Ann"})),
        )
        .mount(&auth)
        .await;
    answer(
        &auth,
        "PUT",
        "/change-password",
        passwords("old pass "),
        200,
        json!({"message": "Password updated successfully"}),
    )
    .await;
    answer(
        &auth,
        "PUT",
        "/change-password",
        passwords("wrong"),
        400,
        json!({"detail": "Current password is incorrect"}),
    )
    .await;
    answer(
        &auth,
        "DELETE",
        "/delete-account",
        deletion("wrong"),
        401,
        json!({"detail": "Incorrect password"}),
    )
    .await;
    answer(
        &auth,
        "DELETE",
        "/delete-account",
        deletion("hunter2"),
        200,
        json!({"message": "Account deleted"}),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/logout"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": "Logged out"})))
        .mount(&auth)
        .await;

    // The caller's token and body go to the Auth Service; its answer comes back as it is.
    let changed = function
        .call(
            HttpEvent::new("PUT", "/change-password")
                .stage("prod")
                .bearer(&token)
                .json(&passwords("old pass ")),
        )
        .await;
    changed.assert_status(200);
    assert_eq!(
        changed.json(),
        json!({"message": "Password updated successfully"})
    );
    let refused = function
        .call(
            HttpEvent::new("PUT", "/change-password")
                .bearer(&token)
                .json(&passwords("wrong")),
        )
        .await;
    refused.assert_status(400);
    assert_eq!(
        refused.json(),
        json!({"detail": "Current password is incorrect"})
    );
    let forwarded = received_at(&auth, "/change-password").await;
    assert_eq!(forwarded.len(), 2);
    for (request, current) in forwarded.iter().zip(["old pass ", "wrong"]) {
        assert_eq!(authorization(request), Some(bearer.as_str()));
        assert_eq!(request.body_json::<Value>().unwrap(), passwords(current));
    }

    // A refused deletion deletes nothing (the user was created from the Auth Service's
    // profile on this first request).
    let kept = function
        .call(
            HttpEvent::new("DELETE", "/account")
                .bearer(&token)
                .json(&deletion("wrong")),
        )
        .await;
    kept.assert_status(401);
    assert_eq!(kept.header("www-authenticate"), Some("Bearer"));
    assert_eq!(kept.json(), json!({"detail": "Incorrect password"}));
    assert_eq!(users_named(&function, "ann").await, 1);

    let deleted = function
        .call(
            HttpEvent::new("DELETE", "/account")
                .bearer(&token)
                .json(&deletion("hunter2")),
        )
        .await;
    deleted.assert_status(200);
    assert_eq!(
        deleted.json(),
        json!({"message": "Account deleted successfully"})
    );
    assert_eq!(users_named(&function, "ann").await, 0);
    let forwarded = received_at(&auth, "/delete-account").await;
    assert_eq!(forwarded.len(), 2);
    assert_eq!(authorization(&forwarded[1]), Some(bearer.as_str()));
    assert_eq!(
        forwarded[1].body_json::<Value>().unwrap(),
        deletion("hunter2")
    );

    // Logout without a body.
    let logged_out = function
        .call(HttpEvent::new("POST", "/logout").bearer(&token))
        .await;
    logged_out.assert_status(200);
    assert_eq!(logged_out.json(), json!({"message": "Logout successful"}));
    let forwarded = received_at(&auth, "/logout").await;
    assert_eq!(forwarded.len(), 1);
    assert_eq!(authorization(&forwarded[0]), Some(bearer.as_str()));
    assert!(forwarded[0].body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_service_in_trouble_is_503_and_a_bad_body_400() {
    let auth = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/change-password"))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount(&auth)
        .await;
    let function = LambdaFunction::builder(BINARY)
        .var("AUTH_SERVICE_URL", &auth.uri())
        .start()
        .await;
    let token = access_token("ann");
    function
        .call(
            HttpEvent::new("PUT", "/change-password")
                .bearer(&token)
                .json(&passwords("old")),
        )
        .await
        .assert_error(503, "AUTH_SERVICE_UNAVAILABLE");
    let error = function
        .call(
            HttpEvent::new("PUT", "/change-password")
                .bearer(&token)
                .json(&json!({"currentPassword": "old"})),
        )
        .await
        .assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["newPassword"].is_string(), "{error}");
    function
        .call(HttpEvent::new("POST", "/logout"))
        .await
        .assert_error(401, "UNAUTHORIZED");
    // Only the first reached the Auth Service.
    assert_eq!(auth.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_function_with_a_bad_auth_service_url_refuses_to_start() {
    let env = [
        (
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1/db".to_owned(),
        ),
        ("JWT_SECRET", "s".to_owned()),
        ("AUTH_SERVICE_URL", "auth.internal:8080".to_owned()),
    ];
    assert_eq!(
        refused_start(BINARY, &env).await,
        "configuration error: AUTH_SERVICE_URL: expected an http(s) URL"
    );
}
