//! `GET /docs`: the API page. Swagger UI, vendored from its npm package by
//! `scripts/api-page-assets.sh` and embedded in the binary, renders `/openapi.json`; the page
//! loads nothing from elsewhere, so it works offline.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use shared::AppState;

const INDEX: &str = include_str!("../api-page/index.html");
const BUNDLE: &str = include_str!("../api-page/swagger-ui-bundle.js");
const STYLES: &str = include_str!("../api-page/swagger-ui.css");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/docs", get(|| asset("text/html; charset=utf-8", INDEX)))
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| asset("text/javascript; charset=utf-8", BUNDLE)),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| asset("text/css; charset=utf-8", STYLES)),
        )
}

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type)], body)
}
