//! `same-selector`: two Services of a namespace may not select the same pods with an
//! identical `spec.selector` (one of them is usually a copy-paste mistake).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use kubewarden_policy_sdk::{
    Error,
    host_capabilities::kubernetes::{ListResourcesByNamespaceRequest, list_resources_by_namespace},
};

use crate::{
    subject::Subject,
    verdict::{Verdict, Violation},
};

type Selector = BTreeMap<String, String>;

pub fn validate(subject: &Subject) -> Result<Verdict, Error> {
    if !subject.is("", "v1", "Service") {
        return Ok(Verdict::Accept);
    }
    // A Service without a selector (ExternalName, manual Endpoints) selects nothing to share.
    let Some(selector) = selector(subject) else {
        return Ok(Verdict::Accept);
    };
    let others = list_resources_by_namespace::<Service>(&request(subject.namespace_or_default()))?;
    Ok(same_as(subject, &selector, &others.items))
}

/// Every Service of the object's namespace.
pub fn request(namespace: &str) -> ListResourcesByNamespaceRequest {
    ListResourcesByNamespaceRequest {
        api_version: "v1".into(),
        kind: "Service".into(),
        namespace: namespace.into(),
        label_selector: None,
        field_selector: None,
        field_masks: None,
    }
}

fn selector(subject: &Subject) -> Option<Selector> {
    let written = subject.object.pointer("/spec/selector")?.clone();
    serde_json::from_value::<Selector>(written)
        .ok()
        .filter(|s| !s.is_empty())
}

/// One violation at `spec.selector` per other Service with the same selector, in answer order.
fn same_as(subject: &Subject, selector: &Selector, others: &[Service]) -> Verdict {
    let shown = selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let violations = others
        .iter()
        .filter(|other| {
            let (namespace, name) = (&other.metadata.namespace, &other.metadata.name);
            !subject.is_named(namespace.as_deref(), name.as_deref())
        })
        .filter(|other| other.spec.as_ref().and_then(|s| s.selector.as_ref()) == Some(selector))
        .map(|other| Violation {
            pointer: "/spec/selector".into(),
            message: format!(
                "Service {}/{} has the same selector {shown}",
                other
                    .metadata
                    .namespace
                    .as_deref()
                    .unwrap_or(subject.namespace_or_default()),
                other.metadata.name.as_deref().unwrap_or_default()
            ),
        })
        .collect();
    Verdict::from_violations(violations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubewarden_policy_sdk::request::KubernetesAdmissionRequest;
    use serde_json::{Value, json};

    fn service(name: &str, selector: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"namespace": "shop", "name": name},
            "spec": {"selector": selector}
        })
    }

    fn subject(object: Value) -> Subject {
        let request: KubernetesAdmissionRequest =
            serde_json::from_value(json!({ "object": object })).unwrap();
        Subject::of(&request)
    }

    /// What the host answers, decoded as the SDK decodes it.
    fn answer(items: Vec<Value>) -> Vec<Service> {
        let list =
            json!({"apiVersion": "v1", "kind": "ServiceList", "metadata": {}, "items": items});
        serde_json::from_value::<k8s_openapi::List<Service>>(list)
            .unwrap()
            .items
    }

    fn verdict(object: Value, others: Vec<Value>) -> Verdict {
        let subject = subject(object);
        let selector = selector(&subject).unwrap();
        same_as(&subject, &selector, &answer(others))
    }

    #[test]
    fn an_identical_selector_is_rejected_naming_the_other_service() {
        let message = "Service shop/api-copy has the same selector app=api,tier=back";
        assert_eq!(
            verdict(
                service("api", json!({"tier": "back", "app": "api"})),
                vec![service("api-copy", json!({"app": "api", "tier": "back"}))],
            ),
            Verdict::Reject {
                message: message.into(),
                violations: vec![Violation {
                    pointer: "/spec/selector".into(),
                    message: message.into()
                }]
            }
        );
    }

    #[test]
    fn a_subset_a_superset_and_the_service_itself_do_not_count() {
        assert_eq!(
            verdict(
                service("api", json!({"app": "api", "tier": "back"})),
                vec![
                    service("api", json!({"app": "api", "tier": "back"})),
                    service("all", json!({"app": "api"})),
                    service("more", json!({"app": "api", "tier": "back", "v": "2"})),
                    json!({"metadata": {"namespace": "shop", "name": "external"}, "spec": {"type": "ExternalName"}}),
                ],
            ),
            Verdict::Accept
        );
    }

    #[test]
    fn no_selector_or_an_empty_one_is_not_compared() {
        assert_eq!(selector(&subject(json!({"spec": {}}))), None);
        assert_eq!(selector(&subject(json!({"spec": {"selector": {}}}))), None);
        assert_eq!(
            selector(&subject(json!({"spec": {"selector": {"app": "x"}}}))),
            Some(Selector::from([("app".into(), "x".into())]))
        );
    }

    #[test]
    fn the_request_lists_the_namespaces_services() {
        assert_eq!(
            serde_json::to_string(&request("shop")).unwrap(),
            r#"{"api_version":"v1","kind":"Service","namespace":"shop","label_selector":null,"field_selector":null,"field_masks":null}"#
        );
    }
}
