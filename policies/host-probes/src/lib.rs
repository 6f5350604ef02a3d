//! `host-probes`: Pod Security Standards, baseline (v1.34+). The kubelet runs probes and
//! lifecycle hooks from the node; a `host` in their `httpGet` or `tcpSocket` action points it at
//! any address the node can reach, so the field must be unset or empty.

use admit_policy_kit::{NoSettings, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// Every handler the standard lists, as a pointer from the container and the name messages use.
const HANDLERS: [(&str, &str); 5] = [
    ("/livenessProbe", "livenessProbe"),
    ("/readinessProbe", "readinessProbe"),
    ("/startupProbe", "startupProbe"),
    ("/lifecycle/postStart", "lifecycle.postStart"),
    ("/lifecycle/preStop", "lifecycle.preStop"),
];

const ACTIONS: [&str; 2] = ["httpGet", "tcpSocket"];

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for container in spec.containers() {
        for (handler, name) in HANDLERS {
            let Some(probe) = container.get(handler) else {
                continue;
            };
            for action in ACTIONS {
                let Some(value) = probe
                    .get(action)
                    .and_then(|a| a.get("host"))
                    .filter(|v| !v.is_null())
                else {
                    continue;
                };
                let field = format!("{handler}/{action}/host");
                let host = match value.as_str() {
                    Some("") => continue,
                    Some(host) => host.to_string(),
                    None => value.to_string(),
                };
                violations.add(
                    container.pointer(&field),
                    format!(
                        "{} must not send its {name} {action} to host \"{host}\"; remove host so the kubelet probes the pod itself",
                        container.label()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::findings;
    use serde_json::json;

    #[test]
    fn reports_each_host_in_probes_and_hooks_of_every_container_list() {
        let pod = json!({"spec": {
            "containers": [{
                "name": "web",
                "livenessProbe": {"httpGet": {"path": "/", "port": 80, "host": "10.0.0.1"}},
                "readinessProbe": {"tcpSocket": {"port": 80, "host": ""}},
                "lifecycle": {"preStop": {"httpGet": {"port": 80, "host": "metadata.internal"}}}
            }],
            "initContainers": [{"name": "setup", "startupProbe": {"tcpSocket": {"port": 5432, "host": "db"}}}]
        }});
        assert_eq!(
            findings(check, "Pod", &pod, &NoSettings {}),
            [
                (
                    "/spec/containers/0/livenessProbe/httpGet/host".to_string(),
                    "container \"web\" must not send its livenessProbe httpGet to host \"10.0.0.1\"; remove host so the kubelet probes the pod itself".to_string()
                ),
                (
                    "/spec/containers/0/lifecycle/preStop/httpGet/host".to_string(),
                    "container \"web\" must not send its lifecycle.preStop httpGet to host \"metadata.internal\"; remove host so the kubelet probes the pod itself".to_string()
                ),
                (
                    "/spec/initContainers/0/startupProbe/tcpSocket/host".to_string(),
                    "init container \"setup\" must not send its startupProbe tcpSocket to host \"db\"; remove host so the kubelet probes the pod itself".to_string()
                ),
            ]
        );
    }

    #[test]
    fn probes_without_host_pass() {
        let pod = json!({"spec": {"containers": [{
            "name": "web",
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
            "lifecycle": {"postStart": {"exec": {"command": ["true"]}}}
        }]}});
        assert!(findings(check, "Pod", &pod, &NoSettings {}).is_empty());
    }
}
