//! The local object store's signed URLs (`/objects/{bucket}/{key}`): what S3 serves for
//! presigned URLs, the local server serves for the local folder, so direct uploads, download
//! links and exports work the same on both. A request is served only when its URL's signature
//! grants exactly it (see `shared::domain::signed`); there is no other authentication.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use shared::domain::images::{ImageType, MAX_IMAGE_BYTES};
use shared::domain::signed::{Access, Grant, Refusal};
use shared::http::Query;
use shared::objects::{LocalStore, ObjectKey, ObjectStore, content_type_for};
use shared::{AppState, Error, Result};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/objects/{bucket}/{*key}",
        get(read)
            .put(write)
            .layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES)),
    )
}

#[derive(Debug, Deserialize)]
struct Signature {
    expires: Option<String>,
    signature: Option<String>,
}

/// The local store and the object a path names: one of the configured buckets (the name
/// becomes a folder, so nothing else may), and a well-formed key.
async fn object<'s>(
    state: &'s AppState,
    bucket: &str,
    key: &str,
) -> Result<(&'s LocalStore, String, ObjectKey)> {
    let ObjectStore::Local(store) = state.objects().await? else {
        return Err(Error::NotFound("Not found"));
    };
    let buckets = state.buckets();
    let known = buckets.all().contains(&bucket) || buckets.exports == bucket;
    let key = ObjectKey::parse(key).filter(|_| known);
    match key {
        Some(key) => Ok((store, bucket.to_owned(), key)),
        None => Err(Error::NotFound("Not found")),
    }
}

fn refused(refusal: Refusal) -> Error {
    match refusal {
        Refusal::BadSignature => {
            Error::Forbidden("The URL's signature does not grant this request")
        }
        Refusal::Expired => Error::Forbidden("The URL has expired"),
    }
}

/// Reads an object on a signed download URL, streamed from its file.
#[tracing::instrument(skip_all)]
async fn read(
    State(state): State<AppState>,
    Path((bucket, key)): Path<(String, String)>,
    Query(signature): Query<Signature>,
) -> Result<Response> {
    let (store, bucket, key) = object(&state, &bucket, &key).await?;
    let grant = Grant {
        access: Access::Get,
        bucket,
        key: key.as_str().to_owned(),
        expires: shared::time::now(),
    };
    let grant = grant
        .verify(
            store.url_key(),
            signature.expires.as_deref(),
            signature.signature.as_deref(),
            shared::time::now(),
        )
        .map_err(refused)?;
    let (file, size) = store
        .open(&grant.bucket, &key)
        .await?
        .ok_or(Error::NotFound("Not found"))?;
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type_for(&key)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if grant.bucket == state.buckets().exports {
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    Ok(response)
}

/// Writes an object on a signed upload URL: with exactly the content type and the length it
/// was signed for.
#[tracing::instrument(skip_all)]
async fn write(
    State(state): State<AppState>,
    Path((bucket, key)): Path<(String, String)>,
    Query(signature): Query<Signature>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response> {
    let (store, bucket, key) = object(&state, &bucket, &key).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| ImageType::ALL.into_iter().find(|kind| kind.mime() == value))
        .map(ImageType::mime);
    let Some(content_type) = content_type else {
        return Err(refused(Refusal::BadSignature));
    };
    let grant = Grant {
        access: Access::Put {
            content_type,
            length: bytes.len() as u64,
        },
        bucket,
        key: key.as_str().to_owned(),
        expires: shared::time::now(),
    };
    let grant = grant
        .verify(
            store.url_key(),
            signature.expires.as_deref(),
            signature.signature.as_deref(),
            shared::time::now(),
        )
        .map_err(refused)?;
    let etag = store.put(&grant.bucket, &key, bytes).await?;
    let mut response = StatusCode::OK.into_response();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}
