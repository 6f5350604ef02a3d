//! Unit-test support for policies: run a check on an object without the waPC round trip, check
//! a policy's README ([`documentation`]) and its metadata rules
//! ([`rules_cover_every_served_version`]). Behind the `testing` feature so that it never
//! reaches a module; a policy enables it in its `[dev-dependencies]` only.
//!
//! Failing the test is the job of everything here, so it panics where policy code must not.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

mod documentation;
mod rules;

pub use documentation::documentation;
pub use rules::rules_cover_every_served_version;

use serde_json::Value;

use crate::entry::{Check, NoSettings};
use crate::json::{Json, Node};
use crate::payload::Request;
use crate::violations::{Violation, Violations};

/// `object` as a check sees it in a request: printed as JSON and decoded as
/// [`validate`](crate::validate) decodes a request's object.
///
/// The text and the document are leaked, so that a test can build its object with `json!`
/// and still hand a borrowing [`Request`] around: a few kilobytes a test, and this module
/// never reaches a policy module.
pub fn document(object: &Value) -> Node<'static> {
    let text: &'static str = Box::leak(object.to_string().into_boxed_str());
    let json = Json::parse(text).expect("a Value prints as JSON that parses");
    Box::leak(Box::new(json)).root()
}

/// A request for `object` of `kind` as most tests want it: core group, version `v1`,
/// namespace `default`. Change the rest with struct update syntax:
/// `Request { group: "apps", ..request("Deployment", &object, &settings) }`.
pub fn request<'a, S>(kind: &'a str, object: &'a Value, settings: &'a S) -> Request<'a, S> {
    Request {
        object: document(object),
        kind,
        group: "",
        version: "v1",
        namespace: "default",
        settings,
    }
}

/// Run `check` on `request` and return what it recorded, in order.
pub fn violations<S>(check: Check<S>, request: &Request<'_, S>) -> Vec<Violation> {
    let mut violations = Violations::default();
    check(request, &mut violations);
    violations.items().to_vec()
}

/// Run `check` on `object` of `kind` (a request as [`request`] makes it) and return each
/// violation as `(pointer, message)`, the shape tests compare against.
pub fn findings<S>(
    check: Check<S>,
    kind: &str,
    object: &Value,
    settings: &S,
) -> Vec<(String, String)> {
    violations(check, &request(kind, object, settings))
        .into_iter()
        .map(|v| (v.pointer, v.message))
        .collect()
}

/// [`findings`] of a policy that takes no settings: `run(check, "Pod", json!({...}))`.
pub fn run(check: Check<NoSettings>, kind: &str, object: Value) -> Vec<(String, String)> {
    findings(check, kind, &object, &NoSettings {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
        violations.add(
            format!("/{}", request.kind),
            format!(
                "{} {} {}",
                request.group, request.version, request.namespace
            ),
        );
    }

    #[test]
    fn testing_runs_a_check_with_defaults() {
        let object = json!({});
        assert_eq!(
            findings(check, "Pod", &object, &NoSettings {}),
            [("/Pod".to_string(), " v1 default".to_string())]
        );
        assert_eq!(
            run(check, "Pod", json!({})),
            [("/Pod".to_string(), " v1 default".to_string())]
        );
        let request = Request {
            group: "apps",
            ..request("Deployment", &object, &NoSettings {})
        };
        assert_eq!(
            violations(check, &request),
            [Violation {
                pointer: "/Deployment".into(),
                message: "apps v1 default".into()
            }]
        );
    }
}
