//! Cold starts: each function's release binary started against the Lambda Runtime API
//! emulator, timed from exec to its first request for an event (init) and to its answer to a
//! representative event (first response, which includes opening the database connection).

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Value, json};
use testkit::lambda::{FunctionProcess, HttpEvent, RuntimeApi};

use crate::{Error, Stats};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColdStart {
    pub function: String,
    pub event: String,
    pub starts: usize,
    pub init_ms: Stats,
    pub first_response_ms: Stats,
    pub peak_rss_mb: f64,
    pub binary_mb: f64,
    pub zip_mb: f64,
}

/// A function and the event its first invocation gets.
pub struct Subject {
    pub function: &'static str,
    pub describe: String,
    pub event: Value,
}

pub fn subjects(token: &str, user: &str, today: &str) -> Vec<Subject> {
    let http = |function: &'static str, event: HttpEvent| Subject {
        function,
        describe: {
            let json = event.to_json();
            format!(
                "{} {}",
                json["requestContext"]["http"]["method"]
                    .as_str()
                    .unwrap_or_default(),
                json["rawPath"].as_str().unwrap_or_default()
            )
        },
        event: event.to_json(),
    };
    vec![
        http("health", HttpEvent::new("GET", "/health")),
        http("profile", HttpEvent::new("GET", "/profile").bearer(token)),
        http(
            "nutrition",
            HttpEvent::new("GET", "/dashboard/summary").bearer(token),
        ),
        http(
            "food-entries",
            HttpEvent::new("GET", "/food-entries")
                .query("date", today)
                .bearer(token),
        ),
        http(
            "metrics",
            HttpEvent::new("GET", "/weight-entries")
                .query("date", today)
                .bearer(token),
        ),
        http("account", HttpEvent::new("POST", "/logout").bearer(token)),
        Subject {
            // A read of a missing image: authentication, user sync and one S3 request.
            describe: "GET /images/food-images/{key}".to_owned(),
            ..http(
                "images",
                HttpEvent::new("GET", &format!("/images/food-images/{user}/missing.png"))
                    .bearer(token),
            )
        },
        Subject {
            function: "badge-recalc",
            describe: "scheduled event".to_owned(),
            event: json!({
                "version": "0", "id": "bench", "detail-type": "Scheduled Event",
                "source": "aws.events", "account": "123456789012",
                "time": "2026-11-26T03:15:00Z", "region": "us-east-1",
                "resources": ["arn:aws:events:us-east-1:123456789012:rule/daily"], "detail": {}
            }),
        },
    ]
}

pub async fn measure(
    binaries: &Path,
    subject: &Subject,
    env: &[(&str, String)],
    starts: usize,
) -> Result<ColdStart, Error> {
    let binary = binaries.join(subject.function);
    let (mut init, mut first_response, mut peak_rss_kb) = (Vec::new(), Vec::new(), 0u64);
    for _ in 0..starts {
        let api = RuntimeApi::start().await;
        let polled = api.first_poll();
        let started = Instant::now();
        let process = FunctionProcess::spawn(&binary, &api, env);
        polled.await;
        init.push(started.elapsed().as_secs_f64() * 1000.0);
        let outcome = api.invoke(subject.event.clone()).await;
        first_response.push(started.elapsed().as_secs_f64() * 1000.0);
        if let testkit::lambda::Outcome::Error(error) = outcome {
            return Err(
                format!("{} failed its first invocation: {error}", subject.function).into(),
            );
        }
        peak_rss_kb = peak_rss_kb.max(peak_rss(process.pid()).unwrap_or(0));
    }
    let binary_bytes = std::fs::metadata(&binary)?.len();
    Ok(ColdStart {
        function: subject.function.to_owned(),
        event: subject.describe.clone(),
        starts,
        init_ms: Stats::of(&mut init),
        first_response_ms: Stats::of(&mut first_response),
        peak_rss_mb: peak_rss_kb as f64 / 1024.0,
        binary_mb: binary_bytes as f64 / 1024.0 / 1024.0,
        zip_mb: zipped_size(&binary)? as f64 / 1024.0 / 1024.0,
    })
}

/// The process's peak resident set (VmHWM), in kB.
pub(crate) fn peak_rss(pid: u32) -> Option<u64> {
    memory_kb(pid, "VmHWM:")
}

/// The process's resident set now (VmRSS), in kB.
pub(crate) fn rss(pid: u32) -> Option<u64> {
    memory_kb(pid, "VmRSS:")
}

/// A line of the process's /proc status, in kB.
fn memory_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The size of the deployment zip of `binary` (as `bootstrap`, deflated), made by Python's
/// zipfile as cargo-lambda's would be.
fn zipped_size(binary: &Path) -> Result<u64, Error> {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import io, sys, zipfile\n\
             buffer = io.BytesIO()\n\
             with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as z: z.write(sys.argv[1], 'bootstrap')\n\
             print(len(buffer.getvalue()))",
        ])
        .arg(binary)
        .output()?;
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}
