//! `/food-entries`: log, list, read, change and delete the caller's entries, on the handlers
//! every log shares (`shared::log_api`); the diary adds its image check and its badges.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use shared::caller::CurrentUser;
use shared::domain::entries::{
    Entry, EntryCreated, EntryFields, Food, IMAGE_KEY_PROBLEM, MEAL_FILTER, NewEntry,
    parse_entry_changes,
};
use shared::domain::records::Deleted;
use shared::error::ErrorResponse;
use shared::http::JsonBody;
use shared::log_api::{self, IdempotencyKey, RecordId};
use shared::store::Written;
use shared::{AppState, Error, Result};

/// The answer of a write: the entry and the badges it earned.
fn respond(written: &Written<Entry>) -> EntryCreated {
    EntryCreated {
        entry: written.record.clone(),
        badges_earned: written.badges_earned.clone(),
    }
}

/// Logs a food entry and awards the badges it earns.
///
/// With an `Idempotency-Key`, repeating the request within 24 hours returns the first
/// response (status and body) and logs nothing new, also when the repeats run at once; the
/// key with another body is a 422.
#[utoipa::path(
    post,
    path = "/food-entries",
    tag = "food diary",
    params(log_api::IdempotencyHeader),
    request_body = NewEntry,
    responses(
        (status = 201, description = "The entry, and the badges it earned", body = EntryCreated),
        (status = 400, description = "A field (or the Idempotency-Key) is invalid; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 413, description = "The body is over 64 KiB", body = ErrorResponse),
        (status = 422, description = "The Idempotency-Key was used with another request within 24 hours (`IDEMPOTENCY_KEY_REUSED`); nothing is written", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn create_entry(
    user: CurrentUser,
    State(state): State<AppState>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let now = shared::time::now();
    let entry = NewEntry::read(&body, now)?.into_entry(&user.id, now);
    check_image(&state, &user, entry.image_key.as_deref()).await?;
    let day = user.zone.day_of(&entry.timestamp);
    log_api::create::<Food, _>(&state, &user, key, &body, entry, day, respond).await
}

/// The caller's entries by `timestamp`, filtered and paged.
///
/// When more entries match than `limit`, the `X-Next-Cursor` header holds the `cursor` of the
/// next page; paging never skips or repeats an entry, also among entries with equal
/// timestamps.
#[utoipa::path(
    get,
    path = "/food-entries",
    tag = "food diary",
    params(log_api::ListParams, crate::MealTypeParam),
    responses(
        (status = 200, description = "The entries, ascending by timestamp then id", body = [Entry],
         headers(("X-Next-Cursor" = String, description = "Present when more entries match: the cursor of the next page"))),
        (status = 400, description = "A parameter is invalid", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn list_entries(
    user: CurrentUser,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    log_api::list::<Food>(&state, &user, query.as_deref(), Some(MEAL_FILTER)).await
}

/// One of the caller's entries.
#[utoipa::path(
    get,
    path = "/food-entries/{id}",
    tag = "food diary",
    params(("id" = String, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "The entry", body = Entry),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such entry of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn get_entry(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Food>,
) -> Result<Json<Entry>> {
    log_api::get::<Food>(&state, &user, &id).await
}

/// Changes any of an entry's fields; a new timestamp moves it to the caller's day of that
/// instant. Badges the change earns are awarded and answered, as for `POST`.
#[utoipa::path(
    patch,
    path = "/food-entries/{id}",
    tag = "food diary",
    params(("id" = String, Path, description = "The entry's id")),
    request_body = EntryFields,
    responses(
        (status = 200, description = "The changed entry, and the badges the change earned", body = EntryCreated),
        (status = 400, description = "A field is invalid, or none is given; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such entry of the caller's", body = ErrorResponse),
        (status = 413, description = "The body is over 64 KiB", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn update_entry(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Food>,
    JsonBody(body): JsonBody,
) -> Result<Json<EntryCreated>> {
    let now = shared::time::now();
    let changes = parse_entry_changes(&body, now)?;
    check_image(&state, &user, changes.new_image_key()).await?;
    log_api::update::<Food, _>(
        &state,
        &user,
        &id,
        now,
        |entry, day| {
            let changed = changes.apply(entry);
            let day = log_api::day_after(&user, day, changes.timestamp);
            Ok((changed, day, changes.touches_totals()))
        },
        respond,
    )
    .await
}

/// Deletes one of the caller's entries (badges already earned stay).
#[utoipa::path(
    delete,
    path = "/food-entries/{id}",
    tag = "food diary",
    params(("id" = String, Path, description = "The entry's id")),
    responses(
        (status = 200, description = "Deleted", body = Deleted,
         example = json!({"message": "Food entry deleted successfully"})),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such entry of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn delete_entry(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Food>,
) -> Result<Json<Deleted>> {
    log_api::delete::<Food>(&state, &user, &id).await
}

/// `imageKey` must name an image the caller uploaded to the food-images bucket.
pub(crate) async fn check_image(
    state: &AppState,
    user: &CurrentUser,
    key: Option<&str>,
) -> Result<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let bucket = &state.buckets().food_images;
    if shared::uploads::usable(state, &user.id, bucket, key).await? {
        Ok(())
    } else {
        Err(Error::field("imageKey", IMAGE_KEY_PROBLEM))
    }
}
