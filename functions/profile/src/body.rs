//! The body of `PUT /profile`.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;
use shared::Error;
use shared::http::JsonBody;

/// A JSON body as [`JsonBody`] reads it, except that an empty body is a `VALIDATION_FAILED`
/// naming `body`: the contract lists it with `{}` among the rejected updates.
#[derive(Debug)]
pub struct UpdateBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for UpdateBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let (parts, body) = request.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    Error::PayloadTooLarge("Request body is too large (limit 64 KiB)")
                }
                _ => Error::BadRequest("The request body could not be read".into()),
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::field("body", "must not be empty"));
        }
        let JsonBody(value) =
            JsonBody::from_request(Request::from_parts(parts, Body::from(bytes)), state).await?;
        Ok(Self(value))
    }
}
