//! The User Service library: everything the endpoint functions share.
//!
//! Handlers in `functions/*` stay thin: they parse a request with [`validate`], call the
//! [`store`] or the [`objects`] store, and answer with types from [`domain`]. Configuration,
//! authentication and the error body of the contract live here, once.

pub mod auth;
pub mod caller;
pub mod config;
pub mod domain;
pub mod error;
pub mod exporter;
pub mod http;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod log_api;
pub mod maintenance;
pub mod objects;
pub mod secret;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod uploads;
pub mod validate;

pub use error::{Error, Result};
pub use state::AppState;
