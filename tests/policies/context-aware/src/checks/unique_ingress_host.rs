//! `unique-ingress-host`: an Ingress may not declare a host that another Ingress, in any
//! namespace, already declares.

use k8s_openapi::api::networking::v1::Ingress;
use kubewarden_policy_sdk::{
    Error,
    host_capabilities::kubernetes::{ListAllResourcesRequest, list_all_resources},
};
use serde_json::Value;

use crate::{
    subject::Subject,
    verdict::{Verdict, Violation},
};

pub fn validate(subject: &Subject) -> Result<Verdict, Error> {
    if !subject.is("networking.k8s.io", "v1", "Ingress") {
        return Ok(Verdict::Accept);
    }
    let hosts = hosts(&subject.object);
    // Nothing to compare: no host call, so a replayed session needs no exchange for it.
    if hosts.is_empty() {
        return Ok(Verdict::Accept);
    }
    let others = list_all_resources::<Ingress>(&request())?;
    Ok(duplicates(subject, &hosts, &others.items))
}

/// Every Ingress of the cluster; the host scopes nothing, the check compares.
pub fn request() -> ListAllResourcesRequest {
    ListAllResourcesRequest {
        api_version: "networking.k8s.io/v1".into(),
        kind: "Ingress".into(),
        label_selector: None,
        field_selector: None,
        field_masks: None,
    }
}

/// `spec.rules[].host` of the object, with each rule's index (for its pointer).
fn hosts(object: &Value) -> Vec<(usize, &str)> {
    let rules = object.pointer("/spec/rules").and_then(Value::as_array);
    rules
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, rule)| {
            let host = rule.get("host").and_then(Value::as_str)?;
            (!host.is_empty()).then_some((i, host))
        })
        .collect()
}

/// One violation per (rule, other Ingress declaring its host), in rule then answer order.
fn duplicates(subject: &Subject, hosts: &[(usize, &str)], others: &[Ingress]) -> Verdict {
    let mut violations = Vec::new();
    for &(index, host) in hosts {
        for other in others {
            let (namespace, name) = (&other.metadata.namespace, &other.metadata.name);
            if subject.is_named(namespace.as_deref(), name.as_deref()) {
                continue;
            }
            let declares = other
                .spec
                .iter()
                .flat_map(|spec| spec.rules.iter().flatten())
                .any(|rule| rule.host.as_deref() == Some(host));
            if declares {
                violations.push(Violation {
                    pointer: format!("/spec/rules/{index}/host"),
                    message: format!(
                        "host \"{host}\" is already used by Ingress {}/{}",
                        namespace.as_deref().unwrap_or("default"),
                        name.as_deref().unwrap_or_default()
                    ),
                });
            }
        }
    }
    Verdict::from_violations(violations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubewarden_policy_sdk::request::KubernetesAdmissionRequest;
    use serde_json::json;

    fn ingress(namespace: &str, name: &str, hosts: &[&str]) -> Value {
        let rules: Vec<Value> = hosts.iter().map(|h| json!({"host": h})).collect();
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"namespace": namespace, "name": name},
            "spec": {"rules": rules}
        })
    }

    fn subject(object: Value) -> Subject {
        let request: KubernetesAdmissionRequest =
            serde_json::from_value(json!({ "object": object })).unwrap();
        Subject::of(&request)
    }

    /// What the host answers, decoded as the SDK decodes it.
    fn answer(items: Vec<Value>) -> Vec<Ingress> {
        let list = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "IngressList",
            "metadata": {}, "items": items
        });
        serde_json::from_value::<k8s_openapi::List<Ingress>>(list)
            .unwrap()
            .items
    }

    fn verdict(object: Value, others: Vec<Value>) -> Verdict {
        let subject = subject(object);
        duplicates(&subject, &hosts(&subject.object), &answer(others))
    }

    #[test]
    fn a_host_another_ingress_declares_is_rejected_at_its_rule() {
        let verdict = verdict(
            ingress("shop", "web", &["a.example.com", "shop.example.com"]),
            vec![ingress("blog", "front", &["shop.example.com"])],
        );
        let message = r#"host "shop.example.com" is already used by Ingress blog/front"#;
        assert_eq!(
            verdict,
            Verdict::Reject {
                message: message.into(),
                violations: vec![Violation {
                    pointer: "/spec/rules/1/host".into(),
                    message: message.into()
                }],
            }
        );
    }

    #[test]
    fn every_other_ingress_declaring_the_host_is_named() {
        let Verdict::Reject { message, .. } = verdict(
            ingress("shop", "web", &["x.example.com"]),
            vec![
                ingress("a", "one", &["x.example.com"]),
                ingress("b", "two", &["y.example.com", "x.example.com"]),
            ],
        ) else {
            panic!("accepted")
        };
        assert_eq!(
            message,
            r#"host "x.example.com" is already used by Ingress a/one; host "x.example.com" is already used by Ingress b/two"#
        );
    }

    #[test]
    fn the_ingress_itself_and_other_hosts_do_not_count() {
        assert_eq!(
            verdict(
                ingress("shop", "web", &["x.example.com"]),
                vec![
                    ingress("shop", "web", &["x.example.com"]),
                    ingress("shop", "api", &["api.example.com"]),
                ],
            ),
            Verdict::Accept
        );
        // The same name in another namespace is another Ingress.
        assert!(matches!(
            verdict(
                ingress("shop", "web", &["x.example.com"]),
                vec![ingress("staging", "web", &["x.example.com"])],
            ),
            Verdict::Reject { .. }
        ));
    }

    #[test]
    fn rules_without_a_host_are_skipped() {
        let object = json!({"spec": {"rules": [{"http": {}}, {"host": ""}, {"host": "a.b"}]}});
        assert_eq!(hosts(&object), vec![(2, "a.b")]);
        assert!(hosts(&json!({"spec": {}})).is_empty());
    }

    #[test]
    fn the_request_lists_every_ingress() {
        assert_eq!(
            serde_json::to_string(&request()).unwrap(),
            r#"{"api_version":"networking.k8s.io/v1","kind":"Ingress","label_selector":null,"field_selector":null,"field_masks":null}"#
        );
    }
}
