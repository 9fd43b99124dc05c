//! The service's rules as pure functions: no I/O, so each is tested on its own, with unit and
//! property tests. Handlers and the store call them.

pub mod badges;
pub mod entries;
pub mod streaks;
