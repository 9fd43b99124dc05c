//! `user-service`: the local server and the operator's commands.
//!
//! ```text
//! user-service [serve]   the whole API on $BIND:$PORT; applies migrations, creates buckets
//! user-service migrate   applies pending migrations to $DATABASE_URL and exits
//! user-service token     prints a development access token ($USER_ID, $EMAIL, $NAME)
//! user-service openapi   prints the OpenAPI document
//! user-service badge-recalc  runs the scheduled housekeeping once (badges, orphaned images,
//!                            expired idempotency keys) and prints its report
//! ```

use std::process::ExitCode;

use chrono::Utc;
use serde_json::json;
use shared::config::{Config, Env};
use shared::error::WithCauses;
use shared::{AppState, Error};

const USAGE: &str = "usage: user-service [serve | migrate | token | openapi | badge-recalc]";

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "serve".to_owned());
    let env = Env::from_process();
    let config = match Config::load(&env) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command.as_str() {
        "serve" => serve(config).await,
        "migrate" => migrate(config).await,
        "token" => token(&config, &env),
        "openapi" => openapi(),
        "badge-recalc" => badge_recalc(config).await,
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("user-service {command} failed: {}", WithCauses(&err));
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), Error> {
    shared::telemetry::init(&config.log);
    std::fs::create_dir_all(&config.data_dir).map_err(Error::internal)?;
    let address = std::net::SocketAddr::new(config.bind, config.port);
    let state = AppState::new(config)?;
    state.store().migrate().await?;
    let objects = state.objects().await?;
    for bucket in state.buckets().all() {
        objects.ensure_bucket(bucket).await?;
    }
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(Error::internal)?;
    tracing::info!(
        "user-service listening on http://{address} (database: {:?}, runtime: {})",
        state.store().dialect(),
        state.config().runtime
    );
    let store = state.store().clone();
    axum::serve(listener, shared::http::app(server::routes(), state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(Error::internal)?;
    store.close().await;
    tracing::info!("user-service stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM from a container runtime.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler cannot fail on unix");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

async fn migrate(config: Config) -> Result<(), Error> {
    shared::telemetry::init(&config.log);
    let state = AppState::new(config)?;
    state.store().migrate().await?;
    state.store().close().await;
    eprintln!("migrations applied");
    Ok(())
}

/// The scheduled function's job, once, on this configuration's database and image store.
async fn badge_recalc(config: Config) -> Result<(), Error> {
    shared::telemetry::init(&config.log);
    let state = AppState::new(config)?;
    // As `serve` does: a fresh local image folder has no buckets yet.
    let objects = state.objects().await?;
    for bucket in state.buckets().all() {
        objects.ensure_bucket(bucket).await?;
    }
    let report = Box::pin(badge_recalc::run(&state)).await;
    state.store().close().await;
    let report = serde_json::to_string_pretty(&report?).map_err(Error::internal)?;
    println!("{report}");
    Ok(())
}

/// A token such as the Auth Service issues, signed with this configuration's secret.
fn token(config: &Config, env: &Env) -> Result<(), Error> {
    let user_id = env.var("USER_ID").unwrap_or("dev-user");
    if !shared::auth::is_valid_user_id(user_id) {
        return Err(Error::field("USER_ID", "must be 1-36 of A-Z a-z 0-9 - _"));
    }
    let now = Utc::now().timestamp();
    let mut claims = json!({
        "user_id": user_id,
        "sub": user_id,
        "email": env.var("EMAIL").unwrap_or("dev@example.com"),
        "name": env.var("NAME").unwrap_or("Dev User"),
        "type": "access",
        "iat": now,
        "exp": now + 24 * 3600,
    });
    if let Some(issuer) = &config.jwt.issuer {
        claims["iss"] = json!(issuer);
    }
    if let Some(audience) = &config.jwt.audience {
        claims["aud"] = json!(audience);
    }
    println!("{}", shared::auth::sign_token(&config.jwt.secret, &claims)?);
    Ok(())
}

fn openapi() -> Result<(), Error> {
    let document = server::openapi()
        .to_pretty_json()
        .map_err(Error::internal)?;
    println!("{document}");
    Ok(())
}
