//! An object store that fails for real: a loopback HTTP proxy in front of the test S3 server
//! that forwards every request, except the deletions in a bucket it has been told to refuse.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderName, Method, StatusCode, header};

use crate::s3::s3_endpoint;

pub struct FaultyS3 {
    endpoint: String,
    refused: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    refused: Arc<Mutex<Option<String>>>,
}

impl FaultyS3 {
    /// A proxy to the test S3 server (`TEST_S3_ENDPOINT`) that forwards everything.
    pub async fn start() -> Self {
        let refused = Arc::new(Mutex::new(None));
        let proxy = Proxy {
            upstream: s3_endpoint().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            refused: refused.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("a bound address"));
        let app = Router::new().fallback(forward).with_state(proxy);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self {
            endpoint,
            refused,
            task,
        }
    }

    /// The endpoint to configure as `S3_ENDPOINT` (see [`crate::TestAppBuilder::s3_at`]).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// From now on, every deletion in `bucket` (`DeleteObject`, `DeleteObjects`) is refused
    /// with 403 `AccessDenied`; `None` forwards them again.
    pub fn refuse_deletions_in(&self, bucket: Option<&str>) {
        *self.refused.lock().expect("not poisoned") = bucket.map(str::to_owned);
    }
}

impl Drop for FaultyS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    // Path-style addressing: `/<bucket>/<key>`; `POST /<bucket>?delete` deletes many.
    let bucket = parts.uri.path().trim_start_matches('/').split('/').next();
    let deletes = parts.method == Method::DELETE
        || (parts.method == Method::POST
            && parts.uri.query().is_some_and(|query| {
                query
                    .split('&')
                    .any(|pair| pair == "delete" || pair == "delete=")
            }));
    let refused = proxy.refused.lock().expect("not poisoned").clone();
    if deletes && refused.is_some() && bucket == refused.as_deref() {
        return Response::builder()
            .status(StatusCode::FORBIDDEN)
            .header(header::CONTENT_TYPE, "application/xml")
            .body(Body::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                 <Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
            ))
            .expect("a valid response");
    }

    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let mut upstream = proxy
        .http
        .request(parts.method, format!("{}{path_and_query}", proxy.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !is_per_connection(name) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(_) => {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::empty())
                .expect("a valid response");
        }
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !is_per_connection(name) {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response.body(Body::from(bytes)).expect("a valid response")
}

/// Headers that belong to one connection, not to the request or response forwarded.
fn is_per_connection(name: &HeaderName) -> bool {
    name == header::HOST
        || name == header::CONNECTION
        || name == header::TRANSFER_ENCODING
        || name == header::CONTENT_LENGTH
        || name.as_str() == "keep-alive"
}
