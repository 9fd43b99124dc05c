//! The SAM stack on LocalStack (`make stack`, scripts/stack.sh): the gateway that stands in
//! for its HTTP API, and what the stack suite (`make test-stack`) needs to reach it.

pub mod event;
pub mod gateway;
pub mod routes;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A Lambda client of LocalStack at `endpoint` (its test credentials, us-east-1).
pub async fn lambda_client(endpoint: &str) -> aws_sdk_lambda::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "localstack",
        ))
        .load()
        .await;
    aws_sdk_lambda::Client::new(&config)
}

/// A JSON file.
pub fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// What scripts/stack.sh wrote to `STACK_DIR`: the template as it is (`template.json`), the
/// copy it deployed (`deployed.json`) and the deployed functions' names (`functions.json`).
pub struct StackDir(pub PathBuf);

impl StackDir {
    pub fn template(&self) -> Result<Value> {
        read_json(&self.0.join("template.json"))
    }

    pub fn deployed(&self) -> Result<Value> {
        read_json(&self.0.join("deployed.json"))
    }

    /// Logical id → function name.
    pub fn functions(&self) -> Result<HashMap<String, String>> {
        Ok(serde_json::from_value(read_json(
            &self.0.join("functions.json"),
        )?)?)
    }
}
