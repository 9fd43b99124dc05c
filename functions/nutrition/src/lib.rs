//! Goals and summaries: `PUT /nutrition-goals`, `GET /nutrition-summary`, `GET /dashboard/summary`.

use axum::Router;
use shared::AppState;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi()]
pub struct ApiDoc;
