//! `service-type`: best practice. A NodePort Service opens a port on every node of the cluster,
//! outside the load balancer and ingress that normally front it; a LoadBalancer Service asks the
//! cloud for a public address. Which of them a cluster accepts is a setting: by default
//! LoadBalancer is allowed (it is how ingress controllers and gateways are exposed) and NodePort
//! is not.

use admit_policy_kit::{Node, Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

/// Every Service type; ClusterIP and ExternalName expose nothing outside the cluster, so
/// they are always allowed.
const TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "NodePort", "LoadBalancer"];

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// The exposing types (NodePort, LoadBalancer) that are allowed.
    allowed_types: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            allowed_types: vec!["LoadBalancer".into()],
        }
    }
}

impl admit_policy_kit::Settings for Settings {
    fn check(&self) -> Result<(), String> {
        match self
            .allowed_types
            .iter()
            .find(|t| !TYPES.contains(&t.as_str()))
        {
            Some(unknown) => Err(format!(
                "allowed_types has {unknown:?}, which is not a Service type; use NodePort or \
                 LoadBalancer (ClusterIP and ExternalName are always allowed)"
            )),
            None => Ok(()),
        }
    }
}

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    if !request.group.is_empty() || request.kind != "Service" {
        return;
    }
    let (service_type, exposes) = match request.object.pointer("/spec/type").and_then(Node::as_str)
    {
        Some(t @ "NodePort") => (t, "opens its ports on every node of the cluster"),
        Some(t @ "LoadBalancer") => (t, "asks for an external load balancer"),
        _ => return,
    };
    if request
        .settings
        .allowed_types
        .iter()
        .any(|t| t == service_type)
    {
        return;
    }
    violations.add(
        "/spec/type",
        format!(
            "Service type {service_type} {exposes}; use ClusterIP behind an Ingress or Gateway, \
             or add {service_type} to allowed_types"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::{request, violations};
    use admit_policy_kit::{Settings as _, Violation};
    use serde_json::{Value, json};

    fn run(service_type: Value, allowed: Option<&[&str]>) -> Vec<Violation> {
        let settings = match allowed {
            Some(list) => Settings {
                allowed_types: list.iter().map(|s| s.to_string()).collect(),
            },
            None => Settings::default(),
        };
        let object = json!({"spec": {"type": service_type, "ports": [{"port": 80}]}});
        violations(check, &request("Service", &object, &settings))
    }

    #[test]
    fn node_port_is_reported_by_default() {
        assert_eq!(
            run(json!("NodePort"), None),
            [Violation {
                pointer: "/spec/type".into(),
                message: "Service type NodePort opens its ports on every node of the cluster; \
                          use ClusterIP behind an Ingress or Gateway, or add NodePort to \
                          allowed_types"
                    .into(),
            }]
        );
        assert!(run(json!("LoadBalancer"), None).is_empty());
    }

    #[test]
    fn an_empty_allow_list_reports_load_balancers_too() {
        let found = run(json!("LoadBalancer"), Some(&[]));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "Service type LoadBalancer asks for an external load balancer; use ClusterIP \
             behind an Ingress or Gateway, or add LoadBalancer to allowed_types"
        );
        assert!(run(json!("NodePort"), Some(&["NodePort"])).is_empty());
    }

    #[test]
    fn internal_types_pass() {
        for service_type in [
            json!("ClusterIP"),
            json!("ExternalName"),
            json!(null),
            json!(3),
        ] {
            assert!(run(service_type, Some(&[])).is_empty());
        }
    }

    #[test]
    fn settings_reject_unknown_types() {
        let settings = Settings {
            allowed_types: vec!["Loadbalancer".into()],
        };
        assert_eq!(
            settings.check(),
            Err(
                "allowed_types has \"Loadbalancer\", which is not a Service type; use NodePort \
                 or LoadBalancer (ClusterIP and ExternalName are always allowed)"
                    .into()
            )
        );
        assert!(Settings::default().check().is_ok());
    }
}
