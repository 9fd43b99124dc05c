//! Extractors that authenticate a request.

use axum::extract::FromRequestParts;
use http::header;
use http::request::Parts;

use super::sync;
use crate::auth::VerifiedToken;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::state::AppState;
use crate::time::UserZone;

/// A request with a valid access token; the database is not consulted. For endpoints that
/// only forward to the Auth Service.
#[derive(Debug)]
pub struct Bearer {
    pub token: VerifiedToken,
    /// The raw token, to forward to the Auth Service as the caller's own credential.
    pub raw: Secret,
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let raw = bearer_token(parts)?;
        let token = state.jwt().verify(raw.expose())?;
        Ok(Self { token, raw })
    }
}

/// The caller, known to exist in `users`: on their first request the user is synced from
/// the Auth Service (or, without one, from the token's claims).
#[derive(Debug)]
pub struct CurrentUser {
    pub id: String,
    /// The zone of the user's day (`preferences.timezone`).
    pub zone: UserZone,
    bearer: Secret,
}

impl CurrentUser {
    /// The caller of `bearer`, made sure to exist: what the extractor does, for a handler
    /// that takes a [`Bearer`] to read the caller's standing with its own statement and comes
    /// here only when that finds no user.
    pub async fn sync(state: &AppState, bearer: Bearer) -> Result<Self> {
        let Bearer { token, raw } = bearer;
        let zone = sync::ensure_user(state, &token, &raw).await?;
        Ok(Self {
            id: token.user_id,
            zone,
            bearer: raw,
        })
    }

    /// The caller's token, for requests made on their behalf.
    pub fn bearer(&self) -> &Secret {
        &self.bearer
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let bearer = Bearer::from_request_parts(parts, state).await?;
        Self::sync(state, bearer).await
    }
}

fn bearer_token(parts: &Parts) -> Result<Secret> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(Error::Unauthorized("Missing bearer token"))?
        .to_str()
        .map_err(|_| Error::Unauthorized("Invalid token"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(Error::Unauthorized("Missing bearer token"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Error::Unauthorized("Missing bearer token"));
    }
    Ok(Secret::new(token))
}
