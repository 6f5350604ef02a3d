//! `kubernetes/can_i` answered from the repository's RBAC objects: the Roles, ClusterRoles,
//! RoleBindings and ClusterRoleBindings it holds, evaluated as Kubernetes' RBAC authorizer
//! does (a binding's subjects, its role's rules: verbs, API groups, resources and
//! subresources, resource names; a RoleBinding grants only in its namespace). Aggregated
//! ClusterRoles and non-resource URLs are not evaluated: what grants them is not in YAML.

use serde::Deserialize;
use serde_json::{Value, json};

use super::repository::{Repository, StoredObject};

const RBAC: &str = "rbac.authorization.k8s.io/v1";

#[derive(Debug, Deserialize)]
struct CanI {
    subject_access_review: Review,
}

#[derive(Debug, Deserialize)]
struct Review {
    #[serde(default)]
    groups: Option<Vec<String>>,
    // The Go SDK writes `resourceAttributes`; the Rust SDK `resource_attributes`.
    #[serde(alias = "resourceAttributes")]
    resource_attributes: Attributes,
    user: String,
}

#[derive(Debug, Default, Deserialize)]
struct Attributes {
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    resource: String,
    #[serde(default)]
    subresource: Option<String>,
    verb: String,
}

/// The SubjectAccessReview status for the request in `payload`.
pub fn can_i(
    payload: &[u8],
    repository: &Repository,
    subject: Option<u64>,
) -> Result<Value, String> {
    let request: CanI =
        serde_json::from_slice(payload).map_err(|e| format!("invalid can_i request: {e}"))?;
    let review = request.subject_access_review;
    let attributes = &review.resource_attributes;
    let groups = review.groups.unwrap_or_default();
    let visible = |o: &&StoredObject| Some(o.id) != subject;
    for kind in ["ClusterRoleBinding", "RoleBinding"] {
        for binding in repository.of_kind(RBAC, kind).filter(visible) {
            if !binds(
                &binding.value,
                &review.user,
                &groups,
                binding.namespace.as_deref(),
            ) {
                continue;
            }
            // A RoleBinding grants in its own namespace only.
            if kind == "RoleBinding"
                && attributes.namespace.as_deref() != binding.namespace.as_deref()
            {
                continue;
            }
            let role_ref = &binding.value["roleRef"];
            let role_kind = role_ref["kind"].as_str().unwrap_or("");
            let role_name = role_ref["name"].as_str().unwrap_or("");
            let role = match role_kind {
                "ClusterRole" => repository
                    .of_kind(RBAC, "ClusterRole")
                    .filter(visible)
                    .find(|r| r.name == role_name),
                "Role" => repository
                    .of_kind(RBAC, "Role")
                    .filter(visible)
                    .find(|r| r.name == role_name && r.namespace == binding.namespace),
                _ => None,
            };
            let Some(role) = role else { continue };
            if role.value["rules"]
                .as_array()
                .is_some_and(|rules| rules.iter().any(|rule| allows(rule, attributes)))
            {
                let bound = match &binding.namespace {
                    Some(ns) => format!("{kind} \"{}/{ns}\"", binding.name),
                    None => format!("{kind} \"{}\"", binding.name),
                };
                return Ok(json!({
                    "allowed": true,
                    "reason": format!("RBAC: allowed by {bound} of {role_kind} \"{role_name}\" to User \"{}\"", review.user),
                }));
            }
        }
    }
    Ok(json!({
        "allowed": false,
        "reason": "no Role or ClusterRole bound in the repository grants it",
    }))
}

/// Whether `binding` names `user` or one of `groups` (a ServiceAccount is the user
/// `system:serviceaccount:NAMESPACE:NAME`).
fn binds(binding: &Value, user: &str, groups: &[String], namespace: Option<&str>) -> bool {
    let Some(subjects) = binding["subjects"].as_array() else {
        return false;
    };
    subjects.iter().any(|subject| {
        let name = subject["name"].as_str().unwrap_or("");
        match subject["kind"].as_str().unwrap_or("") {
            "User" => name == user,
            "Group" => groups.iter().any(|g| g == name),
            "ServiceAccount" => {
                let account_namespace = subject["namespace"]
                    .as_str()
                    .or(namespace)
                    .unwrap_or("default");
                user == format!("system:serviceaccount:{account_namespace}:{name}")
            }
            _ => false,
        }
    })
}

/// Whether one PolicyRule allows the attributes.
fn allows(rule: &Value, attributes: &Attributes) -> bool {
    let list = |key: &str| -> Vec<&str> {
        rule[key]
            .as_array()
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let covers = |items: &[&str], value: &str| items.iter().any(|i| *i == "*" || *i == value);
    let resource = match &attributes.subresource {
        Some(sub) if !sub.is_empty() => format!("{}/{sub}", attributes.resource),
        _ => attributes.resource.clone(),
    };
    let names = list("resourceNames");
    covers(&list("verbs"), &attributes.verb)
        && covers(
            &list("apiGroups"),
            attributes.group.as_deref().unwrap_or(""),
        )
        && covers(&list("resources"), &resource)
        && (names.is_empty()
            || attributes
                .name
                .as_deref()
                .is_some_and(|name| names.contains(&name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::ResourceCatalog;

    fn repository() -> Repository {
        Repository::of(
            [
                (
                    1,
                    json!({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "reader", "namespace": "shop"},
                    "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]}]}),
                ),
                (
                    2,
                    json!({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "web-reads", "namespace": "shop"},
                    "roleRef": {"kind": "Role", "name": "reader"},
                    "subjects": [{"kind": "ServiceAccount", "name": "web"}, {"kind": "Group", "name": "devs"}]}),
                ),
            ],
            &ResourceCatalog::builtin(),
        )
    }

    fn ask(user: &str, groups: &[&str], verb: &str, resource: &str, namespace: &str) -> Value {
        let request = json!({"subject_access_review": {"groups": groups, "user": user,
            "resource_attributes": {"namespace": namespace, "resource": resource, "verb": verb}}, "disable_cache": false});
        can_i(request.to_string().as_bytes(), &repository(), None).unwrap()
    }

    #[test]
    fn bindings_grant_their_roles_rules_in_their_namespace() {
        let allowed = ask(
            "system:serviceaccount:shop:web",
            &[],
            "list",
            "pods",
            "shop",
        );
        assert_eq!(allowed["allowed"], true);
        assert!(
            allowed["reason"]
                .as_str()
                .unwrap()
                .contains("RoleBinding \"web-reads/shop\" of Role \"reader\"")
        );
        assert_eq!(
            ask("alice", &["devs"], "get", "pods", "shop")["allowed"],
            true
        );
        assert_eq!(
            ask("alice", &["devs"], "delete", "pods", "shop")["allowed"],
            false
        );
        assert_eq!(
            ask("alice", &["devs"], "get", "pods", "default")["allowed"],
            false
        );
        assert_eq!(
            ask(
                "system:serviceaccount:other:web",
                &[],
                "get",
                "pods",
                "shop"
            )["allowed"],
            false
        );
    }
}
