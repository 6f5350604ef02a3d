//! `run-as-non-root`: Pod Security Standards, restricted. Containers must be required to run as
//! non-root users: `runAsNonRoot: true` in the pod's security context (which every container
//! inherits) or in every container's. A container's own value overrides the pod's, so a
//! container's `false` fails even under a pod-level `true`, and the pod-level field must not be
//! `false` at all.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const FIELD: &str = "/securityContext/runAsNonRoot";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    let pod = spec.get(FIELD).filter(|v| !v.is_null());
    let pod_requires = pod.and_then(Node::as_bool) == Some(true);
    if let Some(value) = pod.filter(|_| !pod_requires) {
        violations.add(
            spec.pointer(FIELD),
            format!("the pod must set securityContext.runAsNonRoot: true, not {value}"),
        );
    }
    for (container, value) in spec.containers_not_set_to(FIELD, true) {
        let message = match value {
            // Inheriting a pod-level value: true passes, anything else is the pod's violation,
            // the one node to fix.
            None if pod.is_some() => continue,
            None => format!(
                "{} must set securityContext.runAsNonRoot: true (or set it once in the pod's securityContext)",
                container.label()
            ),
            Some(value) => format!(
                "{} must set securityContext.runAsNonRoot: true, not {value}",
                container.label()
            ),
        };
        violations.add(container.pointer_or_name(FIELD), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn the_pod_level_true_covers_unset_containers_but_not_false_ones() {
        let found = run(
            check,
            "StatefulSet",
            json!({"spec": {"template": {"spec": {
                "securityContext": {"runAsNonRoot": true},
                "containers": [{"name": "db"}, {"name": "root", "securityContext": {"runAsNonRoot": false}}],
            }}}}),
        );
        assert_eq!(
            found,
            [(
                "/spec/template/spec/containers/1/securityContext/runAsNonRoot".into(),
                "container \"root\" must set securityContext.runAsNonRoot: true, not false".into()
            )]
        );
    }

    #[test]
    fn without_the_pod_level_field_every_container_must_set_it() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "containers": [{"name": "web", "securityContext": {"runAsNonRoot": true}}],
                "initContainers": [{"name": "setup"}],
            }}),
        );
        assert_eq!(
            found,
            [(
                "/spec/initContainers/0/name".into(),
                "init container \"setup\" must set securityContext.runAsNonRoot: true (or set it once in the pod's securityContext)".into()
            )]
        );
    }

    #[test]
    fn a_pod_level_false_is_reported_once_even_when_containers_set_true() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "securityContext": {"runAsNonRoot": false},
                "containers": [{"name": "web", "securityContext": {"runAsNonRoot": true}}, {"name": "inherits"}],
            }}),
        );
        assert_eq!(
            found,
            [(
                "/spec/securityContext/runAsNonRoot".into(),
                "the pod must set securityContext.runAsNonRoot: true, not false".into()
            )]
        );
    }
}
