//! Which objects a policy sees beyond its own metadata rules: the `match` block of a configured
//! policy, and the `rules`, `objectSelector` and namespace of a Kubewarden `AdmissionPolicy`.
//!
//! A cluster answers these from live state; here everything is answered from the object itself,
//! so a selector on namespace labels (`namespaceSelector`) cannot be honoured offline and is
//! refused where it is read rather than silently ignored.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::rules::{Rule, any_rule_matches};
use crate::requests::AdmissionRequest;

/// The label Kubernetes puts on every namespace, holding its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A Kubernetes label selector, as in `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// Labels that must be present with these values.
    pub match_labels: BTreeMap<String, String>,
    /// Further requirements, all of which must hold.
    pub match_expressions: Vec<LabelRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRequirement {
    /// The label key.
    pub key: String,
    /// How the label is compared.
    pub operator: LabelOperator,
    /// The values for `In` and `NotIn`.
    pub values: Vec<String>,
}

/// The operators of a label selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOperator {
    /// The label has one of the values.
    In,
    /// The label is absent or has none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl LabelOperator {
    /// The operator called `name` in a selector.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "In" => LabelOperator::In,
            "NotIn" => LabelOperator::NotIn,
            "Exists" => LabelOperator::Exists,
            "DoesNotExist" => LabelOperator::DoesNotExist,
            _ => return None,
        })
    }
}

impl LabelSelector {
    /// Whether `labels` (an object's `metadata.labels`, possibly absent) satisfy the selector.
    /// An empty selector selects everything, as in Kubernetes.
    pub fn matches(&self, labels: Option<&serde_json::Map<String, Json>>) -> bool {
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Json::as_str);
        self.match_labels
            .iter()
            .all(|(key, value)| label(key) == Some(value.as_str()))
            && self.match_expressions.iter().all(|requirement| {
                let value = label(&requirement.key);
                match requirement.operator {
                    LabelOperator::In => {
                        value.is_some_and(|v| requirement.values.iter().any(|w| w == v))
                    }
                    LabelOperator::NotIn => {
                        value.is_none_or(|v| requirement.values.iter().all(|w| w != v))
                    }
                    LabelOperator::Exists => value.is_some(),
                    LabelOperator::DoesNotExist => value.is_none(),
                }
            })
    }
}

/// Narrows the objects a policy is evaluated on. Every part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Object kinds (`Deployment`), or `group/Kind` for a kind in a specific API group.
    pub kinds: Vec<String>,
    /// Namespaces; a cluster-scoped object is in none of them.
    pub namespaces: Vec<String>,
    /// A selector on the object's own labels.
    pub labels: Option<LabelSelector>,
    /// A selector on the labels of the object's namespace. Offline the only label a namespace
    /// is known to have is `kubernetes.io/metadata.name` (its name, which Kubernetes sets on
    /// every namespace), so only selectors on that label can be answered; the reader refuses
    /// others.
    pub namespace_labels: Option<LabelSelector>,
    /// Rules that replace the module's metadata rules (a Kubewarden policy's `spec.rules`).
    pub rules: Option<Vec<Rule>>,
}

impl Scope {
    /// Whether a policy with this scope sees `request`. `rules` are checked by the caller when
    /// set, since they replace rather than narrow the module's own.
    pub fn admits(&self, request: &AdmissionRequest) -> bool {
        let kind = &request.kind;
        let kind_matches = self.kinds.is_empty()
            || self
                .kinds
                .iter()
                .any(|wanted| match wanted.split_once('/') {
                    Some((group, name)) => group == kind.group && name == kind.kind,
                    None => *wanted == kind.kind,
                });
        let namespace_matches = self.namespaces.is_empty()
            || request
                .namespace
                .as_deref()
                .is_some_and(|namespace| self.namespaces.iter().any(|n| n == namespace));
        let labels_match = self.labels.as_ref().is_none_or(|selector| {
            let labels = request
                .object
                .as_ref()
                .and_then(|object| object.pointer("/metadata/labels"))
                .and_then(Json::as_object);
            selector.matches(labels)
        });
        // As for an admission webhook: a Namespace is matched on its own labels, and a
        // selector on namespaces does not restrict other cluster-scoped objects.
        let namespace_labels_match = self.namespace_labels.as_ref().is_none_or(|selector| {
            let name = if kind.kind == "Namespace" && kind.group.is_empty() {
                request.name.as_deref()
            } else {
                request.namespace.as_deref()
            };
            name.is_none_or(|name| {
                let mut labels = serde_json::Map::new();
                labels.insert(NAMESPACE_NAME_LABEL.into(), Json::String(name.into()));
                selector.matches(Some(&labels))
            })
        });
        kind_matches && namespace_matches && labels_match && namespace_labels_match
    }

    /// Whether `rules` from this scope (when set) match `request`.
    pub fn rules_match(&self, request: &AdmissionRequest) -> Option<bool> {
        self.rules
            .as_ref()
            .map(|rules| any_rule_matches(rules, request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::{ResourceCatalog, build_request};

    fn request(object: Json) -> AdmissionRequest {
        build_request(object, &ResourceCatalog::builtin())
            .expect("request builds")
            .request
    }

    fn deployment(namespace: Option<&str>, labels: Json) -> AdmissionRequest {
        let mut metadata = serde_json::json!({"name": "web", "labels": labels});
        if let Some(namespace) = namespace {
            metadata["namespace"] = namespace.into();
        }
        request(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata
        }))
    }

    #[test]
    fn kinds_namespaces_and_labels_all_have_to_match() {
        let scope = Scope {
            kinds: vec!["Deployment".into()],
            namespaces: vec!["team-a".into()],
            labels: Some(LabelSelector {
                match_labels: BTreeMap::from([("tier".into(), "web".into())]),
                match_expressions: vec![LabelRequirement {
                    key: "legacy".into(),
                    operator: LabelOperator::DoesNotExist,
                    values: vec![],
                }],
            }),
            ..Scope::default()
        };
        let labels = serde_json::json!({"tier": "web"});
        assert!(scope.admits(&deployment(Some("team-a"), labels.clone())));
        assert!(!scope.admits(&deployment(Some("team-b"), labels.clone())));
        assert!(!scope.admits(&deployment(None, labels)));
        assert!(!scope.admits(&deployment(
            Some("team-a"),
            serde_json::json!({"tier": "web", "legacy": "yes"})
        )));
        let pod = request(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "team-a", "labels": {"tier": "web"}}
        }));
        assert!(!scope.admits(&pod));
    }

    #[test]
    fn group_qualified_kinds_and_set_operators() {
        let scope = Scope {
            kinds: vec!["apps/Deployment".into()],
            labels: Some(LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![LabelRequirement {
                    key: "env".into(),
                    operator: LabelOperator::NotIn,
                    values: vec!["dev".into()],
                }],
            }),
            ..Scope::default()
        };
        assert!(scope.admits(&deployment(None, serde_json::json!({}))));
        assert!(scope.admits(&deployment(None, serde_json::json!({"env": "prod"}))));
        assert!(!scope.admits(&deployment(None, serde_json::json!({"env": "dev"}))));
    }

    #[test]
    fn namespace_selectors_see_the_namespace_name_label() {
        let scope = Scope {
            namespace_labels: Some(LabelSelector {
                match_labels: BTreeMap::new(),
                match_expressions: vec![LabelRequirement {
                    key: NAMESPACE_NAME_LABEL.into(),
                    operator: LabelOperator::NotIn,
                    values: vec!["kube-system".into()],
                }],
            }),
            ..Scope::default()
        };
        assert!(scope.admits(&deployment(Some("shop"), serde_json::json!({}))));
        assert!(!scope.admits(&deployment(Some("kube-system"), serde_json::json!({}))));
        let namespace = request(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}
        }));
        assert!(!scope.admits(&namespace));
        let role = request(serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "reader"}
        }));
        assert!(scope.admits(&role));
    }
}
