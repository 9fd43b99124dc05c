//! Fleets: N execution environments of one function at once, as Lambda scales out under a
//! burst. Each is the function's release binary started against its own Runtime API with one
//! database connection (`DB_MAX_CONNECTIONS=1`, as the template sets), fed a closed loop of API
//! Gateway events for random users until the run's deadline; on PostgreSQL directly, and
//! through PgBouncer in transaction pooling mode (20 server connections, the functions without
//! named statements). What an operator needs before a burst: throughput, latency, what fails
//! and how, the server connections taken, and the fleet's memory.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use testkit::lambda::{FunctionProcess, HttpEvent, Outcome, RuntimeApi, invocation_of};

use crate::cold::rss;
use crate::dataset::{REGULAR_USERS, regular_user};
use crate::{Bench, DATABASE, Error, env_number, quantile, token};

/// How long an invocation may take before it counts as a timeout (API Gateway's own limit
/// is 30 s; a user gives up sooner).
const CLIENT_DEADLINE: Duration = Duration::from_secs(10);
/// How long an environment may take to ask for its first event.
const INIT_DEADLINE: Duration = Duration::from_secs(30);
/// How long the server's connections of one run may take to close before the next starts.
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);
/// After the largest fleet on PostgreSQL directly: a small one, which must not fail.
const RECOVERY_SIZE: usize = 16;
const RECOVERY_SECONDS: f64 = 2.0;
/// PgBouncer's server connections, for every client.
const POOL_SIZE: u32 = 20;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Errors {
    /// PostgreSQL refused the connection: its `max_connections` are taken.
    pub too_many_clients: u64,
    pub connection_refused: u64,
    /// The function gave up waiting for a connection, its log naming no cause (the pool
    /// retries a refused connect until its deadline and keeps only the timeout).
    pub pool_timeouts: u64,
    /// No answer within [`CLIENT_DEADLINE`].
    pub timeouts: u64,
    /// Any other failure: another 5xx, a 4xx, or an error the function reported.
    pub other: u64,
    /// The 503 answers among all of these.
    pub status_503: u64,
    /// What the function logged for the first of the other failures, to tell what they are.
    pub other_example: Option<String>,
}

impl Errors {
    /// Too many clients, connection refused, pool timeouts, timeouts, other; then the 503s.
    pub fn counts(&self) -> [u64; 6] {
        [
            self.too_many_clients,
            self.connection_refused,
            self.pool_timeouts,
            self.timeouts,
            self.other,
            self.status_503,
        ]
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetRun {
    pub workload: String,
    pub target: String,
    pub environments: usize,
    /// Invocations answered (any status) per second, from the start of the loop until the
    /// last environment's last answer.
    pub invocations_per_second: f64,
    pub invocations: u64,
    pub ok: u64,
    /// Over every answered invocation, failures included.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: Errors,
    /// Environments that asked for their first event within [`INIT_DEADLINE`].
    pub cold_starts: usize,
    pub init_median_ms: f64,
    /// Connections to the bench database, sampled every 100 ms.
    pub peak_server_connections: i64,
    /// The sum of the environments' resident sets at the end of the run.
    pub fleet_rss_mb: f64,
}

/// A function and the request each of its invocations makes.
struct Workload {
    function: &'static str,
    describe: &'static str,
    event: fn(&str) -> HttpEvent,
}

const WORKLOADS: [Workload; 2] = [
    Workload {
        function: "profile",
        describe: "GET /profile",
        event: |token| HttpEvent::new("GET", "/profile").bearer(token),
    },
    Workload {
        function: "food-entries",
        describe: "POST /food-entries",
        event: |token| {
            HttpEvent::new("POST", "/food-entries")
                .bearer(token)
                .json(&json!({"name": "Bench apple", "calories": 95, "mealType": "snack"}))
        },
    },
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Postgres,
    PgBouncer,
}

/// One run: `size` environments of `workload` on `target` for `seconds`.
struct Run<'a> {
    workload: &'a Workload,
    target: Target,
    label: &'static str,
    size: usize,
    seconds: f64,
}

/// Every fleet of `BENCH_FLEET_SIZES`, for both workloads on both targets; `function_env`
/// points the functions at the bench database, `database_url`.
pub async fn measure(
    bench: &Bench,
    server_url: &str,
    database_url: &str,
    function_env: &[(&'static str, String)],
) -> Result<Vec<FleetRun>, Error> {
    let mut sizes: Vec<usize> = std::env::var("BENCH_FLEET_SIZES")
        .unwrap_or_else(|_| "16,64,256".to_owned())
        .split(',')
        .map(|size| size.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|err| format!("BENCH_FLEET_SIZES: {err}"))?;
    sizes.sort_unstable();
    let largest = sizes.last().copied().unwrap_or(0);
    let seconds: f64 = env_number("BENCH_FLEET_SECONDS", 10.0);
    // Opened before any fleet, on the server's own database: it is neither counted nor
    // refused when the fleet has taken every other connection (a superuser's slots are kept).
    let mut monitor = Monitor {
        connection: PgConnection::connect(server_url).await?,
    };
    let fleet = Fleet {
        bench,
        server_url,
        database_url,
        function_env,
        tokens: Arc::new(
            (1..=REGULAR_USERS)
                .map(|n| token(&regular_user(n)))
                .collect::<Result<_, _>>()?,
        ),
    };
    let mut runs = Vec::new();
    for workload in &WORKLOADS {
        for (target, label) in [
            (Target::Postgres, "postgres"),
            (Target::PgBouncer, "pgbouncer"),
        ] {
            for &size in &sizes {
                let run = Run {
                    workload,
                    target,
                    label,
                    size,
                    seconds,
                };
                runs.push(fleet.run(&mut monitor, &run).await?);
                if target == Target::Postgres && size == largest {
                    let recovery = Run {
                        label: "postgres (recovery)",
                        size: RECOVERY_SIZE,
                        seconds: RECOVERY_SECONDS,
                        ..run
                    };
                    runs.push(fleet.run(&mut monitor, &recovery).await?);
                }
            }
        }
    }
    monitor.settle().await;
    Ok(runs)
}

struct Fleet<'a> {
    bench: &'a Bench,
    server_url: &'a str,
    database_url: &'a str,
    function_env: &'a [(&'static str, String)],
    /// One per regular user of the dataset.
    tokens: Arc<Vec<String>>,
}

/// One execution environment: a function process and the Runtime API it polls.
struct Environment {
    // Dropped first: the process ends before its Runtime API goes.
    process: FunctionProcess,
    api: RuntimeApi,
}

/// How one invocation failed.
enum Failure {
    Status(u64),
    Reported,
    Timeout,
}

/// What one environment's loop measured.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    ok: u64,
    /// The AWS request id of each failed invocation, to find its log lines by.
    failures: Vec<(String, Failure)>,
}

impl Fleet<'_> {
    async fn run(&self, monitor: &mut Monitor, run: &Run<'_>) -> Result<FleetRun, Error> {
        eprintln!(
            "fleet: {} × {} on {} for {} s",
            run.size, run.workload.function, run.label, run.seconds
        );
        // As autovacuum would between bursts (this server may run without it): the previous
        // runs' writes leave dead row versions in the day sums and food summaries that would
        // slow this run down, whatever its target.
        vacuum(self.database_url).await?;
        monitor.settle().await;
        let mut env = self.function_env.to_vec();
        env.push(("DB_MAX_CONNECTIONS", "1".to_owned()));
        // The template's level: the invocation's span (its request id) is an info one.
        env.push(("RUST_LOG", "info".to_owned()));
        let pgbouncer = match run.target {
            Target::Postgres => None,
            Target::PgBouncer => {
                let pgbouncer = testkit::PgBouncer::start(self.server_url, POOL_SIZE).await;
                env.retain(|(name, _)| *name != "DATABASE_URL");
                env.push(("DATABASE_URL", pgbouncer.url(self.database_url)));
                // Transaction pooling: a named statement would outlive its server connection.
                env.push(("DB_STATEMENT_CACHE_CAPACITY", "0".to_owned()));
                Some(pgbouncer)
            }
        };
        let binary = self.bench.binaries.join(run.workload.function);
        let ((environments, init_ms, tallies, elapsed), peak) =
            monitor.peak_during(self.drive(&binary, &env, run)).await;
        let fleet_rss_kb: u64 = environments
            .iter()
            .filter_map(|environment| rss(environment.process.pid()))
            .sum();
        // A failure's log line may still be on its way when its answer has arrived.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut errors = Errors::default();
        let (mut latencies, mut ok) = (Vec::new(), 0);
        for (environment, tally) in environments.iter().zip(tallies) {
            let logs = environment.process.logs();
            for (request_id, failure) in &tally.failures {
                classify(&mut errors, failure, &logs, request_id);
            }
            latencies.extend(tally.latencies_ms);
            ok += tally.ok;
        }
        // Every process ends before PgBouncer does.
        drop(environments);
        drop(pgbouncer);
        let invocations = latencies.len() as u64;
        latencies.sort_by(f64::total_cmp);
        let mut init_ms = init_ms;
        init_ms.sort_by(f64::total_cmp);
        Ok(FleetRun {
            workload: format!("{} {}", run.workload.function, run.workload.describe),
            target: run.label.to_owned(),
            environments: run.size,
            invocations_per_second: invocations as f64 / elapsed.as_secs_f64(),
            invocations,
            ok,
            p50_ms: quantile(&latencies, 0.5),
            p99_ms: quantile(&latencies, 0.99),
            errors,
            cold_starts: init_ms.len(),
            init_median_ms: quantile(&init_ms, 0.5),
            peak_server_connections: peak,
            fleet_rss_mb: fleet_rss_kb as f64 / 1024.0,
        })
    }

    /// Starts the environments, then runs their loops until the deadline; returns those that
    /// started, their init times, what each measured, and how long the loops took.
    async fn drive(
        &self,
        binary: &Path,
        env: &[(&'static str, String)],
        run: &Run<'_>,
    ) -> (Vec<Environment>, Vec<f64>, Vec<Tally>, Duration) {
        let starting: Vec<_> = (0..run.size)
            .map(|_| tokio::spawn(start(binary.to_owned(), env.to_vec())))
            .collect();
        let mut environments = Vec::new();
        let mut init_ms = Vec::new();
        for started in starting {
            if let Ok(Some((environment, init))) = started.await {
                environments.push(environment);
                init_ms.push(init);
            }
        }
        if environments.len() < run.size {
            eprintln!(
                "fleet: {} of {} environments did not start",
                run.size - environments.len(),
                run.size
            );
        }
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(run.seconds);
        let looping: Vec<_> = environments
            .into_iter()
            .map(|environment| {
                let tokens = self.tokens.clone();
                let event = run.workload.event;
                tokio::spawn(async move {
                    let tally = closed_loop(&environment, &tokens, event, deadline).await;
                    (environment, tally)
                })
            })
            .collect();
        let mut environments = Vec::new();
        let mut tallies = Vec::new();
        for task in looping {
            // The loops neither panic nor get cancelled.
            if let Ok((environment, tally)) = task.await {
                environments.push(environment);
                tallies.push(tally);
            }
        }
        (environments, init_ms, tallies, started.elapsed())
    }
}

/// Starts one environment as Lambda does; `None` if it did not ask for an event in time.
async fn start(binary: PathBuf, env: Vec<(&'static str, String)>) -> Option<(Environment, f64)> {
    let api = RuntimeApi::start().await;
    let polled = api.first_poll();
    let started = Instant::now();
    let process = FunctionProcess::spawn_quiet(&binary, &api, &env);
    tokio::time::timeout(INIT_DEADLINE, polled).await.ok()?;
    let init_ms = started.elapsed().as_secs_f64() * 1000.0;
    Some((Environment { process, api }, init_ms))
}

/// Invoke, wait for the answer, invoke again, until `deadline`.
async fn closed_loop(
    environment: &Environment,
    tokens: &[String],
    event: fn(&str) -> HttpEvent,
    deadline: tokio::time::Instant,
) -> Tally {
    let mut tally = Tally::default();
    // A xorshift from a random seed: users in a different order in every environment.
    let mut state = uuid::Uuid::new_v4().as_u64_pair().0 | 1;
    while tokio::time::Instant::now() < deadline {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let token = &tokens[(state % tokens.len() as u64) as usize];
        let request_id = uuid::Uuid::new_v4().to_string();
        let sent = Instant::now();
        let outcome = environment
            .api
            .invoke_within(&request_id, event(token).to_json(), CLIENT_DEADLINE)
            .await;
        let latency_ms = sent.elapsed().as_secs_f64() * 1000.0;
        let failure = match outcome {
            None => Some(Failure::Timeout),
            Some(Outcome::Response(response)) => match response["statusCode"].as_u64() {
                Some(200..300) => None,
                Some(status) => Some(Failure::Status(status)),
                None => Some(Failure::Reported),
            },
            Some(Outcome::Error(_)) => Some(Failure::Reported),
        };
        if !matches!(failure, Some(Failure::Timeout)) {
            tally.latencies_ms.push(latency_ms);
        }
        match failure {
            None => tally.ok += 1,
            Some(failure) => tally.failures.push((request_id, failure)),
        }
    }
    tally
}

/// Counts a failure by its kind: the status, and the causes the function logged for it.
fn classify(errors: &mut Errors, failure: &Failure, logs: &[String], request_id: &str) {
    if matches!(failure, Failure::Status(503)) {
        errors.status_503 += 1;
    }
    if matches!(failure, Failure::Timeout) {
        errors.timeouts += 1;
        return;
    }
    // The function's lines name the invocation in their span.
    let logged = logs
        .iter()
        .filter(|line| {
            serde_json::from_str::<Value>(line)
                .is_ok_and(|line| invocation_of(&line) == Some(request_id))
        })
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let lowercase = logged.to_lowercase();
    if lowercase.contains("too many clients") {
        errors.too_many_clients += 1;
    } else if lowercase.contains("connection refused") {
        errors.connection_refused += 1;
    } else if lowercase.contains("pool timed out") {
        errors.pool_timeouts += 1;
    } else {
        errors.other += 1;
        if errors.other_example.is_none() {
            let logged = if logged.is_empty() {
                format!(
                    "(no line of its own; the environment's last: {})",
                    logs.last().map_or("none", String::as_str)
                )
            } else {
                logged
            };
            errors.other_example = Some(match failure {
                Failure::Status(status) => format!("{status}: {logged}"),
                _ => format!("a reported error: {logged}"),
            });
        }
    }
}

/// `VACUUM (ANALYZE)` of the tables the fleets write, on the bench database.
async fn vacuum(database_url: &str) -> Result<(), Error> {
    let mut connection = PgConnection::connect(database_url).await?;
    sqlx::raw_sql("VACUUM (ANALYZE) food_entries, daily_totals, user_totals, food_summaries")
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}

/// The one connection that counts the bench database's connections on the server.
struct Monitor {
    connection: PgConnection,
}

impl Monitor {
    async fn count(&mut self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(DATABASE)
            .fetch_one(&mut self.connection)
            .await
    }

    /// Runs `work`, sampling the count every 100 ms; returns its output and the highest count.
    async fn peak_during<T>(&mut self, work: impl Future<Output = T>) -> (T, i64) {
        let mut work = std::pin::pin!(work);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut peak = 0;
        loop {
            tokio::select! {
                output = &mut work => return (output, peak),
                _ = tick.tick() => {
                    // `work` only awaits spawned tasks: they go on while the count is read.
                    if let Ok(count) = self.count().await {
                        peak = peak.max(count);
                    }
                }
            }
        }
    }

    /// Waits until the previous run's connections have closed, so that runs don't bleed into
    /// each other (bounded: a leftover is reported, not waited for forever).
    async fn settle(&mut self) {
        let started = Instant::now();
        loop {
            match self.count().await {
                Ok(0) => return,
                Ok(count) if started.elapsed() > SETTLE_DEADLINE => {
                    eprintln!("fleet: {count} connections still open after {SETTLE_DEADLINE:?}");
                    return;
                }
                Err(err) => {
                    eprintln!("fleet: the server's connections cannot be counted: {err}");
                    return;
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_counted_by_the_cause_logged_for_its_invocation() {
        let logs = [
            r#"{"level":"ERROR","error":"database unavailable: too many clients already","spans":[{"requestId":"a"}]}"#,
            r#"{"level":"ERROR","error":"Connection refused (os error 111)","spans":[{"requestId":"b"}]}"#,
            r#"{"level":"ERROR","error":"prepared statement does not exist","spans":[{"requestId":"c"}]}"#,
            r#"{"level":"ERROR","error":"pool timed out while waiting","spans":[{"requestId":"f"}]}"#,
        ]
        .map(str::to_owned);
        let mut errors = Errors::default();
        for (id, failure) in [
            ("a", Failure::Status(503)),
            ("b", Failure::Status(503)),
            ("c", Failure::Status(500)),
            ("d", Failure::Timeout),
            ("e", Failure::Reported),
            ("f", Failure::Status(503)),
        ] {
            classify(&mut errors, &failure, &logs, id);
        }
        assert_eq!(errors.counts(), [1, 1, 1, 1, 2, 3]);
    }
}
