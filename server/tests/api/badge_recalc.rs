//! The scheduled `badge-recalc` function: missed badges, resumable bounded batches, orphaned
//! images, expired idempotency keys, its Lambda handler and the local command.

use std::process::Command;

use axum::body::Bytes;
use badge_recalc::{Context, LambdaEvent, Options, Report, ScheduledEvent};
use chrono::{Duration, Utc};
use http::Method;
use serde_json::json;
use shared::objects::ObjectKey;
use testkit::sqlx;
use testkit::{Backend, TestApp, backend_tests, with_pool};

use crate::food_entries::{count, days_ago, entry_at, post_entry};

async fn badge_ids(app: &TestApp, user: &str) -> Vec<String> {
    with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT badge_id FROM user_badges WHERE user_id = $1 ORDER BY badge_id")
            .bind(user)
            .fetch_all(&pool)
            .await
            .unwrap()
    })
}

/// Badges the writes awarded are forgotten, as if they had been missed.
async fn forget_badges(app: &TestApp) {
    with_pool!(app.db, |pool| {
        sqlx::query("DELETE FROM user_badges")
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    });
}

async fn run(app: &TestApp, options: &Options) -> Report {
    badge_recalc::run_with(&app.state, options).await.unwrap()
}

async fn awards_missed_badges_and_is_idempotent(backend: Backend) {
    let app = TestApp::start(backend).await;
    for i in 0..10 {
        post_entry(&app, "ann", entry_at("e", &days_ago(i % 3 + 1))).await;
    }
    post_entry(&app, "bob", entry_at("e", &days_ago(1))).await;
    forget_badges(&app).await;

    let report = run(&app, &Options::default()).await;
    assert_eq!(
        report,
        Report {
            users_checked: 2,
            badges_awarded: 4,
            complete: true,
            ..Report::default()
        }
    );
    assert_eq!(
        badge_ids(&app, "ann").await,
        ["first_10_entries", "first_entry", "streak_3"]
    );
    assert_eq!(badge_ids(&app, "bob").await, ["first_entry"]);
    let badges = app.get("/badges", "ann").await.json();
    assert!(badges[1]["earnedAt"].is_string());

    let again = run(&app, &Options::default()).await;
    assert_eq!(again.users_checked, 2);
    assert_eq!(again.badges_awarded, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM user_badges").await, 4);
}

async fn only_recently_written_users_are_rechecked(backend: Backend) {
    let app = TestApp::start(backend).await;
    post_entry(&app, "ann", entry_at("e", &days_ago(1))).await;
    post_entry(&app, "old", entry_at("e", &days_ago(1))).await;
    forget_badges(&app).await;
    with_pool!(app.db, |pool| {
        sqlx::query("UPDATE daily_totals SET updated_at = $1 WHERE user_id = 'old'")
            .bind(Utc::now() - Duration::days(3))
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    });
    let report = run(&app, &Options::default()).await;
    assert_eq!(report.users_checked, 1);
    assert_eq!(badge_ids(&app, "ann").await, ["first_entry"]);
    assert!(badge_ids(&app, "old").await.is_empty());
}

async fn a_run_cut_short_is_resumed_by_the_next(backend: Backend) {
    let app = TestApp::start(backend).await;
    let users = ["u1", "u2", "u3", "u4", "u5"];
    for user in users {
        post_entry(&app, user, entry_at("e", &days_ago(1))).await;
    }
    forget_badges(&app).await;
    // One batch for the (empty) account deletion phase, one of badges.
    let short = Options {
        batch_size: 2,
        max_batches: Some(2),
        ..Options::default()
    };
    let first = run(&app, &short).await;
    assert_eq!((first.users_checked, first.badges_awarded), (2, 2));
    assert!(!first.complete);
    assert_eq!(badge_ids(&app, "u2").await, ["first_entry"]);
    assert!(badge_ids(&app, "u3").await.is_empty());
    let cursor = app
        .state
        .store()
        .job_cursor(badge_recalc::BADGE_JOB)
        .await
        .unwrap();
    assert_eq!(cursor.position.as_deref(), Some("u2"));
    assert!(cursor.run_started_at.is_some());

    let rest = run(
        &app,
        &Options {
            batch_size: 2,
            ..Options::default()
        },
    )
    .await;
    assert_eq!((rest.users_checked, rest.badges_awarded), (3, 3));
    assert!(rest.complete);
    for user in users {
        assert_eq!(badge_ids(&app, user).await, ["first_entry"], "{user}");
    }
    let done = app
        .state
        .store()
        .job_cursor(badge_recalc::BADGE_JOB)
        .await
        .unwrap();
    assert_eq!(
        done,
        shared::store::JobCursor::default(),
        "the next run starts afresh"
    );
}

async fn expired_idempotency_keys_are_deleted_in_batches(backend: Backend) {
    let app = TestApp::start(backend).await;
    for key in ["old-1", "old-2", "old-3", "fresh"] {
        app.request(Method::POST, "/food-entries")
            .user("ann")
            .header(http::HeaderName::from_static("idempotency-key"), key)
            .json(&entry_at("e", &days_ago(1)))
            .send()
            .await
            .assert_status(201);
    }
    with_pool!(app.db, |pool| {
        sqlx::query(
            "UPDATE idempotency_keys SET created_at = $1 WHERE idempotency_key LIKE 'old-%'",
        )
        .bind(Utc::now() - Duration::hours(25))
        .execute(&pool)
        .await
        .unwrap()
        .rows_affected()
    });
    let report = run(
        &app,
        &Options {
            key_batch: 2,
            ..Options::default()
        },
    )
    .await;
    assert_eq!(report.idempotency_keys_deleted, 3);
    assert!(report.complete);
    let left: Vec<String> = with_pool!(app.db, |pool| {
        sqlx::query_scalar("SELECT idempotency_key FROM idempotency_keys")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    assert_eq!(left, ["fresh"]);
}

async fn the_lambda_handler_runs_on_a_scheduled_event(backend: Backend) {
    let app = TestApp::start(backend).await;
    post_entry(&app, "ann", entry_at("e", &days_ago(1))).await;
    forget_badges(&app).await;
    // What an EventBridge schedule delivers.
    let payload = json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2024-07-11T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/badge-recalc-daily"],
        "detail": {}
    });
    let event: ScheduledEvent = serde_json::from_value(payload).unwrap();
    assert_eq!(event.detail_type.as_deref(), Some("Scheduled Event"));

    // An invocation whose deadline has come does nothing and says so.
    let mut expired = Context::default();
    expired.deadline = (Utc::now() - Duration::seconds(1)).timestamp_millis() as u64;
    let report = badge_recalc::handle(&app.state, LambdaEvent::new(event.clone(), expired))
        .await
        .unwrap();
    assert!(!report.complete);
    assert_eq!(report.users_checked, 0);

    let mut context = Context::default();
    context.request_id = "req-1".into();
    context.deadline = (Utc::now() + Duration::minutes(5)).timestamp_millis() as u64;
    let report = badge_recalc::handle(&app.state, LambdaEvent::new(event, context))
        .await
        .unwrap();
    assert!(report.complete);
    assert_eq!(report.badges_awarded, 1);
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        json!({"accountsDeleted": 0, "usersChecked": 1, "badgesAwarded": 1, "imageOwnersRemoved": 0,
            "imagesRemoved": 0, "idempotencyKeysDeleted": 0, "exportsExpired": 0, "complete": true})
    );
}

backend_tests!(
    awards_missed_badges_and_is_idempotent,
    only_recently_written_users_are_rechecked,
    a_run_cut_short_is_resumed_by_the_next,
    expired_idempotency_keys_are_deleted_in_batches,
    the_lambda_handler_runs_on_a_scheduled_event,
);

/// The local folder's exports are kept a day: the job removes older ones, and no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_exports_expire_after_a_day() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.get("/streaks", "ann").await.assert_status(200);
    let mut written = Vec::new();
    for _ in 0..2 {
        let created = app.post("/exports", "ann", json!({})).await;
        created.assert_status(201);
        written.push(created.json()["id"].as_str().unwrap().to_owned());
    }
    let folder = app
        .data_dir
        .path()
        .join("images")
        .join(&app.state.buckets().exports)
        .join("ann");
    let old = std::fs::File::options()
        .write(true)
        .open(folder.join(format!("{}.json", written[0])))
        .unwrap();
    old.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600))
        .unwrap();
    let report = run(&app, &Options::default()).await;
    assert_eq!(report.exports_expired, 1);
    assert!(!folder.join(format!("{}.json", written[0])).exists());
    assert!(folder.join(format!("{}.json", written[1])).exists());
}

/// Images of owners who are no longer users go, from both buckets; an existing user's stay.
/// The scan resumes where a run cut short stopped.
async fn removes_orphaned_images_and_keeps_those_of_users(app: TestApp) {
    app.get("/streaks", "ann").await.assert_status(200);
    let objects = app.state.objects().await.unwrap();
    let buckets = app.state.buckets().clone();
    let mut kept = Vec::new();
    let mut orphaned = Vec::new();
    for bucket in [&buckets.profile_pictures, &buckets.food_images] {
        for owner in ["ann", "ghost-1", "ghost-2"] {
            let key = ObjectKey::generate(owner, "jpg").unwrap();
            objects
                .put(bucket, &key, Bytes::from_static(b"jpg"), "image/jpeg")
                .await
                .unwrap();
            match owner {
                "ann" => kept.push((bucket.clone(), key)),
                _ => orphaned.push((bucket.clone(), key)),
            }
        }
    }
    // One batch each for the (empty) deletion and badge phases, one owner of the first bucket.
    let short = Options {
        owner_batch: 1,
        max_batches: Some(4),
        ..Options::default()
    };
    let first = run(&app, &short).await;
    assert!(!first.complete);
    assert_eq!(first.image_owners_removed, 1, "ann, then ghost-1");
    let cursor = app
        .state
        .store()
        .job_cursor(badge_recalc::PROFILE_PICTURES_JOB)
        .await
        .unwrap();
    assert_eq!(cursor.position.as_deref(), Some("ghost-1"));

    let rest = run(&app, &Options::default()).await;
    assert!(rest.complete);
    assert_eq!(rest.image_owners_removed, 3);
    assert_eq!(rest.images_removed, 3);
    for (bucket, key) in &kept {
        assert!(objects.get(bucket, key).await.unwrap().is_some(), "{key}");
    }
    for (bucket, key) in &orphaned {
        assert!(objects.get(bucket, key).await.unwrap().is_none(), "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_images_on_s3_with_postgres() {
    removes_orphaned_images_and_keeps_those_of_users(
        TestApp::builder(Backend::Postgres).s3().start().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_images_in_a_folder_with_sqlite() {
    removes_orphaned_images_and_keeps_those_of_users(TestApp::start(Backend::Sqlite).await).await;
}

/// `user-service badge-recalc` runs the job once on the local configuration.
#[test]
fn the_local_command_runs_the_job() {
    let data_dir = tempfile::tempdir().unwrap();
    let run = |command: &str| {
        Command::new(env!("CARGO_BIN_EXE_user-service"))
            .arg(command)
            .env_clear()
            .env("DATA_DIR", data_dir.path())
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs")
    };
    let migrated = run("migrate");
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let output = run("badge-recalc");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["complete"], true);
    assert_eq!(report["usersChecked"], 0);
}
