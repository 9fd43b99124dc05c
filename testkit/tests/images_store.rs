//! Image ownership records and the scan that removes images of deleted users.

use bytes::Bytes;
use shared::maintenance::remove_orphaned_images;
use shared::objects::ObjectKey;
use shared::store::{ImageUse, NewImage, Upload};
use testkit::{Backend, ObjectBackend, TestDb, backend_tests, seed, test_object_store};

async fn uploads_are_owned_by_their_uploader(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    seed::user(&store, "alice").await;
    seed::user(&store, "bob").await;
    let key = ObjectKey::generate("alice", "png").unwrap();
    store
        .record_image(&NewImage {
            bucket: "food-images",
            key: &key,
            user_id: "alice",
            content_type: "image/png",
            size_bytes: 10,
            created_at: shared::time::now(),
            checked: false,
        })
        .await
        .unwrap();
    let upload = |user: &'static str, bucket: &'static str, key: String| {
        let store = &store;
        async move { store.upload(user, bucket, &key).await.unwrap() }
    };
    // A direct upload: recorded before its bytes are checked.
    assert_eq!(
        upload("alice", "food-images", key.to_string()).await,
        Some(Upload::Unchecked)
    );
    store.mark_image_checked("food-images", &key).await.unwrap();
    assert_eq!(
        upload("alice", "food-images", key.to_string()).await,
        Some(Upload::Checked)
    );
    assert_eq!(upload("bob", "food-images", key.to_string()).await, None);
    assert_eq!(
        upload("alice", "profile-pictures", key.to_string()).await,
        None
    );
    assert_eq!(
        upload("alice", "food-images", "alice/other.png".to_string()).await,
        None
    );
    let forget = || store.forget_image("alice", "food-images", &key, ImageUse::FoodEntry);
    assert!(forget().await.unwrap(), "it was recorded");
    assert_eq!(upload("alice", "food-images", key.to_string()).await, None);
    assert!(!forget().await.unwrap(), "nothing is left to forget");
}

/// PostgreSQL with S3 and SQLite with a folder: the two pairings that run for real.
async fn images_of_deleted_users_are_removed_and_no_others(backend: Backend) {
    let (_db, store) = TestDb::migrated(backend).await;
    let object_backend = match backend {
        Backend::Postgres => ObjectBackend::S3,
        Backend::Sqlite => ObjectBackend::Local,
    };
    let (objects, bucket, _guard) = test_object_store(object_backend).await;
    seed::user(&store, "alive-1").await;
    seed::user(&store, "alive-2").await;
    for owner in ["alive-1", "ghost-1", "alive-2", "ghost-2"] {
        for n in 0..2 {
            let key = ObjectKey::parse(&format!("{owner}/{n}.jpg")).unwrap();
            objects
                .put(&bucket, &key, Bytes::from_static(b"x"), "image/jpeg")
                .await
                .unwrap();
        }
    }

    // One owner per step: the scan resumes where it stopped until the bucket is done.
    let (mut after, mut owners, mut removed, mut steps) = (None, 0, 0, 0);
    loop {
        let scan = remove_orphaned_images(&store, &objects, &bucket, after.as_deref(), 1)
            .await
            .unwrap();
        owners += scan.owners_removed;
        removed += scan.objects_removed;
        steps += 1;
        match scan.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!((owners, removed, steps), (2, 4, 5));
    for (owner, kept) in [
        ("alive-1", true),
        ("alive-2", true),
        ("ghost-1", false),
        ("ghost-2", false),
    ] {
        let key = ObjectKey::parse(&format!("{owner}/0.jpg")).unwrap();
        assert_eq!(
            objects.get(&bucket, &key).await.unwrap().is_some(),
            kept,
            "{owner}"
        );
    }
}

backend_tests!(
    uploads_are_owned_by_their_uploader,
    images_of_deleted_users_are_removed_and_no_others,
);
