//! `host-ports`: Pod Security Standards, baseline. A host port binds the node's own network
//! interface, bypassing network policies and pinning the pod to nodes where the port is free;
//! `ports[*].hostPort` must be unset or `0`, or one of the ports the settings allow.

use admit_policy_kit::{Node, Request, Settings, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(HostPorts, check);

/// The policy's settings.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct HostPorts {
    /// Host ports containers may use (the "known list" of the Pod Security Standards); none by
    /// default, the recommended setting.
    allowed_ports: Vec<i64>,
}

impl Settings for HostPorts {
    fn check(&self) -> Result<(), String> {
        match self
            .allowed_ports
            .iter()
            .find(|p| !(1..=65535).contains(*p))
        {
            Some(port) => Err(format!(
                "allowedPorts: {port} is not a port number; list ports from 1 to 65535"
            )),
            None => Ok(()),
        }
    }
}

fn check(request: &Request<'_, HostPorts>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    let allowed = &request.settings.allowed_ports;
    // Said once per message so the user sees what would pass without reading the settings.
    let hint = if allowed.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
        format!(" (allowed host ports: {})", list.join(", "))
    };
    for container in spec.containers() {
        let ports = container
            .get("/ports")
            .and_then(Node::as_array)
            .into_iter()
            .flatten();
        for (index, port) in ports.enumerate() {
            let Some(host_port) = port.get("hostPort").and_then(Node::as_i64) else {
                continue;
            };
            // 0 is the API's "no host port".
            if host_port == 0 || allowed.contains(&host_port) {
                continue;
            }
            violations.add(
                container.pointer(&format!("/ports/{index}/hostPort")),
                format!(
                    "{} must not use hostPort {host_port}{hint}",
                    container.label()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::findings;
    use serde_json::{Value, json};

    fn run(kind: &str, object: Value, settings: &HostPorts) -> Vec<(String, String)> {
        findings(check, kind, &object, settings)
    }

    fn pod() -> Value {
        json!({"spec": {
            "containers": [{"name": "web", "ports": [
                {"containerPort": 8080},
                {"containerPort": 8080, "hostPort": 8080},
                {"containerPort": 9090, "hostPort": 0}
            ]}],
            "initContainers": [{"name": "setup", "ports": [{"containerPort": 53, "hostPort": 53}]}]
        }})
    }

    #[test]
    fn reports_each_host_port() {
        assert_eq!(
            run("Pod", pod(), &HostPorts::default()),
            [
                (
                    "/spec/containers/0/ports/1/hostPort".into(),
                    "container \"web\" must not use hostPort 8080".into()
                ),
                (
                    "/spec/initContainers/0/ports/0/hostPort".into(),
                    "init container \"setup\" must not use hostPort 53".into()
                ),
            ]
        );
    }

    #[test]
    fn allowed_ports_pass_and_the_rest_name_them() {
        let settings = HostPorts {
            allowed_ports: vec![53, 443],
        };
        assert_eq!(
            run("Pod", pod(), &settings),
            [(
                "/spec/containers/0/ports/1/hostPort".into(),
                "container \"web\" must not use hostPort 8080 (allowed host ports: 53, 443)".into()
            )]
        );
    }

    #[test]
    fn settings_must_be_port_numbers() {
        let parse = |text: &str| {
            serde_json::from_str::<HostPorts>(text)
                .map_err(|e| e.to_string())
                .and_then(|s| s.check())
        };
        assert_eq!(parse("{}"), Ok(()));
        assert_eq!(parse(r#"{"allowedPorts": [80, 443]}"#), Ok(()));
        assert_eq!(
            parse(r#"{"allowedPorts": [80, 70000]}"#),
            Err("allowedPorts: 70000 is not a port number; list ports from 1 to 65535".into())
        );
        assert_eq!(
            parse(r#"{"allowedPorts": [0]}"#),
            Err("allowedPorts: 0 is not a port number; list ports from 1 to 65535".into())
        );
        assert!(parse(r#"{"allowedports": [80]}"#).is_err());
    }
}
