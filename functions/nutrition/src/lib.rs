//! Goals, summaries and insights: `PUT /nutrition-goals`, `GET /nutrition-summary`,
//! `GET /dashboard/summary`, `GET /goals/recommendation` with
//! `POST /goals/recommendation/apply`, and `GET /reports`. Each reads the same day sums.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shared::caller::CurrentUser;
use shared::domain::goals::NutritionGoals;
use shared::domain::insights::{
    self, ApplyRequest, Averages, Confidence, MacroShare, Recommendation, Report,
};
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
        .route("/goals/recommendation", get(recommendation))
        .route("/goals/recommendation/apply", post(apply_recommendation))
        .route("/reports", get(report))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        set_goals,
        nutrition_summary,
        dashboard,
        recommendation,
        apply_recommendation,
        report
    ),
    components(schemas(
        NutritionGoals,
        GoalsUpdated,
        DaySummary,
        Dashboard,
        Recommendation,
        Confidence,
        ApplyRequest,
        GoalsApplied,
        Report,
        Averages,
        MacroShare,
    ))
)]
pub struct ApiDoc;

/// The answer of `PUT /nutrition-goals`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalsUpdated {
    #[schema(example = "Nutrition goals updated successfully")]
    message: &'static str,
}

/// The answer of `POST /goals/recommendation/apply`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoalsApplied {
    #[schema(example = "Nutrition goals updated successfully")]
    message: &'static str,
    /// The recommended goals, now the caller's goals.
    nutrition_goals: NutritionGoals,
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

/// A calorie goal estimated from the caller's own intake and weight over the 28 days that end
/// yesterday (their days, in their time zone; today is not over): the mean intake of the days
/// with food logged, minus the least-squares weight slope (kg a day) × 7700 kcal per kg, to the
/// nearest 10 kcal, plus the onboarding goal's adjustment; the macros as `POST /onboarding`
/// splits them. Recomputed at each call and never applied by itself. With too little data (14
/// days with food, 4 with a weigh-in, 14 days between the first and the last weigh-in), or an
/// estimate outside 1000–6000 kcal (an incomplete log), `confidence` is `insufficient`,
/// `recommendedGoals` null and `reason` says why.
#[utoipa::path(
    get,
    path = "/goals/recommendation",
    tag = "nutrition",
    responses(
        (status = 200, description = "The estimate and the goals it recommends", body = Recommendation),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn recommendation(
    user: CurrentUser,
    State(state): State<AppState>,
) -> Result<Json<Recommendation>> {
    Ok(Json(recommend(&state, &user).await?))
}

/// Computes the recommendation as `GET /goals/recommendation` does and stores its
/// `recommendedGoals` as the caller's nutrition goals.
#[utoipa::path(
    post,
    path = "/goals/recommendation/apply",
    tag = "nutrition",
    request_body(content = Option<ApplyRequest>, description = "Optional: no body, an empty one or `{}`"),
    responses(
        (status = 200, description = "Applied; the goals now in force", body = GoalsApplied),
        (status = 400, description = "`VALIDATION_FAILED` naming each field of the body (it takes none), or `BAD_REQUEST`: a body that is not JSON; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 409, description = "`CONFLICT`: the confidence is `insufficient`; the message is the recommendation's `reason`, and nothing is written", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn apply_recommendation(
    user: CurrentUser,
    State(state): State<AppState>,
    body: Option<JsonBody>,
) -> Result<Json<GoalsApplied>> {
    ApplyRequest::read(body.as_ref().map(|JsonBody(body)| body))?;
    let goals = recommend(&state, &user).await?.into_goals()?;
    state.store().set_nutrition_goals(&user.id, &goals).await?;
    Ok(Json(GoalsApplied {
        message: "Nutrition goals updated successfully",
        nutrition_goals: goals,
    }))
}

/// The recommendation of the caller's window, from one read of its days.
async fn recommend(state: &AppState, user: &CurrentUser) -> Result<Recommendation> {
    let window = insights::window(user.zone.today());
    let days = state.store().insight_days(&user.id, window).await?;
    Ok(Recommendation::of(window, &days))
}

/// The caller's days from `startDate` to `endDate` (their days, in their time zone) summed
/// up: the averages per day with food logged and per calendar day, each macro's share of the
/// energy, the logged days within ±10% of the current calorie goal, the change of the weight
/// trend and the longest run of logged days inside the range.
#[utoipa::path(
    get,
    path = "/reports",
    tag = "nutrition",
    params(SummaryQuery),
    responses(
        (status = 200, description = "The range summed up", body = Report),
        (status = 400, description = "`VALIDATION_FAILED`: a date missing or malformed, a reversed range, or more than 366 days; `BAD_REQUEST`: a parameter given twice", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "The database or the Auth Service is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn report(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<SummaryQuery>,
) -> Result<Json<Report>> {
    let range = DateRange::parse(query.start_date.as_deref(), query.end_date.as_deref())?;
    let days = state.store().insight_days(&user.id, range).await?;
    Ok(Json(Report::of(range, &days)))
}
