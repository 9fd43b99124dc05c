//! The S3-compatible object store (AWS S3, MinIO, LocalStack), path-style addressing.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CompletedMultipartUpload, CompletedPart, CreateBucketConfiguration,
    Delete, ObjectIdentifier,
};
use bytes::{Bytes, BytesMut};

use super::{ObjectKey, ObjectStart, Presigned, Signed, StoredObject, unavailable};
use crate::config::S3Config;
use crate::domain::ids::is_valid_user_id;
use crate::error::{Error, Result};

/// S3 lists and deletes at most this many keys per request.
const PAGE: i32 = 1000;

/// The size of a multipart upload's parts: S3 wants at least 5 MiB but for the last; 8 MiB
/// keeps a 100 000-entry export to a few parts and memory to one part.
const PART: usize = 8 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Client,
}

impl S3Store {
    pub async fn from_config(config: &S3Config) -> Self {
        // A dependency that is down must answer 503 within 5 s, never hang a request.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2))
            .operation_timeout(Duration::from_secs(5))
            .build();
        let mut builder = match &config.credentials {
            Some(credentials) => aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(config.region.clone()))
                .credentials_provider(Credentials::new(
                    credentials.access_key.expose(),
                    credentials.secret_key.expose(),
                    None,
                    None,
                    "user-service-config",
                )),
            None => {
                // The default chain: the Lambda role's credentials, or the environment's.
                let shared = aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(config.region.clone()))
                    .load()
                    .await;
                aws_sdk_s3::config::Builder::from(&shared)
            }
        }
        .timeout_config(timeouts)
        // Checksums only where S3 requires them: older S3-compatible servers reject the rest.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .force_path_style(true);
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Self {
            client: Client::from_conf(builder.build()),
        }
    }

    pub async fn put(
        &self,
        bucket: &str,
        key: &ObjectKey,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<String> {
        let output = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(output.e_tag().map(str::to_owned).unwrap_or_default())
    }

    pub async fn get(&self, bucket: &str, key: &ObjectKey) -> Result<Option<StoredObject>> {
        let output = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(err) if status_of(&err) == Some(404) => return Ok(None),
            Err(err) => return Err(sdk_error(err)),
        };
        let content_type = output
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let etag = output.e_tag().map(str::to_owned).unwrap_or_default();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(unavailable)?
            .into_bytes();
        Ok(Some(StoredObject {
            bytes,
            content_type,
            etag,
        }))
    }

    pub async fn etag(&self, bucket: &str, key: &ObjectKey) -> Result<Option<String>> {
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(output) => Ok(Some(output.e_tag().map(str::to_owned).unwrap_or_default())),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) if status_of(&err) == Some(404) => Ok(None),
            Err(err) => Err(sdk_error(err)),
        }
    }

    /// A presigned request (SigV4 query authentication) for `what`: an upload signs the
    /// content type and the length, so S3 refuses any other.
    pub async fn presign(
        &self,
        bucket: &str,
        key: &ObjectKey,
        what: Signed<'_>,
        ttl: Duration,
    ) -> Result<Presigned> {
        let expires_at =
            crate::time::now() + chrono::Duration::from_std(ttl).map_err(Error::internal)?;
        let config = PresigningConfig::expires_in(ttl).map_err(Error::internal)?;
        let request = match what {
            Signed::Upload {
                content_type,
                length,
            } => self
                .client
                .put_object()
                .bucket(bucket)
                .key(key.as_str())
                .content_type(content_type)
                .content_length(i64::try_from(length).map_err(Error::internal)?)
                .presigned(config)
                .await
                .map_err(sdk_error)?,
            Signed::Download { filename } => self
                .client
                .get_object()
                .bucket(bucket)
                .key(key.as_str())
                .set_response_content_disposition(
                    filename.map(|name| format!("attachment; filename=\"{name}\"")),
                )
                .presigned(config)
                .await
                .map_err(sdk_error)?,
        };
        Ok(Presigned {
            method: match what {
                Signed::Upload { .. } => "PUT",
                Signed::Download { .. } => "GET",
            },
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            expires_at,
        })
    }

    /// A ranged read of the object's first `length` bytes; its size from `Content-Range`.
    pub async fn start(
        &self,
        bucket: &str,
        key: &ObjectKey,
        length: u64,
    ) -> Result<Option<ObjectStart>> {
        let output = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key.as_str())
            .range(format!("bytes=0-{}", length.saturating_sub(1)))
            .send()
            .await
        {
            Ok(output) => output,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(err) if status_of(&err) == Some(404) => return Ok(None),
            // No byte to range over: the object is empty.
            Err(err) if status_of(&err) == Some(416) => {
                return Ok(Some(ObjectStart {
                    bytes: Bytes::new(),
                    size: 0,
                }));
            }
            Err(err) => return Err(sdk_error(err)),
        };
        let size = output
            .content_range()
            .and_then(|range| range.rsplit_once('/')?.1.parse().ok())
            .or_else(|| output.content_length().and_then(|n| u64::try_from(n).ok()))
            .ok_or_else(|| unavailable("a ranged read without its size"))?;
        let bytes = output
            .body
            .collect()
            .await
            .map_err(unavailable)?
            .into_bytes();
        Ok(Some(ObjectStart { bytes, size }))
    }

    pub fn writer(&self, bucket: &str, key: &ObjectKey, content_type: &'static str) -> S3Writer {
        S3Writer {
            client: self.client.clone(),
            bucket: bucket.to_owned(),
            key: key.as_str().to_owned(),
            content_type,
            buffer: BytesMut::new(),
            upload: None,
            written: 0,
        }
    }

    pub async fn delete(&self, bucket: &str, key: &ObjectKey) -> Result<()> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(())
    }

    pub async fn delete_owner(&self, bucket: &str, owner: &str) -> Result<u64> {
        let prefix = format!("{owner}/");
        let mut deleted = 0;
        loop {
            // Each round lists what is left, so a page deleted meanwhile is never skipped.
            let listing = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(&prefix)
                .max_keys(PAGE)
                .send()
                .await
                .map_err(sdk_error)?;
            let objects = listing
                .contents()
                .iter()
                .filter_map(|object| object.key())
                .map(|key| {
                    ObjectIdentifier::builder()
                        .key(key)
                        .build()
                        .map_err(Error::internal)
                })
                .collect::<Result<Vec<_>>>()?;
            if objects.is_empty() {
                return Ok(deleted);
            }
            let count = objects.len() as u64;
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(Error::internal)?;
            let output = self
                .client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(sdk_error)?;
            if let Some(failed) = output.errors().first() {
                return Err(unavailable(format!(
                    "deleting {} objects failed: {}",
                    output.errors().len(),
                    failed.code().unwrap_or("unknown error")
                )));
            }
            deleted += count;
        }
    }

    pub async fn list_owners(
        &self,
        bucket: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>> {
        let mut owners = Vec::new();
        let mut continuation = None;
        // Start after every key of `after`'s folder: `"<owner>/"` followed by the largest char.
        let start_after = after.map(|owner| format!("{owner}/{}", char::MAX));
        loop {
            let listing = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .delimiter("/")
                .max_keys(PAGE.min(limit.max(1) as i32))
                .set_start_after(start_after.clone())
                .set_continuation_token(continuation.take())
                .send()
                .await
                .map_err(sdk_error)?;
            owners.extend(
                listing
                    .common_prefixes()
                    .iter()
                    .filter_map(|prefix| prefix.prefix()?.strip_suffix('/'))
                    .filter(|owner| is_valid_user_id(owner))
                    .map(str::to_owned),
            );
            continuation = listing.next_continuation_token().map(str::to_owned);
            if owners.len() >= limit || continuation.is_none() {
                owners.truncate(limit);
                return Ok(owners);
            }
        }
    }

    pub async fn check_bucket(&self, bucket: &str) -> Result<()> {
        self.client
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|err| match status_of(&err) {
                Some(404) => unavailable(format!("bucket {bucket} does not exist")),
                _ => unavailable(err),
            })?;
        Ok(())
    }

    pub async fn ensure_bucket(&self, bucket: &str) -> Result<()> {
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => return Ok(()),
            Err(err) if status_of(&err) == Some(404) => {}
            Err(err) => return Err(sdk_error(err)),
        }
        let mut request = self.client.create_bucket().bucket(bucket);
        let region = self.client.config().region().map(|r| r.as_ref().to_owned());
        if let Some(region) = region.filter(|region| region != "us-east-1") {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            // Created meanwhile by someone else: what we wanted.
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(err) => Err(sdk_error(err)),
        }
    }
}

fn status_of<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response()
        .map(|response| response.status().as_u16())
}

/// Network trouble, timeouts and 5xx are "unavailable"; a 4xx is our bug or a
/// misconfiguration (wrong keys, missing permission), logged as internal.
fn sdk_error<E>(err: SdkError<E, HttpResponse>) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    match status_of(&err) {
        Some(status) if (400..500).contains(&status) => Error::internal(err),
        _ => unavailable(err),
    }
}

/// A new S3 object written a part at a time: one `PutObject` when it fits one part, else a
/// multipart upload begun when the first part is full.
pub struct S3Writer {
    client: Client,
    bucket: String,
    key: String,
    content_type: &'static str,
    buffer: BytesMut,
    upload: Option<(String, Vec<CompletedPart>)>,
    written: u64,
}

impl S3Writer {
    pub async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.written += chunk.len() as u64;
        self.buffer.extend_from_slice(&chunk);
        if self.buffer.len() >= PART {
            self.send_part().await?;
        }
        Ok(())
    }

    async fn send_part(&mut self) -> Result<()> {
        let (upload_id, parts) = match &mut self.upload {
            Some(upload) => upload,
            None => {
                let created = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .content_type(self.content_type)
                    .send()
                    .await
                    .map_err(sdk_error)?;
                let id = created
                    .upload_id()
                    .ok_or_else(|| unavailable("a multipart upload without its id"))?;
                self.upload.insert((id.to_owned(), Vec::new()))
            }
        };
        let number = i32::try_from(parts.len() + 1).map_err(Error::internal)?;
        let part = self.buffer.split().freeze();
        let sent = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id.as_str())
            .part_number(number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(sdk_error)?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(sent.e_tag().map(str::to_owned))
                .build(),
        );
        Ok(())
    }

    pub async fn finish(mut self) -> Result<u64> {
        if self.upload.is_none() {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(self.content_type)
                .body(ByteStream::from(self.buffer.split().freeze()))
                .send()
                .await
                .map_err(sdk_error)?;
            return Ok(self.written);
        }
        if !self.buffer.is_empty() {
            self.send_part().await?;
        }
        let Some((upload_id, parts)) = self.upload.take() else {
            return Err(Error::internal("a multipart upload lost its id"));
        };
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        if let Err(err) = completed {
            self.upload = Some((upload_id, Vec::new()));
            self.abort().await;
            return Err(sdk_error(err));
        }
        Ok(self.written)
    }

    pub async fn abort(self) {
        let Some((upload_id, _)) = self.upload else {
            return;
        };
        let aborted = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&upload_id)
            .send()
            .await;
        if let Err(err) = aborted {
            // The bucket's lifecycle rule removes it.
            tracing::warn!(key = %self.key, error = %crate::error::WithCauses(&sdk_error(err)), "an abandoned multipart upload could not be aborted");
        }
    }
}
