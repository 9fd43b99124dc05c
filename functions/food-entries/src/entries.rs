//! `/food-entries`: log, list, read, change and delete the caller's entries.

use axum::Json;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::auth::CurrentUser;
use shared::domain::entries::{
    Entry, EntryCreated, IMAGE_KEY_PROBLEM, parse_entry_changes, parse_list_query, parse_new_entry,
};
use shared::domain::idempotency::Idempotent;
use shared::error::ErrorResponse;
use shared::http::{IDEMPOTENCY_KEY, JsonBody, NEXT_CURSOR};
use shared::store::{CreateOutcome, StoredResponse};
use shared::{AppState, Error, Result};
use utoipa::ToSchema;

const ENTRY_NOT_FOUND: Error = Error::NotFound("Food entry not found");

/// The body of `POST /food-entries` (documentation: bodies are read field by field with
/// `shared::validate`, so that every problem names its field). Other fields are ignored.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documentation only: the body is read field by field"
)]
#[schema(example = json!({"name": "Grilled Chicken Salad", "calories": 350, "mealType": "lunch",
    "servingSize": "1 bowl", "protein": 30, "carbs": 20, "fat": 15,
    "timestamp": "2024-07-11T10:30:00Z"}))]
#[serde(rename_all = "camelCase")]
pub(crate) struct NewEntryBody {
    /// 1-255 characters after trimming.
    name: String,
    /// 0-10000 (a JSON number, at most 2 decimals are kept).
    calories: f64,
    /// `breakfast`, `lunch`, `dinner` or `snack`.
    meal_type: String,
    /// At most 255 characters.
    serving_size: Option<String>,
    /// Grams, 0-1000.
    protein: Option<f64>,
    /// Grams, 0-1000.
    carbs: Option<f64>,
    /// Grams, 0-1000.
    fat: Option<f64>,
    /// At most 2000 characters.
    notes: Option<String>,
    /// When the food was eaten: an RFC 3339 instant at most 24 hours ahead (default: now).
    /// It decides the user's day of the entry.
    #[schema(format = DateTime)]
    timestamp: Option<String>,
    /// The key of an image the caller uploaded to `food-images`.
    image_key: Option<String>,
}

/// The body of `PATCH /food-entries/{id}`: any of the `POST` fields, validated the same way
/// (at least one). `name`, `calories`, `mealType` and `timestamp` cannot be null; null clears
/// the others.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "documentation only: the body is read field by field"
)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EntryChangesBody {
    name: Option<String>,
    calories: Option<f64>,
    meal_type: Option<String>,
    serving_size: Option<String>,
    protein: Option<f64>,
    carbs: Option<f64>,
    fat: Option<f64>,
    notes: Option<String>,
    #[schema(format = DateTime)]
    timestamp: Option<String>,
    image_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Deleted {
    /// `Food entry deleted successfully`.
    message: &'static str,
}

/// Logs a food entry and awards the badges it earns.
///
/// With an `Idempotency-Key`, repeating the request within 24 hours returns the first
/// response (status and body) and logs nothing new, also when the repeats run at once.
#[utoipa::path(
    post,
    path = "/food-entries",
    tag = "food diary",
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "1-255 printable ASCII characters; retries with the same key within 24 hours get the first response"),
    ),
    request_body = NewEntryBody,
    responses(
        (status = 201, description = "The entry, and the badges it earned", body = EntryCreated),
        (status = 400, description = "A field (or the Idempotency-Key) is invalid; nothing is written", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 413, description = "The body is over 64 KiB", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn create_entry(
    user: CurrentUser,
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let key = Idempotent::parse_key(headers.get(&IDEMPOTENCY_KEY).map(HeaderValue::as_bytes))?;
    let entry = parse_new_entry(&body, &user.id, shared::time::now())?;
    let idempotent = key.map(|key| Idempotent::new(key, "POST /food-entries", &body));
    check_image(&state, &user, entry.image_key.as_deref()).await?;
    let local_date = user.zone.day_of(&entry.timestamp);
    let outcome = state
        .store()
        .create_entry(&entry, local_date, idempotent.as_ref())
        .await?;
    Ok(match outcome {
        CreateOutcome::Created(created) => (StatusCode::CREATED, Json(*created)).into_response(),
        CreateOutcome::Replayed(first) => replay(first),
    })
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
    params(
        ("date" = Option<String>, Query, description = "A day (YYYY-MM-DD), or an RFC 3339 instant meaning the caller's day that contains it; not with startDate/endDate"),
        ("startDate" = Option<String>, Query, description = "The first day (inclusive), as `date`"),
        ("endDate" = Option<String>, Query, description = "The last day (inclusive), as `date`; not before startDate"),
        ("mealType" = Option<String>, Query, description = "breakfast, lunch, dinner or snack"),
        ("limit" = Option<u32>, Query, description = "1-1000 entries per page (default 1000)"),
        ("cursor" = Option<String>, Query, description = "The X-Next-Cursor of the previous page"),
    ),
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
    let query = parse_list_query(query.as_deref(), user.zone, state.cursors())?;
    let page = state.store().entries_page(&user.id, &query).await?;
    let mut response = Json(page.entries).into_response();
    if let Some(next) = page.next {
        let cursor =
            HeaderValue::from_str(&next.encode(state.cursors())).map_err(Error::internal)?;
        response.headers_mut().insert(NEXT_CURSOR, cursor);
    }
    Ok(response)
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
    EntryId(id): EntryId,
) -> Result<Json<Entry>> {
    let entry = state.store().entry(&user.id, &id).await?;
    entry.map(Json).ok_or(ENTRY_NOT_FOUND)
}

/// Changes any of an entry's fields; a new timestamp moves it to the caller's day of that
/// instant. Badges the change earns are awarded.
#[utoipa::path(
    patch,
    path = "/food-entries/{id}",
    tag = "food diary",
    params(("id" = String, Path, description = "The entry's id")),
    request_body = EntryChangesBody,
    responses(
        (status = 200, description = "The changed entry", body = Entry),
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
    EntryId(id): EntryId,
    JsonBody(body): JsonBody,
) -> Result<Json<Entry>> {
    let now = shared::time::now();
    let changes = parse_entry_changes(&body, now)?;
    check_image(&state, &user, changes.new_image_key()).await?;
    let local_date = changes.timestamp.map(|at| user.zone.day_of(&at));
    let entry = state
        .store()
        .update_entry(&user.id, &id, &changes, local_date, now)
        .await?;
    entry.map(Json).ok_or(ENTRY_NOT_FOUND)
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
    EntryId(id): EntryId,
) -> Result<Json<Deleted>> {
    let now = shared::time::now();
    if !state.store().delete_entry(&user.id, &id, now).await? {
        return Err(ENTRY_NOT_FOUND);
    }
    Ok(Json(Deleted {
        message: "Food entry deleted successfully",
    }))
}

/// The `{id}` of `/food-entries/{id}`. An id that no entry can have (not UTF-8 once decoded,
/// too long for the column, or with control characters) is answered as a missing entry,
/// without asking the database.
pub(crate) struct EntryId(String);

impl<S: Send + Sync> FromRequestParts<S> for EntryId {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(raw)) if plausible_id(&raw) => Ok(Self(raw)),
            _ => Err(ENTRY_NOT_FOUND),
        }
    }
}

fn plausible_id(raw: &str) -> bool {
    (1..=36).contains(&raw.chars().count()) && !raw.chars().any(char::is_control)
}

/// `imageKey` must name an image the caller uploaded to the food-images bucket.
async fn check_image(state: &AppState, user: &CurrentUser, key: Option<&str>) -> Result<()> {
    let Some(key) = key else {
        return Ok(());
    };
    let bucket = &state.buckets().food_images;
    if state.store().owns_image(&user.id, bucket, key).await? {
        Ok(())
    } else {
        Err(Error::field("imageKey", IMAGE_KEY_PROBLEM))
    }
}

/// The stored first response to an idempotent request, as it was sent.
fn replay(first: StoredResponse) -> Response {
    let status = StatusCode::from_u16(first.status).unwrap_or(StatusCode::CREATED);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        first.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implausible_ids_are_not_found() {
        assert!(plausible_id("e1"));
        assert!(plausible_id(&"a".repeat(36)));
        for bad in ["", &"a".repeat(37), "a\0b", "a\nb"] {
            assert!(!plausible_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_documented_field_is_a_body_field() {
        let doc = serde_json::to_value(<NewEntryBody as utoipa::PartialSchema>::schema()).unwrap();
        let mut documented: Vec<&str> = doc["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        documented.sort_unstable();
        let mut fields = shared::domain::entries::FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(documented, fields);
    }
}
