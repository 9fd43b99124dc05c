//! The whole API in-process, on a fresh database, with helpers to call it as a client would.

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::AppState;
use shared::config::{Config, Env};
use shared::secret::Secret;
use tower::ServiceExt;

use crate::s3::{s3_endpoint, s3_vars, unique_bucket};
use crate::{Backend, FaultyProxy, JWT_SECRET, PgBouncer, RoundTripCounter, TestDb};

pub struct TestApp {
    pub state: AppState,
    pub db: TestDb,
    router: Router,
    round_trips: Option<RoundTripCounter>,
    network: Option<FaultyProxy>,
    _pooler: Option<PgBouncer>,
    /// `DATA_DIR`: the local image folder lives here.
    pub data_dir: tempfile::TempDir,
}

pub struct TestAppBuilder {
    backend: Backend,
    vars: Vec<(String, String)>,
    routes: Option<Router<AppState>>,
    count_round_trips: bool,
    faulty_network: bool,
    pooled: bool,
    database_user: Option<String>,
}

impl TestAppBuilder {
    /// Points user sync and account actions at an Auth Service (a wiremock server).
    pub fn auth_service(self, url: &str) -> Self {
        self.var("AUTH_SERVICE_URL", url)
    }

    /// Stores images in `store`: the test S3 server or (the default) a local folder.
    pub fn objects(self, store: crate::ObjectBackend) -> Self {
        match store {
            crate::ObjectBackend::S3 => self.s3(),
            crate::ObjectBackend::Local => self,
        }
    }

    /// Stores images in the test S3 server (fresh buckets) instead of a local folder.
    pub fn s3(self) -> Self {
        self.s3_at(&s3_endpoint())
    }

    /// Like [`TestAppBuilder::s3`], through another endpoint in front of the test S3 server
    /// (a [`crate::FaultyS3`]).
    pub fn s3_at(mut self, endpoint: &str) -> Self {
        self.vars.extend(s3_vars());
        self.var("S3_ENDPOINT", endpoint)
            .var("PROFILE_PICTURES_BUCKET", &unique_bucket("pp"))
            .var("FOOD_IMAGES_BUCKET", &unique_bucket("fi"))
            .var("EXPORTS_BUCKET", &unique_bucket("ex"))
    }

    /// Serves these routes instead of the whole API (to test a shared piece on its own).
    pub fn routes(mut self, routes: Router<AppState>) -> Self {
        self.routes = Some(routes);
        self
    }

    /// PostgreSQL only: the app reaches its database through a [`RoundTripCounter`], with one
    /// connection (so statements prepared by a warm-up request stay prepared).
    pub fn count_round_trips(mut self) -> Self {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "round trips are counted on PostgreSQL"
        );
        self.count_round_trips = true;
        self.var("DB_MAX_CONNECTIONS", "1")
    }

    /// PostgreSQL only: the app reaches its database through a [`FaultyProxy`]
    /// ([`TestApp::network`]), to pause, fail over or cut it.
    pub fn faulty_network(mut self) -> Self {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "the network is PostgreSQL's"
        );
        self.faulty_network = true;
        self
    }

    /// PostgreSQL only: the app reaches its database through PgBouncer in transaction
    /// pooling mode with two server connections, on unnamed statements
    /// (`DB_STATEMENT_CACHE_CAPACITY=0`), as behind RDS Proxy. The database is migrated
    /// directly.
    pub fn pgbouncer(mut self) -> Self {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "PgBouncer pools PostgreSQL"
        );
        self.pooled = true;
        self.var("DB_STATEMENT_CACHE_CAPACITY", "0")
    }

    /// PostgreSQL only: the app connects as this role (the database is still migrated as
    /// the test server's user).
    pub fn database_user(mut self, role: &str) -> Self {
        assert_eq!(self.backend, Backend::Postgres, "roles are PostgreSQL's");
        self.database_user = Some(role.to_owned());
        self
    }

    /// Any other configuration variable.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    pub async fn start(self) -> TestApp {
        let db = TestDb::empty(self.backend).await;
        let data_dir = tempfile::tempdir().expect("a temporary folder");
        let round_trips = match self.count_round_trips {
            true => Some(RoundTripCounter::start(db.server_address()).await),
            false => None,
        };
        let network = match self.faulty_network {
            true => Some(FaultyProxy::start(db.server_address()).await),
            false => None,
        };
        let pooler = match self.pooled {
            true => Some(PgBouncer::start(db.url(), 2).await),
            false => None,
        };
        let database_url = match (&round_trips, &network, &pooler) {
            (Some(counter), _, _) => counter.url(db.url()),
            (None, Some(network), _) => network.url(db.url()),
            (None, None, Some(pooler)) => pooler.url(db.url()),
            (None, None, None) => db.url().to_owned(),
        };
        let database_url = match &self.database_user {
            Some(role) => {
                let mut url = url::Url::parse(&database_url).expect("a postgres URL");
                url.set_username(role).expect("a user name");
                url.to_string()
            }
            None => database_url,
        };
        let mut vars = vec![
            ("DATABASE_URL".to_owned(), database_url),
            ("DB_MAX_CONNECTIONS".to_owned(), "5".to_owned()),
            ("JWT_SECRET".to_owned(), JWT_SECRET.to_owned()),
            ("DATA_DIR".to_owned(), data_dir.path().display().to_string()),
        ];
        vars.extend(self.vars);
        let config = Config::load(&Env::from_pairs(vars)).expect("test configuration is valid");
        let state = AppState::new(config).expect("test state builds");
        // Directly, as deployments migrate: the migrator's session lock needs a session (not
        // a pooler's transaction), and the app's own user may not be allowed to.
        let migrating = db.store();
        migrating.migrate().await.expect("migrations apply");
        migrating.close().await;
        let objects = state.objects().await.expect("object store builds");
        for bucket in state.buckets().of_users() {
            objects
                .ensure_bucket(bucket)
                .await
                .expect("buckets can be created");
        }
        let routes = self.routes.unwrap_or_else(server::routes);
        let router = shared::http::app(routes, state.clone());
        TestApp {
            state,
            db,
            router,
            round_trips,
            network,
            _pooler: pooler,
            data_dir,
        }
    }
}

impl TestApp {
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            vars: Vec::new(),
            routes: None,
            count_round_trips: false,
            faulty_network: false,
            pooled: false,
            database_user: None,
        }
    }

    /// The app with local defaults: no Auth Service, images in a folder.
    pub async fn start(backend: Backend) -> Self {
        Self::builder(backend).start().await
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The network between the app and its database (see [`TestAppBuilder::faulty_network`]).
    pub fn network(&self) -> &FaultyProxy {
        self.network
            .as_ref()
            .expect("the app was built with faulty_network()")
    }

    /// The router, as the local server serves it.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Database round trips so far (see [`TestAppBuilder::count_round_trips`]).
    pub fn round_trips(&self) -> u64 {
        self.round_trips
            .as_ref()
            .expect("the app was built with count_round_trips()")
            .count()
    }

    /// Statements the app prepared under a name so far (see [`RoundTripCounter`]).
    pub fn named_statements(&self) -> u64 {
        self.round_trips
            .as_ref()
            .expect("the app was built with count_round_trips()")
            .named_statements()
    }

    /// Statements the app sent so far that call one of the store's routines (see
    /// [`RoundTripCounter`]).
    pub fn routine_calls(&self) -> u64 {
        self.round_trips
            .as_ref()
            .expect("the app was built with count_round_trips()")
            .routine_calls()
    }

    /// The round trips `request` makes, measured after a first, identical warm-up call has
    /// prepared its statements.
    pub async fn round_trips_of<F, Fut>(&self, request: F) -> u64
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = TestResponse>,
    {
        request().await;
        let before = self.round_trips();
        request().await;
        self.round_trips() - before
    }

    /// A valid access token for `user_id`, as the Auth Service would issue it.
    pub fn token(&self, user_id: &str) -> String {
        access_token(user_id)
    }

    /// A request to the app; `.user(id)` authenticates it.
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest {
            app: self,
            builder: Request::builder().method(method).uri(path),
            body: Body::empty(),
        }
    }

    pub async fn get(&self, path: &str, user: &str) -> TestResponse {
        self.request(Method::GET, path).user(user).send().await
    }

    pub async fn post(&self, path: &str, user: &str, body: Value) -> TestResponse {
        self.request(Method::POST, path)
            .user(user)
            .json(&body)
            .send()
            .await
    }

    pub async fn put(&self, path: &str, user: &str, body: Value) -> TestResponse {
        self.request(Method::PUT, path)
            .user(user)
            .json(&body)
            .send()
            .await
    }

    pub async fn patch(&self, path: &str, user: &str, body: Value) -> TestResponse {
        self.request(Method::PATCH, path)
            .user(user)
            .json(&body)
            .send()
            .await
    }

    pub async fn delete(&self, path: &str, user: &str) -> TestResponse {
        self.request(Method::DELETE, path).user(user).send().await
    }

    /// Sends an API Gateway HTTP API event (payload 2.0, as JSON) through the router the way
    /// a function's Lambda runtime does, with lambda_http's own adapter: the event becomes a
    /// request (a base64 body decoded), the router's response becomes the event response
    /// (a binary body base64-encoded), which is returned as the JSON API Gateway receives.
    pub async fn lambda(&self, event: Value) -> Value {
        use lambda_http::{Adapter, Context, LambdaEvent, Service};

        let payload: lambda_http::request::LambdaRequest =
            serde_json::from_value(event).expect("an API Gateway HTTP API event");
        let mut adapter = Adapter::from(self.router.clone());
        let response = adapter
            .call(LambdaEvent::new(payload, Context::default()))
            .await
            .expect("the router is infallible");
        serde_json::to_value(response).expect("the event response serializes")
    }

    /// Sends a prepared request through the router, in-process.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.send_streaming(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("the body can be read")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// Sends a prepared request and returns the response with its body unread, to read a
    /// streamed body frame by frame.
    pub async fn send_streaming(&self, request: Request<Body>) -> http::Response<Body> {
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible")
    }
}

/// A valid access token for `user_id`, as the Auth Service would issue it: the user's
/// `email` is `<id>@example.com`, their `name` `User <id>`.
pub fn access_token(user_id: &str) -> String {
    let now = Utc::now().timestamp();
    sign(&json!({
        "user_id": user_id,
        "sub": user_id,
        "email": format!("{user_id}@example.com"),
        "name": format!("User {user_id}"),
        "type": "access",
        "iat": now,
        "exp": now + 3600,
    }))
}

/// Signs arbitrary claims with the test secret (for tokens the tests want to be wrong).
pub fn sign(claims: &Value) -> String {
    shared::auth::sign_token(&Secret::new(JWT_SECRET), claims).expect("claims sign")
}

pub struct TestRequest<'a> {
    app: &'a TestApp,
    builder: http::request::Builder,
    body: Body,
}

impl TestRequest<'_> {
    /// Authenticates as `user_id` with a valid access token.
    pub fn user(self, user_id: &str) -> Self {
        let token = self.app.token(user_id);
        self.bearer(&token)
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION, &format!("Bearer {token}"))
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        self.builder = self.builder.header(
            name,
            HeaderValue::from_str(value).expect("a valid header value"),
        );
        self
    }

    pub fn json(self, body: &Value) -> Self {
        self.header(header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body).expect("JSON serializes"))
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Body::from(body.into());
        self
    }

    pub async fn send(self) -> TestResponse {
        let request = self.builder.body(self.body).expect("a valid request");
        self.app.send(request).await
    }

    /// Sends the request; the response's body is left to read as it streams.
    pub async fn send_streaming(self) -> http::Response<Body> {
        let request = self.builder.body(self.body).expect("a valid request");
        self.app.send_streaming(request).await
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "expected a JSON body ({err}), got {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// Asserts an error response of the contract's shape and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        self.assert_status(status);
        let body = self.json();
        assert_eq!(body["code"], code, "body: {body}");
        assert!(body["error"].is_string(), "body: {body}");
        body
    }
}
