//! Object storage for images: an S3-compatible service (MinIO, LocalStack, AWS S3) in
//! production, a local folder as the embedded default. Both take only [`ObjectKey`]s, which
//! cannot name anything outside the caller's folder of a bucket.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::config::ObjectStoreConfig;
use crate::domain::signed::UrlKey;
use crate::error::{Error, Result};

mod local;
#[cfg(feature = "s3")]
mod s3;

pub use crate::domain::ids::{ObjectKey, content_type_for};
pub use local::{LocalStore, LocalWriter};
#[cfg(feature = "s3")]
pub use s3::{S3Store, S3Writer};

/// An object read back from a store.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub bytes: Bytes,
    pub content_type: String,
    /// The entity tag, quoted as in an HTTP `ETag` header.
    pub etag: String,
}

/// A request the client sends to the object store itself, signed: the method, the URL and the
/// headers it must send exactly, before `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presigned {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

/// What a signed request may do with its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signed<'a> {
    /// Write it, with exactly this content type and length.
    Upload {
        content_type: &'static str,
        length: u64,
    },
    /// Read it; `filename` names the download (`Content-Disposition: attachment`).
    Download { filename: Option<&'a str> },
}

/// The first bytes of an object, and its whole size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectStart {
    pub bytes: Bytes,
    pub size: u64,
}

/// An object being written a piece at a time (see [`ObjectStore::writer`]): memory holds a
/// bounded buffer, never the whole object. Nothing is visible under its key until
/// [`ObjectWriter::finish`]; a writer dropped or [`ObjectWriter::abort`]ed leaves nothing
/// behind for long (S3 expires an abandoned multipart upload by the bucket's lifecycle rule).
pub enum ObjectWriter {
    Local(LocalWriter),
    #[cfg(feature = "s3")]
    S3(S3Writer),
}

impl ObjectWriter {
    pub async fn write(&mut self, chunk: Bytes) -> Result<()> {
        match self {
            ObjectWriter::Local(writer) => writer.write(&chunk).await,
            #[cfg(feature = "s3")]
            ObjectWriter::S3(writer) => writer.write(chunk).await,
        }
    }

    /// Makes the object visible under its key; returns its size in bytes.
    pub async fn finish(self) -> Result<u64> {
        match self {
            ObjectWriter::Local(writer) => writer.finish().await,
            #[cfg(feature = "s3")]
            ObjectWriter::S3(writer) => writer.finish().await,
        }
    }

    /// Gives up: nothing is stored.
    pub async fn abort(self) {
        match self {
            ObjectWriter::Local(writer) => writer.abort().await,
            #[cfg(feature = "s3")]
            ObjectWriter::S3(writer) => writer.abort().await,
        }
    }
}

#[derive(Clone, Debug)]
pub enum ObjectStore {
    Local(LocalStore),
    #[cfg(feature = "s3")]
    S3(S3Store),
}

impl ObjectStore {
    /// Builds the client; no request is made. `urls` signs the local store's URLs.
    pub async fn from_config(config: &ObjectStoreConfig, urls: &UrlKey) -> Result<Self> {
        match config {
            ObjectStoreConfig::Local {
                root,
                public_base_url,
            } => Ok(ObjectStore::Local(LocalStore::new(
                root.clone(),
                public_base_url.clone(),
                urls.clone(),
            ))),
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

    /// A signed request for the client to do `what` with the object directly, valid for
    /// `ttl`: a presigned S3 URL, or a signed URL of the local server.
    pub async fn presign(
        &self,
        bucket: &str,
        key: &ObjectKey,
        what: Signed<'_>,
        ttl: Duration,
    ) -> Result<Presigned> {
        match self {
            ObjectStore::Local(store) => store.presign(bucket, key, what, ttl),
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.presign(bucket, key, what, ttl).await,
        }
    }

    /// The first `length` bytes of the object (fewer when it is shorter) and its size, or
    /// `None` when there is none under `key`: to check an upload without reading it whole.
    pub async fn start(
        &self,
        bucket: &str,
        key: &ObjectKey,
        length: u64,
    ) -> Result<Option<ObjectStart>> {
        match self {
            ObjectStore::Local(store) => store.start(bucket, key, length).await,
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => store.start(bucket, key, length).await,
        }
    }

    /// A writer of a new object under `key`, a piece at a time (a multipart upload on S3).
    pub async fn writer(
        &self,
        bucket: &str,
        key: &ObjectKey,
        content_type: &'static str,
    ) -> Result<ObjectWriter> {
        match self {
            ObjectStore::Local(store) => {
                // Locally the key's extension says the type (see `content_type_for`).
                debug_assert_eq!(content_type_for(key), content_type);
                store.writer(bucket, key).await.map(ObjectWriter::Local)
            }
            #[cfg(feature = "s3")]
            ObjectStore::S3(store) => Ok(ObjectWriter::S3(store.writer(bucket, key, content_type))),
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
