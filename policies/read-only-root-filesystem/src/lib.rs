//! `read-only-root-filesystem`: best practice. Every container must run with
//! `securityContext.readOnlyRootFilesystem: true`, so an intruder cannot drop tools or alter
//! the image's files; the paths an application writes become explicit volumes.

use admit_policy_kit::{NoSettings, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const FIELD: &str = "/securityContext/readOnlyRootFilesystem";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    // The API server rejects readOnlyRootFilesystem on Windows pods.
    if spec.is_windows() {
        return;
    }
    for (container, value) in spec.containers_not_set_to(FIELD, true) {
        let message = match value {
            None => format!(
                "{} must set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where it must write)",
                container.label()
            ),
            Some(value) => format!(
                "{} must set securityContext.readOnlyRootFilesystem: true, not {value}",
                container.label()
            ),
        };
        violations.add(container.pointer_or_name(FIELD), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::findings;
    use serde_json::{Value, json};

    fn run(object: Value) -> Vec<(String, String)> {
        findings(check, "Pod", &object, &NoSettings {})
    }

    #[test]
    fn every_container_must_set_true() {
        let found = run(json!({"spec": {
            "containers": [
                {"name": "web", "securityContext": {"readOnlyRootFilesystem": true}},
                {"name": "cache", "securityContext": {"readOnlyRootFilesystem": false}},
            ],
            "initContainers": [{"name": "setup"}],
        }}));
        assert_eq!(
            found,
            [
                (
                    "/spec/containers/1/securityContext/readOnlyRootFilesystem".into(),
                    "container \"cache\" must set securityContext.readOnlyRootFilesystem: true, not false".into()
                ),
                (
                    "/spec/initContainers/0/name".into(),
                    "init container \"setup\" must set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where it must write)".into()
                ),
            ]
        );
    }

    #[test]
    fn windows_pods_are_exempt() {
        let found =
            run(json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "web"}]}}));
        assert!(found.is_empty());
    }
}
