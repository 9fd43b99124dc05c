//! The paging cursor of every listing (`X-Next-Cursor`, `cursor=`): a position, signed so
//! that a cursor the service did not issue is refused rather than read.

use std::fmt::Write as _;

use aws_lc_rs::{constant_time, hmac};
use chrono::{DateTime, Datelike, Utc};

use crate::secret::Secret;

/// Bytes of the HMAC-SHA256 tag kept in a cursor: forging one is a 2^-64 guess.
const TAG_LEN: usize = 8;
/// The longest record id a cursor carries (the id columns are `VARCHAR(36)`).
const MAX_ID_LEN: usize = 36;

/// The key cursors are signed with, derived from the service's secret (so every function of
/// a deployment signs alike, and nothing new has to be configured).
#[derive(Clone)]
pub struct CursorKey(hmac::Key);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey([REDACTED])")
    }
}

impl CursorKey {
    pub fn derive(secret: &Secret) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        let derived = hmac::sign(&master, b"user-service paging cursor v1");
        Self(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()))
    }

    fn tag(&self, payload: &[u8]) -> [u8; TAG_LEN] {
        let full = hmac::sign(&self.0, payload);
        let mut tag = [0; TAG_LEN];
        tag.copy_from_slice(&full.as_ref()[..TAG_LEN]);
        tag
    }
}

/// A position in a listing: the last `(timestamp, id)` seen. Records sharing a timestamp are
/// ordered by id, so a page never skips or repeats one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub timestamp: DateTime<Utc>,
    pub id: String,
}

impl Cursor {
    /// The opaque form clients send back: hex of `<unix micros>:<id>` and of its tag.
    /// Microseconds, the database's precision: rows of the previous service carry them, and a
    /// coarser cursor would sort before its own record and repeat it.
    pub fn encode(&self, key: &CursorKey) -> String {
        let payload = format!("{}:{}", self.timestamp.timestamp_micros(), self.id);
        let mut hex = String::with_capacity(2 * (payload.len() + TAG_LEN));
        for byte in payload.bytes().chain(key.tag(payload.as_bytes())) {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }

    /// The cursor `raw` names, if this service issued it.
    pub fn decode(raw: &str, key: &CursorKey) -> Option<Self> {
        if !raw.len().is_multiple_of(2) || raw.len() > 2 * (24 + MAX_ID_LEN + TAG_LEN) {
            return None;
        }
        let bytes = (0..raw.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(raw.get(at..at + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let (payload, tag) = bytes.split_at_checked(bytes.len().checked_sub(TAG_LEN)?)?;
        constant_time::verify_slices_are_equal(&key.tag(payload), tag).ok()?;
        let (micros, id) = std::str::from_utf8(payload).ok()?.split_once(':')?;
        // Only instants a record can have (RFC 3339 years) reach the database.
        let timestamp = DateTime::from_timestamp_micros(micros.parse().ok()?)
            .filter(|at| (0..=9999).contains(&at.year()))?;
        let valid_id = (1..=MAX_ID_LEN).contains(&id.len()) && !id.chars().any(char::is_control);
        valid_id.then(|| Self {
            timestamp,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key() -> CursorKey {
        CursorKey::derive(&Secret::new("test-secret"))
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn issued_cursors_round_trip() {
        let cursor = Cursor {
            timestamp: DateTime::from_timestamp_micros(1_720_693_862_120_123).unwrap(),
            id: "e1".into(),
        };
        let encoded = cursor.encode(&key());
        assert!(encoded.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(Cursor::decode(&encoded, &key()), Some(cursor));
    }

    #[test]
    fn cursors_the_service_did_not_issue_are_refused() {
        let cursor = Cursor {
            timestamp: DateTime::from_timestamp_micros(1).unwrap(),
            id: "x".into(),
        };
        let issued = cursor.encode(&key());
        // Another deployment's secret, a changed position, the tag cut off.
        assert!(Cursor::decode(&issued, &CursorKey::derive(&Secret::new("other"))).is_none());
        for plain in ["+1:x", "1:x:y", "1:x", "01:x", "1:y"] {
            assert!(
                Cursor::decode(&hex(plain.as_bytes()), &key()).is_none(),
                "{plain}"
            );
        }
        assert!(Cursor::decode(&issued[..issued.len() - 2], &key()).is_none());
        for raw in ["", "abc", "zz", &"0".repeat(400)] {
            assert!(Cursor::decode(raw, &key()).is_none(), "{raw}");
        }
    }

    proptest! {
        #[test]
        fn any_cursor_round_trips(micros in -62_000_000_000_000_000i64..253_000_000_000_000_000, id in "[A-Za-z0-9:-]{1,36}") {
            let cursor = Cursor { timestamp: DateTime::from_timestamp_micros(micros).unwrap(), id };
            prop_assert_eq!(Cursor::decode(&cursor.encode(&key()), &key()), Some(cursor));
        }

        #[test]
        fn no_text_is_a_cursor_by_chance(raw in "[0-9a-f]{0,140}") {
            prop_assert!(Cursor::decode(&raw, &key()).is_none());
        }
    }
}
