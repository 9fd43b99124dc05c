//! Account actions forwarded to the Auth Service: `PUT /change-password`, `DELETE /account`, `POST /logout`.

use axum::Router;
use shared::AppState;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    Router::new()
}

#[derive(OpenApi)]
#[openapi()]
pub struct ApiDoc;
