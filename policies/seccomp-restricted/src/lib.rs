//! `seccomp-restricted`: Pod Security Standards, restricted. The seccomp profile must be set
//! explicitly to `RuntimeDefault` or `Localhost`: once in the pod's security context, which
//! containers inherit, or in every container's. `Unconfined` and the absence of a profile are
//! both prohibited.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const PROFILE: &str = "/securityContext/seccompProfile";
const TYPE: &str = "/securityContext/seccompProfile/type";
const ALLOWED: [&str; 2] = ["RuntimeDefault", "Localhost"];

/// What is wrong with a profile that is set (`seccompProfile` present), if anything.
fn problem(profile_type: Option<Node<'_>>) -> Option<String> {
    match profile_type.and_then(Node::as_str) {
        Some(t) if ALLOWED.contains(&t) => None,
        Some(t) => Some(format!(
            "must not use the seccomp profile {t:?}; set securityContext.seccompProfile.type to RuntimeDefault or Localhost"
        )),
        None => Some(
            "must set securityContext.seccompProfile.type to RuntimeDefault or Localhost".into(),
        ),
    }
}

fn is_set(value: Option<Node<'_>>) -> bool {
    value.is_some_and(|v| !v.is_null())
}

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    // The standard makes this control Linux-only since v1.25.
    if spec.is_windows() {
        return;
    }
    let pod_set = is_set(spec.get(PROFILE));
    if pod_set && let Some(problem) = problem(spec.get(TYPE)) {
        violations.add(spec.pointer(TYPE), format!("the pod {problem}"));
    }
    for container in spec.containers() {
        if is_set(container.get(PROFILE)) {
            if let Some(problem) = problem(container.get(TYPE)) {
                violations.add(
                    container.pointer(TYPE),
                    format!("{} {problem}", container.label()),
                );
            }
        } else if !pod_set {
            // A container inheriting a bad pod-level profile is already covered by the pod's
            // violation, which is the one node to fix; only an unset pod profile leaves the
            // container itself to blame.
            violations.add(
                container.pointer_or_name(TYPE),
                format!(
                    "{} must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (or set it once in the pod's securityContext)",
                    container.label()
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
    fn a_pod_level_profile_covers_every_container() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "web"}],
                "initContainers": [{"name": "setup", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}}],
            }}),
        );
        assert!(found.is_empty());
    }

    #[test]
    fn without_a_pod_level_profile_every_container_needs_one() {
        let found = run(
            check,
            "DaemonSet",
            json!({"spec": {"template": {"spec": {
                "containers": [
                    {"name": "agent", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
                    {"name": "open", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
                    {"name": "bare"},
                    {"name": "typeless", "securityContext": {"seccompProfile": {}}},
                    {"name": "other", "securityContext": {"runAsNonRoot": true}},
                ],
            }}}}),
        );
        let base = "/spec/template/spec/containers";
        assert_eq!(
            found,
            [
                (
                    format!("{base}/1/securityContext/seccompProfile/type"),
                    "container \"open\" must not use the seccomp profile \"Unconfined\"; set securityContext.seccompProfile.type to RuntimeDefault or Localhost".into()
                ),
                (
                    format!("{base}/2/name"),
                    "container \"bare\" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (or set it once in the pod's securityContext)".into()
                ),
                (
                    format!("{base}/3/securityContext/seccompProfile/type"),
                    "container \"typeless\" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost".into()
                ),
                (
                    format!("{base}/4/securityContext/seccompProfile/type"),
                    "container \"other\" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (or set it once in the pod's securityContext)".into()
                ),
            ]
        );
    }

    #[test]
    fn an_unconfined_pod_is_reported_once_at_the_pod() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "securityContext": {"seccompProfile": {"type": "Unconfined"}},
                "containers": [{"name": "web"}],
            }}),
        );
        assert_eq!(
            found,
            [(
                "/spec/securityContext/seccompProfile/type".into(),
                "the pod must not use the seccomp profile \"Unconfined\"; set securityContext.seccompProfile.type to RuntimeDefault or Localhost".into()
            )]
        );
    }

    #[test]
    fn windows_pods_are_exempt() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {"os": {"name": "windows"}, "containers": [{"name": "web"}]}}),
        );
        assert!(found.is_empty());
    }
}
