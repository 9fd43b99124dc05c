//! Domain logic: pure functions, no I/O, unit- and property-tested.

pub mod images;
