//! `seccomp-baseline`: Pod Security Standards, baseline. Seccomp filters the system calls a
//! container can make into the shared kernel; the pod and its containers must not turn it off
//! with `securityContext.seccompProfile.type: Unconfined`. Leaving the type unset is fine here
//! (the restricted level requires it: see `seccomp-restricted`).

use admit_policy_kit::{NoSettings, Owner, Request, Violations, shown};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// The restricted field, from the pod spec and from each container.
const TYPE: &str = "/securityContext/seccompProfile/type";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for owner in spec.owners() {
        profile_type(&owner, violations);
    }
}

/// Check `securityContext.seccompProfile.type` of the pod spec or a container. The standard
/// allows unset, `RuntimeDefault` and `Localhost`; anything else is `Unconfined` or a value the
/// API would reject.
fn profile_type(owner: &Owner<'_>, violations: &mut Violations) {
    let Some(value) = owner.get(TYPE).filter(|v| !v.is_null()) else {
        return;
    };
    if !matches!(value.as_str(), Some("RuntimeDefault" | "Localhost")) {
        violations.add(
            owner.pointer(TYPE),
            format!(
                "{} must not use seccomp profile {}; use RuntimeDefault or Localhost",
                owner.label(),
                shown(value)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn reports_unconfined_pods_and_containers() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "securityContext": {"seccompProfile": {"type": "Unconfined"}},
                "containers": [
                    {"name": "web", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
                    {"name": "side", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}
                ],
                "ephemeralContainers": [
                    {"name": "debug", "securityContext": {"seccompProfile": {"type": "unconfined"}}}
                ]
            }}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/securityContext/seccompProfile/type".into(),
                    "pod must not use seccomp profile Unconfined; use RuntimeDefault or Localhost"
                        .into()
                ),
                (
                    "/spec/containers/1/securityContext/seccompProfile/type".into(),
                    "container \"side\" must not use seccomp profile Unconfined; use \
                     RuntimeDefault or Localhost"
                        .into()
                ),
                (
                    "/spec/ephemeralContainers/0/securityContext/seccompProfile/type".into(),
                    "ephemeral container \"debug\" must not use seccomp profile unconfined; use \
                     RuntimeDefault or Localhost"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn unset_runtime_default_and_localhost_pass() {
        let object = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {"name": "a"},
                {"name": "b", "securityContext": {"seccompProfile": {
                    "type": "Localhost", "localhostProfile": "profiles/b.json"}}},
                {"name": "c", "securityContext": {"seccompProfile": {}}}
            ]
        }}}}}});
        assert!(run(check, "CronJob", object).is_empty());
    }
}
