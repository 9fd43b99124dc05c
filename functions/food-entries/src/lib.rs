//! The food diary (`/food-entries`), `GET /badges`, `GET /streaks` and the data export
//! (`GET /export`).

use axum::Router;
use axum::routing::get;
use shared::AppState;
use utoipa::OpenApi;

mod achievements;
mod entries;
mod export;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/food-entries",
            get(entries::list_entries).post(entries::create_entry),
        )
        .route(
            "/food-entries/{id}",
            get(entries::get_entry)
                .patch(entries::update_entry)
                .delete(entries::delete_entry),
        )
        .route("/badges", get(achievements::badges))
        .route("/streaks", get(achievements::streaks))
        .route("/export", get(export::export))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        entries::create_entry,
        entries::list_entries,
        entries::get_entry,
        entries::update_entry,
        entries::delete_entry,
        achievements::badges,
        achievements::streaks,
        export::export,
    ),
    components(schemas(
        shared::domain::entries::Entry,
        shared::domain::entries::EntryCreated,
        shared::domain::badges::EarnedBadge,
        shared::domain::badges::BadgeStatus,
        shared::domain::badges::BadgeProgress,
        shared::domain::streaks::Streaks,
        shared::domain::export::ExportDocument,
        shared::domain::export::ExportFormat,
        shared::domain::export::ExportKind,
        shared::domain::entries::NewEntry,
        shared::domain::entries::EntryFields,
        shared::domain::records::Deleted,
    ))
)]
pub struct ApiDoc;

/// The `mealType` filter of `GET /food-entries`, as the OpenAPI document names it.
pub(crate) struct MealTypeParam;

impl utoipa::IntoParams for MealTypeParam {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        shared::log_api::filter_parameters(shared::domain::entries::MEAL_FILTER)
    }
}
