//! The ids the service trusts: user ids (from tokens) and object keys (`<userId>/<name>`),
//! checked before a store or a path sees them.

use std::fmt;

/// The longest user id the `users.id` column (`VARCHAR(36)`) holds.
pub const MAX_USER_ID_LEN: usize = 36;

/// User ids are used as the first segment of object keys, so they are restricted to
/// characters that are safe in a path: `[A-Za-z0-9_-]`, 1 to 36 of them (UUIDs and numeric
/// ids, as the Auth Service issues them).
pub fn is_valid_user_id(id: &str) -> bool {
    (1..=MAX_USER_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The longest file name part of a key this service accepts.
const MAX_NAME_LEN: usize = 128;

/// A key of the form `<owner>/<name>`. Its owner is a valid user id and its name a single safe
/// path segment (`[A-Za-z0-9._-]`, not starting with a dot, no `..`), so it can name neither a
/// path outside its bucket nor another user's folder, in S3 or on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    key: String,
    owner_len: usize,
}

impl ObjectKey {
    /// A new, unguessable key for an upload: `<owner>/<uuid>.<extension>`.
    pub fn generate(owner: &str, extension: &str) -> Option<Self> {
        Self::parse(&format!("{owner}/{}.{extension}", uuid::Uuid::new_v4()))
    }

    /// A key from outside (a path, a request body); `None` when malformed.
    pub fn parse(raw: &str) -> Option<Self> {
        let (owner, name) = raw.split_once('/')?;
        if !is_valid_user_id(owner) || !is_valid_name(name) {
            return None;
        }
        Some(Self {
            key: raw.to_owned(),
            owner_len: owner.len(),
        })
    }

    /// A key that must belong to `user_id`; anything else is `None` (and so a 404 upstream).
    pub fn parse_owned(raw: &str, user_id: &str) -> Option<Self> {
        Self::parse(raw).filter(|key| key.owner() == user_id)
    }

    pub fn owner(&self) -> &str {
        &self.key[..self.owner_len]
    }

    pub fn name(&self) -> &str {
        &self.key[self.owner_len + 1..]
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The name without its extension (a generated key's uuid).
    pub fn stem(&self) -> &str {
        self.name()
            .rsplit_once('.')
            .map_or(self.name(), |(stem, _)| stem)
    }

    /// The file extension, lower-cased (`jpg`), if any.
    pub fn extension(&self) -> Option<String> {
        self.name()
            .rsplit_once('.')
            .map(|(_, extension)| extension.to_ascii_lowercase())
    }
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// The `Content-Type` of an image by its key's extension (the extension an upload was given
/// from its verified type).
pub fn content_type_for(key: &ObjectKey) -> &'static str {
    match key.extension().as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_path_safe() {
        assert!(is_valid_user_id("4f6c2a3e-8d1b-4c4e-9a57-1b2c3d4e5f60"));
        assert!(is_valid_user_id("42"));
        for bad in ["", "a/b", "..", "a.b", "a b", &"x".repeat(37), "é"] {
            assert!(!is_valid_user_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn generated_keys_belong_to_their_owner() {
        let key = ObjectKey::generate("user-1", "png").unwrap();
        assert_eq!(key.owner(), "user-1");
        assert!(key.name().ends_with(".png"));
        assert_eq!(key.extension().as_deref(), Some("png"));
        assert_eq!(content_type_for(&key), "image/png");
        assert_eq!(ObjectKey::parse(key.as_str()), Some(key));
    }

    #[test]
    fn malformed_keys_are_rejected() {
        let bad = [
            "",
            "user-1",
            "user-1/",
            "/user-1/a.png",
            "user-1//a.png",
            "user-1/../user-2/a.png",
            "user-1/..",
            "user-1/.hidden",
            "user-1/a/b.png",
            "user-1\\a.png",
            "user-1/a\\b.png",
            "../etc/passwd",
            "user 1/a.png",
            "user-1/a%2e%2e.png",
            "user-1/a..png",
            "user-1/\u{e9}.png",
        ];
        for raw in bad {
            assert!(ObjectKey::parse(raw).is_none(), "{raw:?}");
        }
        let long = format!("user-1/{}.png", "a".repeat(MAX_NAME_LEN));
        assert!(ObjectKey::parse(&long).is_none());
    }

    #[test]
    fn owned_keys_must_carry_the_callers_prefix() {
        assert!(ObjectKey::parse_owned("user-1/a.png", "user-1").is_some());
        assert!(ObjectKey::parse_owned("user-2/a.png", "user-1").is_none());
        assert!(ObjectKey::parse_owned("user-10/a.png", "user-1").is_none());
    }
}
