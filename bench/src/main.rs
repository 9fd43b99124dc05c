//! `make bench`: the service measured the way its operators will judge it.
//!
//! 1. Cold start of every function's release binary against a Lambda Runtime API emulator:
//!    exec → first event request (init) and exec → first response, peak RSS, binary and zip.
//! 2. Warm requests through the local server on PostgreSQL with a generated dataset, at
//!    concurrency 1 and 32 (wrk), and the database round trips of each request.
//! 3. Growth: the endpoints of [`GROWTH_ENDPOINTS`] for users with 100, 10 000 and 100 000
//!    entries.
//! 4. Large payloads straight to object storage: direct uploads of 1 MiB on both stores, and
//!    `POST /exports` for the longest histories with the function's peak RSS.
//!
//! Prints one table and writes the same figures as JSON to target/bench/results.json. Run it
//! with `make bench` (it builds the release binaries and starts PostgreSQL and S3 as the tests
//! do). `BENCH_SECONDS` (10) sets each load's duration, `BENCH_STARTS` (20) the cold starts.

mod cold;
mod dataset;
mod direct;
mod report;
mod warm;

use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use serde::Serialize;
use serde_json::json;
use testkit::RoundTripCounter;

use crate::dataset::{GROWTH_USERS, HEAVY_ENTRIES, HEAVY_USER, REGULAR_USERS, regular_user};
use crate::warm::{Endpoint, Server};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

const JWT_SECRET: &str = "bench-jwt-secret-0123456789abcdef";

/// The endpoints measured for users with ever longer histories: each must stay flat.
const GROWTH_ENDPOINTS: [&str; 6] = [
    "GET /profile",
    "GET /nutrition-summary 30d",
    "GET /foods/recent",
    "GET /foods/frequent",
    "GET /goals/recommendation",
    "GET /reports 366d",
];
const DATABASE: &str = "user_service_bench";

/// Median and 90th percentile of a sample, in its unit.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stats {
    pub median: f64,
    pub p90: f64,
}

impl Stats {
    pub fn of(samples: &mut [f64]) -> Self {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            median: at(0.5),
            p90: at(0.9),
        }
    }
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn token(user: &str) -> Result<String, Error> {
    let now = Utc::now().timestamp();
    Ok(shared::auth::sign_token(
        &shared::secret::Secret::new(JWT_SECRET),
        &json!({"user_id": user, "type": "access", "iat": now, "exp": now + 6 * 3600}),
    )?)
}

fn write_tokens(path: &Path, users: &[String]) -> Result<(), Error> {
    let tokens = users
        .iter()
        .map(|user| token(user))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::write(path, tokens.join("\n") + "\n")?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let binaries = root.join("target/release");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    let seconds: u32 = env_number("BENCH_SECONDS", 10);
    let starts: usize = env_number("BENCH_STARTS", 20);
    let uploads: usize = env_number("BENCH_UPLOADS", 50);
    let today = Utc::now().date_naive();

    eprintln!("generating the dataset (database {DATABASE})");
    let server_url = testkit::TestDb::admin_url();
    let database_url = dataset::prepare(&server_url, DATABASE).await?;

    eprintln!("cold starts ({starts} per function)");
    let mut function_env = vec![
        ("DATABASE_URL", database_url.clone()),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
    ];
    function_env.extend(testkit::lambda::s3_env().await);
    let first_user = regular_user(1);
    let mut cold_starts = Vec::new();
    for subject in cold::subjects(&token(&first_user)?, &first_user, &today.to_string()) {
        cold_starts.push(cold::measure(&binaries, &subject, &function_env, starts).await?);
    }

    eprintln!("large payloads straight to S3 ({uploads} uploads; exports)");
    let mut direct_uploads =
        vec![direct::upload_to_s3(&binaries, &function_env, &token(&first_user)?, uploads).await?];
    let mut exports = Vec::new();
    let (longest, longest_entries) = GROWTH_USERS[GROWTH_USERS.len() - 1];
    for (user, entries) in [(HEAVY_USER, HEAVY_ENTRIES), (longest, longest_entries)] {
        let token = token(user)?;
        for format in ["json", "csv"] {
            let subject = (user, token.as_str(), entries);
            exports.push(direct::export(&binaries, &function_env, subject, format).await?);
        }
    }

    let user_service = binaries.join("user-service");
    let script = root.join("bench/wrk.lua");
    let endpoints = vec![
        Endpoint::get("GET /profile", "/profile".to_owned()),
        Endpoint::post(
            "POST /food-entries",
            "/food-entries",
            r#"{"name": "Bench apple", "calories": 95, "mealType": "snack", "protein": 0.5}"#,
        ),
        Endpoint::get(
            "GET /food-entries?date",
            format!("/food-entries?date={today}"),
        ),
        Endpoint::get(
            "GET /nutrition-summary 30d",
            format!(
                "/nutrition-summary?startDate={}&endDate={today}",
                today - Duration::days(29)
            ),
        ),
        Endpoint::get(
            "GET /nutrition-summary 366d",
            format!(
                "/nutrition-summary?startDate={}&endDate={today}",
                today - Duration::days(365)
            ),
        ),
        Endpoint::get("GET /dashboard/summary", "/dashboard/summary".to_owned()),
        Endpoint::post(
            "POST /images/{bucket}/uploads",
            "/images/food-images/uploads",
            r#"{"contentType": "image/png", "size": 1048576}"#,
        ),
        Endpoint::get(
            "GET /goals/recommendation",
            "/goals/recommendation".to_owned(),
        ),
        Endpoint::get(
            "GET /reports 366d",
            format!(
                "/reports?startDate={}&endDate={today}",
                today - Duration::days(365)
            ),
        ),
        Endpoint::post(
            "POST /weight-entries",
            "/weight-entries",
            r#"{"weight": 72.4}"#,
        ),
        Endpoint::post(
            "POST /activity-entries (MET)",
            "/activity-entries",
            r#"{"name": "Bench walk", "met": 3.5, "durationMinutes": 30}"#,
        ),
        Endpoint::post(
            "POST /water-entries",
            "/water-entries",
            r#"{"amount": 250}"#,
        ),
        Endpoint::get(
            "GET /weight-entries?date",
            format!("/weight-entries?date={today}"),
        ),
        Endpoint::get(
            "GET /weight-trend 366d",
            format!(
                "/weight-trend?startDate={}&endDate={today}",
                today - Duration::days(365)
            ),
        ),
        Endpoint::get("GET /foods/recent", "/foods/recent".to_owned()),
        Endpoint::get("GET /foods/frequent", "/foods/frequent".to_owned()),
        // The heavy user logs six entries a day: yesterday's six, copied to today.
        Endpoint::post(
            "POST /food-entries/copy (6 entries)",
            "/food-entries/copy",
            &format!(
                r#"{{"fromDate": "{}", "toDate": "{today}"}}"#,
                today - Duration::days(1)
            ),
        )
        .run_as(HEAVY_USER),
    ];

    eprintln!("round trips per request");
    let counter = RoundTripCounter::start(server_address(&database_url)).await;
    let counted = Server::start(&user_service, &counter.url(&database_url), JWT_SECRET, 1).await?;
    let first_token = token(&first_user)?;
    let mut round_trips = Vec::new();
    for endpoint in &endpoints {
        let token = match endpoint.user {
            Some(user) => token(user)?,
            None => first_token.clone(),
        };
        let count = warm::round_trips(&counted.base, &counter, endpoint, &token).await?;
        round_trips.push((endpoint.name.clone(), count));
    }
    drop(counted);

    eprintln!("warm load ({seconds} s per run)");
    let server = Server::start(&user_service, &database_url, JWT_SECRET, 32).await?;
    let everyone: Vec<String> = (1..=REGULAR_USERS)
        .map(regular_user)
        .chain([HEAVY_USER.to_owned()])
        .collect();
    let tokens_file = out.join("tokens.txt");
    write_tokens(&tokens_file, &everyone)?;
    let mut loads = Vec::new();
    for endpoint in &endpoints {
        let tokens = match endpoint.user {
            Some(user) => {
                let file = out.join(format!("tokens-{user}.txt"));
                write_tokens(&file, &[user.to_owned()])?;
                file
            }
            None => tokens_file.clone(),
        };
        for concurrency in [1, 32] {
            loads.push(warm::load(
                &script,
                &server.base,
                endpoint,
                &tokens,
                concurrency,
                seconds,
            )?);
        }
    }

    direct_uploads.push(direct::upload_locally(&server.base, &first_token, uploads).await?);

    eprintln!("growth with history");
    let growth_users: Vec<(String, u32)> = GROWTH_USERS
        .iter()
        .map(|(user, entries)| (user.to_string(), *entries))
        .collect();
    let mut growth = Vec::new();
    let grown = endpoints
        .iter()
        .filter(|endpoint| GROWTH_ENDPOINTS.contains(&endpoint.name.as_str()));
    for endpoint in grown {
        for (user, entries) in &growth_users {
            let file = out.join(format!("tokens-{user}.txt"));
            write_tokens(&file, std::slice::from_ref(user))?;
            let load = warm::load(
                &script,
                &server.base,
                endpoint,
                &file,
                1,
                seconds.div_ceil(2),
            )?;
            growth.push(report::Growth {
                endpoint: endpoint.name.clone(),
                entries: *entries,
                p50_ms: load.p50_ms,
                p99_ms: load.p99_ms,
            });
        }
    }
    drop(server);

    let results = report::Results {
        generated_at: Utc::now().to_rfc3339(),
        machine: report::machine(&database_url).await,
        cold_starts,
        warm: loads,
        round_trips,
        growth,
        direct_uploads,
        exports,
    };
    report::print(&results);
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    eprintln!("written to target/bench/results.json");
    Ok(())
}

fn server_address(url: &str) -> String {
    let url = reqwest::Url::parse(url).expect("a postgres URL");
    format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    )
}
