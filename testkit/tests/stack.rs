//! The stack suite (`make test-stack`): the API as template.yaml deploys it, through the
//! gateway, LocalStack's Lambda and S3, on a PostgreSQL database. scripts/stack.sh starts the
//! stack and sets STACK_URL, STACK_DIR and LOCALSTACK_ENDPOINT; JWT_SECRET is the stack's and
//! AUTH_SERVICE_URL the loopback address where the journey serves the Auth Service. Built only
//! with testkit's `stack` feature, which `make test-stack` turns on (`make test` has no stack).
//!
//! What the template says is read from the template itself (`template.json`, not the copy that
//! was deployed): a route that reaches another function, or a variable a function lacks, fails
//! here; so does a route of the template that the journey never called.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use aws_sdk_lambda::primitives::Blob;
use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use shared::secret::Secret;
use testkit::stack::routes::Routes;
use testkit::stack::{StackDir, lambda_client};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A real 1×1 PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\x64\xf8\xcf\x50\x0f\x00\x03\x86\x01\x80\x5a\x34\x7d\x6b\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run make test-stack"))
}

/// The deployed stack, and the routes of the template that requests took.
struct Stack {
    url: String,
    dir: StackDir,
    template: Value,
    routes: Routes,
    functions: HashMap<String, String>,
    http: reqwest::Client,
    secret: String,
    taken: Mutex<BTreeSet<String>>,
}

struct Reply {
    /// `METHOD /path`, for the failures' messages.
    request: String,
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    #[track_caller]
    fn status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status,
            expected,
            "{}: {}",
            self.request,
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!("not JSON ({err}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl Stack {
    fn get() -> Self {
        let dir = StackDir(var("STACK_DIR").into());
        let template = dir.template().expect("template.json");
        Self {
            url: var("STACK_URL"),
            routes: Routes::from_template(&template).expect("the template's routes"),
            functions: dir.functions().expect("functions.json"),
            dir,
            template,
            http: reqwest::Client::new(),
            secret: var("JWT_SECRET"),
            taken: Mutex::new(BTreeSet::new()),
        }
    }

    fn token(&self, user: &str) -> String {
        let now = Utc::now().timestamp();
        let claims = json!({"user_id": user, "sub": user, "email": format!("{user}@example.com"),
            "name": format!("User {user}"), "type": "access", "iat": now, "exp": now + 3600});
        shared::auth::sign_token(&Secret::new(&self.secret), &claims).expect("a token")
    }

    /// `method path` as `user` (unauthenticated without one), with an optional body of a type.
    async fn call(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Reply {
        let route_path = path.split('?').next().unwrap_or(path);
        let described = format!("{method} {path}");
        if let Some(matched) = self.routes.find(method.as_str(), route_path) {
            self.taken.lock().unwrap().insert(matched.route.key());
        }
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(user) = user {
            request = request.bearer_auth(self.token(user));
        }
        if let Some((content_type, bytes)) = body {
            request = request.header("content-type", content_type).body(bytes);
        }
        let response = request.send().await.expect("the gateway answers");
        Reply {
            request: described,
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("a body").to_vec(),
        }
    }

    async fn get_as(&self, path: &str, user: &str) -> Reply {
        self.call(Method::GET, path, Some(user), None).await
    }

    async fn send_json(&self, method: Method, path: &str, user: &str, body: Value) -> Reply {
        let bytes = body.to_string().into_bytes();
        self.call(method, path, Some(user), Some(("application/json", bytes)))
            .await
    }

    /// A function's configuration as the template gives it: Globals, then its own properties.
    fn configured(&self, logical_id: &str, property: &str) -> Value {
        let own = &self.template["Resources"][logical_id]["Properties"][property];
        if own.is_null() {
            self.template["Globals"]["Function"][property].clone()
        } else {
            own.clone()
        }
    }
}

/// The Auth Service on AUTH_SERVICE_URL, the loopback address the stack was deployed with.
async fn auth_service(user: &str) -> MockServer {
    let url = url::Url::parse(&var("AUTH_SERVICE_URL")).expect("AUTH_SERVICE_URL is a URL");
    let listener = std::net::TcpListener::bind(("127.0.0.1", url.port().expect("a port")))
        .expect("the Auth Service's port is free");
    let auth = MockServer::builder().listener(listener).start().await;
    let answers = [
        (
            "GET",
            "/profile",
            json!({"id": user, "email": format!("{user}@example.com"), "name": "Ann"}),
        ),
        (
            "PUT",
            "/change-password",
            json!({"message": "Password updated successfully"}),
        ),
        (
            "DELETE",
            "/delete-account",
            json!({"message": "Account deleted"}),
        ),
        ("POST", "/logout", json!({"message": "Logged out"})),
    ];
    for (verb, route, body) in answers {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&auth)
            .await;
    }
    auth
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_through_every_route_of_the_template() {
    let stack = Stack::get();
    let user = "stack-ann";
    let auth = auth_service(user).await;
    let today = Utc::now().date_naive().to_string();

    // Unauthenticated: health (the database and the deployed buckets), the OpenAPI document,
    // and any other path through `$default` to the contract's 404.
    let health = stack.call(Method::GET, "/health", None, None).await;
    assert_eq!(
        health.status(200).json()["checks"],
        json!({"database": "connected", "minio": "connected"})
    );
    let openapi = stack.call(Method::GET, "/openapi.json", None, None).await;
    assert!(openapi.status(200).json()["openapi"].is_string());
    let unknown = stack.call(Method::GET, "/no/such/path", None, None).await;
    assert_eq!(unknown.status(404).json()["code"], "NOT_FOUND");
    assert!(unknown.header("apigw-requestid").is_some());

    // The profile: created from the Auth Service on the first request.
    let profile = stack.get_as("/profile", user).await;
    assert_eq!(profile.status(200).json()["userId"], user);
    let renamed = stack
        .send_json(Method::PUT, "/profile", user, json!({"name": "Ann Stack"}))
        .await;
    assert_eq!(renamed.status(200).json()["name"], "Ann Stack");
    let onboarded = stack
        .send_json(
            Method::POST,
            "/onboarding",
            user,
            json!({"age": 30, "gender": "female", "height": 165, "currentWeight": 60,
                   "targetWeight": 58, "goal": "lose_weight", "activityLevel": "moderately_active"}),
        )
        .await;
    let computed = &onboarded.status(200).json()["nutritionGoals"];
    let computed: Vec<Option<f64>> = ["calories", "protein", "carbs", "fat"]
        .iter()
        .map(|field| computed[field].as_f64())
        .collect();
    assert_eq!(
        computed,
        [Some(1550.0), Some(120.0), Some(171.0), Some(43.0)]
    );
    let goals = json!({"calories": 2000, "protein": 100, "carbs": 250, "fat": 70});
    stack
        .send_json(Method::PUT, "/nutrition-goals", user, goals)
        .await
        .status(200);

    // The diary.
    let created = stack
        .send_json(
            Method::POST,
            "/food-entries",
            user,
            json!({"name": "Apple", "calories": 95, "mealType": "snack",
                   "timestamp": Utc::now().to_rfc3339()}),
        )
        .await;
    let created = created.status(201).json();
    let id = created["id"].as_str().expect("an entry id").to_owned();
    assert_eq!(created["badgesEarned"][0]["id"], "first_entry");
    let listed = stack
        .get_as(&format!("/food-entries?date={today}"), user)
        .await;
    assert!(String::from_utf8_lossy(&listed.status(200).body).contains(&id));
    let entry = format!("/food-entries/{id}");
    stack
        .send_json(Method::PATCH, &entry, user, json!({"calories": 120}))
        .await
        .status(200);
    let read = stack.get_as(&entry, user).await;
    assert_eq!(read.status(200).json()["calories"].as_f64(), Some(120.0));
    let summary = stack
        .get_as(
            &format!("/nutrition-summary?startDate={today}&endDate={today}"),
            user,
        )
        .await;
    assert_eq!(summary.status(200).json().as_array().map(Vec::len), Some(1));
    stack.get_as("/dashboard/summary", user).await.status(200);
    // Insights: a day of history recommends nothing, and so applies nothing.
    let recommendation = stack.get_as("/goals/recommendation", user).await;
    assert_eq!(
        recommendation.status(200).json()["confidence"],
        "insufficient"
    );
    let refused = stack
        .send_json(Method::POST, "/goals/recommendation/apply", user, json!({}))
        .await;
    assert_eq!(refused.status(409).json()["code"], "CONFLICT");
    let report = stack
        .get_as(&format!("/reports?startDate={today}&endDate={today}"), user)
        .await;
    assert_eq!(report.status(200).json()["loggedDays"].as_u64(), Some(1));
    let badges = stack.get_as("/badges", user).await;
    assert!(String::from_utf8_lossy(&badges.status(200).body).contains("first_entry"));
    stack.get_as("/streaks", user).await.status(200);
    let export = stack.get_as("/export", user).await;
    assert!(String::from_utf8_lossy(&export.status(200).body).contains(&id));
    let csv = stack.get_as("/export?format=csv", user).await;
    assert!(
        csv.status(200)
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv")
    );

    // Faster logging: the day copied to tomorrow, the foods, a meal saved from the day's
    // snack, logged, changed and deleted.
    let tomorrow = (Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    let copied = stack
        .send_json(
            Method::POST,
            "/food-entries/copy",
            user,
            json!({"fromDate": today, "toDate": tomorrow}),
        )
        .await;
    assert_eq!(
        copied.status(201).json()["entries"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let recent = stack.get_as("/foods/recent", user).await;
    assert_eq!(
        recent.status(200).json()[0]["timesLogged"].as_f64(),
        Some(2.0)
    );
    stack.get_as("/foods/frequent", user).await.status(200);
    let meal = stack
        .send_json(
            Method::POST,
            "/meals",
            user,
            json!({"name": "Snack", "fromDate": today, "mealType": "snack"}),
        )
        .await;
    let meal_id = meal.status(201).json()["id"]
        .as_str()
        .expect("a meal id")
        .to_owned();
    let meal = format!("/meals/{meal_id}");
    let logged = stack
        .send_json(
            Method::POST,
            &format!("{meal}/log"),
            user,
            json!({"mealType": "dinner", "servings": 2}),
        )
        .await;
    assert_eq!(
        logged.status(201).json()["entries"][0]["calories"].as_f64(),
        Some(240.0)
    );
    stack.get_as("/meals", user).await.status(200);
    stack
        .send_json(
            Method::PUT,
            &meal,
            user,
            json!({"name": "Apple", "items": [{"name": "Apple", "calories": 95}]}),
        )
        .await
        .status(200);
    stack.get_as(&meal, user).await.status(200);
    stack
        .call(Method::DELETE, &meal, Some(user), None)
        .await
        .status(200);

    // The health logs: onboarding weighed in 60 kg; an activity from its MET uses the latest
    // weigh-in; each log's record is read, changed and deleted through its own routes.
    let weighed = stack
        .send_json(Method::POST, "/weight-entries", user, json!({"weight": 61}))
        .await;
    let weighed = weighed.status(201).json();
    let trend = stack
        .get_as(
            &format!("/weight-trend?startDate={today}&endDate={today}"),
            user,
        )
        .await;
    assert_eq!(trend.status(200).json()[0]["weight"].as_f64(), Some(60.5));
    let ran = stack
        .send_json(
            Method::POST,
            "/activity-entries",
            user,
            json!({"name": "Run", "met": 10, "durationMinutes": 30}),
        )
        .await;
    let ran = ran.status(201).json();
    assert_eq!(ran["caloriesBurned"].as_f64(), Some(305.0));
    let drank = stack
        .send_json(Method::POST, "/water-entries", user, json!({"amount": 250}))
        .await;
    let drank = drank.status(201).json();
    let dashboard = stack.get_as("/dashboard/summary", user).await;
    let dashboard = dashboard.status(200).json();
    assert_eq!(dashboard["caloriesBurned"].as_f64(), Some(305.0));
    assert_eq!(dashboard["waterConsumed"].as_f64(), Some(250.0));
    for (log, record, change) in [
        ("weight-entries", &weighed, json!({"weight": 60.8})),
        ("activity-entries", &ran, json!({"durationMinutes": 20})),
        ("water-entries", &drank, json!({"amount": 300})),
    ] {
        let listed = stack.get_as(&format!("/{log}?date={today}"), user).await;
        assert_eq!(
            listed.status(200).json().as_array().map(Vec::len),
            Some(1 + usize::from(log == "weight-entries"))
        );
        let path = format!("/{log}/{}", record["id"].as_str().expect("an id"));
        stack.get_as(&path, user).await.status(200);
        stack
            .send_json(Method::PATCH, &path, user, change)
            .await
            .status(200);
        stack
            .call(Method::DELETE, &path, Some(user), None)
            .await
            .status(200);
        stack.get_as(&path, user).await.status(404);
    }

    // Large payloads straight to LocalStack's S3 on presigned URLs, whose signatures it
    // checks: a 1 MiB image up and down, a tampered URL refused, the export written there.
    let mut image = PNG.to_vec();
    image.resize(1024 * 1024, 0);
    let granted = stack
        .send_json(
            Method::POST,
            "/images/food-images/uploads",
            user,
            json!({"contentType": "image/png", "size": image.len()}),
        )
        .await;
    let granted = granted.status(201).json();
    let upload = &granted["upload"];
    let direct = reqwest::Client::new();
    let put = |url: &str| {
        let mut request = direct.put(url).body(image.clone());
        for (name, value) in upload["headers"].as_object().expect("headers") {
            if !name.eq_ignore_ascii_case("content-length") {
                request = request.header(name, value.as_str().expect("a header value"));
            }
        }
        request.send()
    };
    let url = upload["url"].as_str().expect("an upload URL");
    let tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(put(&tampered).await.expect("S3 answers").status(), 403);
    assert_eq!(put(url).await.expect("S3 answers").status(), 200);
    let key = granted["key"].as_str().expect("a key");
    let read = stack
        .get_as(&format!("/images/food-images/{key}"), user)
        .await;
    assert_eq!(read.status(200).body, image);
    let link = stack
        .get_as(&format!("/images/food-images/{key}/link"), user)
        .await;
    let link = link.status(200).json()["url"]
        .as_str()
        .expect("a link")
        .to_owned();
    let fetched = direct.get(&link).send().await.expect("S3 answers");
    assert_eq!(
        fetched.bytes().await.expect("the image").as_ref(),
        image.as_slice()
    );
    let exported = stack
        .send_json(Method::POST, "/exports", user, json!({"format": "json"}))
        .await;
    let exported = exported.status(201).json();
    let document = direct
        .get(exported["url"].as_str().expect("an export URL"))
        .send()
        .await
        .expect("S3 answers")
        .text()
        .await
        .expect("the document");
    assert!(document.contains(&id), "{document}");

    // Images, as raw bytes, in the deployed buckets on LocalStack's S3.
    for bucket in ["food-images", "profile-pictures"] {
        let upload = Some(("image/png", PNG.to_vec()));
        let uploaded = stack
            .call(
                Method::POST,
                &format!("/images/{bucket}"),
                Some(user),
                upload,
            )
            .await;
        let key = uploaded.status(201).json()["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let object = format!("/images/{bucket}/{key}");
        let read = stack.get_as(&object, user).await;
        assert_eq!(read.status(200).body, PNG);
        assert_eq!(read.header("content-type"), Some("image/png"));
        stack
            .call(Method::DELETE, &object, Some(user), None)
            .await
            .status(200);
        stack.get_as(&object, user).await.status(404);
    }
    // API Gateway's limits: a request over Lambda's 6 MB never reaches the function.
    let oversized = Some(("image/png", vec![0_u8; 7 * 1024 * 1024]));
    let refused = stack
        .call(Method::POST, "/images/food-images", Some(user), oversized)
        .await;
    assert_eq!(
        refused.status(413).json(),
        json!({"message": "Request Entity Too Large"})
    );

    stack
        .call(Method::DELETE, &entry, Some(user), None)
        .await
        .status(200);
    stack.get_as(&entry, user).await.status(404);

    // Account actions, forwarded to the Auth Service.
    let changed = stack
        .send_json(
            Method::PUT,
            "/change-password",
            user,
            json!({"currentPassword": "old", "newPassword": "new-pass-1"}),
        )
        .await;
    assert_eq!(
        changed.status(200).json()["message"],
        "Password updated successfully"
    );
    stack
        .send_json(Method::POST, "/logout", user, json!({}))
        .await
        .status(200);
    let deleted = stack
        .send_json(
            Method::DELETE,
            "/account",
            user,
            json!({"password": "hunter2", "confirmationText": "DELETE"}),
        )
        .await;
    assert_eq!(
        deleted.status(200).json()["message"],
        "Account deleted successfully"
    );
    let asked: Vec<String> = auth
        .received_requests()
        .await
        .expect("requests are recorded")
        .iter()
        .map(|request| format!("{} {}", request.method, request.url.path()))
        .collect();
    for expected in [
        "GET /profile",
        "PUT /change-password",
        "POST /logout",
        "DELETE /delete-account",
    ] {
        assert!(
            asked.iter().any(|a| a == expected),
            "{expected} not in {asked:?}"
        );
    }

    // Every route of the template was taken: a route added later fails here until the
    // journey calls it.
    let taken = stack.taken.lock().unwrap().clone();
    let missing: Vec<String> = stack
        .routes
        .iter()
        .map(|route| route.key())
        .filter(|key| !taken.contains(key))
        .collect();
    assert!(
        missing.is_empty(),
        "routes of template.yaml the journey never took: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_reaches_a_function_that_serves_it() {
    let stack = Stack::get();
    let mut wrong = Vec::new();
    for route in stack.routes.iter() {
        let Some(template) = &route.path else {
            continue;
        };
        // A path of the route; unauthenticated, so that nothing but routing decides: a
        // function answers a path it does not serve with the contract's 404.
        let path = template
            .replace("{bucket}", "food-images")
            .replace("{key+}", "someone/a.png")
            .replace("{id}", &uuid::Uuid::new_v4().to_string());
        let reply = stack.call(Method::GET, &path, None, None).await;
        let body: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
        if reply.status == 404 && body["code"] == "NOT_FOUND" {
            wrong.push(format!("{} (GET {path})", route.key()));
        }
    }
    assert!(
        wrong.is_empty(),
        "routes that reached a function which does not serve them: {wrong:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_runs_with_the_configuration_of_the_template() {
    let stack = Stack::get();
    let lambda = lambda_client(&var("LOCALSTACK_ENDPOINT")).await;
    let host = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    };
    let globals = &stack.template["Globals"]["Function"];
    let functions: Vec<&String> = stack.template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .map(|(id, _)| id)
        .collect();
    // One deployed function per crate under functions/: a new crate fails here until the
    // template deploys it.
    let crates = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions"))
        .expect("functions/")
        .count();
    assert_eq!(functions.len(), crates, "{functions:?}");
    let deployed = stack.dir.deployed().expect("deployed.json");
    for id in functions {
        let name = stack
            .functions
            .get(id)
            .unwrap_or_else(|| panic!("{id} was not deployed"));
        let config = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .expect("the function's configuration");
        assert_eq!(
            config.runtime().map(|r| r.as_str()),
            globals["Runtime"].as_str(),
            "{id}"
        );
        assert_eq!(config.handler(), globals["Handler"].as_str(), "{id}");
        assert_eq!(
            config.memory_size().map(i64::from),
            stack.configured(id, "MemorySize").as_i64(),
            "{id}"
        );
        assert_eq!(
            config.timeout().map(i64::from),
            stack.configured(id, "Timeout").as_i64(),
            "{id}"
        );
        // The template's arm64, as the host builds it (see the README).
        let architectures: Vec<&str> = config.architectures().iter().map(|a| a.as_str()).collect();
        assert_eq!(architectures, [host], "{id}");
        assert_eq!(
            config
                .tracing_config()
                .and_then(|t| t.mode())
                .map(|m| m.as_str()),
            globals["Tracing"].as_str(),
            "{id}"
        );

        // Every variable of the template, with its literal values as written.
        let mut expected: serde_json::Map<String, Value> = globals["Environment"]["Variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if let Some(own) =
            stack.template["Resources"][id]["Properties"]["Environment"]["Variables"].as_object()
        {
            expected.extend(own.clone());
        }
        if deployed["Globals"]["Function"]["Environment"]["Variables"]
            .get("AUTH_SERVICE_URL")
            .is_none()
        {
            expected.remove("AUTH_SERVICE_URL"); // deployed without an Auth Service (make stack)
        }
        let actual = config
            .environment()
            .and_then(|environment| environment.variables())
            .cloned()
            .unwrap_or_default();
        let expected_names: BTreeSet<&String> = expected.keys().collect();
        let actual_names: BTreeSet<&String> = actual.keys().collect();
        assert_eq!(
            actual_names, expected_names,
            "{id}: the variables differ from the template's"
        );
        for (variable, value) in &expected {
            if let Some(literal) = value.as_str() {
                assert_eq!(actual[variable], literal, "{id}: {variable}");
            }
        }
        // Secrets resolved from Secrets Manager, not their references.
        assert!(actual["DATABASE_URL"].starts_with("postgres"), "{id}");
        assert!(!actual["JWT_SECRET"].contains("resolve:"), "{id}");
    }
    // Not checked: ReservedConcurrentExecutions, which LocalStack's CloudFormation ignores.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_recalculation_runs_through_lambda() {
    let stack = Stack::get();
    let lambda = lambda_client(&var("LOCALSTACK_ENDPOINT")).await;
    let event = json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:000000000000:rule/user-service-badge-recalc"],
        "detail": {}
    });
    let output = lambda
        .invoke()
        .function_name(&stack.functions["BadgeRecalcFunction"])
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .expect("the invocation");
    let payload = output
        .payload()
        .map(|p| p.as_ref().to_vec())
        .unwrap_or_default();
    let report: Value = serde_json::from_slice(&payload).expect("a JSON report");
    assert_eq!(output.function_error(), None, "{report}");
    assert_eq!(report["complete"], true, "{report}");
    for field in [
        "usersChecked",
        "badgesAwarded",
        "imageOwnersRemoved",
        "imagesRemoved",
        "idempotencyKeysDeleted",
    ] {
        assert!(report[field].is_u64(), "{field}: {report}");
    }
}
