//! The `images` table: which uploaded object belongs to whom. `imageKey` and
//! `profilePicture` must name one of the caller's own uploads.

use chrono::{DateTime, Utc};

use super::{Store, with_db};
use crate::error::Result;
use crate::objects::ObjectKey;

#[derive(Clone, Debug)]
pub struct NewImage<'a> {
    pub bucket: &'a str,
    pub key: &'a ObjectKey,
    pub user_id: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
}

impl Store {
    pub async fn record_image(&self, image: &NewImage<'_>) -> Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO images (bucket, object_key, user_id, content_type, size_bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(image.bucket)
            .bind(image.key.as_str())
            .bind(image.user_id)
            .bind(image.content_type)
            .bind(image.size_bytes)
            .bind(image.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Whether `user_id` uploaded `key` to `bucket` (and has not deleted it).
    pub async fn owns_image(&self, user_id: &str, bucket: &str, key: &str) -> Result<bool> {
        let found: Option<i32> = with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT 1 FROM images WHERE bucket = $1 AND object_key = $2 AND user_id = $3",
            )
            .bind(bucket)
            .bind(key)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    pub async fn forget_image(&self, bucket: &str, key: &ObjectKey) -> Result<()> {
        with_db!(&self.db, |pool| {
            sqlx::query("DELETE FROM images WHERE bucket = $1 AND object_key = $2")
                .bind(bucket)
                .bind(key.as_str())
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
