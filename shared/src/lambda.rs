//! The Lambda entry point every function shares.
//!
//! Configuration, logging and the application state are built once per cold start, before the
//! first event is requested; the router then serves every invocation of the environment.

use std::time::Instant;

use axum::Router;

use crate::config::{Config, Env};
use crate::state::AppState;

pub use lambda_http::Error;

/// Loads the configuration and starts logging. A misconfiguration ends the process with one
/// line naming the variable (Lambda reports it as an init error).
pub fn init() -> AppState {
    let config = match Config::load(&Env::from_process()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(1);
        }
    };
    crate::telemetry::init(&config.log);
    match AppState::new(config) {
        Ok(state) => state,
        Err(err) => {
            eprintln!("start-up failed: {err}");
            std::process::exit(1);
        }
    }
}

/// Serves `routes` as an API Gateway HTTP API function.
pub async fn run_http(routes: Router<AppState>) -> Result<(), Error> {
    let started = Instant::now();
    let state = init();
    let app = crate::http::app(routes, state);
    tracing::info!(
        init_ms = started.elapsed().as_secs_f64() * 1000.0,
        "cold start"
    );
    lambda_http::run(app).await
}
