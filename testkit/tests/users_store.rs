//! The `users` storage on both backends.

use futures_util::future::join_all;
use shared::store::{NewUser, Standing};
use shared::time::UserZone;
use testkit::{Backend, TestDb, backend_tests};

fn user(id: &str, email: &str) -> NewUser {
    NewUser {
        id: id.into(),
        email: email.into(),
        name: Some("Name".into()),
        created_at: shared::time::now(),
    }
}

async fn creating_a_user_is_idempotent(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    assert_eq!(store.standing("u1").await.unwrap(), Standing::Unknown);
    store
        .create_user(&user("u1", "u1@example.com"))
        .await
        .unwrap();
    store
        .create_user(&user("u1", "u1@example.com"))
        .await
        .unwrap();
    assert_eq!(
        store.standing("u1").await.unwrap(),
        Standing::Active(UserZone::UTC)
    );
    assert_eq!(store.standing("u2").await.unwrap(), Standing::Unknown);
}

async fn concurrent_creations_leave_one_row(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    let new = user("racer", "racer@example.com");
    let results = join_all((0..16).map(|_| store.create_user(&new))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let count: i64 = testkit::with_pool!(db, |pool| {
        testkit::sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    assert_eq!(count, 1);
}

/// The Auth Service keeps emails unique: an email still held here by another (stale) id is
/// released from it, and the new user is created; the stale row keeps its data.
async fn an_email_held_by_a_stale_user_is_released(backend: Backend) {
    let (db, store) = TestDb::migrated(backend).await;
    store
        .create_user(&user("old", "same@example.com"))
        .await
        .unwrap();
    store
        .create_user(&user("new", "same@example.com"))
        .await
        .unwrap();
    assert_eq!(
        store.standing("new").await.unwrap(),
        Standing::Active(UserZone::UTC)
    );
    assert_eq!(
        store.standing("old").await.unwrap(),
        Standing::Active(UserZone::UTC)
    );
    let emails: Vec<(String, String)> = testkit::with_pool!(db, |pool| {
        testkit::sqlx::query_as("SELECT id, email FROM users ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
    });
    assert_eq!(
        emails,
        [
            ("new".to_owned(), "same@example.com".to_owned()),
            ("old".to_owned(), "old@released.invalid".to_owned())
        ]
    );
}

async fn a_database_that_is_down_is_unavailable(backend: Backend) {
    let db = TestDb::empty(backend).await;
    let store = db.store();
    store.close().await;
    let err = store.standing("u1").await.unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE", "{err:?}");
}

backend_tests!(
    creating_a_user_is_idempotent,
    concurrent_creations_leave_one_row,
    an_email_held_by_a_stale_user_is_released,
    a_database_that_is_down_is_unavailable,
);

async fn existing_users_are_found_in_one_query(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    for id in ["a", "b", "c"] {
        store
            .create_user(&user(id, &format!("{id}@example.com")))
            .await
            .unwrap();
    }
    let asked: Vec<String> = ["a", "c", "ghost", "x'); DROP TABLE users; --"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let found = store.existing_users(&asked).await.unwrap();
    assert_eq!(found, ["a", "c"].iter().map(|s| s.to_string()).collect());
    assert!(store.existing_users(&[]).await.unwrap().is_empty());
    assert!(matches!(
        store.standing("b").await.unwrap(),
        Standing::Active(_)
    ));
}

backend_tests!(existing_users_are_found_in_one_query);

/// Concurrent creations race on both unique indexes (id and email): none may fail, however
/// the inserts interleave.
async fn racing_creations_never_report_a_conflict(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    for round in 0..20 {
        let new = user(
            &format!("racer-{round}"),
            &format!("racer-{round}@example.com"),
        );
        let results = join_all((0..8).map(|_| store.create_user(&new))).await;
        assert!(
            results.iter().all(Result::is_ok),
            "round {round}: {results:?}"
        );
    }
}

backend_tests!(racing_creations_never_report_a_conflict);
