use lambda_runtime::{LambdaEvent, service_fn};

// One invocation at a time: one thread (see `shared::lambda`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let state = shared::lambda::init();
    let state = &state;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<badge_recalc::ScheduledEvent>| async move {
            // Boxed: the job's future is deep, and the runtime's own nests it further.
            Box::pin(badge_recalc::handle(state, event))
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
