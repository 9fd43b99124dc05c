//! `GET /health` (real checks of the database and the object store) and `GET /openapi.json`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use shared::error::WithCauses;
use shared::{AppState, Error};
use utoipa::{OpenApi, ToSchema};

/// The OpenAPI document of the whole service, generated from every function's annotations
/// by `make openapi` (a test keeps it current). Served as stored: no work per request.
const OPENAPI_DOCUMENT: &str = include_str!("../openapi.json");

/// Each check answers within this, so a dead dependency cannot hang the probe and the report
/// arrives within 5 s.
const CHECK_TIMEOUT: Duration = Duration::from_millis(4500);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi_document))
}

#[derive(OpenApi)]
#[openapi(
    paths(health, openapi_document),
    components(schemas(HealthReport, HealthChecks))
)]
pub struct ApiDoc;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthReport {
    /// `healthy` or `unhealthy`.
    status: &'static str,
    /// Always `user-service`.
    service: &'static str,
    checks: HealthChecks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthChecks {
    /// `connected`, `disconnected` or `error: <short reason>`.
    database: String,
    /// The object store (whatever it is: the key is kept from the previous service).
    minio: String,
}

/// The service's health and the state of its dependencies.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Every dependency answers", body = HealthReport),
        (status = 503, description = "A dependency is down", body = HealthReport),
    )
)]
#[tracing::instrument(skip_all)]
async fn health(State(state): State<AppState>) -> Response {
    let (database, objects) = tokio::join!(check_database(&state), check_objects(&state));
    let healthy = database == CONNECTED && objects == CONNECTED;
    let report = HealthReport {
        status: if healthy { "healthy" } else { "unhealthy" },
        service: "user-service",
        checks: HealthChecks {
            database,
            minio: objects,
        },
    };
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

const CONNECTED: &str = "connected";

async fn check_database(state: &AppState) -> String {
    describe(tokio::time::timeout(CHECK_TIMEOUT, state.store().ping()).await)
}

async fn check_objects(state: &AppState) -> String {
    let check = async {
        let objects = state.objects().await?;
        for bucket in state.buckets().all() {
            objects.check_bucket(bucket).await?;
        }
        Ok(())
    };
    describe(tokio::time::timeout(CHECK_TIMEOUT, check).await)
}

/// A check's outcome in the words of the contract; the cause goes to the log only, since it
/// may name hosts or keys.
fn describe(outcome: Result<Result<(), Error>, tokio::time::error::Elapsed>) -> String {
    match outcome {
        Ok(Ok(())) => CONNECTED.to_owned(),
        Ok(Err(err @ Error::Unavailable { .. })) => {
            tracing::warn!(error = %WithCauses(&err), "health check failed");
            "disconnected".to_owned()
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %WithCauses(&err), "health check failed");
            "error: check failed".to_owned()
        }
        // No answer within the check's time is as good as none.
        Err(_) => "disconnected".to_owned(),
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of the service", content_type = "application/json"))
)]
async fn openapi_document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_DOCUMENT,
    )
}
