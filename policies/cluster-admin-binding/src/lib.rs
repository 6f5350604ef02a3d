//! `cluster-admin-binding`: best practice. Binding the `cluster-admin` ClusterRole grants every
//! permission on every resource: whoever holds a subject's credentials owns the cluster.
//! Subjects that must have it (break-glass groups) can be allowed by name.

use admit_policy_kit::{Node, Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Users and groups by name, ServiceAccounts as `system:serviceaccount:NAMESPACE:NAME`.
    allowed_subjects: Vec<String>,
}

impl admit_policy_kit::Settings for Settings {
    fn check(&self) -> Result<(), String> {
        for subject in &self.allowed_subjects {
            if subject.trim().is_empty() {
                return Err(
                    "allowed_subjects has an empty entry; give a user or group name, \
                            or system:serviceaccount:NAMESPACE:NAME"
                        .into(),
                );
            }
            if let Some(rest) = subject.strip_prefix(SERVICE_ACCOUNT_PREFIX) {
                let valid = rest.split_once(':').is_some_and(|(ns, name)| {
                    !ns.is_empty() && !name.is_empty() && !name.contains(':')
                });
                if !valid {
                    return Err(format!(
                        "allowed_subjects entry {subject:?} names no ServiceAccount; write it as \
                         system:serviceaccount:NAMESPACE:NAME"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    if request.group != "rbac.authorization.k8s.io"
        || !matches!(request.kind, "RoleBinding" | "ClusterRoleBinding")
    {
        return;
    }
    let role_ref = |field: &str| {
        request
            .object
            .pointer(&format!("/roleRef/{field}"))
            .and_then(Node::as_str)
    };
    if role_ref("name") != Some("cluster-admin") || role_ref("kind") != Some("ClusterRole") {
        return;
    }
    let subjects = request.object.get("subjects").and_then(Node::as_array);
    let denied: Vec<String> = subjects
        .into_iter()
        .flatten()
        .filter_map(|subject| describe(subject, request.namespace))
        .filter(|(id, _)| !request.settings.allowed_subjects.contains(id))
        .map(|(_, label)| label)
        .collect();
    if denied.is_empty() {
        return;
    }
    violations.add(
        "/roleRef/name",
        format!(
            "{} grants cluster-admin to {}; bind a role with only the permissions needed, or \
             add the subject to allowed_subjects",
            request.kind,
            denied.join(", ")
        ),
    );
}

/// A subject's identity as `allowed_subjects` names it, and as a message names it.
fn describe(subject: Node<'_>, binding_namespace: &str) -> Option<(String, String)> {
    let kind = subject.get("kind").and_then(Node::as_str)?;
    let name = subject.get("name").and_then(Node::as_str)?;
    if kind == "ServiceAccount" {
        // A RoleBinding's ServiceAccount subject defaults to the binding's namespace.
        let namespace = subject
            .get("namespace")
            .and_then(Node::as_str)
            .filter(|ns| !ns.is_empty())
            .unwrap_or(binding_namespace);
        let id = format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}");
        return Some((id, format!("ServiceAccount \"{namespace}/{name}\"")));
    }
    Some((name.to_string(), format!("{kind} \"{name}\"")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::{request, violations};
    use admit_policy_kit::{Settings as _, Violation};
    use serde_json::{Value, json};

    fn run(object: Value, kind: &str, namespace: &str, allowed: &[&str]) -> Vec<Violation> {
        let settings = Settings {
            allowed_subjects: allowed.iter().map(|s| s.to_string()).collect(),
        };
        let request = Request {
            group: "rbac.authorization.k8s.io",
            namespace,
            ..request(kind, &object, &settings)
        };
        violations(check, &request)
    }

    fn binding(subjects: Value) -> Value {
        json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "cluster-admin"},
               "subjects": subjects})
    }

    #[test]
    fn every_subject_not_allowed_is_named_once_at_the_role_ref() {
        let object = binding(json!([
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "system:masters"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}
        ]));
        assert_eq!(
            run(object, "ClusterRoleBinding", "", &["system:masters"]),
            [Violation {
                pointer: "/roleRef/name".into(),
                message: "ClusterRoleBinding grants cluster-admin to User \"alice\", \
                          ServiceAccount \"tools/ci\"; bind a role with only the permissions \
                          needed, or add the subject to allowed_subjects"
                    .into(),
            }]
        );
    }

    #[test]
    fn allowed_subjects_pass_with_service_accounts_defaulting_to_the_binding_namespace() {
        let object = binding(json!([{"kind": "ServiceAccount", "name": "ci"}]));
        let allowed = ["system:serviceaccount:tools:ci"];
        assert!(run(object.clone(), "RoleBinding", "tools", &allowed).is_empty());
        assert_eq!(run(object, "RoleBinding", "other", &allowed).len(), 1);
    }

    #[test]
    fn other_roles_and_empty_bindings_pass() {
        let mut object = binding(json!([{"kind": "User", "name": "alice"}]));
        object["roleRef"]["name"] = json!("view");
        assert!(run(object.clone(), "ClusterRoleBinding", "", &[]).is_empty());
        // A Role that happens to be called cluster-admin is not the built-in ClusterRole.
        object["roleRef"] = json!({"kind": "Role", "name": "cluster-admin"});
        assert!(run(object, "RoleBinding", "tools", &[]).is_empty());
        assert!(run(binding(json!([])), "ClusterRoleBinding", "", &[]).is_empty());
        assert!(run(binding(json!(null)), "ClusterRoleBinding", "", &[]).is_empty());
    }

    #[test]
    fn settings_name_subjects() {
        let settings = |list: &[&str]| Settings {
            allowed_subjects: list.iter().map(|s| s.to_string()).collect(),
        };
        assert!(
            settings(&["system:masters", "system:serviceaccount:ns:sa"])
                .check()
                .is_ok()
        );
        assert_eq!(
            settings(&["system:serviceaccount:ns"]).check(),
            Err(
                "allowed_subjects entry \"system:serviceaccount:ns\" names no ServiceAccount; \
                 write it as system:serviceaccount:NAMESPACE:NAME"
                    .into()
            )
        );
        assert!(settings(&[" "]).check().is_err());
    }
}
