//! Object storage for images: an S3-compatible service (MinIO, LocalStack, AWS S3) in
//! production, a local folder as the embedded default. Both take only [`ObjectKey`]s, which
//! cannot name anything outside the caller's folder of a bucket.

use bytes::Bytes;

use crate::config::ObjectStoreConfig;
use crate::error::{Error, Result};

mod local;
#[cfg(feature = "s3")]
mod s3;

pub use crate::domain::ids::{ObjectKey, content_type_for};
pub use local::LocalStore;
#[cfg(feature = "s3")]
pub use s3::S3Store;

/// An object read back from a store.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub bytes: Bytes,
    pub content_type: String,
    /// The entity tag, quoted as in an HTTP `ETag` header.
    pub etag: String,
}

#[derive(Clone, Debug)]
pub enum ObjectStore {
    Local(LocalStore),
    #[cfg(feature = "s3")]
    S3(S3Store),
}

impl ObjectStore {
    /// Builds the client; no request is made.
    pub async fn from_config(config: &ObjectStoreConfig) -> Result<Self> {
        match config {
            ObjectStoreConfig::Local { root } => {
                Ok(ObjectStore::Local(LocalStore::new(root.clone())))
            }
            #[cfg(feature = "s3")]
            ObjectStoreConfig::S3(s3) => Ok(ObjectStore::S3(S3Store::from_config(s3).await)),
            #[cfg(not(feature = "s3"))]
            ObjectStoreConfig::S3(_) => Err(Error::internal(
                "the configuration names S3, which this binary was built without",
            )),
        }
    }

    /// Stores `bytes` under `key`; returns the new object's ETag.
    pub async fn put(
        &self,
        bucket: &str,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<String> {
        match self {
            ObjectStore::Local(store) => store.put(bucket, key, bytes).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.put(bucket, key, bytes, content_type).await,
        }
        .inspect(|_| tracing::debug!(bucket, key = %key, content_type, "object stored"))
    }

    /// The object, or `None` when there is none under `key`.
    pub async fn get(&self, bucket: &str, key: &ObjectKey) -> Result<Option<StoredObject>> {
        match self {
            ObjectStore::Local(store) => store.get(bucket, key).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.get(bucket, key).await,
        }
    }

    /// The object's ETag without its bytes, or `None` when there is none under `key`: for a
    /// conditional read, and to learn whether an object exists.
    pub async fn etag(&self, bucket: &str, key: &ObjectKey) -> Result<Option<String>> {
        match self {
            ObjectStore::Local(store) => store.etag(bucket, key).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.etag(bucket, key).await,
        }
    }

    /// Deletes the object; deleting a missing one is not an error.
    pub async fn delete(&self, bucket: &str, key: &ObjectKey) -> Result<()> {
        match self {
            ObjectStore::Local(store) => store.delete(bucket, key).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.delete(bucket, key).await,
        }
    }

    /// Deletes every object of `owner` in `bucket`; returns how many there were.
    pub async fn delete_owner(&self, bucket: &str, owner: &str) -> Result<u64> {
        if !crate::domain::ids::is_valid_user_id(owner) {
            return Err(Error::internal(
                "refusing to delete objects of a malformed owner",
            ));
        }
        match self {
            ObjectStore::Local(store) => store.delete_owner(bucket, owner).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.delete_owner(bucket, owner).await,
        }
    }

    /// Up to `limit` owners (the first segment of keys) that have objects in `bucket`, in byte
    /// order of `"<owner>/"`, starting after `after`: a scan that resumes where it stopped.
    pub async fn list_owners(
        &self,
        bucket: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        match self {
            ObjectStore::Local(store) => store.list_owners(bucket, after, limit).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.list_owners(bucket, after, limit).await,
        }
    }

    /// Proves the bucket exists and answers (for `/health`).
    pub async fn check_bucket(&self, bucket: &str) -> Result<()> {
        match self {
            ObjectStore::Local(store) => store.check_bucket(bucket).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.check_bucket(bucket).await,
        }
    }

    /// Creates the bucket when it does not exist (the local server does this at start).
    pub async fn ensure_bucket(&self, bucket: &str) -> Result<()> {
        match self {
            ObjectStore::Local(store) => store.ensure_bucket(bucket).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.ensure_bucket(bucket).await,
        }
    }
}

/// Sort key of an owner in a listing: S3 lists common prefixes (`"<owner>/"`) in byte order.
fn owner_order(owner: &str) -> String {
    format!("{owner}/")
}

fn unavailable(source: impl Into<crate::error::BoxError>) -> Error {
    Error::unavailable("object store", source)
}
