//! `sysctls`: Pod Security Standards, baseline. A sysctl outside the safe set is not isolated to
//! the pod: it can disable security mechanisms or change the kernel for every pod on the node.
//! Each name in `spec.securityContext.sysctls` must be one of the safe set.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// The safe sysctls of the Pod Security Standards, with the Kubernetes version each joined in.
/// Names are compared exactly.
const SAFE: [&str; 10] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    // 1.27
    "net.ipv4.ip_local_reserved_ports",
    // 1.29
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    let sysctls = spec
        .get("/securityContext/sysctls")
        .and_then(Node::as_array)
        .into_iter()
        .flatten()
        .enumerate();
    for (index, sysctl) in sysctls {
        // An item without a name is invalid for the API, not a sysctl this policy can judge.
        let Some(name) = sysctl.get("name").and_then(Node::as_str) else {
            continue;
        };
        if !SAFE.contains(&name) {
            violations.add(
                spec.pointer(&format!("/securityContext/sysctls/{index}")),
                format!("pod must not set sysctl {name}, which is outside the safe set"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::{Value, json};

    #[test]
    fn reports_each_unsafe_sysctl() {
        let found = run(
            check,
            "StatefulSet",
            json!({"spec": {"template": {"spec": {"securityContext": {"sysctls": [
                {"name": "kernel.shm_rmid_forced", "value": "1"},
                {"name": "kernel.msgmax", "value": "65536"},
                {"value": "1"},
                {"name": "net.core.somaxconn", "value": "1024"}
            ]}}}}}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/template/spec/securityContext/sysctls/1".into(),
                    "pod must not set sysctl kernel.msgmax, which is outside the safe set".into()
                ),
                (
                    "/spec/template/spec/securityContext/sysctls/3".into(),
                    "pod must not set sysctl net.core.somaxconn, which is outside the safe set"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn the_safe_set_passes() {
        let sysctls: Vec<Value> = SAFE
            .iter()
            .map(|name| json!({"name": name, "value": "1"}))
            .collect();
        let object = json!({"spec": {"securityContext": {"sysctls": sysctls}}});
        assert!(run(check, "Pod", object).is_empty());
        assert!(run(check, "Pod", json!({"spec": {"securityContext": {}}})).is_empty());
    }
}
