//! The service's domain: the shapes of the API and the pure rules behind them. Nothing here
//! does I/O; the store reads and writes these types, handlers validate into and answer with
//! them. Every rule is unit- and property-tested.

pub mod goals;
pub mod images;
pub mod onboarding;
pub mod profile;
pub mod summary;
