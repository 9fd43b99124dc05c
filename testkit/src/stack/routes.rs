//! The routes of the template's HTTP API: every function's `HttpApi` events, matched as API
//! Gateway matches them (a path without variables before one with, a greedy `{name+}` last,
//! a named method before `ANY`, and `$default` when nothing else matches).

use std::collections::HashMap;

use serde_json::Value;

use super::Result;

/// One `HttpApi` event of a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `ANY` or a method in capitals.
    pub method: String,
    /// `None` for `$default` (an event without a `Path`).
    pub path: Option<String>,
    /// The function's logical id in the template.
    pub function: String,
}

impl Route {
    /// API Gateway's route key: `ANY /profile`, `$default`.
    pub fn key(&self) -> String {
        match &self.path {
            Some(path) => format!("{} {path}", self.method),
            None => "$default".to_owned(),
        }
    }

    /// The path parameters when `method path` takes this route.
    fn parameters(&self, method: &str, path: &str) -> Option<HashMap<String, String>> {
        if self.method != "ANY" && self.method != method {
            return None;
        }
        let Some(template) = &self.path else {
            return Some(HashMap::new());
        };
        let mut parameters = HashMap::new();
        let mut segments = path.trim_start_matches('/').split('/');
        for pattern in template.trim_start_matches('/').split('/') {
            match variable(pattern) {
                Some(name) if name.ends_with('+') => {
                    let rest: Vec<&str> = segments.by_ref().collect();
                    if rest.is_empty() || rest[0].is_empty() {
                        return None;
                    }
                    parameters.insert(name.trim_end_matches('+').to_owned(), rest.join("/"));
                }
                Some(name) => {
                    let segment = segments.next().filter(|segment| !segment.is_empty())?;
                    parameters.insert(name.to_owned(), segment.to_owned());
                }
                None => {
                    if segments.next() != Some(pattern) {
                        return None;
                    }
                }
            }
        }
        segments.next().is_none().then_some(parameters)
    }

    /// Lower is more specific: literal paths, then fewer variables, then no greedy one, then a
    /// named method; `$default` is the last resort.
    fn rank(&self) -> (bool, bool, usize, bool) {
        let Some(path) = &self.path else {
            return (true, true, usize::MAX, true);
        };
        let variables: Vec<&str> = path.split('/').filter_map(variable).collect();
        let greedy = variables.iter().any(|name| name.ends_with('+'));
        (false, greedy, variables.len(), self.method == "ANY")
    }
}

fn variable(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

/// A request's route and path parameters.
#[derive(Debug)]
pub struct Matched<'a> {
    pub route: &'a Route,
    pub parameters: HashMap<String, String>,
}

/// Every route of a template.
#[derive(Clone, Debug)]
pub struct Routes(Vec<Route>);

impl Routes {
    /// The routes of a template in its JSON form (`Resources.*.Properties.Events`).
    pub fn from_template(template: &Value) -> Result<Self> {
        let resources = template["Resources"]
            .as_object()
            .ok_or("the template has no Resources")?;
        let mut routes = Vec::new();
        for (function, resource) in resources {
            if resource["Type"] != "AWS::Serverless::Function" {
                continue;
            }
            let Some(events) = resource["Properties"]["Events"].as_object() else {
                continue;
            };
            for event in events.values().filter(|event| event["Type"] == "HttpApi") {
                let properties = &event["Properties"];
                routes.push(Route {
                    method: properties["Method"]
                        .as_str()
                        .unwrap_or("ANY")
                        .to_uppercase(),
                    path: properties["Path"].as_str().map(str::to_owned),
                    function: function.clone(),
                });
            }
        }
        Ok(Self(routes))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.0.iter()
    }

    /// The route `method path` takes, if any.
    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        self.0
            .iter()
            .filter_map(|route| {
                let parameters = route.parameters(method, path)?;
                Some(Matched { route, parameters })
            })
            .min_by_key(|matched| matched.route.rank())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn routes() -> Routes {
        let event = |path: Option<&str>, method: &str| match path {
            Some(path) => {
                json!({"Type": "HttpApi", "Properties": {"Path": path, "Method": method}})
            }
            None => json!({"Type": "HttpApi", "Properties": {}}),
        };
        Routes::from_template(&json!({"Resources": {
            "Health": {"Type": "AWS::Serverless::Function", "Properties": {"Events": {
                "Health": event(Some("/health"), "ANY"),
                "Unknown": event(None, "ANY"),
            }}},
            "Images": {"Type": "AWS::Serverless::Function", "Properties": {"Events": {
                "Upload": event(Some("/images/{bucket}"), "ANY"),
                "Object": event(Some("/images/{bucket}/{key+}"), "ANY"),
                "Fixed": event(Some("/images/{bucket}/fixed"), "get"),
                "Daily": {"Type": "Schedule", "Properties": {}},
            }}},
            "Bucket": {"Type": "AWS::S3::Bucket"},
        }}))
        .unwrap()
    }

    fn find(method: &str, path: &str) -> (String, HashMap<String, String>) {
        let routes = routes();
        let matched = routes.find(method, path).expect("a route");
        (matched.route.key(), matched.parameters)
    }

    #[test]
    fn literal_paths_win_and_default_takes_the_rest() {
        assert_eq!(find("GET", "/health").0, "ANY /health");
        assert_eq!(find("GET", "/healthz").0, "$default");
        assert_eq!(find("DELETE", "/").0, "$default");
        assert_eq!(routes().iter().count(), 5);
    }

    #[test]
    fn variables_take_one_segment_and_greedy_ones_the_rest() {
        let (key, parameters) = find("POST", "/images/food-images");
        assert_eq!(key, "ANY /images/{bucket}");
        assert_eq!(parameters["bucket"], "food-images");
        let (key, parameters) = find("GET", "/images/food-images/ann/a.png");
        assert_eq!(key, "ANY /images/{bucket}/{key+}");
        assert_eq!(parameters["key"], "ann/a.png");
        assert_eq!(
            find("GET", "/images/b/fixed").0,
            "GET /images/{bucket}/fixed"
        );
        assert_eq!(
            find("PUT", "/images/b/fixed").0,
            "ANY /images/{bucket}/{key+}"
        );
        assert_eq!(find("GET", "/images//x").0, "$default");
    }
}
