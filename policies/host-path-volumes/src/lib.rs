//! `host-path-volumes`: Pod Security Standards, baseline. A hostPath volume exposes the node's
//! file system to the pod (its container runtime socket, kubelet credentials, other pods' data);
//! `spec.volumes[*].hostPath` must be unset.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for (pointer, volume) in spec.items("volumes") {
        // `hostPath: null` is how some generators write "unset".
        let Some(host_path) = volume.get("hostPath").filter(|v| !v.is_null()) else {
            continue;
        };
        let name = volume
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let message = match host_path.get("path").and_then(Node::as_str) {
            Some(path) => {
                format!("volume \"{name}\" must not mount a host path (hostPath: {path})")
            }
            None => format!("volume \"{name}\" must not mount a host path (hostPath)"),
        };
        violations.add(format!("{pointer}/hostPath"), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn reports_each_host_path_volume() {
        let found = run(
            check,
            "DaemonSet",
            json!({"spec": {"template": {"spec": {"volumes": [
                {"name": "cache", "emptyDir": {}},
                {"name": "docker", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
                {"name": "odd", "hostPath": {}},
                {"name": "unset", "hostPath": null}
            ]}}}}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/template/spec/volumes/1/hostPath".into(),
                    "volume \"docker\" must not mount a host path \
                     (hostPath: /var/run/docker.sock)"
                        .into()
                ),
                (
                    "/spec/template/spec/volumes/2/hostPath".into(),
                    "volume \"odd\" must not mount a host path (hostPath)".into()
                ),
            ]
        );
    }

    #[test]
    fn other_volumes_pass() {
        let object = json!({"spec": {"volumes": [
            {"name": "config", "configMap": {"name": "c"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "d"}}
        ]}});
        assert!(run(check, "Pod", object).is_empty());
    }
}
