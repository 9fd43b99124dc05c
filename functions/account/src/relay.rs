//! The Auth Service's answers, passed back to our caller.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde::de::IgnoredAny;
use serde_json::Value;
use shared::auth::Forwarded;
use shared::{Error, Result};

/// A request body as the bytes to forward.
pub(crate) fn json_bytes(body: &Value) -> Bytes {
    Bytes::from(body.to_string())
}

/// The Auth Service's status and body, as they are, for a success or a refusal (2xx, 4xx).
/// A success always passes, whatever its body (the action has happened: a 204 stays a 204).
/// Anything else (a 5xx, a redirect, a refusal whose body is not JSON, as a proxy in the way
/// would answer) means the Auth Service is in trouble: 503 `AUTH_SERVICE_UNAVAILABLE`, with
/// the detail in the log only.
pub(crate) fn answer(forwarded: Forwarded) -> Result<Response> {
    let Forwarded { status, body, .. } = forwarded;
    if !(status.is_success() || status.is_client_error()) {
        return Err(unavailable(format!("the Auth Service answered {status}")));
    }
    let json = serde_json::from_slice::<IgnoredAny>(&body).is_ok();
    if !json && !status.is_success() {
        return Err(unavailable(format!(
            "the Auth Service answered {status} without a JSON body"
        )));
    }
    let content_type = match (json, body.is_empty()) {
        (true, _) => Some("application/json"),
        (false, false) => Some("text/plain; charset=utf-8"),
        (false, true) => None,
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(content_type) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    // Every 401 of this service carries the challenge (CONTRACT §2), relayed ones too.
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    Ok(response)
}

fn unavailable(reason: String) -> Error {
    Error::AuthServiceUnavailable(Some(reason.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(status: u16, body: &'static str) -> Forwarded {
        Forwarded {
            status: StatusCode::from_u16(status).unwrap(),
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    async fn body_of(response: Response) -> Bytes {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn successes_and_refusals_pass_as_they_are() {
        for (status, body) in [
            (200, r#"{"message": "Password changed"}"#),
            (400, r#"{"detail": "Current password is incorrect"}"#),
            (422, r#"{"detail": [{"loc": ["body"], "msg": "x"}]}"#),
        ] {
            let response = answer(forwarded(status, body)).unwrap();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            assert_eq!(body_of(response).await, body.as_bytes());
        }
        let refused = answer(forwarded(401, r#"{"detail": "Not authenticated"}"#)).unwrap();
        assert_eq!(refused.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[tokio::test]
    async fn successes_pass_whatever_their_body() {
        for (status, body, content_type) in [
            (204, "", None),
            (200, "OK", Some("text/plain; charset=utf-8")),
        ] {
            let response = answer(forwarded(status, body)).unwrap();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .map(|value| value.to_str().unwrap()),
                content_type
            );
            assert_eq!(body_of(response).await, body.as_bytes());
        }
    }

    #[test]
    fn failures_and_refusals_without_json_are_unavailable() {
        for (status, body) in [
            (500, r#"{"detail": "boom"}"#),
            (502, "Bad Gateway"),
            (302, ""),
            (400, "<html>"),
            (404, ""),
        ] {
            let err = answer(forwarded(status, body)).unwrap_err();
            assert_eq!(err.code(), "AUTH_SERVICE_UNAVAILABLE", "{status} {body:?}");
        }
    }
}
