use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let _state = shared::lambda::init();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        tracing::info!(request_id = %event.context.request_id, "badge recalculation invoked");
        Ok::<_, lambda_runtime::Error>(json!({"usersChecked": 0}))
    }))
    .await
}
