//! The `images` table: which uploaded object belongs to whom. `imageKey` and
//! `profilePicture` must name one of the caller's own uploads.

use chrono::{DateTime, Utc};

use super::lease::commit;
use super::{Store, with_db};
use crate::domain::ids::ObjectKey;
use crate::error::Result;

/// What names an image besides its record: cleared when the image is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageUse {
    /// `users.profile_picture` (an image in the profile-pictures bucket).
    ProfilePicture,
    /// `food_entries.image_key` (an image in the food-images bucket).
    FoodEntry,
}

#[derive(Clone, Debug)]
pub struct NewImage<'a> {
    pub bucket: &'a str,
    pub key: &'a ObjectKey,
    pub user_id: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
    /// Whether the service has checked its bytes (an upload through it); a direct upload is
    /// checked at its first use.
    pub checked: bool,
}

/// What the service knows of an upload's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upload {
    Checked,
    /// Uploaded straight to the object store: not yet checked.
    Unchecked,
}

impl Store {
    /// Records an upload. Recording it again changes nothing (a retried statement may find
    /// its first attempt done).
    pub async fn record_image(&self, image: &NewImage<'_>) -> Result<()> {
        with_db!(self, |conn| {
            self.query(
                "INSERT INTO images (bucket, object_key, user_id, content_type, size_bytes, \
                 created_at, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (bucket, object_key) DO NOTHING",
            )
            .bind(image.bucket)
            .bind(image.key.as_str())
            .bind(image.user_id)
            .bind(image.content_type)
            .bind(image.size_bytes)
            .bind(image.created_at)
            .bind(image.checked.then_some(image.created_at))
            .execute(&mut **conn)
            .await?;
            Ok(())
        })
    }

    /// Whether `user_id` uploaded `key` to `bucket` (and has not deleted it), and whether its
    /// bytes have been checked.
    pub async fn upload(&self, user_id: &str, bucket: &str, key: &str) -> Result<Option<Upload>> {
        let found: Option<(Option<DateTime<Utc>>,)> = with_db!(self, |conn| {
            Ok(self
                .query_as(
                    "SELECT checked_at FROM images \
                     WHERE bucket = $1 AND object_key = $2 AND user_id = $3",
                )
                .bind(bucket)
                .bind(key)
                .bind(user_id)
                .fetch_optional(&mut **conn)
                .await?)
        })?;
        Ok(found.map(|(checked_at,)| match checked_at {
            Some(_) => Upload::Checked,
            None => Upload::Unchecked,
        }))
    }

    /// Records that the bytes of an upload passed its check.
    pub async fn mark_image_checked(&self, bucket: &str, key: &ObjectKey) -> Result<()> {
        let now = crate::time::now();
        with_db!(self, |conn| {
            self.query(
                "UPDATE images SET checked_at = $3 \
                 WHERE bucket = $1 AND object_key = $2 AND checked_at IS NULL",
            )
            .bind(bucket)
            .bind(key.as_str())
            .bind(now)
            .execute(&mut **conn)
            .await?;
            Ok(())
        })
    }

    /// Forgets an upload that failed its check (nothing can name it yet: only a checked
    /// upload is accepted as `imageKey` or `profilePicture`).
    pub async fn forget_unchecked_image(&self, bucket: &str, key: &ObjectKey) -> Result<()> {
        with_db!(self, |conn| {
            self.query(
                "DELETE FROM images WHERE bucket = $1 AND object_key = $2 AND checked_at IS NULL",
            )
            .bind(bucket)
            .bind(key.as_str())
            .execute(&mut **conn)
            .await?;
            Ok(())
        })
    }

    /// Forgets `user_id`'s upload of `key` to `bucket` and, in the same transaction, clears
    /// what named it, so no profile or entry is left pointing at a deleted image. Returns
    /// whether the upload was recorded.
    pub async fn forget_image(
        &self,
        user_id: &str,
        bucket: &str,
        key: &ObjectKey,
        named_by: ImageUse,
    ) -> Result<bool> {
        let now = crate::time::now();
        with_db!(self, |conn| {
            let mut tx = super::begin(conn, self.dialect()).await?;
            let forgotten = self
                .query("DELETE FROM images WHERE bucket = $1 AND object_key = $2 AND user_id = $3")
                .bind(bucket)
                .bind(key.as_str())
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            match named_by {
                ImageUse::ProfilePicture => {
                    self.query(
                        "UPDATE users SET profile_picture = NULL \
                         WHERE id = $1 AND profile_picture = $2",
                    )
                    .bind(user_id)
                    .bind(key.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                ImageUse::FoodEntry => {
                    self.query(
                        "UPDATE food_entries SET image_key = NULL, updated_at = $3 \
                         WHERE user_id = $1 AND image_key = $2",
                    )
                    .bind(user_id)
                    .bind(key.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            commit(tx).await?;
            Ok(forgotten > 0)
        })
    }
}
