//! The benchmark's one table, and the same figures as JSON.

use serde::Serialize;

use crate::cold::ColdStart;
use crate::direct::{DirectUpload, Export};
use crate::fleet::FleetRun;
use crate::legacy::Legacy;
use crate::warm::Load;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Growth {
    pub endpoint: String,
    pub entries: u32,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The figures of the parts that ran (the others' stay empty).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    pub generated_at: String,
    pub machine: serde_json::Value,
    pub cold_starts: Vec<ColdStart>,
    pub warm: Vec<Load>,
    pub round_trips: Vec<(String, u64)>,
    pub growth: Vec<Growth>,
    pub direct_uploads: Vec<DirectUpload>,
    pub exports: Vec<Export>,
    pub legacy: Option<Legacy>,
    pub fleet: Vec<FleetRun>,
}

pub fn print(results: &Results) {
    println!("\nMachine: {}", results.machine);
    if !results.cold_starts.is_empty() {
        print_cold(results);
    }
    if !results.warm.is_empty() {
        println!("\nWarm requests (local server, PostgreSQL; ms)");
        print_warm(&results.warm, &results.round_trips);
    }
    if !results.growth.is_empty() {
        println!("\nGrowth with history (p50 ms, concurrency 1)");
        print_growth(&results.growth);
    }
    if !results.direct_uploads.is_empty() || !results.exports.is_empty() {
        print_direct(results);
    }
    if let Some(legacy) = &results.legacy {
        print_legacy(legacy, &results.warm);
    }
    if !results.fleet.is_empty() {
        print_fleet(&results.fleet);
    }
}

fn print_cold(results: &Results) {
    println!("\nCold start (release build, Runtime API emulator; ms, median / p90)");
    println!(
        "{:<13} {:<34} {:>15} {:>17} {:>9} {:>8} {:>7}",
        "function", "first event", "init", "first response", "peak RSS", "binary", "zip"
    );
    for cold in &results.cold_starts {
        println!(
            "{:<13} {:<34} {:>6.1} / {:>6.1} {:>7.1} / {:>7.1} {:>7.1}MB {:>6.1}MB {:>5.1}MB",
            cold.function,
            cold.event,
            cold.init_ms.median,
            cold.init_ms.p90,
            cold.first_response_ms.median,
            cold.first_response_ms.p90,
            cold.peak_rss_mb,
            cold.binary_mb,
            cold.zip_mb
        );
    }
}

fn print_warm(loads: &[Load], round_trips: &[(String, u64)]) {
    print_loads(loads, "round trips", |load| {
        let count = round_trips
            .iter()
            .find(|(name, _)| *name == load.endpoint)
            .map_or(0, |(_, count)| *count);
        count.to_string()
    });
}

/// A table of loads, the last column `last` of each.
fn print_loads(loads: &[Load], last_heading: &str, last: impl Fn(&Load) -> String) {
    println!(
        "{:<28} {:>11} {:>8} {:>8} {:>10} {:>8} {last_heading:>14}",
        "endpoint", "concurrency", "p50", "p99", "req/s", "failed"
    );
    for load in loads {
        println!(
            "{:<28} {:>11} {:>8.2} {:>8.2} {:>10.0} {:>8} {:>14}",
            load.endpoint,
            load.concurrency,
            load.p50_ms,
            load.p99_ms,
            load.requests_per_second,
            load.failed,
            last(load)
        );
    }
}

fn print_growth(growths: &[Growth]) {
    let mut sizes: Vec<u32> = Vec::new();
    for growth in growths {
        if !sizes.contains(&growth.entries) {
            sizes.push(growth.entries);
        }
    }
    print!("{:<28}", "endpoint");
    for size in &sizes {
        print!(" {:>14}", format!("{size} entries"));
    }
    println!();
    let mut endpoints: Vec<&str> = Vec::new();
    for growth in growths {
        if !endpoints.contains(&growth.endpoint.as_str()) {
            endpoints.push(&growth.endpoint);
        }
    }
    for endpoint in endpoints {
        print!("{endpoint:<28}");
        for size in &sizes {
            let p50 = growths
                .iter()
                .find(|g| g.endpoint == endpoint && g.entries == *size)
                .map_or(f64::NAN, |g| g.p50_ms);
            print!(" {p50:>14.2}");
        }
        println!();
    }
}

/// The migrated database's warm requests, with the generated database's p50 beside them
/// when the warm part ran too.
fn print_legacy(legacy: &Legacy, generated: &[Load]) {
    println!(
        "\nLegacy database migrated in place (migrate {:.1} s, its tidying included; ms)",
        legacy.migration_seconds
    );
    print_loads(&legacy.warm, "generated p50", |load| {
        let p50 = generated
            .iter()
            .find(|g| g.endpoint == load.endpoint && g.concurrency == load.concurrency)
            .map_or(f64::NAN, |g| g.p50_ms);
        format!("{p50:.2}")
    });
    if !legacy.growth.is_empty() {
        println!("\nLegacy database: growth with history (p50 ms, concurrency 1)");
        print_growth(&legacy.growth);
    }
}

fn print_fleet(runs: &[FleetRun]) {
    println!(
        "\nFleets (release binaries, one Runtime API each, DB_MAX_CONNECTIONS=1; closed loop; ms)"
    );
    println!(
        "{:<31} {:<19} {:>4} {:>7} {:>8} {:>8} {:>45} {:>11} {:>6} {:>8}",
        "workload",
        "target",
        "N",
        "inv/s",
        "p50",
        "p99",
        "errors: clients/refused/pool/time/other (503)",
        "cold (init)",
        "conns",
        "RSS MB"
    );
    for run in runs {
        let errors = &run.errors;
        println!(
            "{:<31} {:<19} {:>4} {:>7.0} {:>8.1} {:>8.1} {:>45} {:>11} {:>6} {:>8.0}",
            run.workload,
            run.target,
            run.environments,
            run.invocations_per_second,
            run.p50_ms,
            run.p99_ms,
            {
                let [clients, refused, pool, timeouts, other, status_503] = errors.counts();
                format!("{clients}/{refused}/{pool}/{timeouts}/{other} ({status_503})")
            },
            format!("{} ({:.0})", run.cold_starts, run.init_median_ms),
            run.peak_server_connections,
            run.fleet_rss_mb
        );
    }
    for run in runs {
        if let Some(example) = &run.errors.other_example {
            println!(
                "  other errors of {} on {} (N={}), the first: {}",
                run.workload,
                run.target,
                run.environments,
                example.chars().take(400).collect::<String>()
            );
        }
    }
}

fn print_direct(results: &Results) {
    println!("\nDirect uploads of a 1 MiB image (ms, median / p90)");
    println!(
        "{:<28} {:>8} {:>27} {:>17}",
        "store", "uploads", "POST /images/{bucket}/uploads", "PUT of the bytes"
    );
    for upload in &results.direct_uploads {
        println!(
            "{:<28} {:>8} {:>13.2} / {:>11.2} {:>7.2} / {:>7.2}",
            upload.store,
            upload.uploads,
            upload.grant_ms.median,
            upload.grant_ms.p90,
            upload.put_ms.median,
            upload.put_ms.p90
        );
    }
    println!("\nPOST /exports to S3 (food-entries function, a fresh process each)");
    println!(
        "{:<8} {:>8} {:>6} {:>12} {:>8} {:>9}",
        "user", "entries", "format", "bytes", "seconds", "peak RSS"
    );
    for export in &results.exports {
        println!(
            "{:<8} {:>8} {:>6} {:>12} {:>8.2} {:>7.1}MB",
            export.user,
            export.entries,
            export.format,
            export.bytes,
            export.seconds,
            export.peak_rss_mb
        );
    }
}

/// What the figures were measured on.
pub async fn machine(database_url: &str) -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_default();
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("MemTotal"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| (kb / 1024.0 / 1024.0).round());
    let postgres = match sqlx::PgPool::connect(database_url).await {
        Ok(pool) => {
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(&pool)
                .await
                .unwrap_or_default();
            pool.close().await;
            version
        }
        Err(_) => String::new(),
    };
    serde_json::json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "memoryGiB": memory_gib,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "postgres": postgres,
    })
}
