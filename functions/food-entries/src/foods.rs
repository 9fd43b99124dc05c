//! `GET /foods/recent` and `GET /foods/frequent`: the caller's foods, to log one again.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::caller::CurrentUser;
use shared::domain::foods::{self, Food, FoodOrder};
use shared::error::ErrorResponse;
use shared::http::Query;
use shared::{AppState, Result};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FoodsQuery {
    /// How many foods (1–100, default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// The caller's distinct foods, the most recently eaten first.
///
/// A food is an entry's name (trimmed, without regard to case) with its serving size; each
/// shows the values of its latest entry and how many entries are that food. Changed and
/// deleted entries count as they now are. Answered from a summary kept with every entry
/// written, so the time does not grow with the history.
#[utoipa::path(
    get,
    path = "/foods/recent",
    tag = "food diary",
    params(FoodsQuery),
    responses(
        (status = 200, description = "The foods, the latest eaten first", body = [Food]),
        (status = 400, description = "`limit` is not an integer from 1 to 100", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn recent(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<FoodsQuery>,
) -> Result<Json<Vec<Food>>> {
    list(&state, &user, &query, FoodOrder::Recent).await
}

/// The caller's distinct foods, the most often logged first (then the latest eaten), as
/// `GET /foods/recent` shows them.
#[utoipa::path(
    get,
    path = "/foods/frequent",
    tag = "food diary",
    params(FoodsQuery),
    responses(
        (status = 200, description = "The foods, the most logged first", body = [Food]),
        (status = 400, description = "`limit` is not an integer from 1 to 100", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn frequent(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(query): Query<FoodsQuery>,
) -> Result<Json<Vec<Food>>> {
    list(&state, &user, &query, FoodOrder::Frequent).await
}

async fn list(
    state: &AppState,
    user: &CurrentUser,
    query: &FoodsQuery,
    order: FoodOrder,
) -> Result<Json<Vec<Food>>> {
    let limit = foods::parse_limit(query.limit.as_deref())?;
    Ok(Json(state.store().foods(&user.id, order, limit).await?))
}
