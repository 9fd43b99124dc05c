//! `POST /food-entries/copy`: a day of the diary, or one meal of it, logged again on another
//! day, on the write path of every entry.

use axum::extract::State;
use axum::response::Response;
use shared::caller::CurrentUser;
use shared::domain::copy::{CopyRequest, EntriesCreated, MAX_ENTRIES};
use shared::domain::entries::{Entry, Food};
use shared::domain::records::ListQuery;
use shared::error::ErrorResponse;
use shared::http::JsonBody;
use shared::log_api::{self, IdempotencyHeader, IdempotencyKey};
use shared::store::Written;
use shared::{AppState, Error, Result};

/// The answer of a write of several entries.
pub(crate) fn respond(written: &Written<Vec<Entry>>) -> EntriesCreated {
    EntriesCreated {
        entries: written.record.clone(),
        badges_earned: written.badges_earned.clone(),
    }
}

/// Copies every entry of the caller's day `fromDate` (or only its meal `mealType`) to the day
/// `toDate`: the same fields (image included), a new id and `createdAt`, the same time of day
/// in the caller's zone on `toDate` (a time that does not exist that day, at a change to
/// summer time, moves to the next valid instant; one that happens twice is the first), the
/// meal type `toMealType` when given. All or nothing, badges checked as for any entry.
///
/// With an `Idempotency-Key`, repeating the request within 24 hours returns the first
/// response and copies nothing again; the key with another body is a 422.
#[utoipa::path(
    post,
    path = "/food-entries/copy",
    tag = "food diary",
    params(IdempotencyHeader),
    request_body = CopyRequest,
    responses(
        (status = 201, description = "The copies, by timestamp, and the badges they earned", body = EntriesCreated),
        (status = 400, description = "A field is invalid or unknown, `toDate` is more than a day after today, `toMealType` comes without `mealType`, or more than 200 entries match (`fromDate`); nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No entry to copy", body = ErrorResponse),
        (status = 422, description = "The Idempotency-Key was used with another request within 24 hours; nothing is written", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn copy(
    user: CurrentUser,
    State(state): State<AppState>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let now = shared::time::now();
    let request = CopyRequest::read(&body, user.zone.day_of(&now))?;
    // One more than can be copied tells a day that has too many.
    let limit = u32::try_from(MAX_ENTRIES + 1).map_err(Error::internal)?;
    let query = ListQuery {
        from: Some(request.from),
        to: Some(request.from),
        only: request.meal_type,
        ..ListQuery::all(limit)
    };
    let originals = state.store().records_page::<Food>(&user.id, &query).await?;
    if originals.records.is_empty() {
        return Err(Error::NotFound("No entries to copy"));
    }
    let copies = request.copies(&originals.records, user.zone, now)?;
    log_api::create_all::<Food, _>(
        &state,
        &user,
        key,
        "POST /food-entries/copy",
        &body,
        copies,
        request.to,
        now,
        respond,
    )
    .await
}
