//! The S3-compatible object store (AWS S3, MinIO, LocalStack), path-style addressing.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier,
};
use bytes::Bytes;

use super::{ObjectKey, StoredObject, unavailable};
use crate::config::S3Config;
use crate::domain::ids::is_valid_user_id;
use crate::error::{Error, Result};

/// S3 lists and deletes at most this many keys per request.
const PAGE: i32 = 1000;

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
