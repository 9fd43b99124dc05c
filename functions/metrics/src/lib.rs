//! The health logs beside the food diary: body weight (`/weight-entries`) with its trend
//! (`GET /weight-trend`), activity (`/activity-entries`) and water (`/water-entries`). Each
//! request touches only the database, and its own log and days: a function of its own keeps
//! the food diary's small.

use axum::Router;
use axum::routing::get;
use shared::AppState;
use utoipa::OpenApi;

mod activities;
mod water;
mod weights;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/weight-entries", get(weights::list).post(weights::create))
        .route(
            "/weight-entries/{id}",
            get(weights::get)
                .patch(weights::update)
                .delete(weights::delete),
        )
        .route("/weight-trend", get(weights::trend))
        .route(
            "/activity-entries",
            get(activities::list).post(activities::create),
        )
        .route(
            "/activity-entries/{id}",
            get(activities::get)
                .patch(activities::update)
                .delete(activities::delete),
        )
        .route("/water-entries", get(water::list).post(water::create))
        .route(
            "/water-entries/{id}",
            get(water::get).patch(water::update).delete(water::delete),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        weights::create,
        weights::list,
        weights::get,
        weights::update,
        weights::delete,
        weights::trend,
        activities::create,
        activities::list,
        activities::get,
        activities::update,
        activities::delete,
        water::create,
        water::list,
        water::get,
        water::update,
        water::delete,
    ),
    components(schemas(
        shared::domain::weights::WeightEntry,
        shared::domain::weights::NewWeight,
        shared::domain::weights::WeightFields,
        shared::domain::weights::TrendDay,
        shared::domain::activities::ActivityEntry,
        shared::domain::activities::NewActivity,
        shared::domain::activities::ActivityFields,
        shared::domain::water::WaterEntry,
        shared::domain::water::NewWater,
        shared::domain::water::WaterFields,
        shared::domain::records::Deleted,
    ))
)]
pub struct ApiDoc;
