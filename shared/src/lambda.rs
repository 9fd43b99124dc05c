//! The Lambda entry point every function shares.
//!
//! Configuration, logging and the application state are built once per cold start, before the
//! first event is requested; the router then serves every invocation of the environment.
//!
//! An environment runs one invocation at a time, so the functions run on tokio's
//! single-threaded runtime: no worker thread to wake and hand work to, per invocation. On the
//! bench's fleets that is 8% more invocations/s of `GET /profile` at 64 environments, 20% more
//! at 256 (through PgBouncer), and a tenth less memory per environment.

use std::time::Instant;

use axum::Router;
use http::{HeaderValue, Request, Uri};
use lambda_http::Context;
use lambda_http::request::RequestContext;
use tower::Layer;
use tower::util::MapRequestLayer;

use crate::config::{Config, Env};
use crate::error::WithCauses;
use crate::state::AppState;

pub use lambda_http::Error;

/// Loads the configuration, starts logging and builds the state, then logs the cold start
/// with its init time. A misconfiguration ends the process with one line naming the variable
/// (Lambda reports it as an init error).
pub fn init() -> AppState {
    let started = Instant::now();
    let config = match Config::load(&Env::from_process()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    crate::telemetry::init(&config.log);
    let state = match AppState::new(config) {
        Ok(state) => state,
        Err(err) => {
            // The causes name what is wrong (`internal error` alone would not).
            eprintln!("start-up failed: {}", WithCauses(&err));
            std::process::exit(1);
        }
    };
    tracing::info!(
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        "cold start"
    );
    state
}

/// Serves `routes` as an API Gateway HTTP API function.
pub async fn run_http(routes: Router<AppState>) -> Result<(), Error> {
    let state = init();
    let app = MapRequestLayer::new(from_api_gateway).layer(crate::http::app(routes, state));
    lambda_http::run(app).await
}

/// Prepares an API Gateway request for the router: the invocation's AWS request id becomes
/// the request id (unless the caller sent one), so the response header, every log line of the
/// request and Lambda's own REPORT line share it; and a named stage leaves the path.
fn from_api_gateway<B>(mut request: Request<B>) -> Request<B> {
    let aws_request_id = request
        .extensions()
        .get::<Context>()
        .and_then(|context| HeaderValue::from_str(&context.request_id).ok());
    if let Some(id) = aws_request_id
        && !request.headers().contains_key(&crate::http::REQUEST_ID)
    {
        request.headers_mut().insert(crate::http::REQUEST_ID, id);
    }
    without_stage(request)
}

/// API Gateway puts a named stage in front of the path (`/prod/profile`); the routes are the
/// contract's paths, so the stage comes off before routing. `$default` has no prefix.
fn without_stage<B>(mut request: Request<B>) -> Request<B> {
    let stage = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|stage| stage != "$default") else {
        return request;
    };
    let prefix = format!("/{stage}");
    let uri = request.uri();
    let Some(rest) = uri
        .path()
        .strip_prefix(&prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return request;
    };
    let path_and_query = match uri.query() {
        Some(query) => format!("{}?{query}", if rest.is_empty() { "/" } else { rest }),
        None => if rest.is_empty() { "/" } else { rest }.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(path_and_query) = path_and_query.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}
