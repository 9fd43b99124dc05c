//! The profile function through its Lambda entry: the real binary, a Runtime API and API
//! Gateway HTTP API events.

use serde_json::{Value, json};
use testkit::lambda::{HttpEvent, LambdaFunction, refused_start};
use testkit::{access_token, sign};

const BINARY: &str = env!("CARGO_BIN_EXE_profile");

/// The contract's example onboarding answers.
fn answers() -> Value {
    json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
           "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_and_onboarding_answer_api_gateway_events() {
    let function = LambdaFunction::start(BINARY).await;
    let token = access_token("ann");

    // The first request creates the user from the token (no Auth Service is configured).
    let profile = function
        .call(HttpEvent::new("GET", "/profile").bearer(&token))
        .await;
    profile.assert_status(200);
    assert_eq!(profile.header("content-type"), Some("application/json"));
    let body = profile.json();
    assert_eq!(body["userId"], "ann");
    assert_eq!(body["email"], "ann@example.com");
    assert_eq!(body["onboardingData"], Value::Null);
    assert_eq!(
        body["preferences"]["nutritionGoals"],
        json!({"calories": 2000, "protein": 100, "carbs": 250, "fat": 70})
    );

    // A JSON body (with non-ASCII text), under a named stage.
    let changes = json!({"name": "  Zoë Lee ", "preferences": {
        "timezone": "Europe/Berlin", "dietaryRestrictions": ["Vegetarian"]}});
    let updated = function
        .call(
            HttpEvent::new("PUT", "/profile")
                .stage("prod")
                .bearer(&token)
                .json(&changes),
        )
        .await;
    updated.assert_status(200);
    let body = updated.json();
    assert_eq!(body["name"], "Zoë Lee");
    assert_eq!(body["preferences"]["timezone"], "Europe/Berlin");
    assert_eq!(
        body["preferences"]["dietaryRestrictions"],
        json!(["Vegetarian"])
    );

    let saved = function
        .call(
            HttpEvent::new("POST", "/onboarding")
                .bearer(&token)
                .json(&answers()),
        )
        .await;
    saved.assert_status(200);
    let goals = json!({"calories": 1550, "protein": 120, "carbs": 171, "fat": 43});
    assert_eq!(
        saved.json(),
        json!({"message": "Onboarding data saved successfully", "nutritionGoals": goals})
    );
    // A stage named like a route comes off the path once.
    let after = function
        .call(
            HttpEvent::new("GET", "/profile")
                .stage("profile")
                .bearer(&token),
        )
        .await;
    after.assert_status(200);
    let body = after.json();
    assert_eq!(body["onboardingData"], answers());
    assert_eq!(body["preferences"]["nutritionGoals"], goals);
    assert_eq!(body["name"], "Zoë Lee");

    // A refused body names the field and changes nothing.
    let refused = function
        .call(
            HttpEvent::new("PUT", "/profile")
                .bearer(&token)
                .json(&json!({"name": " "})),
        )
        .await;
    let error = refused.assert_error(400, "VALIDATION_FAILED");
    assert!(error["fields"]["name"].is_string(), "{error}");
    let unchanged = function
        .call(HttpEvent::new("GET", "/profile").bearer(&token))
        .await;
    assert_eq!(unchanged.json()["name"], "Zoë Lee");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_profile_function_refuses() {
    let function = LambdaFunction::start(BINARY).await;

    let anonymous = function.call(HttpEvent::new("GET", "/profile")).await;
    anonymous.assert_error(401, "UNAUTHORIZED");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    let now = chrono::Utc::now().timestamp();
    let refresh = sign(&json!({"user_id": "ann", "type": "refresh", "exp": now + 3600}));
    function
        .call(HttpEvent::new("GET", "/profile").bearer(&refresh))
        .await
        .assert_error(401, "UNAUTHORIZED");

    // Another function's path, and a method this path does not have.
    let token = access_token("ann");
    function
        .call(HttpEvent::new("GET", "/food-entries").bearer(&token))
        .await
        .assert_error(404, "NOT_FOUND");
    function
        .call(HttpEvent::new("DELETE", "/profile").bearer(&token))
        .await
        .assert_error(405, "METHOD_NOT_ALLOWED");

    // A browser's preflight is answered by the function itself.
    let preflight = function
        .call(
            HttpEvent::new("OPTIONS", "/profile")
                .header("origin", "https://app.example.com")
                .header("access-control-request-method", "PUT")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
        )
        .await;
    preflight.assert_status(200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    let allowed = preflight
        .header("access-control-allow-methods")
        .unwrap_or_default();
    assert!(allowed.contains("PUT"), "{allowed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_function_on_sqlite_refuses_to_start() {
    // Lambda functions are built for PostgreSQL only.
    let env = [
        ("DATABASE_URL", "sqlite:///tmp/user-service.db".to_owned()),
        ("JWT_SECRET", "s".to_owned()),
    ];
    assert_eq!(
        refused_start(BINARY, &env).await,
        "configuration error: DATABASE_URL: names SQLite; a Lambda function needs a postgres:// URL"
    );
}
