//! The food diary (`/food-entries`), `GET /badges`, `GET /streaks` and `GET /export`.

use axum::Router;
use shared::AppState;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi()]
pub struct ApiDoc;
