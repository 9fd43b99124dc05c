//! Large payloads straight to object storage: a direct upload (the signed grant, then the
//! `PUT` of a 1 MiB image to the store) on the local server's folder and through the `images`
//! function on S3, and `POST /exports` through the `food-entries` function on S3 for the
//! longest histories, with the function process's peak RSS: the export writes its document
//! page by page, so memory must stay far below the document's size.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};
use testkit::lambda::{FunctionProcess, HttpEvent, HttpResult, RuntimeApi};

use crate::cold::peak_rss;
use crate::{Error, Stats};

/// The image of every direct upload: a PNG signature, then zeros to 1 MiB (the first use
/// checks only the leading bytes).
const IMAGE_BYTES: usize = 1 << 20;
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectUpload {
    pub store: &'static str,
    pub uploads: usize,
    pub image_bytes: usize,
    /// `POST /images/{bucket}/uploads`.
    pub grant_ms: Stats,
    /// The `PUT` of the bytes on the signed URL.
    pub put_ms: Stats,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub user: String,
    pub entries: u32,
    pub format: &'static str,
    pub bytes: u64,
    pub seconds: f64,
    /// Of a fresh function process that served only this export.
    pub peak_rss_mb: f64,
}

fn image() -> Vec<u8> {
    let mut bytes = vec![0; IMAGE_BYTES];
    bytes[..PNG_SIGNATURE.len()].copy_from_slice(&PNG_SIGNATURE);
    bytes
}

fn grant_request() -> Value {
    json!({"contentType": "image/png", "size": IMAGE_BYTES})
}

/// Sends `bytes` as a grant says (its method, URL and headers); the time it took, in ms.
async fn put(client: &reqwest::Client, grant: &Value, bytes: &[u8]) -> Result<f64, Error> {
    let upload = &grant["upload"];
    let method: reqwest::Method = upload["method"].as_str().ok_or("no method")?.parse()?;
    let mut request = client.request(method, upload["url"].as_str().ok_or("no url")?);
    for (name, value) in upload["headers"].as_object().ok_or("no headers")? {
        // reqwest writes the body's own Content-Length; a second one would be refused.
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name, value.as_str().ok_or("a text header")?);
        }
    }
    let started = Instant::now();
    let response = request.body(bytes.to_vec()).send().await?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if !response.status().is_success() {
        let status = response.status();
        return Err(format!(
            "the upload's PUT answered {status}: {}",
            response.text().await?
        )
        .into());
    }
    Ok(elapsed)
}

/// `uploads` direct uploads through the local server (`base`), its folder as the store.
pub async fn upload_locally(
    base: &str,
    token: &str,
    uploads: usize,
) -> Result<DirectUpload, Error> {
    let client = reqwest::Client::new();
    let bytes = image();
    let (mut grants, mut puts) = (Vec::new(), Vec::new());
    for _ in 0..uploads {
        let started = Instant::now();
        let response = client
            .post(format!("{base}/images/food-images/uploads"))
            .bearer_auth(token)
            .json(&grant_request())
            .send()
            .await?
            .error_for_status()?;
        let grant: Value = response.json().await?;
        grants.push(started.elapsed().as_secs_f64() * 1000.0);
        puts.push(put(&client, &grant, &bytes).await?);
    }
    Ok(DirectUpload {
        store: "local folder (local server)",
        uploads,
        image_bytes: IMAGE_BYTES,
        grant_ms: Stats::of(&mut grants),
        put_ms: Stats::of(&mut puts),
    })
}

/// `uploads` direct uploads through the `images` function's release binary, S3 as the store.
pub async fn upload_to_s3(
    binaries: &Path,
    env: &[(&str, String)],
    token: &str,
    uploads: usize,
) -> Result<DirectUpload, Error> {
    let api = RuntimeApi::start().await;
    let _process = FunctionProcess::spawn(&binaries.join("images"), &api, env);
    let client = reqwest::Client::new();
    let bytes = image();
    let event = HttpEvent::new("POST", "/images/food-images/uploads")
        .bearer(token)
        .json(&grant_request())
        .to_json();
    // The first invocation opens the database connection: not a warm upload.
    HttpResult::from_outcome(api.invoke(event.clone()).await).assert_status(201);
    let (mut grants, mut puts) = (Vec::new(), Vec::new());
    for _ in 0..uploads {
        let started = Instant::now();
        let answer = HttpResult::from_outcome(api.invoke(event.clone()).await);
        grants.push(started.elapsed().as_secs_f64() * 1000.0);
        answer.assert_status(201);
        puts.push(put(&client, &answer.json(), &bytes).await?);
    }
    Ok(DirectUpload {
        store: "S3 (images function)",
        uploads,
        image_bytes: IMAGE_BYTES,
        grant_ms: Stats::of(&mut grants),
        put_ms: Stats::of(&mut puts),
    })
}

/// `POST /exports` of `user`'s history (`entries` long) in `format`, through a fresh process
/// of the `food-entries` function's release binary; the document is read back from its URL
/// to check that it is all there.
pub async fn export(
    binaries: &Path,
    env: &[(&str, String)],
    (user, token, entries): (&str, &str, u32),
    format: &'static str,
) -> Result<Export, Error> {
    let api = RuntimeApi::start().await;
    let process = FunctionProcess::spawn(&binaries.join("food-entries"), &api, env);
    let event = HttpEvent::new("POST", "/exports")
        .bearer(token)
        .json(&json!({"format": format}))
        .to_json();
    let started = Instant::now();
    let answer = HttpResult::from_outcome(api.invoke(event).await);
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_kb = peak_rss(process.pid()).unwrap_or(0);
    answer.assert_status(201);
    let created = answer.json();
    let bytes = created["bytes"].as_u64().ok_or("no bytes")?;
    let url = created["url"].as_str().ok_or("no url")?;
    let mut download = reqwest::get(url).await?.error_for_status()?;
    let mut read = 0;
    while let Some(chunk) = download.chunk().await? {
        read += chunk.len() as u64;
    }
    if read != bytes {
        return Err(format!("the export of {user} said {bytes} bytes, its URL gave {read}").into());
    }
    Ok(Export {
        user: user.to_owned(),
        entries,
        format,
        bytes,
        seconds,
        peak_rss_mb: peak_rss_kb as f64 / 1024.0,
    })
}
