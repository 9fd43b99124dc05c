//! The stack's stand-in for its HTTP API (scripts/stack.sh starts it): the routes of
//! `$STACK_DIR/deployed.json` to the functions of `$STACK_DIR/functions.json`, invoked through
//! LocalStack's Lambda at `$LOCALSTACK_ENDPOINT`, on 127.0.0.1:`$PORT` (8083).

use std::io::IsTerminal;
use std::net::SocketAddr;

use testkit::stack::gateway::Gateway;
use testkit::stack::routes::Routes;
use testkit::stack::{Result, StackDir, lambda_client};

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let stack = StackDir(var("STACK_DIR")?.into());
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "8083".into())
        .parse()?;
    let routes = Routes::from_template(&stack.deployed()?)?;
    let lambda = lambda_client(&var("LOCALSTACK_ENDPOINT")?).await;
    let domain_name = format!("127.0.0.1:{port}");
    let app = Gateway::new(routes, stack.functions()?, lambda, domain_name)?.router();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("the gateway serves on http://127.0.0.1:{port}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopped())
    .await?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
