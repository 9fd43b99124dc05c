// One invocation at a time: one thread (see `shared::lambda`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run_http(health::router()).await
}
