//! `proc-mount`: Pod Security Standards, baseline. The container runtime masks sensitive parts of
//! `/proc` (kernel keys, timers, sysrq triggers) to shrink the attack surface;
//! `securityContext.procMount` must be unset or `Default` in every container.

use admit_policy_kit::{NoSettings, Request, Violations, shown};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const PROC_MOUNT: &str = "/securityContext/procMount";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for container in spec.containers() {
        let Some(value) = container.get(PROC_MOUNT).filter(|v| !v.is_null()) else {
            continue;
        };
        if value.as_str() != Some("Default") {
            violations.add(
                container.pointer(PROC_MOUNT),
                format!(
                    "{} must not use procMount {}; set it to Default or remove it",
                    container.label(),
                    shown(value)
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
    fn reports_each_unmasked_container() {
        let found = run(
            check,
            "Job",
            json!({"spec": {"template": {"spec": {
                "containers": [
                    {"name": "ok", "securityContext": {"procMount": "Default"}},
                    {"name": "web", "securityContext": {"procMount": "Unmasked"}}
                ],
                "initContainers": [{"name": "setup", "securityContext": {"procMount": "unmasked"}}]
            }}}}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/template/spec/containers/1/securityContext/procMount".into(),
                    "container \"web\" must not use procMount Unmasked; set it to Default or \
                     remove it"
                        .into()
                ),
                (
                    "/spec/template/spec/initContainers/0/securityContext/procMount".into(),
                    "init container \"setup\" must not use procMount unmasked; set it to Default \
                     or remove it"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn unset_and_default_pass() {
        let object = json!({"spec": {"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {"procMount": null}},
            {"name": "c", "securityContext": {"procMount": "Default"}}
        ]}});
        assert!(run(check, "Pod", object).is_empty());
    }
}
