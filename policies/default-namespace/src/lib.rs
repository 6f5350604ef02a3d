//! `default-namespace`: best practice. Objects written for the `default` namespace share it with
//! everything deployed carelessly, so quotas, network policies and RBAC cannot be scoped to
//! them. A manifest without a namespace goes wherever `kubectl -n` sends it, which is fine
//! unless the `require_namespace` setting asks for every object to name its namespace.

use admit_policy_kit::{Node, Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Also report namespaced objects that set no `metadata.namespace`.
    require_namespace: bool,
}

impl admit_policy_kit::Settings for Settings {}

const POINTER: &str = "/metadata/namespace";

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    // The request has no namespace for a cluster-scoped kind; a cluster reports a Namespace
    // object with its own name as the namespace, so exclude it by kind too.
    if request.namespace.is_empty() || (request.group.is_empty() && request.kind == "Namespace") {
        return;
    }
    match request.object.pointer(POINTER).and_then(Node::as_str) {
        Some("default") => violations.add(
            POINTER,
            format!(
                "{} is placed in the \"default\" namespace; give the application a namespace of \
                 its own",
                request.kind
            ),
        ),
        None | Some("") if request.settings.require_namespace => violations.add(
            POINTER,
            format!(
                "{} has no namespace, so it lands in whatever namespace kubectl uses; set \
                 metadata.namespace",
                request.kind
            ),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::Violation;
    use admit_policy_kit::testing::{request, violations};
    use serde_json::{Value, json};

    fn run(object: Value, kind: &str, namespace: &str, require_namespace: bool) -> Vec<Violation> {
        let settings = Settings { require_namespace };
        violations(
            check,
            &Request {
                namespace,
                ..request(kind, &object, &settings)
            },
        )
    }

    #[test]
    fn an_explicit_default_namespace_is_reported() {
        let object = json!({"metadata": {"name": "web", "namespace": "default"}});
        assert_eq!(
            run(object, "ConfigMap", "default", false),
            [Violation {
                pointer: "/metadata/namespace".into(),
                message: "ConfigMap is placed in the \"default\" namespace; give the \
                          application a namespace of its own"
                    .into(),
            }]
        );
    }

    #[test]
    fn a_missing_namespace_is_reported_only_when_required() {
        let object = json!({"metadata": {"name": "web"}});
        assert!(run(object.clone(), "ConfigMap", "default", false).is_empty());
        assert_eq!(
            run(object, "ConfigMap", "default", true),
            [Violation {
                pointer: "/metadata/namespace".into(),
                message: "ConfigMap has no namespace, so it lands in whatever namespace \
                          kubectl uses; set metadata.namespace"
                    .into(),
            }]
        );
        let empty = json!({"metadata": {"namespace": ""}});
        assert_eq!(run(empty, "Secret", "default", true).len(), 1);
    }

    #[test]
    fn other_namespaces_and_cluster_scoped_objects_pass() {
        let team = json!({"metadata": {"namespace": "team-a"}});
        assert!(run(team, "ConfigMap", "team-a", true).is_empty());
        // admit drops the namespace of a cluster-scoped kind: the request has none.
        let role = json!({"metadata": {"namespace": "default"}});
        assert!(run(role.clone(), "ClusterRole", "", true).is_empty());
        assert!(run(json!({}), "Namespace", "", true).is_empty());
        // In a cluster, a Namespace request carries the namespace's own name.
        let ns = json!({"metadata": {"name": "default"}});
        assert!(run(ns, "Namespace", "default", true).is_empty());
    }
}
