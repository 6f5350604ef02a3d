//! `rbac-wildcards`: best practice. A `*` in a Role or ClusterRole rule grants everything of
//! that kind, including verbs, resources and API groups added in later Kubernetes releases or
//! by CRDs installed later; least privilege means listing what is needed.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// The rule fields checked, and how a message names what `*` grants there.
const FIELDS: [(&str, &str); 3] = [
    ("apiGroups", "every API group"),
    ("resources", "every resource"),
    ("verbs", "every verb"),
];

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    if request.group != "rbac.authorization.k8s.io"
        || !matches!(request.kind, "Role" | "ClusterRole")
    {
        return;
    }
    let rules = request.object.get("rules").and_then(Node::as_array);
    for (index, rule) in rules.into_iter().flatten().enumerate() {
        // Messages count rules from 1, as people do; pointers keep JSON's zero-based index.
        let number = index + 1;
        for (field, grants) in FIELDS {
            let items = rule.get(field).and_then(Node::as_array);
            for (position, item) in items.into_iter().flatten().enumerate() {
                if item.as_str() == Some("*") {
                    violations.add(
                        format!("/rules/{index}/{field}/{position}"),
                        format!(
                            "{} rule {number} grants {grants} with \"*\"; list only the {field} \
                             it needs",
                            request.kind
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::Violation;
    use admit_policy_kit::testing::{request, violations};
    use serde_json::{Value, json};

    fn run(object: Value, kind: &str) -> Vec<Violation> {
        let request = Request {
            group: "rbac.authorization.k8s.io",
            namespace: "",
            ..request(kind, &object, &NoSettings {})
        };
        violations(check, &request)
    }

    #[test]
    fn each_wildcard_item_is_reported() {
        let role = json!({"rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
            {"apiGroups": ["*"], "resources": ["deployments", "*"], "verbs": ["*"]}
        ]});
        let pointers: Vec<String> = run(role, "ClusterRole")
            .into_iter()
            .map(|v| v.pointer)
            .collect();
        assert_eq!(
            pointers,
            [
                "/rules/1/apiGroups/0",
                "/rules/1/resources/1",
                "/rules/1/verbs/0"
            ]
        );
    }

    #[test]
    fn messages_say_what_the_wildcard_grants() {
        let role = json!({"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]});
        assert_eq!(
            run(role, "Role"),
            [Violation {
                pointer: "/rules/0/verbs/0".into(),
                message: "Role rule 1 grants every verb with \"*\"; list only the verbs it needs"
                    .into(),
            }]
        );
    }

    #[test]
    fn messages_count_rules_from_one_and_pointers_from_zero() {
        let role = json!({"rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}
        ]});
        assert_eq!(
            run(role, "ClusterRole"),
            [Violation {
                pointer: "/rules/1/apiGroups/0".into(),
                message: "ClusterRole rule 2 grants every API group with \"*\"; list only the \
                          apiGroups it needs"
                    .into(),
            }]
        );
    }

    #[test]
    fn every_served_version_is_checked() {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1beta1",
            "rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]});
        let request = Request {
            group: "rbac.authorization.k8s.io",
            version: "v1beta1",
            namespace: "",
            ..request("ClusterRole", &role, &NoSettings {})
        };
        assert_eq!(violations(check, &request).len(), 1);
    }

    #[test]
    fn narrow_rules_subresources_and_other_kinds_pass() {
        let role = json!({"rules": [
            {"apiGroups": ["apps"], "resources": ["deployments/*"], "verbs": ["get"]},
            {"nonResourceURLs": ["*"], "verbs": ["get"]},
            "not a rule",
            {"verbs": "*"}
        ]});
        assert!(run(role.clone(), "ClusterRole").is_empty());
        let binding = json!({"rules": [{"verbs": ["*"]}]});
        assert!(run(binding, "RoleBinding").is_empty());
    }
}
