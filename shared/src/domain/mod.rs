//! The service's domain: the shapes of the API and the pure rules behind them. Nothing here
//! does I/O, so each rule is tested on its own, with unit and property tests; the store reads
//! and writes these types, handlers validate into and answer with them.

pub mod activities;
pub mod badges;
pub mod copy;
pub mod cursor;
pub mod entries;
pub mod export;
pub mod foods;
pub mod goals;
pub mod idempotency;
pub mod ids;
pub mod images;
pub mod insights;
pub mod meals;
pub mod onboarding;
pub mod profile;
pub mod records;
pub mod signed;
pub mod streaks;
pub mod summary;
pub mod water;
pub mod weights;
