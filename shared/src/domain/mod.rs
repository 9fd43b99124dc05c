//! The service's domain: the shapes of the API and the pure rules behind them. Nothing here
//! does I/O; the store reads and writes these types, handlers validate into and answer with
//! them.

pub mod goals;
pub mod onboarding;
pub mod profile;
pub mod summary;
