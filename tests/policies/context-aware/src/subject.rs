//! The object under validation: its kind, namespace and name, as the checks need them.

use kubewarden_policy_sdk::request::KubernetesAdmissionRequest;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// API group (`""` for the core group), version and kind.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The request's namespace, else the object's; none for a cluster-scoped object.
    pub namespace: Option<String>,
    /// The request's name, else the object's (empty for a `generateName` object).
    pub name: String,
    pub object: Value,
}

impl Subject {
    /// The request's `kind` is what a cluster sends; the object's own `apiVersion`/`kind`
    /// stand in when a hand-written request leaves it out.
    pub fn of(request: &KubernetesAdmissionRequest) -> Subject {
        let object = request.object.clone();
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (group, version, kind) = if request.kind.kind.is_empty() {
            let api_version = text("/apiVersion");
            let (group, version) = match api_version.split_once('/') {
                Some((group, version)) => (group.to_string(), version.to_string()),
                None => (String::new(), api_version),
            };
            (group, version, text("/kind"))
        } else {
            (
                request.kind.group.clone(),
                request.kind.version.clone(),
                request.kind.kind.clone(),
            )
        };
        let namespace = Some(request.namespace.clone())
            .filter(|ns| !ns.is_empty())
            .or_else(|| Some(text("/metadata/namespace")).filter(|ns| !ns.is_empty()));
        let name = match request.name.as_str() {
            "" => text("/metadata/name"),
            name => name.to_string(),
        };
        Subject {
            group,
            version,
            kind,
            namespace,
            name,
            object,
        }
    }

    pub fn is(&self, group: &str, version: &str, kind: &str) -> bool {
        self.group == group && self.version == version && self.kind == kind
    }

    /// The namespace of a namespaced object: the API server puts one without any in `default`.
    pub fn namespace_or_default(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }

    /// Whether `namespace`/`name` is this object: a cluster's answer includes the object
    /// itself on UPDATE, and it must not count as "another" one.
    pub fn is_named(&self, namespace: Option<&str>, name: Option<&str>) -> bool {
        !self.name.is_empty()
            && name == Some(self.name.as_str())
            && namespace.unwrap_or("default") == self.namespace_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(value: Value) -> KubernetesAdmissionRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_requests_kind_namespace_and_name_come_first() {
        let subject = Subject::of(&request(json!({
            "kind": {"group": "networking.k8s.io", "version": "v1", "kind": "Ingress"},
            "namespace": "shop", "name": "web",
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "namespace": "y"}}
        })));
        assert!(subject.is("networking.k8s.io", "v1", "Ingress"));
        assert_eq!(subject.namespace.as_deref(), Some("shop"));
        assert_eq!(subject.name, "web");
    }

    #[test]
    fn the_object_stands_in_for_what_the_request_leaves_out() {
        let subject = Subject::of(&request(json!({
            "object": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "shop"}}
        })));
        assert!(subject.is("apps", "v1", "Deployment"));
        assert_eq!(subject.namespace.as_deref(), Some("shop"));
        assert_eq!(subject.name, "api");

        let core = Subject::of(&request(
            json!({"object": {"apiVersion": "v1", "kind": "Service"}}),
        ));
        assert!(core.is("", "v1", "Service"));
        assert_eq!(core.namespace, None);
        assert_eq!(core.namespace_or_default(), "default");
    }

    #[test]
    fn only_the_same_namespace_and_name_is_the_object_itself() {
        let subject = Subject::of(&request(json!({
            "namespace": "shop", "name": "web", "object": {}
        })));
        assert!(subject.is_named(Some("shop"), Some("web")));
        assert!(!subject.is_named(Some("other"), Some("web")));
        assert!(!subject.is_named(Some("shop"), Some("api")));
        assert!(!subject.is_named(None, Some("web")));

        let generated = Subject::of(&request(json!({"namespace": "shop", "object": {}})));
        assert!(!generated.is_named(Some("shop"), Some("")));
    }
}
