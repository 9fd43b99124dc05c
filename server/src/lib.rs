//! The whole API in one router, on the same paths as behind API Gateway, and the OpenAPI
//! document of every function.

pub mod api_page;
pub mod connections;
pub mod demo;
pub mod examples;
mod objects;

use axum::Router;
use shared::AppState;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// How many connections the local server holds at most: 1024, or fewer when the process may
/// open fewer files, with room kept for the database pool and the files it opens itself.
pub fn max_connections(database_connections: u32) -> usize {
    const MOST: u64 = 1024;
    const OWN_FILES: u64 = 32;
    let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(MOST, |(soft, _)| soft);
    let room = soft.saturating_sub(OWN_FILES + u64::from(database_connections));
    usize::try_from(room.clamp(1, MOST)).unwrap_or(1)
}

/// Every function's routes, merged, and the API page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(profile::router())
        .merge(nutrition::router())
        .merge(food_entries::router())
        .merge(metrics::router())
        .merge(account::router())
        .merge(images::router())
        // The local object store's signed URLs (the Lambda functions use S3's own).
        .merge(objects::router())
        .merge(api_page::router())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "User Service",
        description = "User profiles and preferences, onboarding and nutrition goals, the food \
                       diary, summaries, badges and streaks, images, and account actions \
                       forwarded to the Auth Service. Errors are `{\"error\", \"code\", \"fields\"}`.",
    ),
    security(("bearer" = [])),
    components(schemas(shared::error::ErrorResponse)),
)]
struct ServiceDoc;

/// The OpenAPI 3.1 document of the service: what `GET /openapi.json` serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ServiceDoc::openapi();
    for part in [
        health::ApiDoc::openapi(),
        profile::ApiDoc::openapi(),
        nutrition::ApiDoc::openapi(),
        food_entries::ApiDoc::openapi(),
        metrics::ApiDoc::openapi(),
        account::ApiDoc::openapi(),
        images::ApiDoc::openapi(),
    ] {
        doc.merge(part);
    }
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    examples::add(&mut doc);
    doc
}
