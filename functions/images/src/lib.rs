//! Images in object storage: `POST /images/{bucket}`, `GET|DELETE /images/{bucket}/{filename}`.

use axum::Router;
use shared::AppState;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi()]
pub struct ApiDoc;
