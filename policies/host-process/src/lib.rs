//! `host-process`: Pod Security Standards, baseline. A Windows HostProcess container runs
//! directly on the node with the host's privileges; `securityContext.windowsOptions.hostProcess`
//! must be unset or `false` for the pod and for every container.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// The restricted field, from the pod spec and from each container.
const HOST_PROCESS: &str = "/securityContext/windowsOptions/hostProcess";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for owner in spec.owners() {
        if owner.get(HOST_PROCESS).and_then(Node::as_bool) == Some(true) {
            let what = if owner.is_pod() { "pod" } else { "container" };
            violations.add(
                owner.pointer(HOST_PROCESS),
                format!(
                    "{} must not run as a Windows HostProcess {what} \
                     (windowsOptions.hostProcess: true)",
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
    fn reports_the_pod_and_each_host_process_container() {
        let found = run(
            check,
            "Deployment",
            json!({"spec": {"template": {"spec": {
                "securityContext": {"windowsOptions": {"hostProcess": true}},
                "containers": [
                    {"name": "ok", "securityContext": {"windowsOptions": {"hostProcess": false}}},
                    {"name": "agent", "securityContext": {"windowsOptions": {"hostProcess": true}}}
                ],
                "initContainers": [
                    {"name": "setup", "securityContext": {"windowsOptions": {"hostProcess": true}}}
                ]
            }}}}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/template/spec/securityContext/windowsOptions/hostProcess".into(),
                    "pod must not run as a Windows HostProcess pod \
                     (windowsOptions.hostProcess: true)"
                        .into()
                ),
                (
                    "/spec/template/spec/containers/1/securityContext/windowsOptions/hostProcess"
                        .into(),
                    "container \"agent\" must not run as a Windows HostProcess container \
                     (windowsOptions.hostProcess: true)"
                        .into()
                ),
                (
                    "/spec/template/spec/initContainers/0/securityContext/windowsOptions/hostProcess"
                        .into(),
                    "init container \"setup\" must not run as a Windows HostProcess container \
                     (windowsOptions.hostProcess: true)"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn unset_false_and_other_kinds_pass() {
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
                json!({"spec": {"securityContext": {"windowsOptions": {"hostProcess": false}},
                    "containers": [{"name": "a", "securityContext": {"windowsOptions": {}}}]}})
            )
            .is_empty()
        );
        assert!(
            run(
                check,
                "Service",
                json!({"spec": {"securityContext": {"windowsOptions": {"hostProcess": true}}}})
            )
            .is_empty()
        );
    }
}
