//! Authentication (CONTRACT §2): HS256 JWTs issued by the Auth Service, and the Auth Service
//! client. The extractors that give handlers their caller are in [`crate::caller`].

mod client;
mod jwt;

pub use client::{AuthProfile, AuthService, FORWARD_TIMEOUT, Forwarded};
pub use jwt::{JwtVerifier, VerifiedToken, id_claim, sign_token};
