//! `GET /badges` and `GET /streaks`: one statement each after authentication.

use axum::Json;
use axum::extract::State;
use shared::caller::CurrentUser;
use shared::domain::badges::{self, BadgeStatus, Progress};
use shared::domain::streaks::Streaks;
use shared::error::ErrorResponse;
use shared::{AppState, Result};

/// The whole badge catalogue, in its order, with what the caller has earned and how far
/// they are from the rest (entries logged; the longest streak in days).
#[utoipa::path(
    get,
    path = "/badges",
    tag = "achievements",
    responses(
        (status = 200, description = "Every badge of the catalogue", body = [BadgeStatus]),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn badges(
    user: CurrentUser,
    State(state): State<AppState>,
) -> Result<Json<Vec<BadgeStatus>>> {
    let record = state.store().badge_record(&user.id).await?;
    let progress = Progress {
        entries: record.entries,
        streak: record.days.longest_run(),
    };
    Ok(Json(badges::statuses(&progress, &record.earned)))
}

/// The caller's streaks of consecutive days with entries, in their time zone.
#[utoipa::path(
    get,
    path = "/streaks",
    tag = "achievements",
    responses(
        (status = 200, description = "The caller's streaks", body = Streaks),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn streaks(
    user: CurrentUser,
    State(state): State<AppState>,
) -> Result<Json<Streaks>> {
    let days = state.store().active_days(&user.id).await?;
    Ok(Json(Streaks::of(&days, user.zone.today())))
}
