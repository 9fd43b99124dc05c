//! `Idempotency-Key` (CONTRACT §1): the same key from the same user within 24 hours with the
//! same request gets the first response back and writes nothing; with another request it is
//! a 422 `IDEMPOTENCY_KEY_REUSED` and writes nothing.

use aws_lc_rs::digest;
use chrono::Duration;
use serde_json::Value;

use crate::error::{Error, Result};

/// How long the first response to a key is replayed.
pub const WINDOW: Duration = Duration::hours(24);

/// The longest key accepted (the column's size).
pub const MAX_KEY_LEN: usize = 255;

/// What the header must be, in the words of the OpenAPI document and of the error.
pub const KEY_PROBLEM: &str = "must be 1 to 255 printable ASCII characters";

/// A key, with the fingerprint of the request that came with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idempotent {
    pub key: String,
    /// SHA-256 (hex) of the operation and its body, as JSON with sorted keys: two requests
    /// that say the same thing match, however their JSON was spaced or ordered.
    pub fingerprint: String,
}

impl Idempotent {
    /// `operation` names what the request does (`POST /food-entries`), so a key reused for
    /// another endpoint is a reuse too.
    pub fn new(key: String, operation: &str, body: &Value) -> Self {
        // serde_json's map keeps its keys sorted: the text is canonical.
        let text = format!("{operation}\n{body}");
        let hash = digest::digest(&digest::SHA256, text.as_bytes());
        let fingerprint = hash.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Self { key, fingerprint }
    }

    /// The header's value, when given: 1 to 255 printable ASCII characters once trimmed.
    pub fn parse_key(raw: Option<&[u8]>) -> Result<Option<String>> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let key = std::str::from_utf8(raw).unwrap_or_default().trim();
        let printable = key.bytes().all(|byte| (0x20..0x7f).contains(&byte));
        if key.is_empty() || key.len() > MAX_KEY_LEN || !printable {
            return Err(Error::field("Idempotency-Key", KEY_PROBLEM));
        }
        Ok(Some(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_bounded() {
        assert_eq!(Idempotent::parse_key(None).unwrap(), None);
        assert_eq!(
            Idempotent::parse_key(Some(b" key-1 ")).unwrap().as_deref(),
            Some("key-1")
        );
        assert!(Idempotent::parse_key(Some("k".repeat(255).as_bytes())).is_ok());
        for bad in [
            &b""[..],
            b"  ",
            "k".repeat(256).as_bytes(),
            "\u{fc}".as_bytes(),
            b"a\tb",
        ] {
            match Idempotent::parse_key(Some(bad)) {
                Err(Error::Validation(fields)) => assert!(fields.contains_key("Idempotency-Key")),
                other => panic!("expected a validation error, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_same_request_has_the_same_fingerprint_however_it_is_written() {
        let first = Idempotent::new("k".into(), "POST /x", &json!({"a": 1, "b": [1, 2]}));
        let reordered: Value = serde_json::from_str(r#"{ "b":[1,2],  "a":1 }"#).unwrap();
        assert_eq!(first, Idempotent::new("k".into(), "POST /x", &reordered));
        assert_ne!(
            first.fingerprint,
            Idempotent::new("k".into(), "POST /x", &json!({"a": 2, "b": [1, 2]})).fingerprint
        );
        assert_ne!(
            first.fingerprint,
            Idempotent::new("k".into(), "POST /y", &json!({"a": 1, "b": [1, 2]})).fingerprint
        );
        assert_eq!(first.fingerprint.len(), 64);
    }
}
