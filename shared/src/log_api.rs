//! The handlers every log of the user's dated records shares (food, weight, activity, water),
//! generic over the kind: each function wraps them with its own paths, bodies and
//! documentation, and adds only its kind's rules.

use std::marker::PhantomData;

use axum::Json;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::caller::CurrentUser;
use crate::domain::idempotency::Idempotent;
use crate::domain::records::{self, Deleted, Filter, Kind};
use crate::error::{Error, Result};
use crate::http::{IDEMPOTENCY_KEY, NEXT_CURSOR};
use crate::state::AppState;
use crate::store::{Created, Stored, StoredResponse, Written};

/// The `{id}` of `/{kind}/{id}`. An id no record can have (not UTF-8 once decoded, too long
/// for the column, with control characters) is answered as a missing record, without asking
/// the database.
pub struct RecordId<K>(pub String, pub PhantomData<K>);

impl<K: Kind, S: Send + Sync> FromRequestParts<S> for RecordId<K> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(raw)) if records::plausible_id(&raw) => Ok(Self(raw, PhantomData)),
            _ => Err(Error::NotFound(K::NOT_FOUND)),
        }
    }
}

/// The `Idempotency-Key` header, when given: 1 to 255 printable ASCII characters, else a 400
/// before the body is looked at.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        let raw = parts
            .headers
            .get(&IDEMPOTENCY_KEY)
            .map(HeaderValue::as_bytes);
        Idempotent::parse_key(raw).map(Self)
    }
}

/// `GET /{kind}`: the caller's records by `timestamp`, filtered and paged; `X-Next-Cursor`
/// when more match.
pub async fn list<K: Stored>(
    state: &AppState,
    user: &CurrentUser,
    raw_query: Option<&str>,
    filter: Option<Filter>,
) -> Result<Response> {
    let query = records::parse_list_query(raw_query, user.zone, state.cursors(), filter)?;
    let page = state.store().records_page::<K>(&user.id, &query).await?;
    let mut response = Json(page.records).into_response();
    if let Some(next) = page.next {
        let cursor =
            HeaderValue::from_str(&next.encode(state.cursors())).map_err(Error::internal)?;
        response.headers_mut().insert(NEXT_CURSOR, cursor);
    }
    Ok(response)
}

/// `GET /{kind}/{id}`.
pub async fn get<K: Stored>(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Json<K::Record>> {
    let record = state.store().record::<K>(&user.id, id).await?;
    record.map(Json).ok_or(Error::NotFound(K::NOT_FOUND))
}

/// `POST /{kind}`: logs `record` on the user's `day`; `respond` is the answer (kept for the
/// `Idempotency-Key`, whose request is `body`).
pub async fn create<K: Stored, A: Serialize>(
    state: &AppState,
    user: &CurrentUser,
    key: IdempotencyKey,
    body: &Value,
    record: K::Record,
    day: NaiveDate,
    respond: impl Fn(&Written<K::Record>) -> A,
) -> Result<Response> {
    let idempotent = key.0.map(|key| Idempotent::new(key, K::CREATE, body));
    let created = state
        .store()
        .create_record::<K, A>(&user.id, &record, day, idempotent.as_ref(), &respond)
        .await?;
    Ok(match created {
        Created::Created(written) => (StatusCode::CREATED, Json(respond(&written))).into_response(),
        Created::Replayed(first) => replay(first),
    })
}

/// A `POST` that logs several records of kind `K` at once (`operation` names it for the
/// `Idempotency-Key`, whose request is `body`): all of `records`, on the user's `day`, in one
/// transaction (see [`crate::store::Store::create_records`]); `respond` is the answer.
#[allow(clippy::too_many_arguments)]
pub async fn create_all<K: Stored, A: Serialize>(
    state: &AppState,
    user: &CurrentUser,
    key: IdempotencyKey,
    operation: &str,
    body: &Value,
    records: Vec<K::Record>,
    day: NaiveDate,
    now: DateTime<Utc>,
    respond: impl Fn(&Written<Vec<K::Record>>) -> A,
) -> Result<Response> {
    let idempotent = key.0.map(|key| Idempotent::new(key, operation, body));
    let created = state
        .store()
        .create_records::<K, _, A>(
            &user.id,
            &records,
            day,
            now,
            idempotent.as_ref(),
            |badges_earned| Written {
                record: records.clone(),
                badges_earned,
            },
            &respond,
        )
        .await?;
    Ok(match created {
        Created::Created(written) => (StatusCode::CREATED, Json(respond(&written))).into_response(),
        Created::Replayed(first) => replay(first),
    })
}

/// `PATCH /{kind}/{id}`: the record as `change` makes it of the stored one and its day (see
/// [`crate::store::Store::update_record`]).
pub async fn update<K: Stored, A: Serialize>(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    now: DateTime<Utc>,
    change: impl Fn(&K::Record, NaiveDate) -> Result<(K::Record, NaiveDate, bool)>,
    respond: impl Fn(&Written<K::Record>) -> A,
) -> Result<Json<A>> {
    let written = state
        .store()
        .update_record::<K>(&user.id, id, now, change)
        .await?;
    written
        .map(|written| Json(respond(&written)))
        .ok_or(Error::NotFound(K::NOT_FOUND))
}

/// `DELETE /{kind}/{id}`.
pub async fn delete<K: Stored>(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Json<Deleted>> {
    let now = crate::time::now();
    if !state.store().delete_record::<K>(&user.id, id, now).await? {
        return Err(Error::NotFound(K::NOT_FOUND));
    }
    Ok(Json(Deleted {
        message: K::DELETED,
    }))
}

/// The day a change leaves a record on: the user's day of its new timestamp, if it has one.
pub fn day_after(
    user: &CurrentUser,
    old_day: NaiveDate,
    new_timestamp: Option<DateTime<Utc>>,
) -> NaiveDate {
    new_timestamp.map_or(old_day, |at| user.zone.day_of(&at))
}

/// The `Idempotency-Key` header, as the OpenAPI document names it.
pub struct IdempotencyHeader;

impl utoipa::IntoParams for IdempotencyHeader {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        parameters(serde_json::json!([{
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "Retries with the same key and body within 24 hours get the first response; the key with another request is a 422",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": crate::domain::idempotency::MAX_KEY_LEN,
                // Printable ASCII, and not only blanks (it is trimmed).
                "pattern": "^[\\x20-\\x7e]*[\\x21-\\x7e][\\x20-\\x7e]*$",
            },
        }]))
    }
}

/// The query parameters of every listing, as the OpenAPI document names them.
pub struct ListParams;

impl utoipa::IntoParams for ListParams {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        let day = |description: &str| {
            serde_json::json!({
                "in": "query",
                "required": false,
                "description": description,
                "schema": {"oneOf": [
                    {"type": "string", "format": "date"},
                    {"type": "string", "format": "date-time"},
                ]},
            })
        };
        let mut date = day(
            "A day (YYYY-MM-DD), or an RFC 3339 instant meaning the caller's day that contains it; not with startDate/endDate",
        );
        date["name"] = "date".into();
        let mut start = day("The first day (inclusive), as `date`");
        start["name"] = "startDate".into();
        let mut end = day("The last day (inclusive), as `date`; not before startDate");
        end["name"] = "endDate".into();
        parameters(serde_json::json!([
            date,
            start,
            end,
            {
                "name": "limit",
                "in": "query",
                "required": false,
                "description": "Records per page (default the most)",
                "schema": {"type": "integer", "minimum": 1, "maximum": records::MAX_PAGE},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": false,
                "description": "The X-Next-Cursor of the previous page (only cursors this service issued are accepted)",
                "schema": {"type": "string", "pattern": "^[0-9a-f]+$"},
            },
        ]))
    }
}

/// A listing's filter (`mealType`), as the OpenAPI document names it.
pub fn filter_parameters(filter: Filter) -> Vec<utoipa::openapi::path::Parameter> {
    parameters(serde_json::json!([{
        "name": filter.param,
        "in": "query",
        "required": false,
        "description": "Only the records of this value",
        "schema": {"type": "string", "enum": filter.choices},
    }]))
}

/// Parameters written as OpenAPI JSON, as utoipa holds them.
fn parameters(json: Value) -> Vec<utoipa::openapi::path::Parameter> {
    serde_json::from_value(json).unwrap_or_default()
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
