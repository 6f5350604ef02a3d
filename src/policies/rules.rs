//! Which requests a policy applies to, from its metadata `rules`.
//!
//! kwctl ignores `rules` and always runs the policy; admit checks many objects at once, so it
//! follows the cluster instead: a policy sees an object only if the webhook the Kubewarden
//! controller registers from these rules would have been called for it. The matching mirrors
//! kube-apiserver's `admission/plugin/webhook/predicates/rules` so both agree on every request.

use serde::{Deserialize, Serialize};

use crate::requests::AdmissionRequest;

/// One entry of a policy's metadata `rules`, shaped like a Kubernetes webhook
/// `RuleWithOperations`.
///
/// An empty list matches nothing; `*` in a list matches anything for that field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// API groups (`""` is the core group), or `*`.
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// API versions, or `*`.
    #[serde(default)]
    pub api_versions: Vec<String>,
    /// Resources and subresources: `pods`, `pods/status`, `pods/*`, `*/scale`, `*`, `*/*`.
    #[serde(default)]
    pub resources: Vec<String>,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`, or `*`.
    #[serde(default)]
    pub operations: Vec<String>,
    /// `Namespaced`, `Cluster` or `*` (the default). Kubewarden metadata has no scope, but
    /// policy resources and webhook configurations do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Whether a webhook registered with `rule` would be called for `request`.
pub fn rule_matches(rule: &Rule, request: &AdmissionRequest) -> bool {
    let resource = &request.resource;
    scope_matches(rule.scope.as_deref(), request)
        && exact_or_wildcard(&rule.operations, request.operation.as_str())
        && exact_or_wildcard(&rule.api_groups, &resource.group)
        && exact_or_wildcard(&rule.api_versions, &resource.version)
        && resource_matches(
            &rule.resources,
            &resource.resource,
            request.sub_resource.as_deref().unwrap_or(""),
        )
}

/// Whether any of `rules` matches `request`; no rules match nothing.
pub fn any_rule_matches(rules: &[Rule], request: &AdmissionRequest) -> bool {
    rules.iter().any(|rule| rule_matches(rule, request))
}

fn exact_or_wildcard(items: &[String], requested: &str) -> bool {
    items.iter().any(|item| item == "*" || item == requested)
}

/// `resource/subresource` patterns, `*` standing for any value of either half.
///
/// A pattern without `/` has an empty subresource, so `pods` and `*` never match a
/// subresource. `pods/*` also matches `pods` itself: the subresource `*` matches the empty
/// one. The Kubernetes API docs describe `pods/*` as "all subresources of pods", but
/// kube-apiserver's matcher (and its `r & subresources` test) lets it match the resource too,
/// and admit must call a policy whenever a cluster would.
fn resource_matches(patterns: &[String], resource: &str, sub_resource: &str) -> bool {
    patterns.iter().any(|pattern| {
        let (pattern_resource, pattern_sub) = pattern.split_once('/').unwrap_or((pattern, ""));
        (pattern_resource == "*" || pattern_resource == resource)
            && (pattern_sub == "*" || pattern_sub == sub_resource)
    })
}

/// A Namespace object is cluster-scoped, though a cluster reports the namespace's own name as
/// the request namespace; kube-apiserver special-cases it, and so does this.
fn scope_matches(scope: Option<&str>, request: &AdmissionRequest) -> bool {
    let resource = &request.resource;
    let is_namespace_object =
        resource.group.is_empty() && resource.version == "v1" && resource.resource == "namespaces";
    let has_namespace = request
        .namespace
        .as_deref()
        .is_some_and(|ns| !ns.is_empty());
    match scope {
        None | Some("*") => true,
        Some("Namespaced") => !is_namespace_object && has_namespace,
        Some("Cluster") => is_namespace_object || !has_namespace,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::requests::{GroupVersionKind, GroupVersionResource, Operation, UserInfo};

    fn request(
        group: &str,
        version: &str,
        resource: &str,
        sub_resource: Option<&str>,
    ) -> AdmissionRequest {
        AdmissionRequest {
            uid: "u".into(),
            kind: GroupVersionKind {
                group: group.into(),
                version: version.into(),
                kind: "K".into(),
            },
            resource: GroupVersionResource {
                group: group.into(),
                version: version.into(),
                resource: resource.into(),
            },
            sub_resource: sub_resource.map(Into::into),
            request_kind: None,
            request_resource: None,
            request_sub_resource: None,
            name: Some("n".into()),
            namespace: Some("ns".into()),
            operation: Operation::Create,
            user_info: UserInfo::default(),
            object: None,
            old_object: None,
            dry_run: None,
            options: None,
        }
    }

    fn pods() -> AdmissionRequest {
        request("", "v1", "pods", None)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// A rule matching every request, narrowed by each test to the field it checks.
    fn all() -> Rule {
        Rule {
            api_groups: strings(&["*"]),
            api_versions: strings(&["*"]),
            resources: strings(&["*/*"]),
            operations: strings(&["*"]),
            scope: None,
        }
    }

    fn with_resources(resources: &[&str]) -> Rule {
        Rule {
            resources: strings(resources),
            ..all()
        }
    }

    #[test]
    fn api_groups_exact_or_wildcard() {
        let rule = Rule {
            api_groups: strings(&["", "apps"]),
            ..all()
        };
        assert!(rule_matches(&rule, &pods()));
        assert!(rule_matches(
            &rule,
            &request("apps", "v1", "deployments", None)
        ));
        assert!(!rule_matches(&rule, &request("batch", "v1", "jobs", None)));
        assert!(rule_matches(
            &all(),
            &request("example.com", "v1", "widgets", None)
        ));
    }

    #[test]
    fn api_versions_exact_or_wildcard() {
        let rule = Rule {
            api_versions: strings(&["v1"]),
            ..all()
        };
        assert!(rule_matches(
            &rule,
            &request("apps", "v1", "deployments", None)
        ));
        assert!(!rule_matches(
            &rule,
            &request("apps", "v1beta1", "deployments", None)
        ));
    }

    #[test]
    fn operations_exact_or_wildcard() {
        let rule = Rule {
            operations: strings(&["UPDATE", "DELETE"]),
            ..all()
        };
        assert!(!rule_matches(&rule, &pods()));
        for operation in [Operation::Update, Operation::Delete] {
            let mut request = pods();
            request.operation = operation;
            assert!(rule_matches(&rule, &request));
        }
        let rule = Rule {
            operations: strings(&["CREATE"]),
            ..all()
        };
        assert!(rule_matches(&rule, &pods()));
        for operation in [
            Operation::Create,
            Operation::Update,
            Operation::Delete,
            Operation::Connect,
        ] {
            let mut request = pods();
            request.operation = operation;
            assert!(rule_matches(&all(), &request));
        }
    }

    #[test]
    fn star_matches_every_resource_but_no_subresource() {
        let rule = with_resources(&["*"]);
        assert!(rule_matches(&rule, &pods()));
        assert!(rule_matches(
            &rule,
            &request("apps", "v1", "deployments", None)
        ));
        assert!(!rule_matches(
            &rule,
            &request("", "v1", "pods", Some("exec"))
        ));
    }

    #[test]
    fn star_slash_star_matches_everything() {
        let rule = with_resources(&["*/*"]);
        assert!(rule_matches(&rule, &pods()));
        assert!(rule_matches(
            &rule,
            &request("", "v1", "pods", Some("status"))
        ));
        assert!(rule_matches(
            &rule,
            &request("apps", "v1", "deployments", Some("scale"))
        ));
    }

    #[test]
    fn plain_resource_matches_only_itself_without_subresource() {
        let rule = with_resources(&["pods"]);
        assert!(rule_matches(&rule, &pods()));
        assert!(!rule_matches(
            &rule,
            &request("", "v1", "pods", Some("status"))
        ));
        assert!(!rule_matches(&rule, &request("", "v1", "services", None)));
    }

    #[test]
    fn resource_slash_star_matches_its_subresources_and_itself() {
        let rule = with_resources(&["pods/*"]);
        assert!(rule_matches(
            &rule,
            &request("", "v1", "pods", Some("exec"))
        ));
        assert!(rule_matches(
            &rule,
            &request("", "v1", "pods", Some("status"))
        ));
        // As in kube-apiserver: `*` also matches the empty subresource.
        assert!(rule_matches(&rule, &pods()));
        assert!(!rule_matches(
            &rule,
            &request("", "v1", "services", Some("status"))
        ));
        assert!(!rule_matches(&rule, &request("", "v1", "services", None)));
    }

    #[test]
    fn star_slash_subresource_matches_that_subresource_of_any_resource() {
        let rule = with_resources(&["*/scale"]);
        assert!(rule_matches(
            &rule,
            &request("apps", "v1", "deployments", Some("scale"))
        ));
        assert!(rule_matches(
            &rule,
            &request("", "v1", "replicationcontrollers", Some("scale"))
        ));
        assert!(!rule_matches(
            &rule,
            &request("apps", "v1", "deployments", None)
        ));
        assert!(!rule_matches(
            &rule,
            &request("apps", "v1", "deployments", Some("status"))
        ));
    }

    #[test]
    fn exact_subresource_matches_only_itself() {
        let rule = with_resources(&["pods/status"]);
        assert!(rule_matches(
            &rule,
            &request("", "v1", "pods", Some("status"))
        ));
        assert!(!rule_matches(&rule, &pods()));
        assert!(!rule_matches(
            &rule,
            &request("", "v1", "pods", Some("exec"))
        ));
        assert!(!rule_matches(
            &rule,
            &request("", "v1", "services", Some("status"))
        ));
    }

    #[test]
    fn empty_lists_match_nothing() {
        let empty = [
            Rule {
                api_groups: vec![],
                ..all()
            },
            Rule {
                api_versions: vec![],
                ..all()
            },
            Rule {
                resources: vec![],
                ..all()
            },
            Rule {
                operations: vec![],
                ..all()
            },
            Rule::default(),
        ];
        for rule in &empty {
            assert!(!rule_matches(rule, &pods()), "{rule:?}");
        }
        assert!(!any_rule_matches(&[], &pods()));
    }

    #[test]
    fn any_rule_matches_when_one_does() {
        let rules = [with_resources(&["services"]), with_resources(&["pods"])];
        assert!(any_rule_matches(&rules, &pods()));
        assert!(!any_rule_matches(
            &rules,
            &request("apps", "v1", "deployments", None)
        ));
    }

    #[test]
    fn scope_follows_the_request_namespace() {
        let namespaced = Rule {
            scope: Some("Namespaced".into()),
            ..all()
        };
        let cluster = Rule {
            scope: Some("Cluster".into()),
            ..all()
        };
        let mut cluster_role = request("rbac.authorization.k8s.io", "v1", "clusterroles", None);
        cluster_role.namespace = None;
        let mut namespace = request("", "v1", "namespaces", None);
        namespace.namespace = Some("team-a".into());

        assert!(rule_matches(&namespaced, &pods()));
        assert!(!rule_matches(&namespaced, &cluster_role));
        assert!(!rule_matches(&namespaced, &namespace));
        assert!(!rule_matches(&cluster, &pods()));
        assert!(rule_matches(&cluster, &cluster_role));
        assert!(rule_matches(&cluster, &namespace));
        for scope in ["*", "Everywhere"] {
            let rule = Rule {
                scope: Some(scope.into()),
                ..all()
            };
            assert_eq!(rule_matches(&rule, &pods()), scope == "*");
        }
    }

    #[test]
    fn deserializes_kubewarden_metadata_rules() {
        let rules: Vec<Rule> = serde_json::from_value(json!([
            {"apiGroups": ["rbac.authorization.k8s.io"], "apiVersions": ["v1"],
             "resources": ["rolebindings", "clusterrolebindings"],
             "operations": ["CREATE", "UPDATE"]},
            {"apiGroups": [""], "resources": ["pods"], "scope": "Namespaced"}
        ]))
        .expect("deserializes");
        assert_eq!(rules[0].resources, ["rolebindings", "clusterrolebindings"]);
        assert_eq!(rules[1].api_versions, Vec::<String>::new());
        assert_eq!(rules[1].scope.as_deref(), Some("Namespaced"));
        assert_eq!(
            serde_json::to_value(&rules[0]).expect("serializes"),
            json!({"apiGroups": ["rbac.authorization.k8s.io"], "apiVersions": ["v1"],
                   "resources": ["rolebindings", "clusterrolebindings"],
                   "operations": ["CREATE", "UPDATE"]})
        );
    }
}
