//! The HTTP behaviour of the service, in-process through the merged router, on both
//! database backends; and the real local server binary over TCP.

mod auth;
mod badge_recalc;
mod badges;
mod binary;
mod food_entries;
mod health;
mod migrations;
mod openapi;
mod routing;
mod streaks;
