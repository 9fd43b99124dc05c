//! The scheduled badge-recalc function through its Lambda entry: the real binary, a Runtime
//! API and the event an EventBridge schedule delivers.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use testkit::lambda::{LambdaFunction, Outcome, invocation_of, refused_start};
use testkit::seed::{self, Entry};
use testkit::{sqlx, with_pool};

const BINARY: &str = env!("CARGO_BIN_EXE_badge-recalc");

/// What an EventBridge schedule delivers.
fn scheduled_event() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/badge-recalc-daily"],
        "detail": {}
    })
}

async fn badges_of(function: &LambdaFunction, user: &str) -> Vec<String> {
    with_pool!(function.db, |pool| {
        sqlx::query_scalar("SELECT badge_id FROM user_badges WHERE user_id = $1 ORDER BY badge_id")
            .bind(user)
            .fetch_all(&pool)
            .await
            .unwrap()
    })
}

/// An idempotency key of `user`, recorded `age` ago.
async fn idempotency_key(function: &LambdaFunction, user: &str, key: &str, age: Duration) {
    with_pool!(function.db, |pool| {
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idempotency_key, created_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(user)
        .bind(key)
        .bind(Utc::now() - age)
        .execute(&pool)
        .await
        .unwrap()
        .rows_affected()
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_event_runs_the_housekeeping() {
    let t = std::time::Instant::now();
    let function = LambdaFunction::builder(BINARY)
        .s3()
        .var("RUST_LOG", "info")
        .start()
        .await;
    eprintln!("started {:?}", t.elapsed());
    // Entries on 3 consecutive days (the last one yesterday), but no badges: as if the
    // writes had missed them.
    seed::user(&function.store, "ann").await;
    let today = Utc::now().date_naive();
    let days: Vec<Entry> = (1..=3)
        .map(|ago| Entry::on(today - Duration::days(ago), 400.0))
        .collect();
    seed::entries(&function.db, "ann", &days).await;
    idempotency_key(&function, "ann", "stale", Duration::hours(25)).await;
    idempotency_key(&function, "ann", "fresh", Duration::hours(1)).await;

    let request_id = "c0ffee00-0000-4000-8000-000000000001";
    let report = function
        .api
        .invoke_as(request_id, scheduled_event())
        .await
        .response();
    assert_eq!(
        report,
        json!({"accountsDeleted": 0, "usersChecked": 1, "badgesAwarded": 2, "imageOwnersRemoved": 0,
               "imagesRemoved": 0, "idempotencyKeysDeleted": 1, "exportsExpired": 0, "complete": true})
    );
    assert_eq!(
        badges_of(&function, "ann").await,
        ["first_entry", "streak_3"]
    );

    // The same process runs it again: nothing is left to do.
    let again = function.invoke(scheduled_event()).await.response();
    assert_eq!(
        again,
        json!({"accountsDeleted": 0, "usersChecked": 1, "badgesAwarded": 0, "imageOwnersRemoved": 0,
               "imagesRemoved": 0, "idempotencyKeysDeleted": 0, "exportsExpired": 0, "complete": true})
    );
    assert_eq!(
        badges_of(&function, "ann").await,
        ["first_entry", "streak_3"]
    );

    // JSON logs: the cold start with its init time, and the run under its invocation's id.
    let logs = function
        .logs_until(|line| line["message"] == "scheduled housekeeping finished")
        .await;
    let line = |message: &str| {
        logs.iter()
            .find(|line| line["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} in {logs:#?}"))
    };
    assert!(line("cold start")["init_ms"].is_number());
    assert_eq!(
        invocation_of(line("scheduled housekeeping finished")),
        Some(request_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_it_cannot_read_is_an_error_and_the_next_one_runs() {
    let function = LambdaFunction::builder(BINARY).s3().start().await;
    match function.invoke(json!({"detail-type": 5})).await {
        Outcome::Error(error) => assert!(error["errorType"].is_string(), "{error}"),
        Outcome::Response(response) => panic!("expected an error, got {response}"),
    }
    // A manual invocation with an empty object runs the job.
    let report = function.invoke(json!({})).await.response();
    assert_eq!(report["complete"], true);
    assert_eq!(report["usersChecked"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_badge_recalc_function_without_its_database_refuses_to_start() {
    assert_eq!(
        refused_start(BINARY, &[("JWT_SECRET", "s".to_owned())]).await,
        "configuration error: DATABASE_URL: not set; a Lambda function needs a postgres:// URL"
    );
}
