//! Images uploaded straight to the object store, on a signed URL the service granted: their
//! bytes never passed through the service, so they are checked at their first use (a read, an
//! `imageKey`, a `profilePicture`, a download link): the object must exist, be at most 5 MiB
//! and start with the bytes of its key's type. One that passes is recorded as checked; one
//! that fails is deleted with its record and is, from then on, missing.

use crate::domain::images::{ImageType, MAX_IMAGE_BYTES};
use crate::error::Result;
use crate::objects::{ObjectKey, content_type_for};
use crate::state::AppState;
use crate::store::Upload;

/// Bytes read to recognize a type: the longest signature (WebP's) is 12.
const SIGNATURE_BYTES: u64 = 16;

/// Whether `user_id` may name `key` of `bucket`: their own upload, its bytes checked (now,
/// if this is its first use).
pub async fn usable(state: &AppState, user_id: &str, bucket: &str, key: &str) -> Result<bool> {
    match state.store().upload(user_id, bucket, key).await? {
        None => Ok(false),
        Some(Upload::Checked) => Ok(true),
        Some(Upload::Unchecked) => match ObjectKey::parse_owned(key, user_id) {
            Some(key) => check(state, bucket, &key).await,
            None => Ok(false),
        },
    }
}

/// Checks an unchecked upload from its first bytes; deletes it when it fails.
pub async fn check(state: &AppState, bucket: &str, key: &ObjectKey) -> Result<bool> {
    let objects = state.objects().await?;
    let start = objects.start(bucket, key, SIGNATURE_BYTES).await?;
    let passes = start.is_some_and(|start| {
        start.size <= MAX_IMAGE_BYTES as u64 && is_of_its_type(key, &start.bytes)
    });
    settle(state, bucket, key, passes).await?;
    Ok(passes)
}

/// Whether `bytes` (the object's first ones, or all of them) are of the type `key` names.
pub fn is_of_its_type(key: &ObjectKey, bytes: &[u8]) -> bool {
    ImageType::detect(bytes).map(ImageType::mime) == Some(content_type_for(key))
}

/// Records the outcome of a check: a pass as checked, a failure by deleting the object and
/// its record.
pub async fn settle(state: &AppState, bucket: &str, key: &ObjectKey, passes: bool) -> Result<()> {
    if passes {
        return state.store().mark_image_checked(bucket, key).await;
    }
    tracing::info!(bucket, key = %key, "a direct upload failed its check and was deleted");
    state.objects().await?.delete(bucket, key).await?;
    state.store().forget_unchecked_image(bucket, key).await
}
