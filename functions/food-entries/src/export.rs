//! `GET /export`: everything stored about the caller, streamed.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use shared::auth::CurrentUser;
use shared::domain::entries::EntryQuery;
use shared::domain::export::{ExportDocument, ExportFormat, PAGE_SIZE};
use shared::error::{ErrorResponse, WithCauses};
use shared::http::Query;
use shared::store::Store;
use shared::{AppState, Error, Result};
use tracing::Instrument;

#[derive(Debug, Deserialize)]
pub(crate) struct ExportParams {
    format: Option<String>,
}

/// Everything stored about the caller: their profile, badges and every entry, as one JSON
/// document, or (`?format=csv`) their entries as CSV.
///
/// The body is streamed: the profile and badges first, then the entries by `timestamp` (then
/// id), read 500 at a time, so a history of any length is exported in bounded memory. Round
/// trips: the profile read, then one per page of entries (at least one), after
/// authentication's one. An error once the body has begun can only end it early: it is logged
/// and the client receives a truncated document.
#[utoipa::path(
    get,
    path = "/export",
    tag = "food diary",
    params(
        ("format" = Option<ExportFormat>, Query,
         description = "`json` (default): one JSON document. `csv`: the entries as CSV (RFC 4180, UTF-8 with a byte order mark, CRLF line ends), a header row of the columns id, timestamp, createdAt, name, mealType, calories, protein, carbs, fat, servingSize, notes, imageKey, then one row per entry by timestamp; null is an empty cell; a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` so that spreadsheets do not run it as a formula"),
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
        (status = 400, description = "`format` is neither `json` nor `csv` (`VALIDATION_FAILED`), or is given twice (`BAD_REQUEST`)", body = ErrorResponse),
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
    let exported_at = shared::time::now();
    let profile = state
        .store()
        .profile(&user.id)
        .await?
        .ok_or(Error::NotFound("User not found"))?;
    let head = format.head(&profile, exported_at)?;
    let pages = Pages {
        store: state.store().clone(),
        user_id: user.id,
        format,
        next: Some(EntryQuery::all(PAGE_SIZE)),
        first: true,
    };
    let body =
        stream::iter([Ok(Bytes::from(head))]).chain(pages.into_stream(tracing::Span::current()));
    let headers = [
        (header::CONTENT_TYPE, format.content_type()),
        (header::CONTENT_DISPOSITION, format.content_disposition()),
        (header::CACHE_CONTROL, "private, no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    Ok((headers, Body::from_stream(body)).into_response())
}

/// The entries of one user, a page at a time, in the export's format.
struct Pages {
    store: Store,
    user_id: String,
    format: ExportFormat,
    /// The next page to read; `None` once the last has been written.
    next: Option<EntryQuery>,
    /// Whether no entry has been written yet.
    first: bool,
}

impl Pages {
    /// One chunk per page (keyset paging on `(timestamp, id)`: every entry exactly once),
    /// the last one followed by the format's tail. An error is logged in the request's `span`
    /// and ends the stream.
    fn into_stream(self, span: tracing::Span) -> impl Stream<Item = Result<Bytes>> {
        stream::try_unfold(self, move |pages| {
            async move {
                let read = pages.read_next().await;
                if let Err(err) = &read {
                    tracing::error!(
                        error = %WithCauses(err),
                        "export cut short: the client received a truncated body"
                    );
                }
                read
            }
            .instrument(span.clone())
        })
    }

    async fn read_next(mut self) -> Result<Option<(Bytes, Self)>> {
        let Some(query) = self.next.take() else {
            return Ok(None);
        };
        // A page is one operation of the store, under its deadline: once the body has begun
        // there is no status left to answer 503 with, so the stream ends instead of hanging.
        let page = self.store.entries_page(&self.user_id, &query).await?;
        let mut chunk = self.format.entries(&page.entries, self.first)?;
        self.first &= page.entries.is_empty();
        match page.next {
            Some(after) => {
                self.next = Some(EntryQuery {
                    after: Some(after),
                    ..query
                })
            }
            None => chunk.extend_from_slice(self.format.tail()),
        }
        Ok(Some((Bytes::from(chunk), self)))
    }
}
