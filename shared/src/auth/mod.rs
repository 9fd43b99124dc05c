//! Authentication (CONTRACT §2): HS256 JWTs issued by the Auth Service, the Auth Service
//! client, and the extractors that give handlers the caller.

mod client;
mod extract;
mod jwt;
mod sync;

pub use client::{AuthProfile, AuthService, FORWARD_TIMEOUT, Forwarded};
pub use extract::{Bearer, CurrentUser};
pub use jwt::{JwtVerifier, VerifiedToken, sign_token};

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
}
