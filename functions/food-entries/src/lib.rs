//! The food diary (`/food-entries`), faster logging (recent and frequent foods, copying,
//! saved meals), `GET /badges`, `GET /streaks` and the data export (`GET /export`): every
//! write of an entry goes through this function.

use axum::Router;
use axum::routing::{get, post};
use shared::AppState;
use utoipa::OpenApi;

mod achievements;
mod copy;
mod entries;
mod export;
mod foods;
mod meals;

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
        .route("/food-entries/copy", post(copy::copy))
        .route("/foods/recent", get(foods::recent))
        .route("/foods/frequent", get(foods::frequent))
        .route("/meals", get(meals::list).post(meals::create))
        .route(
            "/meals/{id}",
            get(meals::get).put(meals::replace).delete(meals::delete),
        )
        .route("/meals/{id}/log", post(meals::log))
        .route("/badges", get(achievements::badges))
        .route("/streaks", get(achievements::streaks))
        .route("/export", get(export::export))
        .route("/exports", post(export::create_export))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        entries::create_entry,
        entries::list_entries,
        entries::get_entry,
        entries::update_entry,
        entries::delete_entry,
        copy::copy,
        foods::recent,
        foods::frequent,
        meals::create,
        meals::list,
        meals::get,
        meals::replace,
        meals::delete,
        meals::log,
        achievements::badges,
        achievements::streaks,
        export::export,
        export::create_export,
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
        shared::domain::export::ExportRequest,
        shared::domain::export::ExportCreated,
        shared::domain::entries::NewEntry,
        shared::domain::entries::EntryFields,
        shared::domain::records::Deleted,
        shared::domain::copy::CopyRequest,
        shared::domain::copy::EntriesCreated,
        shared::domain::foods::Food,
        shared::domain::meals::Meal,
        shared::domain::meals::MealItem,
        shared::domain::meals::MealTotals,
        shared::domain::meals::MealBody,
        shared::domain::meals::MealLog,
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
