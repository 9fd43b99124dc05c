//! Signed URLs of the local object store: what a presigned S3 URL is for S3, for the local
//! folder. A URL grants one method on one object until it expires, and for an upload fixes the
//! content type and the length; the local server serves it after checking its signature, so
//! the flow of direct uploads and downloads is the same on both stores.
//!
//! The signature is an HMAC-SHA256 over every field of the grant, keyed by a key derived from
//! the service's secret. S3's own presigning (SigV4 query auth) is not reused: the local
//! server verifies only its own URLs, and a grant of four fields needs no canonical request.

use std::fmt::Write as _;
use std::sync::Arc;

use aws_lc_rs::{constant_time, hmac};
use chrono::{DateTime, Utc};

use crate::secret::Secret;

/// The key object URLs are signed with, derived from the service's secret. Shared: the key's
/// state is over a kilobyte, and every object store and request holds it.
#[derive(Clone)]
pub struct UrlKey(Arc<hmac::Key>);

impl std::fmt::Debug for UrlKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlKey([REDACTED])")
    }
}

impl UrlKey {
    pub fn derive(secret: &Secret) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        let derived = hmac::sign(&master, b"user-service object url v1");
        Self(Arc::new(hmac::Key::new(
            hmac::HMAC_SHA256,
            derived.as_ref(),
        )))
    }
}

/// What a URL allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Reading the object.
    Get,
    /// Writing the object, with exactly this content type and length.
    Put {
        content_type: &'static str,
        length: u64,
    },
}

/// One method on one object until `expires`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub access: Access,
    pub bucket: String,
    pub key: String,
    pub expires: DateTime<Utc>,
}

/// Why a signed request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The signature is missing, malformed or not this grant's (another key, method, type,
    /// length or expiry than it was signed for).
    BadSignature,
    Expired,
}

impl Grant {
    /// The text the signature covers: every field, separated by a byte no field holds.
    fn payload(&self) -> String {
        let (method, content_type, length) = match self.access {
            Access::Get => ("GET", "", 0),
            Access::Put {
                content_type,
                length,
            } => ("PUT", content_type, length),
        };
        format!(
            "{method}\n{}\n{}\n{}\n{content_type}\n{length}",
            self.bucket,
            self.key,
            self.expires.timestamp()
        )
    }

    fn signature(&self, key: &UrlKey) -> String {
        let tag = hmac::sign(&key.0, self.payload().as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in tag.as_ref() {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }

    /// The query string of the URL: the expiry and the signature (the method, type and
    /// length are the request's own, checked against the signature).
    pub fn query(&self, key: &UrlKey) -> String {
        format!(
            "expires={}&signature={}",
            self.expires.timestamp(),
            self.signature(key)
        )
    }

    /// Whether a request with `expires` and `signature` (from its query) is this grant's,
    /// signed with `key`, and not expired at `now`. `self.expires` is ignored: the request's
    /// own is checked.
    pub fn verify(
        mut self,
        key: &UrlKey,
        expires: Option<&str>,
        signature: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, Refusal> {
        let expires = expires
            .and_then(|raw| raw.parse::<i64>().ok())
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .ok_or(Refusal::BadSignature)?;
        self.expires = expires;
        let expected = self.signature(key);
        let given = signature.unwrap_or_default();
        constant_time::verify_slices_are_equal(expected.as_bytes(), given.as_bytes())
            .map_err(|_| Refusal::BadSignature)?;
        if now >= expires {
            return Err(Refusal::Expired);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn key() -> UrlKey {
        UrlKey::derive(&Secret::new("secret"))
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_720_000_000, 0).unwrap()
    }

    fn upload() -> Grant {
        Grant {
            access: Access::Put {
                content_type: "image/png",
                length: 1024,
            },
            bucket: "food-images".into(),
            key: "ann/1.png".into(),
            expires: now() + Duration::minutes(15),
        }
    }

    /// The `expires` and `signature` of a query.
    fn parts(query: &str) -> (String, String) {
        let mut expires = String::new();
        let mut signature = String::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("expires", value)) => expires = value.into(),
                Some(("signature", value)) => signature = value.into(),
                _ => {}
            }
        }
        (expires, signature)
    }

    #[test]
    fn a_url_grants_what_it_was_signed_for_until_it_expires() {
        let (expires, signature) = parts(&upload().query(&key()));
        let check = |grant: Grant, expires: &str, signature: &str, at| {
            grant.verify(&key(), Some(expires), Some(signature), at)
        };
        assert_eq!(
            check(upload(), &expires, &signature, now()).map(|g| g.key),
            Ok("ann/1.png".to_owned())
        );
        assert_eq!(
            check(
                upload(),
                &expires,
                &signature,
                now() + Duration::minutes(15)
            ),
            Err(Refusal::Expired)
        );
        // Anything else than what was signed: another object, method, type or length, a later
        // expiry, a changed signature, another secret.
        let mut other_key = upload();
        other_key.key = "ann/2.png".into();
        let mut other_bucket = upload();
        other_bucket.bucket = "profile-pictures".into();
        let mut read = upload();
        read.access = Access::Get;
        let mut longer = upload();
        longer.access = Access::Put {
            content_type: "image/png",
            length: 1025,
        };
        let mut jpeg = upload();
        jpeg.access = Access::Put {
            content_type: "image/jpeg",
            length: 1024,
        };
        for grant in [other_key, other_bucket, read, longer, jpeg] {
            assert_eq!(
                check(grant, &expires, &signature, now()),
                Err(Refusal::BadSignature)
            );
        }
        let later = (now() + Duration::days(1)).timestamp().to_string();
        assert_eq!(
            check(upload(), &later, &signature, now()),
            Err(Refusal::BadSignature)
        );
        let mut tampered = signature.clone();
        tampered.replace_range(0..1, if signature.starts_with('0') { "1" } else { "0" });
        for bad in [tampered.as_str(), "", "zz"] {
            assert_eq!(
                check(upload(), &expires, bad, now()),
                Err(Refusal::BadSignature)
            );
        }
        let foreign = UrlKey::derive(&Secret::new("another secret"));
        assert_eq!(
            upload().verify(&foreign, Some(&expires), Some(&signature), now()),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            upload().verify(&key(), None, Some(&signature), now()),
            Err(Refusal::BadSignature)
        );
    }
}
