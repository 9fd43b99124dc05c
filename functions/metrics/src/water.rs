//! `/water-entries`: what the user drank.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use shared::caller::CurrentUser;
use shared::domain::records::Deleted;
use shared::domain::water::{NewWater, Water, WaterEntry, WaterFields};
use shared::error::ErrorResponse;
use shared::http::JsonBody;
use shared::log_api::{self, IdempotencyHeader, IdempotencyKey, ListParams, RecordId};
use shared::validate::Mode;
use shared::{AppState, Result};

/// Records water drunk.
///
/// With an `Idempotency-Key`, repeating the request within 24 hours returns the first
/// response and records nothing new; the key with another body is a 422.
#[utoipa::path(
    post,
    path = "/water-entries",
    tag = "health metrics",
    params(IdempotencyHeader),
    request_body = NewWater,
    responses(
        (status = 201, description = "The entry", body = WaterEntry),
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
    let entry = NewWater::read(&body, now)?.into_entry(user.zone, now)?;
    let day = entry.date;
    log_api::create::<Water, _>(&state, &user, key, &body, entry, day, |written| {
        written.record.clone()
    })
    .await
}

/// The caller's water by `timestamp`, filtered and paged (`X-Next-Cursor`).
#[utoipa::path(
    get,
    path = "/water-entries",
    tag = "health metrics",
    params(ListParams),
    responses(
        (status = 200, description = "The entries, ascending by timestamp then id", body = [WaterEntry],
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
    log_api::list::<Water>(&state, &user, query.as_deref(), None).await
}

/// One of the caller's water entries.
#[utoipa::path(
    get,
    path = "/water-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "The entry", body = WaterEntry),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such entry of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn get(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Water>,
) -> Result<Json<WaterEntry>> {
    log_api::get::<Water>(&state, &user, &id).await
}

/// Changes a water entry's amount or timestamp (at least one).
#[utoipa::path(
    patch,
    path = "/water-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The entry's id")),
    request_body = WaterFields,
    responses(
        (status = 200, description = "The changed entry", body = WaterEntry),
        (status = 400, description = "A field is invalid or unknown, or none is given; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such entry of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Water>,
    JsonBody(body): JsonBody,
) -> Result<Json<WaterEntry>> {
    let now = shared::time::now();
    let changes = WaterFields::read(&body, Mode::Change, now)?;
    log_api::update::<Water, _>(
        &state,
        &user,
        &id,
        now,
        |entry, day| {
            let day = log_api::day_after(&user, day, changes.timestamp);
            let changed = WaterEntry {
                date: day,
                ..changes.apply(entry)
            };
            Ok((changed, day, true))
        },
        |written| written.record.clone(),
    )
    .await
}

/// Deletes one of the caller's water entries.
#[utoipa::path(
    delete,
    path = "/water-entries/{id}",
    tag = "health metrics",
    params(("id" = String, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "Deleted", body = Deleted,
         example = json!({"message": "Water entry deleted successfully"})),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such entry of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn delete(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Water>,
) -> Result<Json<Deleted>> {
    log_api::delete::<Water>(&state, &user, &id).await
}
