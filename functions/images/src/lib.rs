//! Images in object storage: `POST /images/{bucket}` (the bytes through the service),
//! `POST /images/{bucket}/uploads` (a signed URL to send them straight to the object store),
//! `GET|DELETE /images/{bucket}/{filename}` and `GET /images/{bucket}/{filename}/link` (a
//! signed URL to read them straight from it).
//!
//! Keys are generated here (`<userId>/<uuid>.<ext>`), never chosen by a client, and a key is
//! only ever read or deleted by the user whose id is its first segment: anything else, however
//! malformed, is a 404 that reaches neither store.

mod conditional;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use shared::caller::CurrentUser;
use shared::config::Buckets;
use shared::domain::images::{ImageType, MAX_IMAGE_BYTES, UploadRequest};
use shared::error::{ErrorResponse, WithCauses};
use shared::http::{JsonBody, Message};
use shared::objects::{ObjectKey, Presigned, Signed, StoredObject};
use shared::store::{ImageUse, NewImage, Upload};
use shared::time;
use shared::{AppState, Error, Result};
use utoipa::{OpenApi, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/images/{bucket}",
            // Only this route takes more than the 64 KiB of a JSON body.
            post(upload).layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES)),
        )
        .route("/images/{bucket}/uploads", post(grant_upload))
        // The key holds a `/`: the rest of the path, checked by `ObjectKey` (a download link
        // is the key and `/link`).
        .route("/images/{bucket}/{*filename}", get(download).delete(remove))
}

#[derive(OpenApi)]
#[openapi(
    paths(upload, grant_upload, download, link, remove),
    components(schemas(
        UploadedImage,
        UploadGrant,
        SignedRequest,
        SignedLink,
        UploadRequest,
        Message
    ))
)]
pub struct ApiDoc;

/// How long a direct upload's URL is valid.
const UPLOAD_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a download link is valid.
const LINK_TTL: Duration = Duration::from_secs(5 * 60);

/// A request to send to the object store itself, before it expires.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignedRequest {
    /// `PUT`.
    method: &'static str,
    url: String,
    /// Headers to send exactly as given (`Content-Type`, `Content-Length`).
    headers: BTreeMap<String, String>,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: DateTime<Utc>,
}

impl From<Presigned> for SignedRequest {
    fn from(signed: Presigned) -> Self {
        Self {
            method: signed.method,
            url: signed.url,
            headers: signed.headers.into_iter().collect(),
            expires_at: signed.expires_at,
        }
    }
}

/// Where a direct upload goes, and where the image is served once it is there.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"bucket": "food-images",
    "key": "user-1/5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f.jpg",
    "url": "/images/food-images/user-1/5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f.jpg",
    "upload": {"method": "PUT",
               "url": "https://food-images.s3.amazonaws.com/user-1/5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f.jpg?X-Amz-Signature=…",
               "headers": {"content-length": "245760", "content-type": "image/jpeg"},
               "expiresAt": "2024-07-11T10:45:00.000Z"}}))]
pub struct UploadGrant {
    bucket: String,
    /// `<userId>/<uuid>.<ext>`: the `profilePicture` or `imageKey` that names it.
    key: String,
    /// `/images/{bucket}/{key}`, where its owner reads it.
    url: String,
    upload: SignedRequest,
}

/// A URL that reads an image straight from the object store, before it expires.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"url": "https://food-images.s3.amazonaws.com/user-1/5f0c6a3e-2b1d-4c8e-9f7a-1a2b3c4d5e6f.jpg?X-Amz-Signature=…",
    "expiresAt": "2024-07-11T10:35:00.000Z"}))]
pub struct SignedLink {
    url: String,
    #[serde(with = "time::instant")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: DateTime<Utc>,
}

/// Where an upload is stored and served.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedImage {
    /// The bucket it was uploaded to, as the request named it.
    bucket: String,
    /// `<userId>/<uuid>.<ext>`: the `profilePicture` or `imageKey` that names it.
    key: String,
    /// `/images/{bucket}/{key}`, where its owner reads it.
    url: String,
}

/// One of the two configured buckets, and what names its images.
#[derive(Clone, Copy)]
struct Bucket<'a> {
    name: &'a str,
    named_by: ImageUse,
}

/// The bucket a path names: by its configured name, or by the contract's
/// (`profile-pictures`, `food-images`), which clients keep using where the configured names
/// differ (on AWS, where bucket names are unique worldwide).
fn bucket<'a>(state: &'a AppState, name: &str) -> Option<Bucket<'a>> {
    let configured = state.buckets().all();
    let at = configured
        .iter()
        .position(|bucket| *bucket == name)
        .or_else(|| {
            [Buckets::PROFILE_PICTURES, Buckets::FOOD_IMAGES]
                .iter()
                .position(|bucket| *bucket == name)
        })?;
    Some(Bucket {
        name: configured[at],
        named_by: [ImageUse::ProfilePicture, ImageUse::FoodEntry][at],
    })
}

fn image_not_found() -> Error {
    Error::NotFound("Image not found")
}

/// The caller's own image named by the path: an unknown bucket, a malformed key (`..`,
/// `%2e%2e`, a backslash, an absolute path, an empty segment, anything that fails to decode)
/// and another user's key are all the same 404.
fn own_image<'a>(
    state: &'a AppState,
    user: &CurrentUser,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(Bucket<'a>, ObjectKey)> {
    let Ok(Path((bucket_name, filename))) = path else {
        return Err(image_not_found());
    };
    let bucket = bucket(state, &bucket_name).ok_or_else(image_not_found)?;
    let key = ObjectKey::parse_owned(&filename, &user.id).ok_or_else(image_not_found)?;
    Ok((bucket, key))
}

/// Uploads an image: the raw bytes as the body.
#[utoipa::path(
    post,
    path = "/images/{bucket}",
    tag = "images",
    params(("bucket" = String, Path, description = "`profile-pictures` or `food-images`, or the bucket's configured name")),
    request_body(
        description = "The image itself, at most 5 MiB; its bytes must be of the declared type",
        content(
            ([u8] = "image/jpeg"),
            ([u8] = "image/png"),
            ([u8] = "image/webp"),
            ([u8] = "image/gif"),
        )
    ),
    responses(
        (status = 201, description = "Stored under a generated key; `Location` is its `url`", body = UploadedImage),
        (status = 400, description = "The bytes are not of the declared type (`BAD_REQUEST`)", body = ErrorResponse),
        (status = 401, description = "No valid access token", body = ErrorResponse),
        (status = 404, description = "Not one of the two buckets", body = ErrorResponse),
        (status = 413, description = "More than 5 MiB (`PAYLOAD_TOO_LARGE`)", body = ErrorResponse),
        (status = 415, description = "Not image/jpeg, image/png, image/webp or image/gif (`UNSUPPORTED_MEDIA_TYPE`)", body = ErrorResponse),
        (status = 503, description = "The object store or the database is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn upload(
    user: CurrentUser,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    request: Request,
) -> Result<Response> {
    // Answered under the name the caller used.
    let Ok(Path(requested)) = path else {
        return Err(Error::NotFound("Bucket not found"));
    };
    let bucket = bucket(&state, &requested).ok_or(Error::NotFound("Bucket not found"))?;
    let declared = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(ImageType::from_content_type)
        .ok_or_else(|| {
            Error::UnsupportedMediaType(
                "Expected an image/jpeg, image/png, image/webp or image/gif body: send the raw \
                 bytes with that Content-Type, not multipart/form-data"
                    .into(),
            )
        })?;
    // A declared length over the limit is refused before a byte is read; the route's body
    // limit stops any other body at 5 MiB.
    if content_length(request.headers()).is_some_and(|length| length > MAX_IMAGE_BYTES as u64) {
        return Err(too_large());
    }
    let bytes = Bytes::from_request(request, &state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(),
            _ if shared::http::stalled(&rejection) => Error::RequestTimeout,
            _ => Error::BadRequest("The request body could not be read".into()),
        })?;
    if ImageType::detect(&bytes) != Some(declared) {
        return Err(Error::BadRequest(
            format!("The body is not a valid {} image", declared.mime()).into(),
        ));
    }

    let key = ObjectKey::generate(&user.id, declared.extension())
        .ok_or_else(|| Error::internal("a generated key is malformed"))?;
    let objects = state.objects().await?;
    let size_bytes = bytes.len() as i64;
    objects
        .put(bucket.name, &key, bytes, declared.mime())
        .await?;
    let recorded = state
        .store()
        .record_image(&NewImage {
            bucket: bucket.name,
            key: &key,
            user_id: &user.id,
            content_type: declared.mime(),
            size_bytes,
            created_at: shared::time::now(),
            checked: true,
        })
        .await;
    if let Err(err) = recorded {
        // Unrecorded, the object could never be named nor cleaned up: take it back.
        if let Err(cleanup) = objects.delete(bucket.name, &key).await {
            tracing::warn!(key = %key, error = %WithCauses(&cleanup), "an unrecorded upload could not be removed");
        }
        return Err(err);
    }

    let url = format!("/images/{requested}/{key}");
    tracing::info!(bucket = bucket.name, key = %key, size_bytes, "image uploaded");
    let location = HeaderValue::try_from(&url).map_err(Error::internal)?;
    let body = UploadedImage {
        bucket: requested,
        key: key.to_string(),
        url,
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        axum::Json(body),
    )
        .into_response())
}

/// Grants an upload straight to the object store: the client sends the bytes to
/// `upload.url` with `upload.method` and exactly `upload.headers`, within 15 minutes. The URL
/// fixes the key, the type and the length (a presigned S3 URL, or a signed URL of the local
/// server). The image is checked at its first use (a read, `imageKey`, `profilePicture`, a
/// link): missing, over 5 MiB or not of its type, it is deleted and is missing from then on.
#[utoipa::path(
    post,
    path = "/images/{bucket}/uploads",
    tag = "images",
    params(("bucket" = String, Path, description = "`profile-pictures` or `food-images`, or the bucket's configured name")),
    request_body = UploadRequest,
    responses(
        (status = 201, description = "The key, and the signed request that uploads the bytes", body = UploadGrant),
        (status = 400, description = "`contentType` is not one of the four image types, or `size` is not 1 byte to 5 MiB (`VALIDATION_FAILED`)", body = ErrorResponse),
        (status = 401, description = "No valid access token", body = ErrorResponse),
        (status = 404, description = "Not one of the two buckets", body = ErrorResponse),
        (status = 503, description = "The object store or the database is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn grant_upload(
    user: CurrentUser,
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, axum::Json<UploadGrant>)> {
    let Ok(Path(requested)) = path else {
        return Err(Error::NotFound("Bucket not found"));
    };
    let bucket = bucket(&state, &requested).ok_or(Error::NotFound("Bucket not found"))?;
    let request = UploadRequest::read(&body)?;
    let key = ObjectKey::generate(&user.id, request.kind.extension())
        .ok_or_else(|| Error::internal("a generated key is malformed"))?;
    let what = Signed::Upload {
        content_type: request.kind.mime(),
        length: request.size,
    };
    let upload = state
        .objects()
        .await?
        .presign(bucket.name, &key, what, UPLOAD_TTL)
        .await?;
    // Recorded before a byte arrives: the key is the caller's from now on, unchecked.
    state
        .store()
        .record_image(&NewImage {
            bucket: bucket.name,
            key: &key,
            user_id: &user.id,
            content_type: request.kind.mime(),
            size_bytes: i64::try_from(request.size).map_err(Error::internal)?,
            created_at: shared::time::now(),
            checked: false,
        })
        .await?;
    tracing::info!(bucket = bucket.name, key = %key, size = request.size, "direct upload granted");
    Ok((
        StatusCode::CREATED,
        axum::Json(UploadGrant {
            url: format!("/images/{requested}/{key}"),
            bucket: requested,
            key: key.to_string(),
            upload: upload.into(),
        }),
    ))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large() -> Error {
    Error::PayloadTooLarge("Image is too large (limit 5 MiB)")
}

/// Reads one of the caller's images.
#[utoipa::path(
    get,
    path = "/images/{bucket}/{filename}",
    tag = "images",
    params(
        ("bucket" = String, Path, description = "`profile-pictures` or `food-images`, or the bucket's configured name"),
        ("filename" = String, Path, description = "The key, `<userId>/<uuid>.<ext>` (it holds one `/`)"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag received earlier: 304 while it is current"),
    ),
    responses(
        (status = 200, description = "The image, with `Content-Type`, `Content-Length`, `ETag` and `Cache-Control: private`",
         content(([u8] = "image/jpeg"), ([u8] = "image/png"), ([u8] = "image/webp"), ([u8] = "image/gif"))),
        (status = 304, description = "`If-None-Match` names the current ETag: the client's copy is current"),
        (status = 401, description = "No valid access token", body = ErrorResponse),
        (status = 404, description = "Unknown bucket, malformed key, another user's key, or no such image", body = ErrorResponse),
        (status = 503, description = "The object store is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn download(
    user: CurrentUser,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response> {
    if let Ok(Path((bucket, filename))) = &path
        && let Some(image) = filename.strip_suffix("/link")
    {
        return link(&state, &user, bucket, image)
            .await
            .map(IntoResponse::into_response);
    }
    let (bucket, key) = own_image(&state, &user, path)?;
    let objects = state.objects().await?;
    if let Some(condition) = headers.get(header::IF_NONE_MATCH) {
        // Ask for the ETag alone first: a current copy costs no transfer of the bytes.
        let etag = objects
            .etag(bucket.name, &key)
            .await?
            .ok_or_else(image_not_found)?;
        if conditional::none_match(condition.as_bytes(), &etag) {
            return Ok(not_modified(&etag));
        }
    }
    let object = objects
        .get(bucket.name, &key)
        .await?
        .ok_or_else(image_not_found)?;
    // The bytes are at hand: an upload that passed its check (or went through the service)
    // always passes again, so only one that fails asks whether it is an unchecked direct
    // upload, which its first use deletes. Images of the previous service are served as
    // they are.
    let passes = object.bytes.len() <= MAX_IMAGE_BYTES
        && shared::uploads::is_of_its_type(&key, &object.bytes);
    if !passes
        && state
            .store()
            .upload(&user.id, bucket.name, key.as_str())
            .await?
            == Some(Upload::Unchecked)
    {
        shared::uploads::settle(&state, bucket.name, &key, false).await?;
        return Err(image_not_found());
    }
    Ok(image_response(object))
}

/// A URL that reads one of the caller's images straight from the object store for 5 minutes
/// (a presigned S3 URL, or a signed URL of the local server). Checked first, as any read.
#[utoipa::path(
    get,
    path = "/images/{bucket}/{filename}/link",
    tag = "images",
    params(
        ("bucket" = String, Path, description = "`profile-pictures` or `food-images`, or the bucket's configured name"),
        ("filename" = String, Path, description = "The key, `<userId>/<uuid>.<ext>` (it holds one `/`)"),
    ),
    responses(
        (status = 200, description = "The signed URL and when it expires", body = SignedLink),
        (status = 401, description = "No valid access token", body = ErrorResponse),
        (status = 404, description = "Unknown bucket, malformed key, another user's key, or no such image", body = ErrorResponse),
        (status = 503, description = "The object store or the database is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn link(
    state: &AppState,
    user: &CurrentUser,
    bucket_name: &str,
    filename: &str,
) -> Result<axum::Json<SignedLink>> {
    let bucket = bucket(state, bucket_name).ok_or_else(image_not_found)?;
    let key = ObjectKey::parse_owned(filename, &user.id).ok_or_else(image_not_found)?;
    let objects = state.objects().await?;
    let exists = match state
        .store()
        .upload(&user.id, bucket.name, key.as_str())
        .await?
    {
        Some(Upload::Unchecked) => shared::uploads::check(state, bucket.name, &key).await?,
        // Checked, or stored by the previous service without a record.
        _ => objects.etag(bucket.name, &key).await?.is_some(),
    };
    if !exists {
        return Err(image_not_found());
    }
    let signed = objects
        .presign(
            bucket.name,
            &key,
            Signed::Download { filename: None },
            LINK_TTL,
        )
        .await?;
    Ok(axum::Json(SignedLink {
        url: signed.url,
        expires_at: signed.expires_at,
    }))
}

/// Caches may keep an image for its owner only; `nosniff` keeps a browser from reading an
/// upload as anything but its declared image type.
fn cache_headers(headers: &mut HeaderMap, etag: &str) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(etag) = HeaderValue::from_str(etag)
        && !etag.is_empty()
    {
        headers.insert(header::ETAG, etag);
    }
}

fn not_modified(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    cache_headers(response.headers_mut(), etag);
    response
}

fn image_response(object: StoredObject) -> Response {
    let StoredObject {
        bytes,
        content_type,
        etag,
    } = object;
    let length = HeaderValue::from(bytes.len());
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, length);
    cache_headers(headers, &etag);
    response
}

/// Deletes one of the caller's images, and clears the profile picture or the entries'
/// `imageKey` that named it.
#[utoipa::path(
    delete,
    path = "/images/{bucket}/{filename}",
    tag = "images",
    params(
        ("bucket" = String, Path, description = "`profile-pictures` or `food-images`, or the bucket's configured name"),
        ("filename" = String, Path, description = "The key, `<userId>/<uuid>.<ext>` (it holds one `/`)"),
    ),
    responses(
        (status = 200, description = "Deleted; a profile picture or entry that named it now names none", body = Message,
         example = json!({"message": "Image deleted successfully"})),
        (status = 401, description = "No valid access token", body = ErrorResponse),
        (status = 404, description = "Unknown bucket, malformed key, another user's key, or no such image (a second delete)", body = ErrorResponse),
        (status = 503, description = "The object store or the database is unavailable", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn remove(
    user: CurrentUser,
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<axum::Json<Message>> {
    let (bucket, key) = own_image(&state, &user, path)?;
    // The record and what named the image go first, in one transaction: should deleting the
    // object then fail, a retry finds the object without its record and finishes.
    let recorded = state
        .store()
        .forget_image(&user.id, bucket.name, &key, bucket.named_by)
        .await?;
    let objects = state.objects().await?;
    // An image stored without a record (by the previous service) is still its owner's.
    if !recorded && objects.etag(bucket.name, &key).await?.is_none() {
        return Err(image_not_found());
    }
    objects.delete(bucket.name, &key).await?;
    tracing::info!(bucket = bucket.name, key = %key, "image deleted");
    Ok(Message::new("Image deleted successfully"))
}
