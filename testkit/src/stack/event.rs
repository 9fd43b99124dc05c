//! API Gateway HTTP API (payload format 2.0) events from HTTP requests, and HTTP responses
//! from what a function answers, on the types of `aws_lambda_events`.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription, ApiGatewayV2httpResponse,
};
use lambda_http::aws_lambda_events::encodings::Body;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use serde_json::Value;

use super::Result;

/// What API Gateway knows of a request besides the request itself.
#[derive(Clone, Debug)]
pub struct Context {
    /// `$default`, or a named stage that API Gateway puts in front of the path.
    pub stage: String,
    pub route_key: String,
    pub path_parameters: HashMap<String, String>,
    pub request_id: String,
    pub source_ip: String,
    pub api_id: String,
    pub domain_name: String,
    pub time: chrono::DateTime<chrono::Utc>,
}

/// The event API Gateway sends a function for `method path?query` (the path without the
/// stage) with `headers` and `body`.
pub fn request(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    context: Context,
) -> ApiGatewayV2httpRequest {
    let raw_path = match context.stage.as_str() {
        "$default" => path.to_owned(),
        stage => format!("/{stage}{path}"),
    };
    let user_agent = header(headers, "user-agent");
    let mut event = ApiGatewayV2httpRequest::default();
    event.version = Some("2.0".to_owned());
    event.route_key = Some(context.route_key.clone());
    event.raw_path = Some(raw_path.clone());
    event.raw_query_string = Some(query.to_owned());
    event.query_string_parameters = query_parameters(query);
    event.path_parameters = context.path_parameters;
    // Cookies travel apart from the headers; a header named twice is one, comma-joined.
    let cookies: Vec<String> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';').map(|cookie| cookie.trim().to_owned()))
        .filter(|cookie| !cookie.is_empty())
        .collect();
    event.cookies = (!cookies.is_empty()).then_some(cookies);
    for name in headers.keys().filter(|name| *name != http::header::COOKIE) {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        if let Ok(value) = HeaderValue::from_str(&values.join(",")) {
            event.headers.insert(name.clone(), value);
        }
    }
    if !body.is_empty() {
        let text = is_text(header(headers, "content-type").as_deref())
            .then(|| std::str::from_utf8(body).ok())
            .flatten();
        event.body = Some(match text {
            Some(text) => text.to_owned(),
            None => STANDARD.encode(body),
        });
        event.is_base64_encoded = text.is_none();
    }
    #[allow(deprecated)] // read by older runtimes; API Gateway sends the method here too
    {
        event.http_method = method.clone();
    }
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method.clone();
    http.path = Some(raw_path);
    http.protocol = Some("HTTP/1.1".to_owned());
    http.source_ip = Some(context.source_ip);
    http.user_agent = user_agent;
    let mut request_context = ApiGatewayV2httpRequestContext::default();
    request_context.route_key = Some(context.route_key);
    request_context.account_id = Some("000000000000".to_owned());
    request_context.stage = Some(context.stage);
    request_context.request_id = Some(context.request_id);
    request_context.domain_prefix = context.domain_name.split('.').next().map(str::to_owned);
    request_context.domain_name = Some(context.domain_name);
    request_context.apiid = Some(context.api_id);
    request_context.time = Some(context.time.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    request_context.time_epoch = context.time.timestamp_millis();
    request_context.http = http;
    event.request_context = request_context;
    event
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// `a=1&a=2&b` as API Gateway passes it: decoded, repeated names comma-joined.
fn query_parameters(query: &str) -> QueryMap {
    let mut parameters: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        parameters
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    QueryMap::from(parameters)
}

/// Bodies API Gateway passes as text; any other is base64-encoded.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
        )
}

/// An HTTP answer: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// What API Gateway answers for a function's result: a response object (`statusCode`,
/// headers, multi-value headers, cookies, a body that may be base64), or any other JSON as a
/// 200 `application/json` body.
pub fn answer(payload: &[u8]) -> Result<Answer> {
    let mut value: Value = serde_json::from_slice(payload)?;
    let structured = value
        .as_object()
        .is_some_and(|object| object.contains_key("statusCode"));
    if !structured {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(Answer {
            status: StatusCode::OK,
            headers,
            body: payload.to_vec(),
        });
    }
    // Optional in the format, required by the type.
    if value.get("cookies").is_none_or(Value::is_null) {
        value["cookies"] = Value::Array(Vec::new());
    }
    let response: ApiGatewayV2httpResponse = serde_json::from_value(value)?;
    let mut headers = response.headers;
    for (name, value) in &response.multi_value_headers {
        headers.append(name, value.clone());
    }
    for cookie in &response.cookies {
        headers.append(http::header::SET_COOKIE, HeaderValue::from_str(cookie)?);
    }
    let body = match response.body {
        None | Some(Body::Empty) => Vec::new(),
        Some(Body::Text(text)) if response.is_base64_encoded => STANDARD.decode(text)?,
        Some(Body::Text(text)) => text.into_bytes(),
        Some(Body::Binary(bytes)) => bytes,
        Some(_) => return Err("an unknown kind of body".into()),
    };
    headers.remove(HeaderName::from_static("content-length"));
    Ok(Answer {
        status: StatusCode::from_u16(u16::try_from(response.status_code)?)?,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            stage: "$default".to_owned(),
            route_key: "ANY /images/{bucket}".to_owned(),
            path_parameters: HashMap::from([("bucket".to_owned(), "food-images".to_owned())]),
            request_id: "id".to_owned(),
            source_ip: "127.0.0.1".to_owned(),
            api_id: "api".to_owned(),
            domain_name: "api.example".to_owned(),
            time: chrono::DateTime::from_timestamp(1_795_694_400, 0).unwrap(),
        }
    }

    #[test]
    fn requests_become_payload_2_events() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", HeaderValue::from_static("a=1; b=2"));
        headers.append("x-many", HeaderValue::from_static("1"));
        headers.append("x-many", HeaderValue::from_static("2"));
        headers.append("content-type", HeaderValue::from_static("image/png"));
        let event = request(
            &Method::POST,
            "/images/food-images",
            "q=a%20b&q=c",
            &headers,
            b"\x89PNG",
            context(),
        );
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["version"], "2.0");
        assert_eq!(json["rawQueryString"], "q=a%20b&q=c");
        assert_eq!(json["queryStringParameters"]["q"], "a b,c");
        assert_eq!(json["cookies"], serde_json::json!(["a=1", "b=2"]));
        assert_eq!(json["headers"]["x-many"], "1,2");
        assert!(json["headers"].get("cookie").is_none());
        assert_eq!(json["isBase64Encoded"], true);
        assert_eq!(json["body"], STANDARD.encode(b"\x89PNG"));
        assert_eq!(json["pathParameters"]["bucket"], "food-images");
        assert_eq!(json["requestContext"]["http"]["method"], "POST");
        assert_eq!(json["requestContext"]["time"], "26/Nov/2026:12:00:00 +0000");
        assert_eq!(json["requestContext"]["timeEpoch"], 1_795_694_400_000_i64);
    }

    #[test]
    fn responses_come_back_with_headers_cookies_and_binary_bodies() {
        let payload = serde_json::json!({
            "statusCode": 201,
            "headers": {"content-type": "image/png"},
            "multiValueHeaders": {"x-many": ["1", "2"]},
            "cookies": ["a=1; Path=/"],
            "body": STANDARD.encode(b"\x89PNG"),
            "isBase64Encoded": true
        });
        let answer = answer(payload.to_string().as_bytes()).unwrap();
        assert_eq!(answer.status, StatusCode::CREATED);
        assert_eq!(answer.body, b"\x89PNG");
        assert_eq!(answer.headers.get_all("x-many").iter().count(), 2);
        assert_eq!(answer.headers["set-cookie"], "a=1; Path=/");

        let plain = super::answer(br#"{"hello": "world"}"#).unwrap();
        assert_eq!(plain.status, StatusCode::OK);
        assert_eq!(plain.headers["content-type"], "application/json");
        assert!(super::answer(b"not json").is_err());
    }
}
