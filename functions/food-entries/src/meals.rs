//! Saved meals (`/meals`): named lists of foods, and logging one in a single step
//! (`POST /meals/{id}/log`, on the write path of every entry).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use shared::caller::CurrentUser;
use shared::domain::copy::EntriesCreated;
use shared::domain::entries::Food;
use shared::domain::meals::{MAX_ITEMS, Meal, MealBody, MealItem, MealItems, MealLog, Meals};
use shared::domain::records::{self, Deleted, Kind, ListQuery};
use shared::error::ErrorResponse;
use shared::http::JsonBody;
use shared::log_api::{self, IdempotencyHeader, IdempotencyKey, RecordId};
use shared::{AppState, Error, Result};

/// The items a body names: given, or the entries of a meal of the caller's diary.
async fn items_of(
    state: &AppState,
    user: &CurrentUser,
    body: MealBody,
) -> Result<(String, Vec<MealItem>)> {
    let items = match body.items {
        MealItems::Given(items) => items,
        MealItems::FromDiary { date, meal_type } => {
            // One more than a meal holds tells a meal too long to save.
            let limit = u32::try_from(MAX_ITEMS + 1).map_err(Error::internal)?;
            let query = ListQuery {
                from: Some(date),
                to: Some(date),
                only: Some(meal_type),
                ..ListQuery::all(limit)
            };
            let entries = state.store().records_page::<Food>(&user.id, &query).await?;
            if entries.records.is_empty() {
                return Err(Error::NotFound("No entries of that meal to save"));
            }
            if entries.records.len() > MAX_ITEMS {
                return Err(Error::field(
                    "mealType",
                    format!("has more than {MAX_ITEMS} entries that day"),
                ));
            }
            entries.records.iter().map(MealItem::of_entry).collect()
        }
    };
    Ok((body.name, items))
}

/// Saves a meal: its `name` and its `items` (1–50 foods, each validated as a food entry's
/// fields are, problems named `items[3].calories`), or instead of the items `fromDate` and
/// `mealType`: that meal's entries of the caller's day. A user keeps at most 200 meals.
#[utoipa::path(
    post,
    path = "/meals",
    tag = "saved meals",
    request_body = MealBody,
    responses(
        (status = 201, description = "The meal, with its totals", body = Meal),
        (status = 400, description = "A field is invalid or unknown, or both or neither of `items` and `fromDate`/`mealType` are given; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "`fromDate` has no entry of `mealType`", body = ErrorResponse),
        (status = 409, description = "The caller has 200 meals already (`CONFLICT`)", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Meal>)> {
    let now = shared::time::now();
    let (name, items) = items_of(&state, &user, MealBody::read(&body)?).await?;
    let meal = Meal::new(records::new_id(), name, items, now, now);
    state.store().create_meal(&user.id, &meal).await?;
    Ok((StatusCode::CREATED, Json(meal)))
}

/// The caller's meals, by name (without regard to case).
#[utoipa::path(
    get,
    path = "/meals",
    tag = "saved meals",
    responses(
        (status = 200, description = "Every meal of the caller", body = [Meal]),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
) -> Result<Json<Vec<Meal>>> {
    Ok(Json(state.store().meals(&user.id).await?))
}

/// One of the caller's meals.
#[utoipa::path(
    get,
    path = "/meals/{id}",
    tag = "saved meals",
    params(("id" = String, Path, description = "The meal's id")),
    responses(
        (status = 200, description = "The meal", body = Meal),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such meal of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn get(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Meals>,
) -> Result<Json<Meal>> {
    found(state.store().meal(&user.id, &id).await?).map(Json)
}

fn found(meal: Option<Meal>) -> Result<Meal> {
    meal.ok_or(Error::NotFound(Meals::NOT_FOUND))
}

/// Replaces a meal's name and items, with the body of `POST /meals`.
#[utoipa::path(
    put,
    path = "/meals/{id}",
    tag = "saved meals",
    params(("id" = String, Path, description = "The meal's id")),
    request_body = MealBody,
    responses(
        (status = 200, description = "The meal as it now is", body = Meal),
        (status = 400, description = "As for `POST /meals`; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such meal of the caller's, or `fromDate` has no entry of `mealType`", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn replace(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Meals>,
    JsonBody(body): JsonBody,
) -> Result<Json<Meal>> {
    let now = shared::time::now();
    let (name, items) = items_of(&state, &user, MealBody::read(&body)?).await?;
    // `created_at` is the stored one: the store keeps it.
    let meal = Meal::new(id, name, items, now, now);
    found(state.store().replace_meal(&user.id, &meal).await?).map(Json)
}

/// Deletes one of the caller's meals (the entries it logged stay).
#[utoipa::path(
    delete,
    path = "/meals/{id}",
    tag = "saved meals",
    params(("id" = String, Path, description = "The meal's id")),
    responses(
        (status = 200, description = "Deleted", body = Deleted,
         example = json!({"message": "Meal deleted successfully"})),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such meal of the caller's", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn delete(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Meals>,
) -> Result<Json<Deleted>> {
    if !state.store().delete_meal(&user.id, &id).await? {
        return Err(Error::NotFound(Meals::NOT_FOUND));
    }
    Ok(Json(Deleted {
        message: Meals::DELETED,
    }))
}

/// Logs a meal: one entry per item, as `mealType`, at `timestamp` (default now), its calories
/// and macros times `servings` (default 1). All or nothing, badges checked as for any entry.
///
/// With an `Idempotency-Key`, repeating the request within 24 hours returns the first
/// response and logs nothing again; the key with another body (or meal) is a 422.
#[utoipa::path(
    post,
    path = "/meals/{id}/log",
    tag = "saved meals",
    params(("id" = String, Path, description = "The meal's id"), IdempotencyHeader),
    request_body = MealLog,
    responses(
        (status = 201, description = "The entries, and the badges they earned", body = EntriesCreated),
        (status = 400, description = "A field is invalid or unknown, or `servings` makes an entry over an entry's bounds; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "No such meal of the caller's", body = ErrorResponse),
        (status = 422, description = "The Idempotency-Key was used with another request within 24 hours; nothing is written", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn log(
    user: CurrentUser,
    State(state): State<AppState>,
    RecordId(id, ..): RecordId<Meals>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let now = shared::time::now();
    let log = MealLog::read(&body, now)?;
    let meal = found(state.store().meal(&user.id, &id).await?)?;
    let entries = log.entries(&meal, &user.id, now)?;
    log_api::create_all::<Food, _>(
        &state,
        &user,
        key,
        &format!("POST /meals/{id}/log"),
        &body,
        entries,
        user.zone.day_of(&log.timestamp),
        now,
        crate::copy::respond,
    )
    .await
}
