//! The diary's storage on both backends: paging a whole history (as the export walks it),
//! idempotent creation, the batch reads and awards of the badge recalculation, job cursors
//! and the expiry of idempotency keys.

use chrono::{Duration, NaiveDate, Utc};
use serde_json::json;
use shared::Error;
use shared::domain::badges;
use shared::domain::entries::{Entry, Food, parse_new_entry};
use shared::domain::idempotency::Idempotent;
use shared::domain::records::ListQuery;
use shared::store::{Created, JobCursor, Store, Written};
use testkit::{Backend, TestDb, backend_tests, seed};

/// A new entry of `user` eaten at `timestamp`, on its UTC day.
fn entry(user: &str, timestamp: &str) -> (Entry, NaiveDate) {
    let body =
        json!({"name": "Soup", "calories": 120.5, "mealType": "lunch", "timestamp": timestamp});
    let entry = parse_new_entry(&body, user, shared::time::now()).unwrap();
    let day = entry.timestamp.date_naive();
    (entry, day)
}

async fn log(store: &Store, user: &str, timestamp: &str) -> Entry {
    let (entry, day) = entry(user, timestamp);
    match create(store, &entry, day, None).await.unwrap() {
        Created::Created(created) => created.record,
        Created::Replayed(_) => panic!("no key, no replay"),
    }
}

async fn create(
    store: &Store,
    entry: &Entry,
    day: NaiveDate,
    key: Option<&Idempotent>,
) -> shared::Result<Created<Written<Entry>>> {
    store
        .create_record::<Food, _>(
            &entry.user_id,
            entry,
            day,
            key,
            |written: &Written<Entry>| written.record.clone(),
        )
        .await
}

async fn pages_walk_a_whole_history_once_in_timestamp_order(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    seed::user(&store, "bob").await;
    let mut logged = Vec::new();
    for timestamp in [
        "2024-07-11T10:00:00Z",
        "2024-07-09T10:00:00Z",
        "2024-07-11T10:00:00Z",
        "2024-07-11T10:00:00Z",
        "2024-07-10T23:59:59.999Z",
        "2024-07-11T10:00:00Z",
        "2024-07-12T00:00:00Z",
    ] {
        logged.push(log(&store, "ann", timestamp).await);
    }
    log(&store, "bob", "2024-07-11T10:00:00Z").await;
    logged.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));

    let mut query = ListQuery::all(3);
    let mut walked = Vec::new();
    loop {
        let page = store.records_page::<Food>("ann", &query).await.unwrap();
        assert!(page.records.len() <= 3);
        walked.extend(page.records);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, logged);
    assert_eq!(
        store
            .record::<Food>("ann", &logged[0].id)
            .await
            .unwrap()
            .as_ref(),
        Some(&logged[0])
    );
    assert_eq!(
        store.record::<Food>("bob", &logged[0].id).await.unwrap(),
        None
    );
}

fn key(name: &str, request: &str) -> Idempotent {
    Idempotent::new(
        name.into(),
        "POST /food-entries",
        &json!({"request": request}),
    )
}

async fn a_key_answered_once_replays_its_answer(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    let (first, day) = entry("ann", "2024-07-11T10:00:00Z");
    let Created::Created(created) = create(&store, &first, day, Some(&key("k", "first")))
        .await
        .unwrap()
    else {
        panic!("the first request creates")
    };
    assert_eq!(created.badges_earned[0].id, "first_entry");
    let (retry, day) = entry("ann", "2024-07-12T10:00:00Z");
    let Created::Replayed(stored) = create(&store, &retry, day, Some(&key("k", "first")))
        .await
        .unwrap()
    else {
        panic!("the retry replays")
    };
    assert_eq!(stored.status, 201);
    assert_eq!(stored.body, serde_json::to_string(&created.record).unwrap());
    assert!(
        store
            .record::<Food>("ann", &retry.id)
            .await
            .unwrap()
            .is_none()
    );
    // The same key with another request writes nothing.
    let reused = create(&store, &retry, day, Some(&key("k", "second")))
        .await
        .unwrap_err();
    assert!(matches!(reused, Error::IdempotencyKeyReused), "{reused:?}");
    assert!(
        store
            .record::<Food>("ann", &retry.id)
            .await
            .unwrap()
            .is_none()
    );
}

/// A user deleted between authentication and the write: 404 on both backends, with or
/// without a key (SQLite's claim once failed its foreign key instead: a 500).
async fn a_write_of_a_user_deleted_meanwhile_is_not_found(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "gone").await;
    testkit::with_pool!(db, |pool| {
        testkit::sqlx::query("DELETE FROM users WHERE id = 'gone'")
            .execute(&pool)
            .await
            .unwrap();
    });
    let (doomed, day) = entry("gone", "2024-07-11T10:00:00Z");
    for idempotent in [None, Some(key("k", "x"))] {
        let err = create(&store, &doomed, day, idempotent.as_ref())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NOT_FOUND", "{err:?}");
    }
}

async fn a_batch_reads_its_users_activity_at_once_and_awards_if_absent(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    for user in ["ann", "bob", "cid"] {
        seed::user(&store, user).await;
    }
    for timestamp in [
        "2024-07-10T10:00:00Z",
        "2024-07-11T10:00:00Z",
        "2024-07-11T11:00:00Z",
    ] {
        log(&store, "ann", timestamp).await;
    }
    log(&store, "bob", "2024-07-01T10:00:00Z").await;

    let since = Utc::now() - Duration::hours(1);
    assert_eq!(
        store.recently_active_users(since, None, 10).await.unwrap(),
        ["ann", "bob"]
    );
    assert_eq!(
        store
            .recently_active_users(since, Some("ann"), 10)
            .await
            .unwrap(),
        ["bob"]
    );
    assert_eq!(
        store.recently_active_users(since, None, 1).await.unwrap(),
        ["ann"]
    );
    assert!(
        store
            .recently_active_users(Utc::now() + Duration::hours(1), None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let users: Vec<String> = ["ann", "bob", "cid"].map(String::from).to_vec();
    let activity = store.activity_of(&users).await.unwrap();
    let ann = &activity["ann"];
    assert_eq!(ann.entries, 3);
    assert_eq!(ann.days.len(), 2);
    assert_eq!(ann.days.longest_run(), 2);
    assert_eq!(ann.badges, ["first_entry"]);
    assert_eq!(activity["bob"].entries, 1);
    assert!(!activity.contains_key("cid"), "no days, no badges");
    assert!(store.activity_of(&[]).await.unwrap().is_empty());

    let streak_3 = badges::find("streak_3").unwrap();
    let first_entry = badges::find("first_entry").unwrap();
    let awards = vec![
        ("ann".to_owned(), first_entry),
        ("ann".to_owned(), streak_3),
        ("cid".to_owned(), streak_3),
        // Deleted since its activity was read: skipped, the others still awarded.
        ("gone".to_owned(), streak_3),
    ];
    assert_eq!(
        store
            .award_badges(&awards, shared::time::now())
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .award_badges(&awards, shared::time::now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.award_badges(&[], shared::time::now()).await.unwrap(),
        0
    );
    let record = store.badge_record("cid").await.unwrap();
    assert_eq!(record.earned.len(), 1);
    assert_eq!(record.earned[0].0, "streak_3");
    assert_eq!(record.entries, 0);
}

async fn job_cursors_are_kept_per_job(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    assert_eq!(store.job_cursor("a").await.unwrap(), JobCursor::default());
    let cursor = JobCursor {
        position: Some("user-7".into()),
        run_started_at: Some(shared::time::now()),
    };
    store.save_job_cursor("a", &cursor).await.unwrap();
    store
        .save_job_cursor("b", &JobCursor::default())
        .await
        .unwrap();
    assert_eq!(store.job_cursor("a").await.unwrap(), cursor);
    assert_eq!(store.job_cursor("b").await.unwrap(), JobCursor::default());
    store
        .save_job_cursor("a", &JobCursor::default())
        .await
        .unwrap();
    assert_eq!(store.job_cursor("a").await.unwrap(), JobCursor::default());
}

async fn expired_keys_go_in_bounded_batches(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "ann").await;
    for key in ["a", "b", "c"] {
        let (new, day) = entry("ann", "2024-07-11T10:00:00Z");
        create(&store, &new, day, Some(&self::key(key, "x")))
            .await
            .unwrap();
    }
    let later = Utc::now() + Duration::seconds(1);
    assert_eq!(
        store
            .delete_expired_idempotency_keys(later, 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .delete_expired_idempotency_keys(later, 2)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .delete_expired_idempotency_keys(later, 2)
            .await
            .unwrap(),
        0
    );
}

backend_tests!(
    pages_walk_a_whole_history_once_in_timestamp_order,
    a_key_answered_once_replays_its_answer,
    a_write_of_a_user_deleted_meanwhile_is_not_found,
    a_batch_reads_its_users_activity_at_once_and_awards_if_absent,
    job_cursors_are_kept_per_job,
    expired_keys_go_in_bounded_batches,
);
