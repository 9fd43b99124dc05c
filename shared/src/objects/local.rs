//! The embedded object store: `<root>/<bucket>/<owner>/<name>` on the local disk.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{
    ObjectKey, ObjectStart, Presigned, Signed, StoredObject, content_type_for, owner_order,
    unavailable,
};
use crate::domain::ids::is_valid_user_id;
use crate::domain::signed::{Access, Grant, UrlKey};
use crate::error::{Error, Result};

/// Where the local server serves signed object URLs: `/objects/<bucket>/<key>`.
pub const OBJECTS_PATH: &str = "/objects";

#[derive(Clone, Debug)]
pub struct LocalStore {
    root: PathBuf,
    /// The local server's URL as clients reach it, for signed URLs.
    public_base_url: String,
    urls: UrlKey,
}

impl LocalStore {
    pub fn new(root: PathBuf, public_base_url: String, urls: UrlKey) -> Self {
        Self {
            root,
            public_base_url,
            urls,
        }
    }

    /// A signed URL of the local server for `what` on the object, valid for `ttl`.
    pub fn presign(
        &self,
        bucket: &str,
        key: &ObjectKey,
        what: Signed<'_>,
        ttl: Duration,
    ) -> Result<Presigned> {
        let expires =
            crate::time::now() + chrono::Duration::from_std(ttl).map_err(Error::internal)?;
        // Whole seconds, as the URL carries them.
        let expires = chrono::DateTime::from_timestamp(expires.timestamp(), 0)
            .ok_or_else(|| Error::internal("an expiry out of range"))?;
        let (access, method, headers) = match what {
            Signed::Upload {
                content_type,
                length,
            } => (
                Access::Put {
                    content_type,
                    length,
                },
                "PUT",
                vec![
                    ("Content-Type".to_owned(), content_type.to_owned()),
                    ("Content-Length".to_owned(), length.to_string()),
                ],
            ),
            // The local server names downloads by the key; the filename is S3's concern.
            Signed::Download { .. } => (Access::Get, "GET", Vec::new()),
        };
        let grant = Grant {
            access,
            bucket: bucket.to_owned(),
            key: key.as_str().to_owned(),
            expires,
        };
        Ok(Presigned {
            method,
            url: format!(
                "{}{OBJECTS_PATH}/{bucket}/{key}?{}",
                self.public_base_url.trim_end_matches('/'),
                grant.query(&self.urls)
            ),
            headers,
            expires_at: expires,
        })
    }

    /// The key the store signs its URLs with, for the server that serves them.
    pub fn url_key(&self) -> &UrlKey {
        &self.urls
    }

    /// The object's file, open for reading, and its size; `None` when there is none.
    pub async fn open(
        &self,
        bucket: &str,
        key: &ObjectKey,
    ) -> Result<Option<(tokio::fs::File, u64)>> {
        let file = match tokio::fs::File::open(self.path(bucket, key)).await {
            Ok(file) => file,
            Err(err) if is_missing(&err) => return Ok(None),
            Err(err) => return Err(unavailable(err)),
        };
        let metadata = file.metadata().await.map_err(unavailable)?;
        Ok(metadata.is_file().then_some((file, metadata.len())))
    }

    pub async fn start(
        &self,
        bucket: &str,
        key: &ObjectKey,
        length: u64,
    ) -> Result<Option<ObjectStart>> {
        let Some((file, size)) = self.open(bucket, key).await? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        file.take(length)
            .read_to_end(&mut bytes)
            .await
            .map_err(unavailable)?;
        Ok(Some(ObjectStart {
            bytes: Bytes::from(bytes),
            size,
        }))
    }

    /// A writer of a new object: a file beside it until it is finished.
    pub async fn writer(&self, bucket: &str, key: &ObjectKey) -> Result<LocalWriter> {
        self.check_bucket(bucket).await?;
        let path = self.path(bucket, key);
        let dir = path
            .parent()
            .ok_or_else(|| Error::internal("object path has no folder"))?;
        tokio::fs::create_dir_all(dir).await.map_err(unavailable)?;
        let temporary = dir.join(format!(".upload-{}", uuid::Uuid::new_v4()));
        let file = tokio::fs::File::create(&temporary)
            .await
            .map_err(unavailable)?;
        Ok(LocalWriter {
            file,
            temporary,
            path,
            written: 0,
        })
    }

    /// Deletes the objects of `bucket` last written before `age` ago (the exports, kept a
    /// day); returns how many.
    pub async fn delete_older_than(&self, bucket: &str, age: Duration) -> Result<u64> {
        let cutoff = SystemTime::now()
            .checked_sub(age)
            .ok_or_else(|| Error::internal("an age before the epoch"))?;
        let mut owners = match tokio::fs::read_dir(self.bucket_dir(bucket)).await {
            Ok(owners) => owners,
            Err(err) if is_missing(&err) => return Ok(0),
            Err(err) => return Err(unavailable(err)),
        };
        let mut deleted = 0;
        while let Some(owner) = owners.next_entry().await.map_err(unavailable)? {
            let Ok(mut objects) = tokio::fs::read_dir(owner.path()).await else {
                continue;
            };
            while let Some(object) = objects.next_entry().await.map_err(unavailable)? {
                let modified = object.metadata().await.and_then(|m| m.modified());
                if modified.is_ok_and(|modified| modified < cutoff) {
                    match tokio::fs::remove_file(object.path()).await {
                        Ok(()) => deleted += 1,
                        Err(err) if is_missing(&err) => {}
                        Err(err) => return Err(unavailable(err)),
                    }
                }
            }
        }
        Ok(deleted)
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    fn path(&self, bucket: &str, key: &ObjectKey) -> PathBuf {
        self.bucket_dir(bucket).join(key.owner()).join(key.name())
    }

    pub async fn put(&self, bucket: &str, key: &ObjectKey, bytes: Bytes) -> Result<String> {
        self.check_bucket(bucket).await?;
        let path = self.path(bucket, key);
        let dir = path
            .parent()
            .ok_or_else(|| Error::internal("object path has no folder"))?;
        tokio::fs::create_dir_all(dir).await.map_err(unavailable)?;
        // Write aside and rename, so a reader never sees half an object. Names never start
        // with a dot, so the temporary file cannot collide with an object.
        let temporary = dir.join(format!(".upload-{}", uuid::Uuid::new_v4()));
        if let Err(err) = tokio::fs::write(&temporary, &bytes).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(unavailable(err));
        }
        tokio::fs::rename(&temporary, &path)
            .await
            .map_err(unavailable)?;
        let metadata = tokio::fs::metadata(&path).await.map_err(unavailable)?;
        Ok(etag(&metadata))
    }

    pub async fn get(&self, bucket: &str, key: &ObjectKey) -> Result<Option<StoredObject>> {
        let path = self.path(bucket, key);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(err) if is_missing(&err) => return Ok(None),
            Err(err) => return Err(unavailable(err)),
        };
        let metadata = file.metadata().await.map_err(unavailable)?;
        if !metadata.is_file() {
            return Ok(None);
        }
        let bytes = tokio::fs::read(&path).await.map_err(unavailable)?;
        Ok(Some(StoredObject {
            bytes: Bytes::from(bytes),
            content_type: content_type_for(key).to_owned(),
            etag: etag(&metadata),
        }))
    }

    pub async fn etag(&self, bucket: &str, key: &ObjectKey) -> Result<Option<String>> {
        match tokio::fs::metadata(self.path(bucket, key)).await {
            Ok(metadata) if metadata.is_file() => Ok(Some(etag(&metadata))),
            Ok(_) => Ok(None),
            Err(err) if is_missing(&err) => Ok(None),
            Err(err) => Err(unavailable(err)),
        }
    }

    pub async fn delete(&self, bucket: &str, key: &ObjectKey) -> Result<()> {
        match tokio::fs::remove_file(self.path(bucket, key)).await {
            Ok(()) => Ok(()),
            Err(err) if is_missing(&err) => Ok(()),
            Err(err) => Err(unavailable(err)),
        }
    }

    pub async fn delete_owner(&self, bucket: &str, owner: &str) -> Result<u64> {
        let dir = self.bucket_dir(bucket).join(owner);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(err) if is_missing(&err) => return Ok(0),
            Err(err) => return Err(unavailable(err)),
        };
        let mut deleted = 0;
        while let Some(entry) = entries.next_entry().await.map_err(unavailable)? {
            match tokio::fs::remove_file(entry.path()).await {
                Ok(()) => deleted += 1,
                Err(err) if is_missing(&err) => {}
                Err(err) => return Err(unavailable(err)),
            }
        }
        match tokio::fs::remove_dir(&dir).await {
            Ok(()) => Ok(deleted),
            Err(err) if is_missing(&err) => Ok(deleted),
            Err(err) => Err(unavailable(err)),
        }
    }

    pub async fn list_owners(
        &self,
        bucket: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        let after = after.map(owner_order);
        let mut entries = match tokio::fs::read_dir(self.bucket_dir(bucket)).await {
            Ok(entries) => entries,
            Err(err) if is_missing(&err) => {
                return Err(Error::internal(format!("bucket {bucket} does not exist")));
            }
            Err(err) => return Err(unavailable(err)),
        };
        // Keep only the `limit` smallest, so memory stays bounded however many owners exist.
        let mut page = BTreeSet::new();
        while let Some(entry) = entries.next_entry().await.map_err(unavailable)? {
            let Some(owner) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let order = owner_order(&owner);
            if !is_valid_user_id(&owner) || after.as_ref().is_some_and(|after| order <= *after) {
                continue;
            }
            page.insert((order, owner));
            if page.len() > limit {
                page.pop_last();
            }
        }
        Ok(page.into_iter().map(|(_, owner)| owner).collect())
    }

    pub async fn check_bucket(&self, bucket: &str) -> Result<()> {
        match tokio::fs::metadata(self.bucket_dir(bucket)).await {
            Ok(metadata) if metadata.is_dir() => Ok(()),
            Ok(_) => Err(unavailable(format!("bucket {bucket} is not a folder"))),
            Err(err) if is_missing(&err) => {
                Err(unavailable(format!("bucket {bucket} does not exist")))
            }
            Err(err) => Err(unavailable(err)),
        }
    }

    pub async fn ensure_bucket(&self, bucket: &str) -> Result<()> {
        tokio::fs::create_dir_all(self.bucket_dir(bucket))
            .await
            .map_err(unavailable)
    }
}

fn is_missing(err: &std::io::Error) -> bool {
    matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory)
}

/// Size and modification time, as web servers such as nginx derive their ETags: keys are
/// never reused, so this changes whenever the content can have.
fn etag(metadata: &std::fs::Metadata) -> String {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    format!("\"{:x}-{:x}\"", metadata.len(), modified)
}

/// A new object of the local store, written a piece at a time into a file beside it and
/// renamed into place when finished, so a reader never sees half an object.
pub struct LocalWriter {
    file: tokio::fs::File,
    temporary: PathBuf,
    path: PathBuf,
    written: u64,
}

impl LocalWriter {
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.file.write_all(chunk).await.map_err(unavailable)?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    pub async fn finish(mut self) -> Result<u64> {
        let done = async {
            self.file.flush().await?;
            self.file.sync_all().await?;
            tokio::fs::rename(&self.temporary, &self.path).await
        }
        .await;
        if let Err(err) = done {
            let _ = tokio::fs::remove_file(&self.temporary).await;
            return Err(unavailable(err));
        }
        Ok(self.written)
    }

    pub async fn abort(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.temporary).await;
    }
}
