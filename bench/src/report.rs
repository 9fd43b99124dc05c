//! The benchmark's one table, and the same figures as JSON.

use serde::Serialize;

use crate::cold::ColdStart;
use crate::direct::{DirectUpload, Export};
use crate::warm::Load;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Growth {
    pub endpoint: String,
    pub entries: u32,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Serialize)]
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
}

pub fn print(results: &Results) {
    println!("\nMachine: {}", results.machine);
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
    println!("\nWarm requests (local server, PostgreSQL; ms)");
    println!(
        "{:<28} {:>11} {:>8} {:>8} {:>10} {:>8} {:>11}",
        "endpoint", "concurrency", "p50", "p99", "req/s", "failed", "round trips"
    );
    for load in &results.warm {
        let round_trips = results
            .round_trips
            .iter()
            .find(|(name, _)| *name == load.endpoint)
            .map_or(0, |(_, count)| *count);
        println!(
            "{:<28} {:>11} {:>8.2} {:>8.2} {:>10.0} {:>8} {:>11}",
            load.endpoint,
            load.concurrency,
            load.p50_ms,
            load.p99_ms,
            load.requests_per_second,
            load.failed,
            round_trips
        );
    }
    println!("\nGrowth with history (p50 ms, concurrency 1)");
    let mut sizes: Vec<u32> = Vec::new();
    for growth in &results.growth {
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
    for growth in &results.growth {
        if !endpoints.contains(&growth.endpoint.as_str()) {
            endpoints.push(&growth.endpoint);
        }
    }
    for endpoint in endpoints {
        print!("{endpoint:<28}");
        for size in &sizes {
            let p50 = results
                .growth
                .iter()
                .find(|g| g.endpoint == endpoint && g.entries == *size)
                .map_or(f64::NAN, |g| g.p50_ms);
            print!(" {p50:>14.2}");
        }
        println!();
    }
    print_direct(results);
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
