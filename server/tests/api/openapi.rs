//! `GET /openapi.json` serves the document generated from the code.

use http::Method;
use serde_json::{Value, json};
use testkit::{Backend, TestApp};

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let app = TestApp::start(Backend::Sqlite).await;
    let response = app.request(Method::GET, "/openapi.json").send().await;
    response.assert_status(200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let generated = serde_json::to_value(server::openapi()).unwrap();
    assert!(
        response.json() == generated,
        "functions/health/openapi.json is stale: run `make openapi`"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_bearer_security() {
    let document = serde_json::to_value(server::openapi()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(document["components"]["schemas"]["ErrorResponse"].is_object());
    for path in ["/health", "/openapi.json"] {
        assert!(
            document["paths"][path]["get"].is_object(),
            "{path} is not documented"
        );
        assert_eq!(
            document["paths"][path]["get"]["security"],
            serde_json::json!([{}])
        );
    }
}

/// The document's operations: `("<METHOD> <path>", operation)`.
fn operations(document: &Value) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    all
}

/// The JSON body of an operation's request, and of its success answer.
fn json_bodies(operation: &Value) -> [(&'static str, &Value); 2] {
    let success = operation["responses"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(status, _)| status.starts_with('2'))
        .map_or(&Value::Null, |(_, response)| response);
    [
        (
            "request",
            &operation["requestBody"]["content"]["application/json"],
        ),
        ("response", &success["content"]["application/json"]),
    ]
}

#[test]
fn every_operation_has_an_example_request_and_answer() {
    let document = serde_json::to_value(server::openapi()).unwrap();
    let mut missing = Vec::new();
    for (key, operation) in operations(&document) {
        for (which, body) in json_bodies(operation) {
            if body.is_object() && body.get("example").is_none() {
                missing.push(format!("{key}: {which}"));
            }
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if matches!(parameter["in"].as_str(), Some("query" | "path"))
                && parameter["required"] == true
                && parameter.get("example").is_none()
            {
                missing.push(format!("{key}: ?{}", parameter["name"]));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add these to server/src/examples.json: {missing:#?}"
    );
    // Every example there is used: none names an operation that is gone.
    let keys: Vec<String> = operations(&document)
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let examples = server::examples::all();
    for key in examples["operations"].as_object().unwrap().keys() {
        assert!(keys.contains(key), "examples.json: {key} is no operation");
    }
}

#[test]
fn every_example_is_valid_against_its_schema() {
    let document = serde_json::to_value(server::openapi()).unwrap();
    let mut problems = Vec::new();
    for (key, operation) in operations(&document) {
        for (which, body) in json_bodies(operation) {
            if let (Some(schema), Some(example)) = (body.get("schema"), body.get("example")) {
                check(
                    &document,
                    schema,
                    example,
                    &format!("{key} {which}"),
                    &mut problems,
                );
            }
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if let Some(example) = parameter.get("example") {
                let at = format!("{key} ?{}", parameter["name"]);
                check(&document, &parameter["schema"], example, &at, &mut problems);
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_schema_check_finds_what_is_wrong() {
    let document = serde_json::to_value(server::openapi()).unwrap();
    let schema = json!({"$ref": "#/components/schemas/WaterEntry"});
    let right = json!({
        "id": "2d9f6b31-0e8a-4c75-b3d4-96a1e7c05f2b", "amount": 500,
        "timestamp": "2026-05-14T11:00:00.000Z", "date": "2026-05-14",
        "createdAt": "2026-05-14T11:00:03.640Z",
    });
    let mut problems = Vec::new();
    check(&document, &schema, &right, "right", &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let mut wrong = right.clone();
    wrong["amount"] = json!("500");
    wrong["date"] = json!("14/05/2026");
    wrong["volume"] = json!(1);
    wrong.as_object_mut().unwrap().remove("id");
    check(&document, &schema, &wrong, "wrong", &mut problems);
    assert_eq!(problems.len(), 4, "{problems:#?}");
}

/// The parts of JSON Schema the document uses: references, allOf/oneOf, types (with null),
/// enums, formats of dates, bounds, required and unknown properties, items.
fn check(document: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(document, schema);
    if let Some(branches) = schema.get("oneOf").or_else(|| schema.get("anyOf")) {
        let matches = branches.as_array().unwrap().iter().any(|branch| {
            let mut found = Vec::new();
            check(document, branch, value, at, &mut found);
            found.is_empty()
        });
        if !matches {
            problems.push(format!("{at}: {value} matches no branch"));
        }
        return;
    }
    if let Some(branches) = schema.get("allOf") {
        for branch in branches.as_array().unwrap() {
            check_one(
                document,
                resolve(document, branch),
                value,
                at,
                false,
                problems,
            );
        }
        check_unknown(document, schema, value, at, problems);
        return;
    }
    check_one(document, schema, value, at, true, problems);
}

fn check_one(
    document: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    strict: bool,
    problems: &mut Vec<String>,
) {
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            many => many
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect(),
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let integer_as_number = actual == "integer" && types.contains(&"number");
        if !types.contains(&actual) && !integer_as_number {
            problems.push(format!("{at}: {value} is not {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(format), Some(text)) = (schema["format"].as_str(), value.as_str()) {
        let valid = match format {
            "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            _ => true,
        };
        if !valid {
            problems.push(format!("{at}: {text:?} is no {format}"));
        }
    }
    if let Some(number) = value.as_f64() {
        let below = schema["minimum"]
            .as_f64()
            .is_some_and(|minimum| number < minimum);
        let above = schema["maximum"]
            .as_f64()
            .is_some_and(|maximum| number > maximum);
        if below || above {
            problems.push(format!("{at}: {number} is out of bounds"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(name.as_str().unwrap()) {
                problems.push(format!("{at}: {name} is missing"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, item) in object {
                if let Some(property) = properties.get(name) {
                    check(document, property, item, &format!("{at}.{name}"), problems);
                }
            }
        }
        if strict {
            check_unknown(document, schema, value, at, problems);
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (index, item) in values.iter().enumerate() {
            check(document, items, item, &format!("{at}[{index}]"), problems);
        }
    }
}

/// Properties that no part of the schema declares (a misspelt field, a field since renamed).
fn check_unknown(
    document: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    problems: &mut Vec<String>,
) {
    fn declared<'a>(document: &'a Value, schema: &'a Value, into: &mut Vec<&'a str>) -> bool {
        let schema = resolve(document, schema);
        let mut closed = schema.get("properties").is_some();
        into.extend(
            schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, _)| name.as_str()),
        );
        for branch in schema["allOf"].as_array().into_iter().flatten() {
            closed |= declared(document, branch, into);
        }
        closed
            && schema
                .get("additionalProperties")
                .is_none_or(|more| more == false)
    }
    let mut names = Vec::new();
    if let Some(object) = value.as_object()
        && declared(document, schema, &mut names)
    {
        for name in object.keys() {
            if !names.contains(&name.as_str()) {
                problems.push(format!("{at}: {name} is not in the schema"));
            }
        }
    }
}

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.strip_prefix("#/components/schemas/").unwrap();
            resolve(document, &document["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The API page and what it loads, without a token; the browser check (`make test-api-page`)
/// renders it.
#[tokio::test]
async fn the_api_page_and_its_assets_are_served_from_the_binary() {
    let app = TestApp::start(Backend::Sqlite).await;
    let page = app.request(Method::GET, "/docs").send().await;
    page.assert_status(200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    for (asset, content_type) in [
        (
            "/docs/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
        ),
        ("/docs/swagger-ui.css", "text/css; charset=utf-8"),
    ] {
        assert!(html.contains(asset), "the page does not load {asset}");
        let response = app.request(Method::GET, asset).send().await;
        response.assert_status(200);
        assert_eq!(response.header("content-type"), Some(content_type));
        assert!(response.text().len() > 100_000, "{asset} is not the bundle");
    }
    assert!(html.contains(r#"url: "/openapi.json""#));
    assert!(
        !html.contains("https://"),
        "the page loads nothing from elsewhere"
    );
}
