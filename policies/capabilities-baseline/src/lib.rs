//! `capabilities-baseline`: Pod Security Standards, baseline. Each capability beyond the
//! container runtime's default set widens what a compromised process can do to the node; every
//! entry of `securityContext.capabilities.add` must be one of the baseline set.

use admit_policy_kit::{NoSettings, Node, Request, Violations, shown};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// The capabilities the baseline level lets a container add, as the Pod Security Standards list
/// them. Compared exactly, as Pod Security Admission does: `CAP_CHOWN` or `chown` is not
/// `CHOWN`.
const BASELINE: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for container in spec.containers() {
        let added = container
            .get("/securityContext/capabilities/add")
            .and_then(Node::as_array)
            .into_iter()
            .flatten();
        for (index, capability) in added.enumerate() {
            // A non-string entry is not a baseline capability either; show it as written.
            let name = shown(capability);
            if !BASELINE.contains(&name.as_str()) {
                violations.add(
                    container.pointer(&format!("/securityContext/capabilities/add/{index}")),
                    format!(
                        "{} adds capability {name}, which is outside the baseline set",
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
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn reports_each_capability_outside_the_set() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "containers": [{"name": "web", "securityContext": {"capabilities": {
                    "add": ["NET_BIND_SERVICE", "NET_ADMIN"], "drop": ["SYS_ADMIN"]
                }}}],
                "initContainers": [{"name": "setup", "securityContext": {"capabilities": {
                    "add": ["SYS_ADMIN"]
                }}}],
                "ephemeralContainers": [{"name": "debug", "securityContext": {"capabilities": {
                    "add": ["CAP_CHOWN", "SYS_PTRACE"]
                }}}]
            }}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/containers/0/securityContext/capabilities/add/1".into(),
                    "container \"web\" adds capability NET_ADMIN, which is outside the baseline set"
                        .into()
                ),
                (
                    "/spec/initContainers/0/securityContext/capabilities/add/0".into(),
                    "init container \"setup\" adds capability SYS_ADMIN, which is outside the \
                     baseline set"
                        .into()
                ),
                (
                    "/spec/ephemeralContainers/0/securityContext/capabilities/add/0".into(),
                    "ephemeral container \"debug\" adds capability CAP_CHOWN, which is outside \
                     the baseline set"
                        .into()
                ),
                (
                    "/spec/ephemeralContainers/0/securityContext/capabilities/add/1".into(),
                    "ephemeral container \"debug\" adds capability SYS_PTRACE, which is outside \
                     the baseline set"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn the_whole_baseline_set_passes() {
        let object = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "securityContext": {"capabilities": {"add": BASELINE}}},
            {"name": "b", "securityContext": {"capabilities": {"drop": ["ALL"]}}},
            {"name": "c"}
        ]}}}});
        assert!(run(check, "Deployment", object).is_empty());
    }
}
