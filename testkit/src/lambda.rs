//! Lambda as the functions meet it: a minimal Runtime API (the HTTP interface a function's
//! `bootstrap` polls for events), the function binary started against it, and API Gateway
//! HTTP API (payload 2.0) events. Tests drive the real binaries through their Lambda entry
//! with these, so the packaging itself is tested, not only the routers.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

const API: &str = "/2018-06-01/runtime";

/// What a function answered to one invocation.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

impl Outcome {
    #[track_caller]
    pub fn response(self) -> Value {
        match self {
            Outcome::Response(value) => value,
            Outcome::Error(error) => panic!("the function reported an error: {error}"),
        }
    }
}

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, Value)>>,
    queued: Notify,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    polled: Notify,
    init_error: Mutex<Option<Value>>,
}

/// The Runtime API on a loopback port.
pub struct RuntimeApi {
    address: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let router = Router::new()
            .route(&format!("{API}/invocation/next"), get(next))
            .route(&format!("{API}/invocation/{{id}}/response"), post(respond))
            .route(&format!("{API}/invocation/{{id}}/error"), post(fail))
            .route(&format!("{API}/init/error"), post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("an address").to_string();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the runtime API serves");
        });
        Self {
            address,
            shared,
            server,
        }
    }

    /// `AWS_LAMBDA_RUNTIME_API` for a function.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Resolves once a function asks for its first event (its init is over).
    pub async fn first_poll(&self) {
        self.shared.polled.notified().await
    }

    /// Sends `event` to the function and waits (up to 30 s) for what it answers.
    pub async fn invoke(&self, event: Value) -> Outcome {
        self.invoke_as(&uuid::Uuid::new_v4().to_string(), event)
            .await
    }

    /// [`RuntimeApi::invoke`] with the given AWS request id.
    pub async fn invoke_as(&self, request_id: &str, event: Value) -> Outcome {
        let id = request_id.to_owned();
        let (sender, receiver) = oneshot::channel();
        self.shared
            .pending
            .lock()
            .unwrap()
            .insert(id.clone(), sender);
        self.shared.queue.lock().unwrap().push_back((id, event));
        self.shared.queued.notify_one();
        match tokio::time::timeout(Duration::from_secs(30), receiver).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!(
                "the function did not answer (init error: {:?})",
                self.shared.init_error.lock().unwrap()
            ),
        }
    }

    /// What the function reported when its start-up failed, if it did.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.polled.notify_waiters();
    loop {
        let queued = shared.queued.notified();
        if let Some((id, event)) = shared.queue.lock().unwrap().pop_front() {
            let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
            let mut headers = HeaderMap::new();
            let mut set = |name: &'static str, value: String| {
                headers.insert(name, HeaderValue::from_str(&value).expect("a header value"));
            };
            set("lambda-runtime-aws-request-id", id);
            set("lambda-runtime-deadline-ms", deadline.to_string());
            set(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test".to_owned(),
            );
            set(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".to_owned(),
            );
            return (headers, axum::Json(event)).into_response();
        }
        queued.await;
    }
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    complete(&shared, &id, Outcome::Response(parse(&body)))
}

async fn fail(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    complete(&shared, &id, Outcome::Error(parse(&body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *shared.init_error.lock().unwrap() = Some(parse(&body));
    StatusCode::ACCEPTED
}

fn complete(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match shared.pending.lock().unwrap().remove(id) {
        Some(sender) => {
            let _ = sender.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// A function binary running against a [`RuntimeApi`], stopped when dropped.
pub struct FunctionProcess {
    child: Child,
}

impl FunctionProcess {
    /// Starts `binary` as Lambda would, with the function's configuration in `env`.
    pub fn spawn(binary: &Path, api: &RuntimeApi, env: &[(&str, String)]) -> Self {
        let name = binary
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("function");
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_REGION", "us-east-1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            command.env(key, value);
        }
        Self {
            child: command.spawn().expect("the function binary starts"),
        }
    }

    /// The exit status, once the process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("the process can be polled")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An API Gateway HTTP API (payload format 2.0) event.
#[derive(Clone, Debug)]
pub struct HttpEvent {
    method: String,
    path: String,
    stage: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    path_parameters: Vec<(String, String)>,
    body: Option<(String, bool)>,
}

impl HttpEvent {
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            stage: "$default".to_owned(),
            query: Vec::new(),
            headers: vec![("user-agent".into(), "testkit".into())],
            path_parameters: Vec::new(),
            body: None,
        }
    }

    /// A named stage: API Gateway puts `/<stage>` in front of the path.
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = stage.to_owned();
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_lowercase(), value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn path_parameter(mut self, name: &str, value: &str) -> Self {
        self.path_parameters
            .push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(self, body: &Value) -> Self {
        let mut event = self.header("content-type", "application/json");
        event.body = Some((body.to_string(), false));
        event
    }

    /// A binary body, base64-encoded as API Gateway sends it.
    pub fn binary(self, content_type: &str, bytes: &[u8]) -> Self {
        use base64::Engine;
        let mut event = self.header("content-type", content_type);
        event.body = Some((
            base64::engine::general_purpose::STANDARD.encode(bytes),
            true,
        ));
        event
    }

    pub fn to_json(&self) -> Value {
        let raw_path = match self.stage.as_str() {
            "$default" => self.path.clone(),
            stage => format!("/{stage}{}", self.path),
        };
        let raw_query = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut query = serde_json::Map::new();
        for (name, value) in &self.query {
            let joined = match query.get(name).and_then(Value::as_str) {
                Some(previous) => format!("{previous},{value}"),
                None => value.clone(),
            };
            query.insert(name.clone(), Value::String(joined));
        }
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let path_parameters: serde_json::Map<String, Value> = self
            .path_parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let route_key = format!("{} {}", self.method, self.path);
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "api.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "api",
                "http": {
                    "method": self.method,
                    "path": raw_path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "192.0.2.1",
                    "userAgent": "testkit"
                },
                "requestId": uuid::Uuid::new_v4().to_string(),
                "routeKey": route_key,
                "stage": self.stage,
                "time": "26/Nov/2026:12:00:00 +0000",
                "timeEpoch": 1_795_694_400_000_i64
            },
            "isBase64Encoded": false
        });
        if !query.is_empty() {
            event["queryStringParameters"] = Value::Object(query);
        }
        if !path_parameters.is_empty() {
            event["pathParameters"] = Value::Object(path_parameters);
        }
        if let Some((body, base64)) = &self.body {
            event["body"] = Value::String(body.clone());
            event["isBase64Encoded"] = Value::Bool(*base64);
        }
        event
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// An API Gateway HTTP API response as a function returns it.
#[derive(Debug)]
pub struct HttpResult {
    pub status: u16,
    pub headers: serde_json::Map<String, Value>,
    pub body: Vec<u8>,
    pub base64: bool,
}

impl HttpResult {
    #[track_caller]
    pub fn from_outcome(outcome: Outcome) -> Self {
        use base64::Engine;
        let response = outcome.response();
        let base64 = response["isBase64Encoded"].as_bool().unwrap_or(false);
        let text = response["body"].as_str().unwrap_or_default();
        let body = if base64 {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("a base64 body")
        } else {
            text.as_bytes().to_vec()
        };
        Self {
            status: response["statusCode"].as_u64().expect("a status code") as u16,
            headers: response["headers"].as_object().cloned().unwrap_or_default(),
            body,
            base64,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(Value::as_str)
    }
}

/// The configuration of a function under test: its database, the test JWT secret, and (with
/// `s3`) the test S3 server with two fresh buckets.
pub async fn function_env(db: &crate::TestDb, s3: bool) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("DATABASE_URL", db.url().to_owned()),
        ("JWT_SECRET", crate::JWT_SECRET.to_owned()),
    ];
    if s3 {
        env.extend(s3_env().await);
    }
    env
}

/// The variables that point a function at the test S3 server, with two fresh buckets.
pub async fn s3_env() -> Vec<(&'static str, String)> {
    let (profile_pictures, food_images) = crate::s3::fresh_buckets().await;
    vec![
        ("S3_ENDPOINT", crate::s3_endpoint()),
        ("S3_ACCESS_KEY", "test".to_owned()),
        ("S3_SECRET_KEY", "test".to_owned()),
        ("S3_REGION", "us-east-1".to_owned()),
        ("PROFILE_PICTURES_BUCKET", profile_pictures),
        ("FOOD_IMAGES_BUCKET", food_images),
    ]
}
