//! `user-service`: the local server and the operator's commands (`user-service --help`).

use std::io::Write as _;
use std::process::ExitCode;

use chrono::Utc;
use clap::{CommandFactory, Parser, Subcommand};
use serde_json::json;
use shared::config::{Config, Env, ObjectStoreConfig};
use shared::error::WithCauses;
use shared::{AppState, Error};

/// The User Service: profiles, goals, the food diary, summaries, badges, images and account
/// actions. Configured by environment variables (see the README): with none set it runs on an
/// embedded SQLite file and a local image folder under ./.data.
#[derive(Parser)]
#[command(name = "user-service", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the whole API on $BIND:$PORT (127.0.0.1:8082) until Ctrl-C or SIGTERM; applies
    /// pending migrations and creates the local buckets first (the default command).
    Serve,
    /// Apply pending migrations to $DATABASE_URL (or the local SQLite file) and exit.
    Migrate,
    /// Print a development access token signed with the configured JWT secret, as the Auth
    /// Service would issue one.
    Token {
        /// The token's user.
        #[arg(long, env = "USER_ID", default_value = "dev-user")]
        user_id: String,
        #[arg(long, env = "EMAIL", default_value = "dev@example.com")]
        email: String,
        #[arg(long, env = "NAME", default_value = "Dev User")]
        name: String,
        /// How long the token is valid, in hours.
        #[arg(long, env = "TOKEN_HOURS", default_value_t = 24)]
        hours: u32,
    },
    /// Give the user demo-user 60 days of history (meals, weigh-ins, activities, water,
    /// badges and streaks) in the configured database, then print a token for it.
    Demo,
    /// Print the OpenAPI document of the service (needs no configuration).
    Openapi,
    /// Run the scheduled housekeeping once (unfinished account deletions, badges, orphaned
    /// images, expired idempotency keys) and print its report.
    BadgeRecalc,
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    // Commands that need no configuration run without reading it.
    match &command {
        Command::Openapi => return report("openapi", openapi()),
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "user-service",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let env = Env::from_process();
    let config = match Config::load(&env) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let (name, result) = match command {
        Command::Serve => ("serve", serve(config).await),
        Command::Migrate => ("migrate", migrate(config).await),
        Command::Token {
            user_id,
            email,
            name,
            hours,
        } => ("token", token(&config, &user_id, &email, &name, hours)),
        Command::BadgeRecalc => ("badge-recalc", badge_recalc(config).await),
        Command::Demo => ("demo", demo(config).await),
        Command::Openapi | Command::Completions { .. } => unreachable!("handled above"),
    };
    report(name, result)
}

fn report(command: &str, result: Result<(), Error>) -> ExitCode {
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
    let images = describe_objects(&config);
    let state = AppState::new(config)?;
    state.store().migrate().await?;
    ensure_buckets(&state).await?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(Error::internal)?;
    let limits = server::connections::Limits::new(server::max_connections(
        state.config().database.max_connections,
    ));
    tracing::info!(
        "user-service listening on http://{address} (database: {:?}, images: {images}, runtime: {}, at most {} connections)",
        state.store().dialect(),
        state.config().runtime,
        limits.max_connections,
    );
    let store = state.store().clone();
    let app = shared::http::app(server::routes(), state);
    server::connections::serve(listener, app, limits, shutdown_signal()).await;
    store.close().await;
    tracing::info!("user-service stopped");
    Ok(())
}

/// Creates the buckets that do not exist yet (a fresh local image folder has none).
async fn ensure_buckets(state: &AppState) -> Result<(), Error> {
    let objects = state.objects().await?;
    for bucket in state.buckets().of_users() {
        objects.ensure_bucket(bucket).await?;
    }
    Ok(())
}

/// Where images go, for the start-up line: the folder, or the endpoint and buckets.
fn describe_objects(config: &Config) -> String {
    let buckets = [
        config.buckets.all().as_slice(),
        &[config.buckets.exports.as_str()],
    ]
    .concat()
    .join(", ");
    match &config.object_store {
        ObjectStoreConfig::Local {
            root,
            public_base_url,
        } => format!(
            "folder {} ({buckets}), signed URLs on {public_base_url}",
            root.display()
        ),
        ObjectStoreConfig::S3(s3) => format!(
            "S3 {} ({buckets})",
            s3.endpoint.as_deref().unwrap_or("(AWS)")
        ),
    }
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
    ensure_buckets(&state).await?;
    let report = Box::pin(badge_recalc::run(&state)).await;
    state.store().close().await;
    let report = serde_json::to_string_pretty(&report?).map_err(Error::internal)?;
    println!("{report}");
    Ok(())
}

/// Writes the demo's history (unless its user has one) and prints its token.
async fn demo(config: Config) -> Result<(), Error> {
    let token = sign_token(
        &config,
        server::demo::USER_ID,
        server::demo::EMAIL,
        server::demo::NAME,
        24,
    )?;
    let state = AppState::new(config)?;
    state.store().migrate().await?;
    ensure_buckets(&state).await?;
    let store = state.store().clone();
    let app = shared::http::app(server::routes(), state);
    let written = server::demo::populate(app, &token, Utc::now()).await;
    store.close().await;
    match written? {
        Some(written) => eprintln!(
            "{}: 60 days with {} food entries, {} weigh-ins, {} activities, {} water entries; badges earned: {}",
            server::demo::USER_ID,
            written.entries,
            written.weigh_ins,
            written.activities,
            written.water,
            written.badges.join(", "),
        ),
        None => eprintln!("{} already has its history", server::demo::USER_ID),
    }
    eprintln!("its token (24 hours) follows; TOKEN=$(make -s demo) keeps it");
    println!("{token}");
    Ok(())
}

/// Prints a token such as the Auth Service issues, signed with this configuration's secret.
fn token(config: &Config, user_id: &str, email: &str, name: &str, hours: u32) -> Result<(), Error> {
    println!("{}", sign_token(config, user_id, email, name, hours)?);
    Ok(())
}

fn sign_token(
    config: &Config,
    user_id: &str,
    email: &str,
    name: &str,
    hours: u32,
) -> Result<String, Error> {
    if !shared::domain::ids::is_valid_user_id(user_id) {
        return Err(Error::field("USER_ID", "must be 1-36 of A-Z a-z 0-9 - _"));
    }
    if hours == 0 {
        return Err(Error::field("TOKEN_HOURS", "must be at least 1"));
    }
    let now = Utc::now().timestamp();
    let mut claims = json!({
        "user_id": user_id,
        "sub": user_id,
        "email": email,
        "name": name,
        "type": "access",
        "iat": now,
        "exp": now + i64::from(hours) * 3600,
    });
    if let Some(issuer) = &config.jwt.issuer {
        claims["iss"] = json!(issuer);
    }
    if let Some(audience) = &config.jwt.audience {
        claims["aud"] = json!(audience);
    }
    shared::auth::sign_token(&config.jwt.secret, &claims)
}

fn openapi() -> Result<(), Error> {
    let document = server::openapi()
        .to_pretty_json()
        .map_err(Error::internal)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{document}").map_err(Error::internal)
}
