//! `automount-service-account-token`: best practice. A pod gets its ServiceAccount's API token
//! mounted unless `automountServiceAccountToken: false` is set on the pod spec or on the
//! ServiceAccount; most workloads never call the Kubernetes API, and a mounted token is the
//! first thing an attacker inside the container uses.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    if request.group.is_empty() && request.kind == "ServiceAccount" {
        let pointer = "/automountServiceAccountToken";
        let message = match request.object.pointer(pointer).and_then(Node::as_bool) {
            Some(false) => return,
            Some(true) => {
                "ServiceAccount mounts its token into every pod that uses it; \
                           set automountServiceAccountToken: false and let the pods that \
                           call the Kubernetes API opt in"
            }
            None => {
                "ServiceAccount does not set automountServiceAccountToken, so its token \
                     is mounted into every pod that uses it; add \
                     automountServiceAccountToken: false at the top level of the ServiceAccount"
            }
        };
        violations.add(pointer, message);
        return;
    }
    let Some(spec) = request.pod_spec() else {
        return;
    };
    let relative = "/automountServiceAccountToken";
    // The pod spec is written at a different path in each kind; name it as the user sees it.
    let path = spec.pointer.trim_start_matches('/').replace('/', ".");
    let message = match spec.get(relative).and_then(Node::as_bool) {
        Some(false) => return,
        Some(true) => format!(
            "{path}.automountServiceAccountToken is true; set it to false and mount a \
             projected serviceAccountToken volume only into the container that calls the \
             Kubernetes API"
        ),
        None => format!(
            "the pod mounts its service account token by default; add \
             automountServiceAccountToken: false to {path} unless it calls the Kubernetes API"
        ),
    };
    violations.add(spec.pointer(relative), message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::Violation;
    use admit_policy_kit::testing::{request, violations};
    use serde_json::{Value, json};

    fn run(object: Value) -> Vec<Violation> {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = object["kind"].as_str().unwrap_or_default();
        let request = Request {
            group,
            version,
            ..request(kind, &object, &NoSettings {})
        };
        violations(check, &request)
    }

    fn violation(pointer: &str, message: &str) -> Violation {
        Violation {
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_deployment_without_the_field_is_told_where_to_add_it() {
        let found = run(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "spec": {"template": {"spec": {"containers": [{"name": "web"}]}}}}));
        assert_eq!(
            found,
            [violation(
                "/spec/template/spec/automountServiceAccountToken",
                "the pod mounts its service account token by default; add \
                 automountServiceAccountToken: false to spec.template.spec unless it calls the \
                 Kubernetes API"
            )]
        );
    }

    #[test]
    fn a_cronjob_set_to_true_is_pointed_at_the_value() {
        let found = run(json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                "automountServiceAccountToken": true, "containers": []}}}}}}));
        assert_eq!(
            found,
            [violation(
                "/spec/jobTemplate/spec/template/spec/automountServiceAccountToken",
                "spec.jobTemplate.spec.template.spec.automountServiceAccountToken is true; set \
                 it to false and mount a projected serviceAccountToken volume only into the \
                 container that calls the Kubernetes API"
            )]
        );
    }

    #[test]
    fn false_passes() {
        assert!(
            run(json!({"apiVersion": "v1", "kind": "Pod",
                "spec": {"automountServiceAccountToken": false, "containers": []}}))
            .is_empty()
        );
        assert!(
            run(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "automountServiceAccountToken": false}))
            .is_empty()
        );
    }

    #[test]
    fn service_accounts_must_opt_out() {
        let missing = run(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "web"}}));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].pointer, "/automountServiceAccountToken");
        assert!(
            missing[0]
                .message
                .contains("add automountServiceAccountToken: false")
        );
        let on = run(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "automountServiceAccountToken": true}));
        assert_eq!(on.len(), 1);
        assert!(on[0].message.starts_with("ServiceAccount mounts its token"));
    }

    #[test]
    fn other_kinds_and_malformed_specs_are_ignored() {
        assert!(run(json!({"apiVersion": "v1", "kind": "Service", "spec": {}})).is_empty());
        assert!(run(json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": 3})).is_empty());
        // A string "false" is not the boolean Kubernetes requires: still reported.
        assert_eq!(
            run(json!({"apiVersion": "v1", "kind": "Pod",
                "spec": {"automountServiceAccountToken": "false"}}))
            .len(),
            1
        );
    }
}
