//! `GET /export`: everything stored about the caller, streamed.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, TryStreamExt};
use serde::Deserialize;
use shared::caller::CurrentUser;
use shared::domain::export::{
    ExportCreated, ExportDocument, ExportFormat, ExportKind, ExportRequest,
};
use shared::error::{ErrorResponse, WithCauses};
use shared::exporter;
use shared::http::{JsonBody, Query};
use shared::objects::{ObjectKey, Signed};
use shared::{AppState, Error, Result};

#[derive(Debug, Deserialize)]
pub(crate) struct ExportParams {
    format: Option<String>,
    kind: Option<String>,
}

/// Everything stored about the caller: their profile, badges, saved meals and every record of
/// every log (food entries, weigh-ins, activities, water), as one JSON document; or
/// (`?format=csv`) one log as CSV (`?kind=`, the food entries by default).
///
/// The body is streamed: the profile, badges and meals first, then each log by `timestamp`
/// (then id), read 500 records at a time, so a history of any length is exported in bounded
/// memory. Round trips: the profile read (and the meals' for JSON), then one per page of
/// each log (at least one each), after authentication's one. An error once the body has begun can only end it early: it is logged
/// and the client receives a truncated document.
#[utoipa::path(
    get,
    path = "/export",
    tag = "food diary",
    params(
        ("format" = Option<ExportFormat>, Query,
         description = "`json` (default): one JSON document. `csv`: one log as CSV (RFC 4180, UTF-8 with a byte order mark, CRLF line ends): a header row of its columns, then one row per record by timestamp; null is an empty cell; a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` so that spreadsheets do not run it as a formula. The columns: entries id, timestamp, createdAt, name, mealType, calories, protein, carbs, fat, servingSize, notes, imageKey; weights id, timestamp, date, createdAt, weight, bodyFat, notes; activities id, timestamp, date, createdAt, name, caloriesBurned, met, durationMinutes, notes; water id, timestamp, date, createdAt, amount"),
        ("kind" = Option<ExportKind>, Query,
         description = "With `format=csv`, the log: `entries` (the food entries, default), `weights`, `activities` or `water`; ignored for JSON"),
    ),
    responses(
        (status = 200, description = "The export, as a download (`Content-Disposition: attachment`, `Cache-Control: private, no-store`)",
         content(
             (ExportDocument = "application/json"),
             (String = "text/csv",
              example = "id,timestamp,createdAt,name,mealType,calories,protein,carbs,fat,servingSize,notes,imageKey\r\n5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f,2024-07-11T10:30:00.000Z,2024-07-11T10:31:02.120Z,Grilled Chicken Salad,lunch,350,30,20,15,1 bowl,,\r\n"),
         ),
         headers(
             ("Content-Disposition" = String, description = "`attachment; filename=\"food-diary-export.json\"` (or `.csv`)"),
             ("Cache-Control" = String, description = "`private, no-store`"),
         )),
        (status = 400, description = "`format` is neither `json` nor `csv`, or `kind` is no log (`VALIDATION_FAILED`), or either is given twice (`BAD_REQUEST`)", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "The user no longer exists", body = ErrorResponse),
        (status = 503, description = "A dependency is unavailable (before the body begins)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn export(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(params): Query<ExportParams>,
) -> Result<Response> {
    let format = ExportFormat::parse(params.format.as_deref())?;
    let kind = ExportKind::parse(params.kind.as_deref())?;
    let span = tracing::Span::current();
    let body = document(&state, &user, format, kind)
        .await?
        .inspect_err(move |err| {
            let _entered = span.enter();
            tracing::error!(
                error = %WithCauses(err),
                "export cut short: the client received a truncated body"
            );
        });
    let headers = [
        (header::CONTENT_TYPE, format.content_type().to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format.content_disposition(kind),
        ),
        (header::CACHE_CONTROL, "private, no-store".to_owned()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, Body::from_stream(body)).into_response())
}

/// The caller's export document as a stream of chunks: the profile (and, for JSON, the saved
/// meals) read now, each log a page at a time as the stream is read.
async fn document(
    state: &AppState,
    user: &CurrentUser,
    format: ExportFormat,
    kind: ExportKind,
) -> Result<impl Stream<Item = Result<Bytes>> + Send + use<>> {
    let exported_at = shared::time::now();
    let profile = state
        .store()
        .profile(&user.id, exported_at)
        .await?
        .ok_or(Error::NotFound("User not found"))?;
    // The CSV is one log: the meals go in the JSON document only.
    let meals = match format {
        ExportFormat::Json => state.store().meals(&user.id).await?,
        ExportFormat::Csv => Vec::new(),
    };
    exporter::document(
        state.store().clone(),
        user.id.clone(),
        &profile,
        &meals,
        exported_at,
        format,
        kind,
    )
}

/// How long the URL of a written export is valid (the document is kept a day).
const EXPORT_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// Writes the caller's export (the document of `GET /export`, `format` and `kind` as its
/// query) to the object store and answers a signed URL that reads it: for histories too long
/// for one response (API Gateway carries at most 6 MB). The document is written a page at a
/// time (a multipart upload on S3), never held whole; it is kept one day.
#[utoipa::path(
    post,
    path = "/exports",
    tag = "food diary",
    request_body(content = Option<ExportRequest>, description = "Optional: no body is the JSON document"),
    responses(
        (status = 201, description = "The document written, and a URL that reads it for 15 minutes", body = ExportCreated),
        (status = 400, description = "`format` or `kind` is invalid or unknown (`VALIDATION_FAILED`), or the body is not JSON", body = ErrorResponse),
        (status = 401, description = "Missing or invalid token", body = ErrorResponse),
        (status = 404, description = "The user no longer exists", body = ErrorResponse),
        (status = 503, description = "The database or the object store is unavailable; nothing is kept", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub(crate) async fn create_export(
    user: CurrentUser,
    State(state): State<AppState>,
    body: Option<JsonBody>,
) -> Result<(StatusCode, axum::Json<ExportCreated>)> {
    let request = ExportRequest::read(body.as_ref().map(|JsonBody(body)| body))?;
    let ExportRequest { format, kind } = request;
    let key = ObjectKey::generate(&user.id, format.extension())
        .ok_or_else(|| Error::internal("a generated key is malformed"))?;
    let bucket = state.buckets().exports.clone();
    let objects = state.objects().await?;
    let mut writer = objects.writer(&bucket, &key, format.content_type()).await?;
    let chunks = document(&state, &user, format, kind).await?;
    futures_util::pin_mut!(chunks);
    let written = async {
        while let Some(chunk) = chunks.try_next().await? {
            writer.write(chunk).await?;
        }
        Ok::<_, Error>(())
    }
    .await;
    if let Err(err) = written {
        writer.abort().await;
        return Err(err);
    }
    let bytes = writer.finish().await?;
    let filename = format.filename(kind);
    let link = objects
        .presign(
            &bucket,
            &key,
            Signed::Download {
                filename: Some(&filename),
            },
            EXPORT_LINK_TTL,
        )
        .await?;
    tracing::info!(key = %key, bytes, "export written");
    Ok((
        StatusCode::CREATED,
        axum::Json(ExportCreated {
            id: key.stem().to_owned(),
            format: format.extension(),
            bytes,
            url: link.url,
            expires_at: link.expires_at,
        }),
    ))
}
