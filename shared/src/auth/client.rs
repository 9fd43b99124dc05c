//! The Auth Service as an HTTP peer: the caller's profile (user sync) and the account
//! actions forwarded to it. Only the caller's `Authorization` header and, where there is one,
//! the JSON body are sent; nothing else of the incoming request is forwarded.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{Method, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// User sync sits in the path of a user's first request: the contract allows it 3 s.
const PROFILE_TIMEOUT: Duration = Duration::from_secs(3);
/// Account actions may take the Auth Service longer (password hashing): 5 s.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an Auth Service response this service reads.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug)]
pub struct AuthService {
    base: String,
    http: reqwest::Client,
}

/// `GET /profile` of the Auth Service.
#[derive(Clone, Debug, Deserialize)]
pub struct AuthProfile {
    #[serde(default)]
    pub id: Value,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// An Auth Service answer passed back to our caller as it is.
#[derive(Clone, Debug)]
pub struct Forwarded {
    pub status: StatusCode,
    pub body: Bytes,
}

impl AuthService {
    pub fn new(base: &Url) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::internal)?;
        Ok(Self {
            base: base.as_str().trim_end_matches('/').to_owned(),
            http,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        bearer: &Secret,
        timeout: Duration,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header(header::AUTHORIZATION, format!("Bearer {}", bearer.expose()))
            .header(header::ACCEPT, "application/json")
            .timeout(timeout)
    }

    /// The caller's profile. 404 means the Auth Service does not know the user (any more).
    pub async fn profile(&self, bearer: &Secret) -> Result<AuthProfile> {
        let response = self
            .request(Method::GET, "profile", bearer, PROFILE_TIMEOUT)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status() {
            status if status.is_success() => {
                let body = read_limited(response).await?;
                serde_json::from_slice(&body).map_err(unavailable)
            }
            StatusCode::NOT_FOUND => Err(Error::NotFound("User not found")),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(Error::Unauthorized("Invalid token"))
            }
            status => Err(unavailable(format!("profile answered {status}"))),
        }
    }

    /// Sends `body` (JSON) with the caller's token and returns the answer unchanged.
    pub async fn forward(
        &self,
        method: Method,
        path: &str,
        bearer: &Secret,
        body: Option<Bytes>,
    ) -> Result<Forwarded> {
        let mut request = self.request(method, path, bearer, FORWARD_TIMEOUT);
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(unavailable)?;
        let status = response.status();
        let body = read_limited(response).await?;
        Ok(Forwarded { status, body })
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Bytes> {
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(unavailable("response too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn unavailable(source: impl Into<crate::error::BoxError>) -> Error {
    Error::AuthServiceUnavailable(Some(source.into()))
}
