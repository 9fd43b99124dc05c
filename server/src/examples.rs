//! An example request and answer for every operation of the OpenAPI document, kept in
//! `examples.json` beside this file (`"<METHOD> <path>"`: `request` and `response`; and
//! `parameters`, by name, for the required ones). Tests check that every operation has its
//! examples and that each one is valid against the operation's schema.

use serde_json::Value;
use utoipa::openapi::path::{Operation, ParameterBuilder};
use utoipa::openapi::{Content, OpenApi, RefOr, Required};

const EXAMPLES: &str = include_str!("examples.json");

/// Every operation of `doc`, as `"<METHOD> <path>"`.
fn operations(doc: &mut OpenApi) -> Vec<(String, &mut Operation)> {
    let mut all = Vec::new();
    for (path, item) in &mut doc.paths.paths {
        for (method, operation) in [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ] {
            if let Some(operation) = operation {
                all.push((format!("{method} {path}"), operation));
            }
        }
    }
    all
}

/// The examples, as `examples.json` holds them.
pub fn all() -> Value {
    serde_json::from_str(EXAMPLES).expect("examples.json is JSON (a test reads it)")
}

/// Adds the examples to `doc`'s required parameters, and to its JSON bodies where an
/// operation's annotation gives none.
pub fn add(doc: &mut OpenApi) {
    let examples = all();
    for (key, operation) in operations(doc) {
        for parameter in operation.parameters.iter_mut().flatten() {
            if let RefOr::T(parameter) = parameter
                && parameter.required == Required::True
                && let Some(example) = examples["parameters"].get(&parameter.name)
            {
                *parameter = ParameterBuilder::from(parameter.clone())
                    .example(Some(example.clone()))
                    .build();
            }
        }
        let Some(example) = examples["operations"].get(&key) else {
            continue;
        };
        if let (Some(request), Some(RefOr::T(body))) =
            (example.get("request"), &mut operation.request_body)
        {
            set(body.content.get_mut("application/json"), request);
        }
        if let (Some(response), Some(RefOr::T(success))) = (
            example.get("response"),
            operation
                .responses
                .responses
                .iter_mut()
                .find(|(status, _)| status.starts_with('2'))
                .map(|(_, response)| response),
        ) {
            set(success.content.get_mut("application/json"), response);
        }
    }
}

fn set(content: Option<&mut RefOr<Content>>, example: &Value) {
    if let Some(RefOr::T(content)) = content
        && content.example.is_none()
    {
        content.example = Some(example.clone());
    }
}
