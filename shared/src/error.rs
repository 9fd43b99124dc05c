//! The one error type of the service and its mapping to the contract's JSON error body
//! (CONTRACT §1): `{"error": "<message>", "code": "<CODE>", "fields": {…}}`.
//!
//! Client errors say what was wrong; server errors are logged with their cause and answer a
//! fixed message, so no SQL, driver or library text ever reaches a client.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Problems with named request fields: `{"calories": "must be a number"}`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("bad request: {0}")]
    BadRequest(Cow<'static, str>),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// A signed URL that does not grant the request (tampered, expired, for another object).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {0}")]
    Conflict(Cow<'static, str>),
    #[error("payload too large: {0}")]
    PayloadTooLarge(&'static str),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(Cow<'static, str>),
    /// An `Idempotency-Key` used before, within its window, with another request.
    #[error("idempotency key reused with another request")]
    IdempotencyKeyReused,
    /// The client did not send its request in time (headers, or a body that stalled).
    #[error("request timeout")]
    RequestTimeout,
    #[error("request headers too large")]
    HeadersTooLarge,
    #[error("auth service unavailable")]
    AuthServiceUnavailable(#[source] Option<BoxError>),
    /// A dependency (the database, the object store) is down or timing out.
    #[error("{dependency} unavailable")]
    Unavailable {
        dependency: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Error {
    /// A single field's problem.
    pub fn field(name: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Validation(BTreeMap::from([(name.into(), problem.into())]))
    }

    pub fn internal(source: impl Into<BoxError>) -> Self {
        Error::Internal(source.into())
    }

    pub fn unavailable(dependency: &'static str, source: impl Into<BoxError>) -> Self {
        Error::Unavailable {
            dependency,
            source: source.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Validation(_) | Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Error::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Error::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Error::AuthServiceUnavailable(_) | Error::Unavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) => "VALIDATION_FAILED",
            Error::BadRequest(_) => "BAD_REQUEST",
            Error::Unauthorized(_) => "UNAUTHORIZED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound(_) => "NOT_FOUND",
            Error::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Error::Conflict(_) => "CONFLICT",
            Error::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Error::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Error::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Error::RequestTimeout => "REQUEST_TIMEOUT",
            Error::HeadersTooLarge => "HEADERS_TOO_LARGE",
            Error::AuthServiceUnavailable(_) => "AUTH_SERVICE_UNAVAILABLE",
            Error::Unavailable { .. } => "UNAVAILABLE",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The message a client sees.
    fn public_message(&self) -> Cow<'static, str> {
        match self {
            Error::Validation(fields) => match fields.iter().next() {
                Some((field, problem)) if fields.len() == 1 => {
                    format!("Invalid {field}: {problem}").into()
                }
                _ => "Invalid request: see fields".into(),
            },
            Error::BadRequest(message)
            | Error::Conflict(message)
            | Error::UnsupportedMediaType(message) => message.clone(),
            Error::Unauthorized(reason) => (*reason).into(),
            Error::Forbidden(why) | Error::NotFound(why) => (*why).into(),
            Error::MethodNotAllowed => "Method not allowed".into(),
            Error::PayloadTooLarge(what) => (*what).into(),
            Error::IdempotencyKeyReused => {
                "This Idempotency-Key was used with another request within 24 hours".into()
            }
            Error::RequestTimeout => "The request was not received in time".into(),
            Error::HeadersTooLarge => "Request headers are too large".into(),
            Error::AuthServiceUnavailable(_) => "Auth service unavailable".into(),
            Error::Unavailable { dependency, .. } => {
                format!("Service temporarily unavailable ({dependency})").into()
            }
            Error::Internal(_) => "Internal server error".into(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    /// What went wrong, for people.
    pub error: String,
    /// What went wrong, for programs: `VALIDATION_FAILED`, `BAD_REQUEST`, `UNAUTHORIZED`,
    /// `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `CONFLICT`, `PAYLOAD_TOO_LARGE`,
    /// `UNSUPPORTED_MEDIA_TYPE`, `IDEMPOTENCY_KEY_REUSED`, `REQUEST_TIMEOUT`,
    /// `HEADERS_TOO_LARGE`, `AUTH_SERVICE_UNAVAILABLE`, `UNAVAILABLE` or `INTERNAL`.
    pub code: &'static str,
    /// For `VALIDATION_FAILED`: each rejected field (`preferences.timezone`) and its problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldErrors>,
}

impl Error {
    /// The body a client sees.
    pub fn body(&self) -> ErrorResponse {
        ErrorResponse {
            error: self.public_message().into_owned(),
            code: self.code(),
            fields: match self {
                Error::Validation(fields) => Some(fields.clone()),
                _ => None,
            },
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %WithCauses(&self), code = self.code(), "request failed");
        } else {
            tracing::debug!(error = %self, code = self.code(), "request rejected");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// An error and each of its causes on one line (`a: b: c`), for logs and start-up failures,
/// never for a response.
pub struct WithCauses<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for WithCauses<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        let unavailable = match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
            sqlx::Error::Database(db) => is_unavailable_sqlstate(db.code().as_deref()),
            other => is_connection_failure(other),
        };
        if unavailable {
            Error::unavailable("database", err)
        } else {
            Error::internal(err)
        }
    }
}

/// Whether `err` says that the connection is broken rather than that a statement was wrong:
/// every failure to reach or to talk to the database, whatever sqlx calls it. An EOF while
/// TLS is negotiated arrives as a protocol error (`unexpected response from SSLRequest`).
pub fn is_connection_failure(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// SQLSTATEs that mean "try again later" rather than "this request is wrong": PostgreSQL's
/// class 08 (connection), 53 (resources), 57P (shutdown), 40001 / 40P01 (serialization or
/// deadlock); SQLite's BUSY (5) and LOCKED (6).
fn is_unavailable_sqlstate(code: Option<&str>) -> bool {
    match code {
        Some(code) => {
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "40001"
                || code == "40P01"
                || code == "5"
                || code == "6"
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn validation_errors_name_their_fields() {
        let response = Error::field("calories", "must be a number").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = body_json(response).await;
        assert_eq!(body["code"], "VALIDATION_FAILED");
        assert_eq!(body["fields"]["calories"], "must be a number");
        assert_eq!(body["error"], "Invalid calories: must be a number");
    }

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let response =
            Error::internal("relation \"users\" does not exist at character 15").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_json(response).await;
        assert_eq!(
            body,
            serde_json::json!({"error": "Internal server error", "code": "INTERNAL"})
        );
    }

    #[tokio::test]
    async fn unauthorized_carries_the_bearer_challenge() {
        let response = Error::Unauthorized("Token has expired").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let body = body_json(response).await;
        assert_eq!(body["code"], "UNAUTHORIZED");
        assert!(body.get("fields").is_none());
    }

    #[test]
    fn pool_timeouts_are_unavailable_not_internal() {
        let err: Error = sqlx::Error::PoolTimedOut.into();
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(err.code(), "UNAVAILABLE");
        let err: Error = sqlx::Error::RowNotFound.into();
        assert_eq!(err.code(), "INTERNAL");
    }

    #[test]
    fn every_failure_to_talk_to_the_database_is_unavailable() {
        // What sqlx reports for an EOF while it negotiates TLS.
        let eof = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into());
        for err in [
            eof,
            sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()),
            sqlx::Error::WorkerCrashed,
        ] {
            assert!(is_connection_failure(&err), "{err}");
            assert_eq!(Error::from(err).code(), "UNAVAILABLE");
        }
        assert!(!is_connection_failure(&sqlx::Error::PoolTimedOut));
        assert!(!is_connection_failure(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn every_code_has_its_contract_status() {
        let cases: Vec<(Error, u16, &str)> = vec![
            (Error::BadRequest("x".into()), 400, "BAD_REQUEST"),
            (Error::NotFound("x"), 404, "NOT_FOUND"),
            (Error::MethodNotAllowed, 405, "METHOD_NOT_ALLOWED"),
            (Error::Conflict("x".into()), 409, "CONFLICT"),
            (Error::PayloadTooLarge("x"), 413, "PAYLOAD_TOO_LARGE"),
            (
                Error::UnsupportedMediaType("x".into()),
                415,
                "UNSUPPORTED_MEDIA_TYPE",
            ),
            (Error::IdempotencyKeyReused, 422, "IDEMPOTENCY_KEY_REUSED"),
            (Error::RequestTimeout, 408, "REQUEST_TIMEOUT"),
            (Error::HeadersTooLarge, 431, "HEADERS_TOO_LARGE"),
            (
                Error::AuthServiceUnavailable(None),
                503,
                "AUTH_SERVICE_UNAVAILABLE",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().as_u16(), status);
            assert_eq!(err.code(), code);
        }
    }
}
