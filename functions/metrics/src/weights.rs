//! `/weight-entries` and `/weight-trend`.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use shared::caller::CurrentUser;
use shared::domain::records::Deleted;
use shared::domain::summary::DateRange;
use shared::domain::weights::{self, NewWeight, TrendDay, WeightEntry, WeightFields, Weights};
use shared::error::ErrorResponse;
use shared::http::{JsonBody, Query};
use shared::log_api::{self, IdempotencyHeader, IdempotencyKey, ListParams, RecordId};
use shared::validate::Mode;
use shared::{AppState, Result};
use utoipa::IntoParams;

/// Records a weigh-in.
///
/// With an `Idempotency-Key`, repeating the request within 24 hours returns the first
/// response and records nothing new; the key with another body is a 422.
#[utoipa::path(
    post,
    path = "/weight-entries",
    tag = "health metrics",
    params(IdempotencyHeader),
    request_body = NewWeight,
    responses(
        (status = 201, description = "The weigh-in", body = WeightEntry),
        (status = 400, description = "A field is invalid or unknown (`VALIDATION_FAILED` naming it), or the Idempotency-Key; nothing is written", body = ErrorResponse),
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
    let entry = NewWeight::read(&body, now)?.into_entry(user.zone, now)?;
    let day = entry.date;
    log_api::create::<Weights, _>(&state, &user, key, &body, entry, day, |written| {
        written.record.clone()
    })
    .await
}

/// The caller's weigh-ins by `timestamp`, filtered and paged (`X-Next-Cursor`).
#[utoipa::path(
    get,
    path = "/weight-entries",
    tag = "health metrics",
    params(ListParams),
    responses(
        (status = 200, description = "The weigh-ins, ascending by timestamp then id", body = [WeightEntry],
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
    log_api::list::<Weights>(&state, &user, query.as_deref(), None).await
}

/// One of the caller's weigh-ins.
#[utoipa::path(
    get,
    path = "/weight-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The weigh-in's id")),
    responses(
        (status = 200, description = "The weigh-in", body = WeightEntry),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such weigh-in of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn get(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Weights>,
) -> Result<Json<WeightEntry>> {
    log_api::get::<Weights>(&state, &user, &id).await
}

/// Changes any of a weigh-in's fields (at least one); a new timestamp moves it to the caller's
/// day of that instant. The trend follows.
#[utoipa::path(
    patch,
    path = "/weight-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The weigh-in's id")),
    request_body = WeightFields,
    responses(
        (status = 200, description = "The changed weigh-in", body = WeightEntry),
        (status = 400, description = "A field is invalid or unknown, or none is given; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such weigh-in of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Weights>,
    JsonBody(body): JsonBody,
) -> Result<Json<WeightEntry>> {
    let now = shared::time::now();
    let changes = WeightFields::read(&body, Mode::Change, now)?;
    log_api::update::<Weights, _>(
        &state,
        &user,
        &id,
        now,
        |entry, day| {
            let day = log_api::day_after(&user, day, changes.timestamp);
            let changed = WeightEntry {
                date: day,
                ..changes.apply(entry)
            };
            Ok((changed, day, changes.touches_days()))
        },
        |written| written.record.clone(),
    )
    .await
}

/// Deletes one of the caller's weigh-ins; the trend follows.
#[utoipa::path(
    delete,
    path = "/weight-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The weigh-in's id")),
    responses(
        (status = 200, description = "Deleted", body = Deleted,
         example = json!({"message": "Weight entry deleted successfully"})),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such weigh-in of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn delete(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Weights>,
) -> Result<Json<Deleted>> {
    log_api::delete::<Weights>(&state, &user, &id).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendQuery {
    /// The first day (`YYYY-MM-DD`), required.
    #[param(required = true, value_type = String, format = Date, example = "2024-07-01")]
    start_date: Option<String>,
    /// The last day (`YYYY-MM-DD`), required: not before `startDate`, at most 366 days in all.
    #[param(required = true, value_type = String, format = Date, example = "2024-07-31")]
    end_date: Option<String>,
}

/// The caller's weight and its trend on each day of the range: `weight` is the mean of the
/// day's weigh-ins (or null); `trend` the exponentially smoothed weight over the whole
/// history (the first weigh-in's weight, then `trend + 0.1 × (weight − trend)` on each day
/// with a weigh-in; unchanged on the others; null before the first), computed unrounded and
/// shown with 2 decimals.
#[utoipa::path(
    get,
    path = "/weight-trend",
    tag = "health metrics",
    params(TrendQuery),
    responses(
        (status = 200, description = "Every day of the range, ascending", body = [TrendDay]),
        (status = 400, description = "`VALIDATION_FAILED`: a date missing or malformed, a reversed range, or more than 366 days", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn trend(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<TrendQuery>,
) -> Result<Json<Vec<TrendDay>>> {
    let range = DateRange::parse(query.start_date.as_deref(), query.end_date.as_deref())?;
    let (before, days) = state.store().weigh_in_days(&user.id, range).await?;
    Ok(Json(weights::trend_days(range, before, &days)))
}
