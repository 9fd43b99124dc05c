//! Object stores for tests: the S3-compatible server `make test` runs on loopback, or a folder.

use shared::config::{ObjectStoreConfig, S3Config, S3Credentials};
use shared::objects::ObjectStore;
use shared::secret::Secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectBackend {
    S3,
    Local,
}

/// The S3 server of the test run. S3 tests never skip: without it they fail and say why.
pub fn s3_endpoint() -> String {
    std::env::var("TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "TEST_S3_ENDPOINT is not set: run the tests with `make test`, which starts an \
             S3-compatible server on loopback, or point it at one (LocalStack, MinIO)"
        )
    })
}

/// The configuration variables that point a test app at an S3 server (its endpoint is
/// added by the caller).
pub(crate) fn s3_vars() -> Vec<(String, String)> {
    vec![
        ("S3_ACCESS_KEY".into(), "test".into()),
        ("S3_SECRET_KEY".into(), "test".into()),
        ("S3_REGION".into(), "us-east-1".into()),
    ]
}

/// A store of the given kind with a fresh bucket of its own; the folder (for `Local`) lives
/// as long as the returned guard.
pub async fn test_object_store(backend: ObjectBackend) -> (ObjectStore, String, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let config = match backend {
        ObjectBackend::Local => ObjectStoreConfig::Local {
            root: folder.path().join("images"),
            public_base_url: "http://127.0.0.1:8082".into(),
        },
        ObjectBackend::S3 => ObjectStoreConfig::S3(S3Config {
            endpoint: Some(s3_endpoint()),
            region: "us-east-1".into(),
            credentials: Some(S3Credentials {
                access_key: Secret::new("test"),
                secret_key: Secret::new("test"),
            }),
        }),
    };
    let urls = shared::domain::signed::UrlKey::derive(&Secret::new("test-secret"));
    let store = ObjectStore::from_config(&config, &urls)
        .await
        .expect("object store config is valid");
    let bucket = unique_bucket("test");
    store
        .ensure_bucket(&bucket)
        .await
        .expect("the test bucket can be created");
    (store, bucket, folder)
}

/// Three new buckets on the test S3 server (profile pictures, food images, exports).
pub(crate) async fn fresh_buckets() -> (String, String, String) {
    let (store, _, _guard) = test_object_store(ObjectBackend::S3).await;
    let names = (
        unique_bucket("pp"),
        unique_bucket("fi"),
        unique_bucket("ex"),
    );
    for bucket in [&names.0, &names.1, &names.2] {
        store
            .ensure_bucket(bucket)
            .await
            .expect("the bucket can be created");
    }
    names
}

/// A bucket name no other test uses.
pub(crate) fn unique_bucket(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}
