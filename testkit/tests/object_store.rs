//! One behaviour suite for both object stores: the S3-compatible server and a local folder.

use bytes::Bytes;
use shared::objects::ObjectKey;
use testkit::{ObjectBackend, object_store_tests, test_object_store};

fn key(raw: &str) -> ObjectKey {
    ObjectKey::parse(raw).unwrap()
}

async fn an_object_round_trips(backend: ObjectBackend) {
    let (store, bucket, _guard) = test_object_store(backend).await;
    let key = ObjectKey::generate("user-1", "png").unwrap();
    let bytes = Bytes::from_static(b"\x89PNG\r\n\x1a\nrest-of-image");
    let etag = store
        .put(&bucket, &key, bytes.clone(), "image/png")
        .await
        .unwrap();
    assert!(!etag.is_empty());

    let object = store.get(&bucket, &key).await.unwrap().expect("stored");
    assert_eq!(object.bytes, bytes);
    assert_eq!(object.content_type, "image/png");
    assert_eq!(object.etag, etag);
    assert!(object.etag.starts_with('"') && object.etag.ends_with('"'));
}

async fn a_missing_object_is_none(backend: ObjectBackend) {
    let (store, bucket, _guard) = test_object_store(backend).await;
    assert!(
        store
            .get(&bucket, &key("user-1/missing.png"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get(&bucket, &key("nobody/missing.png"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_etag_is_read_without_the_bytes(backend: ObjectBackend) {
    let (store, bucket, _guard) = test_object_store(backend).await;
    let key = key("user-1/a.gif");
    assert_eq!(store.etag(&bucket, &key).await.unwrap(), None);
    let etag = store
        .put(&bucket, &key, Bytes::from_static(b"GIF89a"), "image/gif")
        .await
        .unwrap();
    assert_eq!(store.etag(&bucket, &key).await.unwrap(), Some(etag.clone()));
    assert_eq!(store.get(&bucket, &key).await.unwrap().unwrap().etag, etag);
    store.delete(&bucket, &key).await.unwrap();
    assert_eq!(store.etag(&bucket, &key).await.unwrap(), None);
}

async fn delete_is_idempotent(backend: ObjectBackend) {
    let (store, bucket, _guard) = test_object_store(backend).await;
    let key = key("user-1/a.jpg");
    store
        .put(&bucket, &key, Bytes::from_static(b"x"), "image/jpeg")
        .await
        .unwrap();
    store.delete(&bucket, &key).await.unwrap();
    assert!(store.get(&bucket, &key).await.unwrap().is_none());
    store.delete(&bucket, &key).await.unwrap();
}

async fn deleting_an_owner_leaves_other_owners_alone(backend: ObjectBackend) {
    let (store, bucket, _guard) = test_object_store(backend).await;
    for raw in ["alice/1.png", "alice/2.png", "alice-2/1.png", "bob/1.png"] {
        store
            .put(&bucket, &key(raw), Bytes::from_static(b"x"), "image/png")
            .await
            .unwrap();
    }
    assert_eq!(store.delete_owner(&bucket, "alice").await.unwrap(), 2);
    assert!(
        store
            .get(&bucket, &key("alice/1.png"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get(&bucket, &key("alice-2/1.png"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .get(&bucket, &key("bob/1.png"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.delete_owner(&bucket, "alice").await.unwrap(), 0);
    assert!(store.delete_owner(&bucket, "../x").await.is_err());
}

async fn owners_are_listed_in_pages_that_resume(backend: ObjectBackend) {
    let (store, bucket, _guard) = test_object_store(backend).await;
    for owner in ["carol", "alice", "bob", "alice-2", "dave"] {
        for n in 0..2 {
            let raw = format!("{owner}/{n}.png");
            store
                .put(&bucket, &key(&raw), Bytes::from_static(b"x"), "image/png")
                .await
                .unwrap();
        }
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_owners(&bucket, after.as_deref(), 2)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().cloned();
        seen.extend(page);
    }
    // S3's order of "<owner>/": '-' sorts before '/'.
    assert_eq!(seen, vec!["alice-2", "alice", "bob", "carol", "dave"]);
}

async fn buckets_are_checked_and_created(backend: ObjectBackend) {
    let (store, bucket, _guard) = test_object_store(backend).await;
    store.check_bucket(&bucket).await.unwrap();
    store.ensure_bucket(&bucket).await.unwrap();
    let missing = format!("{bucket}-missing");
    let err = store.check_bucket(&missing).await.unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    store.ensure_bucket(&missing).await.unwrap();
    store.check_bucket(&missing).await.unwrap();
}

object_store_tests!(
    an_object_round_trips,
    a_missing_object_is_none,
    an_etag_is_read_without_the_bytes,
    delete_is_idempotent,
    deleting_an_owner_leaves_other_owners_alone,
    owners_are_listed_in_pages_that_resume,
    buckets_are_checked_and_created,
);
