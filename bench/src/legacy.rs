//! A database as the previous (Python) service left it, migrated in place as the first
//! deployment will migrate production: how long the migration takes on a realistic history,
//! and whether the read endpoints are then as fast as on a database this service made itself.

use serde::Serialize;

use crate::report::Growth;
use crate::warm::{Endpoint, Load, Server};
use crate::{Bench, Error, JWT_SECRET, dataset};

const DATABASE: &str = "user_service_bench_legacy";

/// The reads measured on the migrated database: those whose queries the migration's backfilled
/// tables and indexes serve.
const ENDPOINTS: [&str; 7] = [
    "GET /profile",
    "GET /nutrition-summary 30d",
    "GET /nutrition-summary 366d",
    "GET /dashboard/summary",
    "GET /foods/recent",
    "GET /foods/frequent",
    "GET /reports 366d",
];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Legacy {
    /// `migrate`, its tidying of the filled tables included.
    pub migration_seconds: f64,
    pub warm: Vec<Load>,
    pub growth: Vec<Growth>,
}

pub async fn measure(bench: &Bench, server_url: &str) -> Result<Legacy, Error> {
    let migrated = dataset::prepare_legacy(server_url, DATABASE).await?;
    eprintln!(
        "migrated in place in {:.1} s",
        migrated.migration.as_secs_f64()
    );
    let server = Server::start(&bench.user_service(), &migrated.url, JWT_SECRET, 32).await?;
    let endpoints: Vec<&Endpoint> = bench
        .endpoints
        .iter()
        .filter(|endpoint| ENDPOINTS.contains(&endpoint.name.as_str()))
        .collect();
    Ok(Legacy {
        migration_seconds: migrated.migration.as_secs_f64(),
        warm: bench.loads(&server.base, &endpoints)?,
        growth: bench.growth(&server.base)?,
    })
}
