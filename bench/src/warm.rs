//! Warm requests through the local server (release build) against PostgreSQL, loaded with wrk;
//! and the database round trips each request makes, counted on the wire.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use testkit::RoundTripCounter;

use crate::Error;

/// One request shape of the benchmark.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub name: String,
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
    /// The one user it runs as; every user of the dataset in turn when `None`.
    pub user: Option<&'static str>,
}

impl Endpoint {
    pub fn get(name: &str, path: String) -> Self {
        Self {
            name: name.to_owned(),
            method: "GET",
            path,
            body: None,
            user: None,
        }
    }

    pub fn post(name: &str, path: &str, body: &str) -> Self {
        Self {
            name: name.to_owned(),
            method: "POST",
            path: path.to_owned(),
            body: Some(body.to_owned()),
            user: None,
        }
    }

    /// The endpoint, run as `user` only.
    pub fn run_as(self, user: &'static str) -> Self {
        Self {
            user: Some(user),
            ..self
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Load {
    pub endpoint: String,
    pub concurrency: u32,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests_per_second: f64,
    pub requests: u64,
    pub failed: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WrkSummary {
    requests: u64,
    duration_us: u64,
    non2xx: u64,
    socket_errors: u64,
    p50_us: u64,
    p99_us: u64,
}

/// The local server, started from its release binary; stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    _data_dir: PathBuf,
}

impl Server {
    pub async fn start(
        binary: &Path,
        database_url: &str,
        jwt_secret: &str,
        connections: u32,
    ) -> Result<Self, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let data_dir = std::env::temp_dir().join(format!("user-service-bench-{port}"));
        let child = Command::new(binary)
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", jwt_secret)
            .env("DATA_DIR", &data_dir)
            .env("PORT", port.to_string())
            .env("DB_MAX_CONNECTIONS", connections.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _data_dir: data_dir,
        };
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            if let Ok(response) = client.get(format!("{}/health", server.base)).send().await
                && response.status().is_success()
            {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("the local server did not become healthy".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._data_dir);
    }
}

/// Runs wrk against `endpoint` for `seconds` at `concurrency`, rotating over the tokens of
/// `tokens_file` (one a line).
pub fn load(
    script: &Path,
    base: &str,
    endpoint: &Endpoint,
    tokens_file: &Path,
    concurrency: u32,
    seconds: u32,
) -> Result<Load, Error> {
    let threads = concurrency.min(2);
    let output = Command::new("wrk")
        .args(["-t", &threads.to_string(), "-c", &concurrency.to_string()])
        .args(["-d", &format!("{seconds}s"), "--timeout", "10s", "-s"])
        .arg(script)
        .arg(format!("{base}{}", endpoint.path))
        .env("BENCH_METHOD", endpoint.method)
        .env("BENCH_BODY", endpoint.body.clone().unwrap_or_default())
        .env("BENCH_TOKENS_FILE", tokens_file)
        .output()?;
    if !output.status.success() {
        return Err(format!("wrk failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let stdout = String::from_utf8(output.stdout)?;
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or("wrk printed no summary")?;
    let summary: WrkSummary = serde_json::from_str(line)?;
    Ok(Load {
        endpoint: endpoint.name.clone(),
        concurrency,
        p50_ms: summary.p50_us as f64 / 1000.0,
        p99_ms: summary.p99_us as f64 / 1000.0,
        requests_per_second: summary.requests as f64 / (summary.duration_us as f64 / 1e6),
        requests: summary.requests,
        failed: summary.non2xx + summary.socket_errors,
    })
}

/// The database round trips of one request to `endpoint`, after a warm-up request, through a
/// server whose only connection goes through a [`RoundTripCounter`].
pub async fn round_trips(
    base: &str,
    counter: &RoundTripCounter,
    endpoint: &Endpoint,
    token: &str,
) -> Result<u64, Error> {
    let client = reqwest::Client::new();
    let send = || {
        let mut request = client
            .request(
                endpoint.method.parse().expect("a method"),
                format!("{base}{}", endpoint.path),
            )
            .bearer_auth(token);
        if let Some(body) = &endpoint.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        request.send()
    };
    let warm_up = send().await?;
    if !warm_up.status().is_success() {
        let status = warm_up.status();
        return Err(format!(
            "{} answered {status}: {}",
            endpoint.name,
            warm_up.text().await?
        )
        .into());
    }
    // Let the pool's release of the warm-up's connection finish before counting.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = counter.count();
    send().await?.error_for_status()?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(counter.count() - before)
}
