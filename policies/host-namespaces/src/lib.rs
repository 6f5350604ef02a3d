//! `host-namespaces`: Pod Security Standards, baseline. A pod that shares the node's network,
//! process ID or IPC namespace can see and reach what other pods and the node itself keep
//! private; `hostNetwork`, `hostPID` and `hostIPC` must be unset or `false`.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// Each restricted pod spec field and what setting it shares.
const NAMESPACES: [(&str, &str); 3] = [
    ("hostNetwork", "the host network"),
    ("hostPID", "the host process ID namespace"),
    ("hostIPC", "the host IPC namespace"),
];

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for (field, what) in NAMESPACES {
        if spec.value.get(field).and_then(Node::as_bool) == Some(true) {
            violations.add(
                spec.pointer(&format!("/{field}")),
                format!("pod must not share {what} ({field}: true)"),
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
    fn reports_each_shared_namespace() {
        let found = run(
            check,
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "hostNetwork": true, "hostPID": true, "hostIPC": true, "containers": []
            }}}}}}),
        );
        let base = "/spec/jobTemplate/spec/template/spec";
        assert_eq!(
            found,
            [
                (
                    format!("{base}/hostNetwork"),
                    "pod must not share the host network (hostNetwork: true)".into()
                ),
                (
                    format!("{base}/hostPID"),
                    "pod must not share the host process ID namespace (hostPID: true)".into()
                ),
                (
                    format!("{base}/hostIPC"),
                    "pod must not share the host IPC namespace (hostIPC: true)".into()
                ),
            ]
        );
    }

    #[test]
    fn unset_and_false_pass() {
        assert!(
            run(
                check,
                "Pod",
                json!({"spec": {"containers": [{"name": "a"}]}})
            )
            .is_empty()
        );
        assert!(
            run(
                check,
                "Pod",
                json!({"spec": {"hostNetwork": false, "hostPID": false, "hostIPC": false}})
            )
            .is_empty()
        );
    }
}
