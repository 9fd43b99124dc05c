//! What every router shares: JSON bodies, the 404/405 answers, limits, CORS, request ids,
//! request logs and panic safety. [`app`] finishes a group's router (in its Lambda) or the
//! merged router (in the local server) the same way.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{HeaderName, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::CorsOrigins;
use crate::error::Error;
use crate::state::AppState;

/// The largest JSON body accepted (CONTRACT §1).
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// A request that takes longer than this has a dependency in trouble (each has its own,
/// shorter timeout); answer 503 rather than hold the connection.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// Turns a group's routes into the service: state, fallbacks and the common layers.
pub fn app(routes: Router<AppState>, state: AppState) -> Router {
    let cors = cors_layer(&state.config().cors);
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(middleware::from_fn(timeout))
        .layer(middleware::from_fn(drain_unread))
        .with_state(state)
        .layer(cors)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| {
            Error::internal("handler panicked").into_response()
        }))
}

async fn not_found() -> Error {
    Error::NotFound("Not found")
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Error::unavailable("request timed out", "request timed out").into_response(),
    }
}

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(origins) => AllowOrigin::list(origins.iter().cloned()),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            IDEMPOTENCY_KEY,
        ])
        .expose_headers([NEXT_CURSOR, header::ETAG, REQUEST_ID])
        .max_age(Duration::from_secs(3600))
}

/// The error of a request body whose client stopped sending it (the local server gives a body
/// 10 s per chunk): the request is answered 408 `REQUEST_TIMEOUT`.
#[derive(Debug, thiserror::Error)]
#[error("the request body stalled")]
pub struct BodyStalled;

/// Whether reading a body failed because it stalled.
pub fn stalled(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(err) = cause {
        if err.is::<BodyStalled>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// The most of an unread request body read and thrown away after its response, and for how
/// long (CONTRACT §1): a client that sends its whole body before it reads (Python's
/// `http.client`, Java's `HttpURLConnection`) then receives the status instead of a reset.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// A request body that, dropped unread (a request refused before its body: 401, 413, 415),
/// reads the rest of itself in the background, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
struct DrainUnread(Option<axum::body::Body>);

impl http_body::Body for DrainUnread {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, axum::Error>>> {
        match self.0.as_mut() {
            Some(body) => std::pin::Pin::new(body).poll_frame(cx),
            None => std::task::Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.as_ref().map_or_else(
            || http_body::SizeHint::with_exact(0),
            http_body::Body::size_hint,
        )
    }
}

impl Drop for DrainUnread {
    fn drop(&mut self) {
        let Some(body) = self.0.take() else { return };
        if http_body::Body::is_end_stream(&body) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            use http_body_util::BodyExt;
            let mut body = body;
            let mut read = 0;
            let _ = tokio::time::timeout(DRAIN_TIME, async {
                while read <= DRAIN_BYTES {
                    match body.frame().await {
                        Some(Ok(frame)) => read += frame.data_ref().map_or(0, bytes::Bytes::len),
                        _ => break,
                    }
                }
            })
            .await;
        });
    }
}

async fn drain_unread(request: Request, next: Next) -> Response {
    next.run(request.map(|body| axum::body::Body::new(DrainUnread(Some(body)))))
        .await
}

/// A query string deserialized into `T`; one that cannot be read at all (a parameter given
/// twice, a value of the wrong form) is a 400 `BAD_REQUEST`, like a malformed body.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &S,
    ) -> Result<Self, Error> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(query)) => Ok(Query(query)),
            Err(rejection) => Err(Error::BadRequest(
                format!("Malformed query string: {}", rejection.body_text()).into(),
            )),
        }
    }
}

/// A JSON request body as a `serde_json::Value`, for [`crate::validate::Fields`].
///
/// A body that is not JSON, or not declared as `application/json`, is a 400 `BAD_REQUEST`;
/// a body over [`MAX_JSON_BODY`] is a 413.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        match Json::<Value>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// An optional JSON body: an empty body is none, whatever its `Content-Type` says (clients
/// that declare JSON on every request send it with nothing); any other must be declared as
/// JSON and be JSON, as [`JsonBody`] requires.
impl<S: Send + Sync> axum::extract::OptionalFromRequest<S> for JsonBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Option<Self>, Error> {
        let (parts, body) = request.into_parts();
        let bytes = bytes::Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| {
                unread_body(rejection.status(), &rejection).unwrap_or_else(|| {
                    Error::BadRequest("The request body could not be read".into())
                })
            })?;
        if bytes.is_empty() {
            return Ok(None);
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        <Self as FromRequest<S>>::from_request(request, state)
            .await
            .map(Some)
    }
}

/// The body of a success that has nothing more to say: `{"message": "…"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub message: &'static str,
}

impl Message {
    pub fn new(message: &'static str) -> Json<Self> {
        Json(Self { message })
    }
}

fn json_rejection(rejection: axum::extract::rejection::JsonRejection) -> Error {
    use axum::extract::rejection::JsonRejection;

    if let Some(error) = unread_body(rejection.status(), &rejection) {
        return error;
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            Error::BadRequest("Expected a JSON body (Content-Type: application/json)".into())
        }
        _ => Error::BadRequest("Malformed JSON body".into()),
    }
}

/// The error of a body that could not be read to its end: too large (413) or stalled (408).
fn unread_body(
    status: axum::http::StatusCode,
    rejection: &(dyn std::error::Error + 'static),
) -> Option<Error> {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return Some(Error::PayloadTooLarge(
            "Request body is too large (limit 64 KiB)",
        ));
    }
    stalled(rejection).then_some(Error::RequestTimeout)
}
