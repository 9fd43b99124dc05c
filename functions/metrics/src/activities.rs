//! `/activity-entries`: what the user did, and the energy it burned.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use shared::caller::CurrentUser;
use shared::domain::activities::{
    self, Activities, ActivityEntry, ActivityFields, CALORIES_BURNED, NO_WEIGHT_PROBLEM,
    NewActivity,
};
use shared::domain::records::Deleted;
use shared::error::ErrorResponse;
use shared::http::JsonBody;
use shared::log_api::{self, IdempotencyHeader, IdempotencyKey, ListParams, RecordId};
use shared::validate::Mode;
use shared::{AppState, Error, Result};

/// The energy of `met` for `minutes` with the user's latest weigh-in, or a 400 on
/// `caloriesBurned` when there is none.
async fn computed(state: &AppState, user: &CurrentUser, (met, minutes): (f64, i64)) -> Result<f64> {
    match state.store().latest_weight(&user.id).await? {
        Some(kg) => Ok(activities::calories_from_met(met, kg, minutes)),
        None => Err(Error::field(CALORIES_BURNED.name, NO_WEIGHT_PROBLEM)),
    }
}

/// Records an activity: its `caloriesBurned`, or its `met` and `durationMinutes` (then
/// `caloriesBurned = round(met × kg × durationMinutes / 60)` with the latest weigh-in's
/// weight; without any weigh-in that is a 400 on `caloriesBurned`). Given all three, the
/// given `caloriesBurned` is kept.
///
/// With an `Idempotency-Key`, repeating the request within 24 hours returns the first
/// response and records nothing new; the key with another body is a 422.
#[utoipa::path(
    post,
    path = "/activity-entries",
    tag = "health metrics",
    params(IdempotencyHeader),
    request_body = NewActivity,
    responses(
        (status = 201, description = "The activity", body = ActivityEntry),
        (status = 400, description = "A field is invalid, missing or unknown (`VALIDATION_FAILED` naming it), or the Idempotency-Key; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 413, description = "The body is over 64 KiB", body = ErrorResponse),
        (status = 422, description = "The Idempotency-Key was used with another request within 24 hours; nothing is written", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let now = shared::time::now();
    let new = NewActivity::read(&body, now)?;
    let energy = match new.needs_weight() {
        Some(basis) => Some(computed(&state, &user, basis).await?),
        None => None,
    };
    let entry = new.into_entry(energy, user.zone, now)?;
    let day = entry.date;
    log_api::create::<Activities, _>(&state, &user, key, &body, entry, day, |written| {
        written.record.clone()
    })
    .await
}

/// The caller's activities by `timestamp`, filtered and paged (`X-Next-Cursor`).
#[utoipa::path(
    get,
    path = "/activity-entries",
    tag = "health metrics",
    params(ListParams),
    responses(
        (status = 200, description = "The activities, ascending by timestamp then id", body = [ActivityEntry],
         headers(("X-Next-Cursor" = String, description = "Present when more match: the cursor of the next page"))),
        (status = 400, description = "A parameter is invalid", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    log_api::list::<Activities>(&state, &user, query.as_deref(), None).await
}

/// One of the caller's activities.
#[utoipa::path(
    get,
    path = "/activity-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The activity's id")),
    responses(
        (status = 200, description = "The activity", body = ActivityEntry),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such activity of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn get(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Activities>,
) -> Result<Json<ActivityEntry>> {
    log_api::get::<Activities>(&state, &user, &id).await
}

/// Changes any of an activity's fields (at least one). A change of `met` or
/// `durationMinutes` without `caloriesBurned` recomputes it as `POST` does, with the stored
/// value of the other.
#[utoipa::path(
    patch,
    path = "/activity-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The activity's id")),
    request_body = ActivityFields,
    responses(
        (status = 200, description = "The changed activity", body = ActivityEntry),
        (status = 400, description = "A field is invalid or unknown, or none is given, or the energy cannot be recomputed without a weigh-in; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such activity of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Activities>,
    JsonBody(body): JsonBody,
) -> Result<Json<ActivityEntry>> {
    let now = shared::time::now();
    let changes = ActivityFields::read(&body, Mode::Change, now)?;
    // The weight, read only when the change may need it (before the write's transaction).
    let weight = if changes.calories_burned.is_none()
        && (changes.met.is_some() || changes.duration_minutes.is_some())
    {
        state.store().latest_weight(&user.id).await?
    } else {
        None
    };
    log_api::update::<Activities, _>(
        &state,
        &user,
        &id,
        now,
        |entry, day| {
            let energy = match changes.recompute_from(entry) {
                Some((met, minutes)) => match weight {
                    Some(kg) => Some(activities::calories_from_met(met, kg, minutes)),
                    None => return Err(Error::field(CALORIES_BURNED.name, NO_WEIGHT_PROBLEM)),
                },
                None => None,
            };
            let day = log_api::day_after(&user, day, changes.timestamp);
            let changed = ActivityEntry {
                date: day,
                ..changes.apply(entry, energy)
            };
            Ok((changed, day, changes.touches_days()))
        },
        |written| written.record.clone(),
    )
    .await
}

/// Deletes one of the caller's activities.
#[utoipa::path(
    delete,
    path = "/activity-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The activity's id")),
    responses(
        (status = 200, description = "Deleted", body = Deleted,
         example = json!({"message": "Activity entry deleted successfully"})),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such activity of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn delete(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Activities>,
) -> Result<Json<Deleted>> {
    log_api::delete::<Activities>(&state, &user, &id).await
}
