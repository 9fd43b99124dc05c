//! Profile and onboarding: `GET /profile`, `PUT /profile`, `POST /onboarding`.

use axum::Router;
use shared::AppState;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi()]
pub struct ApiDoc;
