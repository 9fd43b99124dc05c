//! The HTTP behaviour of the service, in-process through the merged router, on both
//! database backends; and the real local server binary over TCP.

mod account;
mod auth;
mod badge_recalc;
mod badges;
mod binary;
mod connections;
mod demo;
mod direct;
mod export;
mod failures;
mod faster_logging;
mod food_entries;
mod health;
mod images;
mod insights;
mod journeys;
mod metrics;
mod migrations;
mod nutrition;
mod onboarding;
mod openapi;
mod profile;
mod routing;
mod statements;
mod streaks;
mod watch_router;
