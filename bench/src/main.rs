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
//! 5. Legacy: a database as the previous service left it, migrated in place (timed), then the
//!    read endpoints' warm requests and growth on it, beside the generated database's.
//! 6. Fleets: 16, 64 and 256 execution environments of the `profile` and `food-entries`
//!    functions at once, on PostgreSQL directly and through PgBouncer (transaction pooling):
//!    throughput, latency, errors by kind, server connections and memory.
//!
//! Prints one table and writes the same figures as JSON to target/bench/results.json. Run it
//! with `make bench` (it builds the release binaries and starts PostgreSQL and S3 as the tests
//! do); it runs the binaries of `$CARGO_TARGET_DIR/release` (default target/release).
//! `BENCH_PARTS` (all of `cold,direct,warm,growth,legacy,fleet`) selects the parts to run,
//! `BENCH_SECONDS` (10) sets each load's duration, `BENCH_STARTS` (20) the cold starts,
//! `BENCH_FLEET_SIZES` (`16,64,256`) and `BENCH_FLEET_SECONDS` (10) the fleets, and
//! `BENCH_REUSE_DATASET=1` keeps a complete dataset generated the same day (runs of one part
//! then skip the minutes of generation; the writes of earlier runs stay in it).

mod cold;
mod dataset;
mod direct;
mod fleet;
mod legacy;
mod report;
mod warm;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Duration, Utc};
use serde::Serialize;
use serde_json::json;
use testkit::RoundTripCounter;

use crate::dataset::{GROWTH_USERS, HEAVY_ENTRIES, HEAVY_USER, REGULAR_USERS, regular_user};
use crate::warm::{Endpoint, Load, Server};

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
/// The parts of the benchmark, in the order they run.
const PARTS: [&str; 6] = ["cold", "direct", "warm", "growth", "legacy", "fleet"];

/// Median and 90th percentile of a sample, in its unit.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stats {
    pub median: f64,
    pub p90: f64,
}

impl Stats {
    pub fn of(samples: &mut [f64]) -> Self {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| quantile(samples, q);
        Self {
            median: at(0.5),
            p90: at(0.9),
        }
    }
}

/// The value at quantile `q` of sorted `samples` (NaN for none).
pub fn quantile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples[((samples.len() - 1) as f64 * q).round() as usize]
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

/// The parts `BENCH_PARTS` names (a comma list), or all of them.
fn selected_parts() -> Result<Vec<&'static str>, Error> {
    let Ok(list) = std::env::var("BENCH_PARTS") else {
        return Ok(PARTS.to_vec());
    };
    list.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            PARTS
                .into_iter()
                .find(|known| *known == part)
                .ok_or_else(|| {
                    format!("BENCH_PARTS: no part {part:?} (parts: {})", PARTS.join(",")).into()
                })
        })
        .collect()
}

/// What every part runs with.
pub struct Bench {
    pub root: PathBuf,
    pub binaries: PathBuf,
    pub out: PathBuf,
    pub seconds: u32,
    pub endpoints: Vec<Endpoint>,
}

impl Bench {
    pub fn user_service(&self) -> PathBuf {
        self.binaries.join("user-service")
    }

    /// wrk loads of `endpoints` through the local server at `base`, at concurrency 1 and 32,
    /// as every user in turn (or the endpoint's one user).
    pub fn loads(&self, base: &str, endpoints: &[&Endpoint]) -> Result<Vec<Load>, Error> {
        let script = self.root.join("bench/wrk.lua");
        let everyone: Vec<String> = (1..=REGULAR_USERS)
            .map(regular_user)
            .chain([HEAVY_USER.to_owned()])
            .collect();
        let tokens_file = self.out.join("tokens.txt");
        write_tokens(&tokens_file, &everyone)?;
        let mut loads = Vec::new();
        for endpoint in endpoints {
            let tokens = match endpoint.user {
                Some(user) => {
                    let file = self.out.join(format!("tokens-{user}.txt"));
                    write_tokens(&file, &[user.to_owned()])?;
                    file
                }
                None => tokens_file.clone(),
            };
            for concurrency in [1, 32] {
                loads.push(warm::load(
                    &script,
                    base,
                    endpoint,
                    &tokens,
                    concurrency,
                    self.seconds,
                )?);
            }
        }
        Ok(loads)
    }

    /// The endpoints of [`GROWTH_ENDPOINTS`] for each growth user, at concurrency 1.
    pub fn growth(&self, base: &str) -> Result<Vec<report::Growth>, Error> {
        let script = self.root.join("bench/wrk.lua");
        let mut growth = Vec::new();
        let grown = self
            .endpoints
            .iter()
            .filter(|endpoint| GROWTH_ENDPOINTS.contains(&endpoint.name.as_str()));
        for endpoint in grown {
            for (user, entries) in GROWTH_USERS {
                let file = self.out.join(format!("tokens-{user}.txt"));
                write_tokens(&file, &[user.to_owned()])?;
                let load = warm::load(&script, base, endpoint, &file, 1, self.seconds.div_ceil(2))?;
                growth.push(report::Growth {
                    endpoint: endpoint.name.clone(),
                    entries,
                    p50_ms: load.p50_ms,
                    p99_ms: load.p99_ms,
                });
            }
        }
        Ok(growth)
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let parts = selected_parts()?;
    let runs = |part: &str| parts.contains(&part);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    // Where cargo put the release binaries.
    let binaries = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("release");
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    let starts: usize = env_number("BENCH_STARTS", 20);
    let uploads: usize = env_number("BENCH_UPLOADS", 50);
    let today = Utc::now().date_naive();
    let bench = Bench {
        seconds: env_number("BENCH_SECONDS", 10),
        endpoints: endpoints(today),
        root,
        binaries,
        out,
    };
    eprintln!("parts: {}", parts.join(","));

    let server_url = testkit::TestDb::admin_url();
    let mut results = report::Results {
        generated_at: Utc::now().to_rfc3339(),
        machine: report::machine(&server_url).await,
        ..report::Results::default()
    };
    // Every part but the legacy one runs on the generated dataset.
    let database_url = if parts.iter().any(|part| *part != "legacy") {
        eprintln!("generating the dataset (database {DATABASE})");
        let reuse = std::env::var("BENCH_REUSE_DATASET").is_ok_and(|value| value == "1");
        Some(dataset::prepare(&server_url, DATABASE, reuse).await?)
    } else {
        None
    };
    let mut function_env = Vec::new();
    if let Some(database_url) = &database_url {
        function_env.push(("DATABASE_URL", database_url.clone()));
        function_env.push(("JWT_SECRET", JWT_SECRET.to_owned()));
        function_env.extend(testkit::lambda::s3_env().await);
    }
    let first_user = regular_user(1);
    let first_token = token(&first_user)?;

    if runs("cold") {
        eprintln!("cold starts ({starts} per function)");
        for subject in cold::subjects(&first_token, &first_user, &today.to_string()) {
            results
                .cold_starts
                .push(cold::measure(&bench.binaries, &subject, &function_env, starts).await?);
        }
    }

    if runs("direct") {
        eprintln!("large payloads straight to S3 ({uploads} uploads; exports)");
        results.direct_uploads.push(
            direct::upload_to_s3(&bench.binaries, &function_env, &first_token, uploads).await?,
        );
        let (longest, longest_entries) = GROWTH_USERS[GROWTH_USERS.len() - 1];
        for (user, entries) in [(HEAVY_USER, HEAVY_ENTRIES), (longest, longest_entries)] {
            let token = token(user)?;
            for format in ["json", "csv"] {
                let subject = (user, token.as_str(), entries);
                results
                    .exports
                    .push(direct::export(&bench.binaries, &function_env, subject, format).await?);
            }
        }
    }

    if let Some(database_url) = &database_url
        && runs("warm")
    {
        eprintln!("round trips per request");
        let counter = RoundTripCounter::start(server_address(database_url)).await;
        let counted = Server::start(
            &bench.user_service(),
            &counter.url(database_url),
            JWT_SECRET,
            1,
        )
        .await?;
        for endpoint in &bench.endpoints {
            let token = match endpoint.user {
                Some(user) => token(user)?,
                None => first_token.clone(),
            };
            let count = warm::round_trips(&counted.base, &counter, endpoint, &token).await?;
            results.round_trips.push((endpoint.name.clone(), count));
        }
    }

    if let Some(database_url) = &database_url
        && (runs("warm") || runs("direct") || runs("growth"))
    {
        let server = Server::start(&bench.user_service(), database_url, JWT_SECRET, 32).await?;
        if runs("warm") {
            eprintln!("warm load ({} s per run)", bench.seconds);
            let endpoints: Vec<&Endpoint> = bench.endpoints.iter().collect();
            results.warm = bench.loads(&server.base, &endpoints)?;
        }
        if runs("direct") {
            results
                .direct_uploads
                .push(direct::upload_locally(&server.base, &first_token, uploads).await?);
        }
        if runs("growth") {
            eprintln!("growth with history");
            results.growth = bench.growth(&server.base)?;
        }
    }

    if runs("legacy") {
        eprintln!("legacy database, migrated in place");
        results.legacy = Some(legacy::measure(&bench, &server_url).await?);
    }

    if let Some(database_url) = &database_url
        && runs("fleet")
    {
        let started = Instant::now();
        results.fleet = fleet::measure(&bench, &server_url, database_url, &function_env).await?;
        eprintln!("fleets took {:.0} s", started.elapsed().as_secs_f64());
    }

    report::print(&results);
    std::fs::write(
        bench.out.join("results.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    eprintln!("written to target/bench/results.json");
    Ok(())
}

fn endpoints(today: chrono::NaiveDate) -> Vec<Endpoint> {
    vec![
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
    ]
}

fn server_address(url: &str) -> String {
    let url = reqwest::Url::parse(url).expect("a postgres URL");
    format!(
        "{}:{}",
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432)
    )
}
