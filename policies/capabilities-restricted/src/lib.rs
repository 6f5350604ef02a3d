//! `capabilities-restricted`: Pod Security Standards, restricted. Every container must drop
//! `ALL` capabilities and may add back only `NET_BIND_SERVICE`.

use admit_policy_kit::{NoSettings, Node, Request, Violations};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const DROP: &str = "/securityContext/capabilities/drop";
const ADD: &str = "/securityContext/capabilities/add";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    // The standard makes this control Linux-only since v1.25.
    if spec.is_windows() {
        return;
    }
    for container in spec.containers() {
        let dropped: Vec<Node<'_>> = container
            .get(DROP)
            .and_then(Node::as_array)
            .into_iter()
            .flatten()
            .collect();
        if !dropped.iter().any(|c| c.as_str() == Some("ALL")) {
            // Container runtimes accept "all", but the standard (and Pod Security admission)
            // accept only "ALL": point at the near miss so the fix is obvious.
            let near_miss = dropped
                .iter()
                .position(|c| c.as_str().is_some_and(|c| c.eq_ignore_ascii_case("all")));
            match near_miss {
                Some(index) => violations.add(
                    container.pointer(&format!("{DROP}/{index}")),
                    format!(
                        "{} must drop ALL capabilities, written in capitals",
                        container.label()
                    ),
                ),
                None => violations.add(
                    container.pointer_or_name(DROP),
                    format!(
                        "{} must drop ALL capabilities; list ALL in securityContext.capabilities.drop",
                        container.label()
                    ),
                ),
            }
        }
        let added = container.get(ADD).and_then(Node::as_array);
        for (index, capability) in added.into_iter().flatten().enumerate() {
            if capability.as_str() != Some("NET_BIND_SERVICE") {
                let name = capability
                    .as_str()
                    .map_or(capability.to_string(), |c| format!("{c:?}"));
                violations.add(
                    container.pointer(&format!("{ADD}/{index}")),
                    format!(
                        "{} must not add capability {name}; only NET_BIND_SERVICE may be added",
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
    fn drop_all_and_net_bind_service_pass() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {"containers": [{"name": "web", "securityContext": {"capabilities": {
                "drop": ["NET_RAW", "ALL"], "add": ["NET_BIND_SERVICE"]
            }}}]}}),
        );
        assert!(found.is_empty());
    }

    #[test]
    fn missing_drops_and_extra_adds_are_reported_at_their_nodes() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "containers": [
                    {"name": "web", "securityContext": {"capabilities": {"drop": ["NET_RAW"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}},
                    {"name": "lower", "securityContext": {"capabilities": {"drop": ["all"]}}},
                ],
                "initContainers": [{"name": "setup"}],
            }}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/containers/0/securityContext/capabilities/drop".into(),
                    "container \"web\" must drop ALL capabilities; list ALL in securityContext.capabilities.drop".into()
                ),
                (
                    "/spec/containers/0/securityContext/capabilities/add/1".into(),
                    "container \"web\" must not add capability \"SYS_ADMIN\"; only NET_BIND_SERVICE may be added".into()
                ),
                (
                    "/spec/containers/1/securityContext/capabilities/drop/0".into(),
                    "container \"lower\" must drop ALL capabilities, written in capitals".into()
                ),
                (
                    "/spec/initContainers/0/name".into(),
                    "init container \"setup\" must drop ALL capabilities; list ALL in securityContext.capabilities.drop".into()
                ),
            ]
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
