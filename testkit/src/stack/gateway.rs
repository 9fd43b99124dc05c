//! The gateway: what the template's HTTP API would do, in front of LocalStack's Lambda
//! (whose community edition deploys an HTTP API without routes). Each request takes its
//! route, becomes a payload 2.0 event, is invoked synchronously through the Lambda `Invoke`
//! API, and the function's answer goes back as API Gateway would send it, within API
//! Gateway's and Lambda's limits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use super::Result;
use super::event::{self, Context};
use super::routes::Routes;

/// HTTP API's largest request (10 MB).
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// Lambda's largest synchronous invocation payload, each way (6 MB).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// HTTP API's integration timeout.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Gateway {
    routes: Routes,
    /// Logical id in the template → the deployed function's name.
    functions: HashMap<String, String>,
    lambda: aws_sdk_lambda::Client,
    api_id: String,
    domain_name: String,
    timeout: Duration,
}

impl Gateway {
    pub fn new(
        routes: Routes,
        functions: HashMap<String, String>,
        lambda: aws_sdk_lambda::Client,
        domain_name: String,
    ) -> Result<Self> {
        for route in routes.iter() {
            if !functions.contains_key(&route.function) {
                return Err(
                    format!("{} routes to {}, not deployed", route.key(), route.function).into(),
                );
            }
        }
        Ok(Self {
            routes,
            functions,
            lambda,
            api_id: "gateway".to_owned(),
            domain_name,
            timeout: INTEGRATION_TIMEOUT,
        })
    }

    /// The HTTP API as an axum service (serve it with `ConnectInfo<SocketAddr>`).
    pub fn router(self) -> Router {
        Router::new().fallback(handle).with_state(Arc::new(self))
    }
}

/// API Gateway's own answers: `{"message": …}` with its status.
fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({"message": message}))).into_response()
}

#[tracing::instrument(skip_all, fields(method = %request.method(), path = %request.uri().path()))]
async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = forward(&gateway, peer, request, &request_id).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", value);
    }
    tracing::info!(
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "answered"
    );
    response
}

async fn forward(
    gateway: &Gateway,
    peer: SocketAddr,
    request: Request,
    request_id: &str,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let path = parts.uri.path();
    let Some(matched) = gateway.routes.find(parts.method.as_str(), path) else {
        return refuse(StatusCode::NOT_FOUND, "Not Found");
    };
    let function = &gateway.functions[&matched.route.function];
    let event = event::request(
        &parts.method,
        path,
        parts.uri.query().unwrap_or_default(),
        &parts.headers,
        &body,
        Context {
            stage: "$default".to_owned(),
            route_key: matched.route.key(),
            path_parameters: matched.parameters,
            request_id: request_id.to_owned(),
            source_ip: peer.ip().to_string(),
            api_id: gateway.api_id.clone(),
            domain_name: gateway.domain_name.clone(),
            time: chrono::Utc::now(),
        },
    );
    let payload = match serde_json::to_vec(&event) {
        Ok(payload) => payload,
        Err(err) => {
            tracing::error!(%err, "the event does not serialize");
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    if payload.len() > MAX_PAYLOAD_BYTES {
        // Lambda refuses the invocation (RequestEntityTooLargeException).
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    tracing::debug!(%function, route = %matched.route.key(), "invoking");
    let invocation = gateway
        .lambda
        .invoke()
        .function_name(function)
        .payload(Blob::new(payload))
        .send();
    let output = match tokio::time::timeout(gateway.timeout, invocation).await {
        Err(_) => return refuse(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        Ok(Err(err)) => {
            let err = err.into_service_error();
            tracing::error!(%function, error = %aws_sdk_lambda::error::DisplayErrorContext(&err), "the invocation failed");
            return match err {
                aws_sdk_lambda::operation::invoke::InvokeError::RequestTooLargeException(_) => {
                    refuse(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
                }
                aws_sdk_lambda::operation::invoke::InvokeError::TooManyRequestsException(_) => {
                    refuse(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
                }
                _ => refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            };
        }
        Ok(Ok(output)) => output,
    };
    let payload = output.payload.map(Blob::into_inner).unwrap_or_default();
    if let Some(kind) = output.function_error {
        tracing::error!(%function, %kind, error = %String::from_utf8_lossy(&payload), "the function failed");
        let oversized = String::from_utf8_lossy(&payload).contains("Function.ResponseSizeTooLarge");
        return if oversized {
            refuse(StatusCode::BAD_GATEWAY, "Internal Server Error")
        } else {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        };
    }
    if payload.len() > MAX_PAYLOAD_BYTES {
        return refuse(StatusCode::BAD_GATEWAY, "Internal Server Error");
    }
    match event::answer(&payload) {
        Ok(answer) => {
            let mut response = Response::new(Body::from(answer.body));
            *response.status_mut() = answer.status;
            *response.headers_mut() = answer.headers;
            response
        }
        Err(err) => {
            tracing::error!(%function, %err, "the function's answer is not a response");
            refuse(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
    }
}
