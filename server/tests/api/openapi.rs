//! `GET /openapi.json` serves the document generated from the code.

use http::Method;
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
