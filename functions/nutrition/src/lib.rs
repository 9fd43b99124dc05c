//! Goals and summaries: `PUT /nutrition-goals`, `GET /nutrition-summary`, `GET /dashboard/summary`.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shared::caller::CurrentUser;
use shared::domain::goals::NutritionGoals;
use shared::domain::summary::{self, Dashboard, DateRange, DaySummary};
use shared::error::ErrorResponse;
use shared::http::{JsonBody, Query};
use shared::{AppState, Result};
use utoipa::{IntoParams, OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/nutrition-goals", put(set_goals))
        .route("/nutrition-summary", get(nutrition_summary))
        .route("/dashboard/summary", get(dashboard))
}

#[derive(OpenApi)]
#[openapi(
    paths(set_goals, nutrition_summary, dashboard),
    components(schemas(NutritionGoals, GoalsUpdated, DaySummary, Dashboard))
)]
pub struct ApiDoc;

/// The answer of `PUT /nutrition-goals`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalsUpdated {
    #[schema(example = "Nutrition goals updated successfully")]
    message: &'static str,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct SummaryQuery {
    /// The first day (`YYYY-MM-DD`), required.
    #[param(required = true, example = "2024-07-01")]
    start_date: Option<String>,
    /// The last day (`YYYY-MM-DD`), required: not before `startDate`, at most 366 days in all.
    #[param(required = true, example = "2024-07-31")]
    end_date: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DashboardQuery {
    /// The day (`YYYY-MM-DD`); the user's today when absent.
    date: Option<String>,
}

/// Replaces the caller's nutrition goals: all four required, JSON numbers within their bounds.
#[utoipa::path(
    put,
    path = "/nutrition-goals",
    tag = "nutrition",
    request_body = NutritionGoals,
    responses(
        (status = 200, description = "Saved", body = GoalsUpdated),
        (status = 400, description = "`VALIDATION_FAILED` naming each missing, mistyped, out-of-bounds or unknown field, or malformed JSON", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn set_goals(
    user: CurrentUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<GoalsUpdated>> {
    let goals = NutritionGoals::from_body(&body)?;
    state.store().set_nutrition_goals(&user.id, &goals).await?;
    Ok(Json(GoalsUpdated {
        message: "Nutrition goals updated successfully",
    }))
}

/// One object per day of the caller's (in their time zone) from `startDate` to `endDate`,
/// ascending; days without records have zeros. Goals are the caller's current goals;
/// `caloriesBurned` sums the day's activities, `caloriesRemaining` adds back the share of it
/// that `preferences.exerciseCalories` says, and `waterConsumed` sums the day's water.
#[utoipa::path(
    get,
    path = "/nutrition-summary",
    tag = "nutrition",
    params(SummaryQuery),
    responses(
        (status = 200, description = "Every day of the range", body = [DaySummary]),
        (status = 400, description = "`VALIDATION_FAILED`: a date missing or malformed, a reversed range, or more than 366 days", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn nutrition_summary(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<SummaryQuery>,
) -> Result<Json<Vec<DaySummary>>> {
    let range = DateRange::parse(query.start_date.as_deref(), query.end_date.as_deref())?;
    let (targets, days) = state.store().nutrition_days(&user.id, range).await?;
    Ok(Json(summary::daily_summaries(range, targets, &days)))
}

/// The caller's day (their today in their time zone, or `date`) against their goals.
#[utoipa::path(
    get,
    path = "/dashboard/summary",
    tag = "nutrition",
    params(DashboardQuery),
    responses(
        (status = 200, description = "The day's totals and goals", body = Dashboard),
        (status = 400, description = "`VALIDATION_FAILED`: `date` is not a date", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn dashboard(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<Dashboard>> {
    let date = match query.date.as_deref() {
        Some(raw) => summary::parse_day(raw)?,
        None => user.zone.today(),
    };
    let (targets, days) = state
        .store()
        .nutrition_days(&user.id, DateRange::day(date))
        .await?;
    let day = days.get(&date).copied().unwrap_or_default();
    Ok(Json(Dashboard::new(targets, day)))
}
