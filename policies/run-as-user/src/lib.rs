//! `run-as-user`: Pod Security Standards, restricted. Containers must not run as user 0:
//! `runAsUser` may be unset or any non-zero value, in the pod's security context and in every
//! container's.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const FIELD: &str = "/securityContext/runAsUser";

/// `0` written as an integer or, leniently, as `0.0`.
fn is_root(value: Option<Node<'_>>) -> bool {
    value.and_then(Node::as_f64) == Some(0.0)
}

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    // The pod's value is reported even when every container overrides it: the standard forbids
    // the value itself, and a container added later would inherit it.
    for owner in spec.owners() {
        if is_root(owner.get(FIELD)) {
            let the = if owner.is_pod() { "the " } else { "" };
            violations.add(
                owner.pointer(FIELD),
                format!(
                    "{the}{} must not set securityContext.runAsUser: 0; use a non-zero user ID",
                    owner.label()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn user_zero_is_reported_at_pod_and_container_level() {
        let found = run(
            check,
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "securityContext": {"runAsUser": 0},
                "containers": [
                    {"name": "job", "securityContext": {"runAsUser": 1000}},
                    {"name": "root", "securityContext": {"runAsUser": 0}},
                ],
                "ephemeralContainers": [{"name": "debug", "securityContext": {"runAsUser": 0}}],
            }}}}}}),
        );
        let base = "/spec/jobTemplate/spec/template/spec";
        assert_eq!(
            found,
            [
                (
                    format!("{base}/securityContext/runAsUser"),
                    "the pod must not set securityContext.runAsUser: 0; use a non-zero user ID"
                        .into()
                ),
                (
                    format!("{base}/containers/1/securityContext/runAsUser"),
                    "container \"root\" must not set securityContext.runAsUser: 0; use a non-zero user ID".into()
                ),
                (
                    format!("{base}/ephemeralContainers/0/securityContext/runAsUser"),
                    "ephemeral container \"debug\" must not set securityContext.runAsUser: 0; use a non-zero user ID".into()
                ),
            ]
        );
    }

    #[test]
    fn unset_and_non_zero_users_pass() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "securityContext": {"runAsUser": 65532},
                "containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsUser": 1}}],
            }}),
        );
        assert!(found.is_empty());
    }
}
