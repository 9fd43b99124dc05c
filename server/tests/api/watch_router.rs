//! `make watch` routes each path to the function the template gives it: the router in
//! Cargo.toml (`[workspace.metadata.lambda.watch.router]`) holds every route of template.yaml
//! and nothing else, and every path of the API has one.

use std::collections::BTreeMap;

const CARGO_TOML: &str = include_str!("../../../Cargo.toml");
const TEMPLATE: &str = include_str!("../../../template.yaml");

/// Path → function binary, in the template's spelling (`{key+}` greedy).
fn watch_router() -> BTreeMap<String, String> {
    CARGO_TOML
        .lines()
        .skip_while(|line| line.trim() != "[workspace.metadata.lambda.watch.router]")
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .filter_map(|line| line.split_once(" = "))
        .map(|(path, function)| {
            (
                path.trim_matches('"').replace("{*key}", "{key+}"),
                function.trim_matches('"').to_owned(),
            )
        })
        .collect()
}

/// Path → binary of each `HttpApi` event with a path in the template.
fn template_routes() -> BTreeMap<String, String> {
    let mut routes = BTreeMap::new();
    let mut binary = None;
    for line in TEMPLATE.lines() {
        if let Some(name) = line.trim().strip_prefix("Binary: ") {
            binary = Some(name.to_owned());
        }
        if let Some((_, rest)) = line.split_once("Path: ") {
            let path = match rest.strip_prefix('"') {
                Some(quoted) => quoted.split('"').next(),
                None => rest.split([',', ' ']).next(),
            }
            .unwrap();
            let function = binary.clone().expect("a Binary before the events");
            routes.insert(path.to_owned(), function);
        }
    }
    routes
}

#[test]
fn the_watch_router_is_the_template_s() {
    let template = template_routes();
    assert!(
        template.len() > 30,
        "template routes not read: {template:?}"
    );
    assert_eq!(watch_router(), template);
}

/// Whether API Gateway's route `route` takes the document's `path`: a variable takes one
/// segment, a greedy one (`{key+}`) all that are left.
fn takes(route: &str, path: &str) -> bool {
    let (mut route, mut path) = (route.split('/'), path.split('/'));
    loop {
        match (route.next(), path.next()) {
            (None, None) => return true,
            (Some(pattern), Some(_)) if pattern.ends_with("+}") => return true,
            (Some(pattern), Some(_)) if pattern.starts_with('{') => {}
            (Some(pattern), Some(segment)) if pattern == segment => {}
            _ => return false,
        }
    }
}

#[test]
fn every_path_of_the_api_has_a_function() {
    let routes = watch_router();
    let document = serde_json::to_value(server::openapi()).unwrap();
    for path in document["paths"].as_object().unwrap().keys() {
        assert!(
            routes.keys().any(|route| takes(route, path)),
            "{path} has no function in the watch router"
        );
    }
    assert!(!takes("/images/{bucket}", "/images/{bucket}/uploads"));
    assert!(takes(
        "/images/{bucket}/{key+}",
        "/images/{bucket}/{filename}/link"
    ));
}
