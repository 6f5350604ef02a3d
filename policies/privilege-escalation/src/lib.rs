//! `privilege-escalation`: Pod Security Standards, restricted. A process must not gain more
//! privileges than its parent (set-user-ID binaries, file capabilities): every container must
//! set `securityContext.allowPrivilegeEscalation: false` explicitly, since unset means allowed.

use admit_policy_kit::{NoSettings, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const FIELD: &str = "/securityContext/allowPrivilegeEscalation";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    // The standard makes this control Linux-only since v1.25.
    if spec.is_windows() {
        return;
    }
    for (container, value) in spec.containers_not_set_to(FIELD, false) {
        let message = match value {
            None => format!(
                "{} must set securityContext.allowPrivilegeEscalation: false",
                container.label()
            ),
            Some(_) => format!(
                "{} must not allow privilege escalation; set securityContext.allowPrivilegeEscalation: false",
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
    fn every_container_must_set_false() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "containers": [
                    {"name": "ok", "securityContext": {"allowPrivilegeEscalation": false}},
                    {"name": "web", "securityContext": {"allowPrivilegeEscalation": true}},
                ],
                "initContainers": [{"name": "setup"}],
                "ephemeralContainers": [{"name": "debug", "securityContext": {}}],
            }}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/containers/1/securityContext/allowPrivilegeEscalation".into(),
                    "container \"web\" must not allow privilege escalation; set securityContext.allowPrivilegeEscalation: false".into()
                ),
                (
                    "/spec/initContainers/0/name".into(),
                    "init container \"setup\" must set securityContext.allowPrivilegeEscalation: false".into()
                ),
                (
                    "/spec/ephemeralContainers/0/securityContext/allowPrivilegeEscalation".into(),
                    "ephemeral container \"debug\" must set securityContext.allowPrivilegeEscalation: false".into()
                ),
            ]
        );
    }

    #[test]
    fn windows_pods_and_other_kinds_are_exempt() {
        let windows = json!({"spec": {"template": {"spec": {
            "os": {"name": "windows"},
            "containers": [{"name": "web"}],
        }}}});
        assert!(run(check, "Deployment", windows).is_empty());
        assert!(run(check, "Service", json!({"spec": {"containers": [{}]}})).is_empty());
    }
}
