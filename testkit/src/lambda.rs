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
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::aws_lambda_events::encodings::Body;
use serde_json::Value;
use shared::store::Store;
use tokio::sync::{Notify, oneshot};

use crate::stack::event;
use crate::{Backend, TestDb};

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

    /// Resolves once a function asks for its first event (its init is over). Call it before
    /// the function starts: it sees only the polls that come after the call.
    pub fn first_poll(&self) -> tokio::sync::futures::Notified<'_> {
        self.shared.polled.notified()
    }

    /// Sends `event` to the function and waits (up to 30 s) for what it answers.
    pub async fn invoke(&self, event: Value) -> Outcome {
        self.invoke_as(&uuid::Uuid::new_v4().to_string(), event)
            .await
    }

    /// [`RuntimeApi::invoke`] with the given AWS request id.
    pub async fn invoke_as(&self, request_id: &str, event: Value) -> Outcome {
        match self
            .invoke_within(request_id, event, Duration::from_secs(30))
            .await
        {
            Some(outcome) => outcome,
            None => panic!(
                "the function did not answer (init error: {:?})",
                self.shared.init_error.lock().unwrap()
            ),
        }
    }

    /// Sends `event` as `request_id` and waits up to `deadline` for the answer: `None` when
    /// none came (a late answer is then refused), for callers that count timeouts.
    pub async fn invoke_within(
        &self,
        request_id: &str,
        event: Value,
        deadline: Duration,
    ) -> Option<Outcome> {
        let id = request_id.to_owned();
        let (sender, receiver) = oneshot::channel();
        self.shared
            .pending
            .lock()
            .unwrap()
            .insert(id.clone(), sender);
        self.shared.queue.lock().unwrap().push_back((id, event));
        self.shared.queued.notify_one();
        match tokio::time::timeout(deadline, receiver).await {
            Ok(Ok(outcome)) => Some(outcome),
            _ => {
                self.shared.pending.lock().unwrap().remove(request_id);
                None
            }
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
    logs: Arc<Mutex<Vec<String>>>,
}

impl FunctionProcess {
    /// Starts `binary` as Lambda would, with the function's configuration in `env`. What it
    /// logs (to stderr, which Lambda sends to CloudWatch) is kept for [`FunctionProcess::logs`]
    /// and passed on to the test's own stderr.
    pub fn spawn(binary: &Path, api: &RuntimeApi, env: &[(&str, String)]) -> Self {
        Self::start(binary, api, env, true)
    }

    /// [`FunctionProcess::spawn`] keeping the logs without passing them on: a fleet of
    /// hundreds would bury everything else on stderr.
    pub fn spawn_quiet(binary: &Path, api: &RuntimeApi, env: &[(&str, String)]) -> Self {
        Self::start(binary, api, env, false)
    }

    fn start(binary: &Path, api: &RuntimeApi, env: &[(&str, String)], echo: bool) -> Self {
        use std::io::BufRead;

        let mut child = lambda_command(binary, api, env)
            .stderr(Stdio::piped())
            .spawn()
            .expect("the function binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let kept = logs.clone();
        // Ends when the process does (its stderr closes).
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if echo {
                    eprintln!("{line}");
                }
                kept.lock().unwrap().push(line);
            }
        });
        Self { child, logs }
    }

    /// The lines the function has logged so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
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

/// `binary` with the environment Lambda gives a function (and nothing of the test's own),
/// plus `env`.
fn lambda_command(binary: &Path, api: &RuntimeApi, env: &[(&str, String)]) -> Command {
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
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Starts `binary` as Lambda would with `env`, a misconfiguration, and returns the one line it
/// wrote to stderr before it ended with a failure. Panics if it asks for an event instead, has
/// not ended within 10 s, or wrote anything but one line.
pub async fn refused_start(binary: &str, env: &[(&str, String)]) -> String {
    use std::io::Read;

    enum Ending {
        Exited(std::process::ExitStatus),
        Polled,
        Running,
    }

    let api = RuntimeApi::start().await;
    let polled = api.first_poll();
    let mut child = lambda_command(binary.as_ref(), &api, env)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the function binary starts");
    let ending = {
        let exited = async {
            loop {
                if let Some(status) = child.try_wait().expect("the process can be polled") {
                    return status;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::select! {
            status = exited => Ending::Exited(status),
            () = polled => Ending::Polled,
            () = tokio::time::sleep(Duration::from_secs(10)) => Ending::Running,
        }
    };
    let status = match ending {
        Ending::Exited(status) => status,
        Ending::Polled | Ending::Running => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{binary} started with a configuration it should refuse");
        }
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("stderr is text");
    assert!(!status.success(), "{binary} ended with {status}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{binary} wrote: {stderr}");
    stderr.trim_end().to_owned()
}

/// A function's real binary running against its own Runtime API, on a fresh migrated
/// PostgreSQL database (Lambda functions are built without SQLite): what Lambda runs.
pub struct LambdaFunction {
    // Dropped first: the process ends before its database and Runtime API go.
    process: FunctionProcess,
    pub api: RuntimeApi,
    /// A store on the function's database, for a test's setup and assertions.
    pub store: Store,
    pub db: TestDb,
    env: Vec<(&'static str, String)>,
}

pub struct LambdaFunctionBuilder {
    binary: String,
    s3: bool,
    vars: Vec<(&'static str, String)>,
}

impl LambdaFunctionBuilder {
    /// Points the function at the test S3 server, with two fresh buckets.
    pub fn s3(mut self) -> Self {
        self.s3 = true;
        self
    }

    /// Sets one more variable of the function's configuration.
    pub fn var(mut self, name: &'static str, value: &str) -> Self {
        self.vars.push((name, value.to_owned()));
        self
    }

    /// Starts the process; it serves the first invocation once its init is over.
    pub async fn start(self) -> LambdaFunction {
        let (db, store) = TestDb::migrated(Backend::Postgres).await;
        let api = RuntimeApi::start().await;
        let mut env = function_env(&db, self.s3).await;
        env.extend(self.vars);
        let process = FunctionProcess::spawn(self.binary.as_ref(), &api, &env);
        LambdaFunction {
            process,
            api,
            store,
            db,
            env,
        }
    }
}

impl LambdaFunction {
    /// `binary` with its database, the test JWT secret and nothing else.
    pub async fn start(binary: &str) -> Self {
        Self::builder(binary).start().await
    }

    pub fn builder(binary: &str) -> LambdaFunctionBuilder {
        LambdaFunctionBuilder {
            binary: binary.to_owned(),
            s3: false,
            vars: Vec::new(),
        }
    }

    /// Invokes the function with an API Gateway event and returns its HTTP answer.
    pub async fn call(&self, event: HttpEvent) -> HttpResult {
        HttpResult::from_outcome(self.api.invoke(event.to_json()).await)
    }

    /// Invokes the function with any event.
    pub async fn invoke(&self, event: Value) -> Outcome {
        self.api.invoke(event).await
    }

    /// The JSON lines the function has logged once one of them satisfies `until` (waiting up
    /// to 5 s for it: a line may still be on its way when the invocation has answered).
    pub async fn logs_until(&self, until: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let lines: Vec<Value> = self
                .process
                .logs()
                .iter()
                .map(|line| {
                    serde_json::from_str(line)
                        .unwrap_or_else(|_| panic!("a log line that is not JSON: {line}"))
                })
                .collect();
            if lines.iter().any(&until) {
                return lines;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no such log line in {lines:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A variable the function was started with.
    #[track_caller]
    pub fn var(&self, name: &str) -> &str {
        self.env
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("{name} is not set"))
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

    /// The event, as API Gateway sends it.
    pub fn to_event(&self) -> ApiGatewayV2httpRequest {
        let method = Method::from_bytes(self.method.as_bytes()).expect("an HTTP method");
        let query = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        let context = event::Context {
            stage: self.stage.clone(),
            route_key: format!("{} {}", self.method, self.path),
            path_parameters: self.path_parameters.iter().cloned().collect(),
            request_id: uuid::Uuid::new_v4().to_string(),
            source_ip: "192.0.2.1".to_owned(),
            api_id: "api".to_owned(),
            domain_name: "api.execute-api.us-east-1.amazonaws.com".to_owned(),
            time: chrono::DateTime::from_timestamp(1_795_694_400, 0).expect("an instant"),
        };
        let mut event = event::request(&method, &self.path, &query, &headers, b"", context);
        // The body as the test gave it: text, or base64 (whatever its content type).
        if let Some((body, base64)) = &self.body {
            event.body = Some(body.clone());
            event.is_base64_encoded = *base64;
        }
        event
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_event()).expect("the event serializes")
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
        let response: ApiGatewayV2httpResponse =
            serde_json::from_value(outcome.response()).expect("an API Gateway response");
        let body = match response.body {
            None | Some(Body::Empty) => Vec::new(),
            Some(Body::Text(text)) if response.is_base64_encoded => {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .expect("a base64 body")
            }
            Some(Body::Text(text)) => text.into_bytes(),
            Some(Body::Binary(bytes)) => bytes,
            Some(other) => panic!("an unknown kind of body: {other:?}"),
        };
        let headers = response
            .headers
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().expect("a text header");
                (name.as_str().to_owned(), Value::String(value.to_owned()))
            })
            .collect();
        Self {
            status: u16::try_from(response.status_code).expect("a status code"),
            headers,
            body,
            base64: response.is_base64_encoded,
        }
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "not a JSON body ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(Value::as_str)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status,
            expected,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts an error response of the contract's shape (a JSON body) and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        self.assert_status(status);
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body["code"], code, "body: {body}");
        assert!(body["error"].is_string(), "body: {body}");
        body
    }
}

/// The AWS request id of the invocation a JSON log line was written in, from the Lambda
/// runtime's span around each invocation.
pub fn invocation_of(line: &Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find_map(|span| span["requestId"].as_str())
}

/// The configuration of a function under test: its database, the test JWT secret, and (with
/// `s3`) the test S3 server with two fresh buckets.
pub async fn function_env(db: &TestDb, s3: bool) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("DATABASE_URL", db.url().to_owned()),
        ("JWT_SECRET", crate::JWT_SECRET.to_owned()),
    ];
    if s3 {
        env.extend(s3_env().await);
    }
    env
}

/// The variables that point a function at the test S3 server, with fresh buckets.
pub async fn s3_env() -> Vec<(&'static str, String)> {
    let (profile_pictures, food_images, exports) = crate::s3::fresh_buckets().await;
    vec![
        ("S3_ENDPOINT", crate::s3_endpoint()),
        ("S3_ACCESS_KEY", "test".to_owned()),
        ("S3_SECRET_KEY", "test".to_owned()),
        ("S3_REGION", "us-east-1".to_owned()),
        ("PROFILE_PICTURES_BUCKET", profile_pictures),
        ("FOOD_IMAGES_BUCKET", food_images),
        ("EXPORTS_BUCKET", exports),
    ]
}
