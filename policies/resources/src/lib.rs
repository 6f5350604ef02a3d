//! `resources`: best practice. Containers must declare the CPU and memory they need, so the
//! scheduler can place them and one container cannot starve its neighbours. By default:
//! `requests.cpu`, `requests.memory` and `limits.memory` (a CPU limit throttles even an idle
//! node, so it is opt-in).

use admit_policy_kit::{Node, Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

const KNOWN: [&str; 4] = [
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Which of `KNOWN` every container must set.
    required: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            required: ["requests.cpu", "requests.memory", "limits.memory"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl admit_policy_kit::Settings for Settings {
    fn check(&self) -> Result<(), String> {
        if self.required.is_empty() {
            return Err(
                "required must list at least one of requests.cpu, requests.memory, limits.cpu, limits.memory"
                    .into(),
            );
        }
        match self.required.iter().find(|r| !KNOWN.contains(&r.as_str())) {
            Some(unknown) => Err(format!(
                "required: unknown entry {unknown:?}; use requests.cpu, requests.memory, limits.cpu or limits.memory"
            )),
            None => Ok(()),
        }
    }
}

fn is_set(value: Option<Node<'_>>) -> bool {
    value.is_some_and(|v| !v.is_null())
}

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    // Alphabetical and once each, so a message lists the fields the same way whatever order
    // the settings give them in.
    let mut required: Vec<&str> = request
        .settings
        .required
        .iter()
        .map(String::as_str)
        .collect();
    required.sort_unstable();
    required.dedup();
    // Ephemeral containers may not declare resources at all.
    let containers = spec
        .containers()
        .filter(|c| c.list != "ephemeralContainers");
    for container in containers {
        let resources = container.value.get("resources").filter(|r| r.is_object());
        // Key by key rather than through a pointer: this runs for every container, and only a
        // violation needs a pointer written out.
        let set = |kind: &str, resource: &str| {
            is_set(
                resources
                    .and_then(|r| r.get(kind))
                    .and_then(|k| k.get(resource)),
            )
        };
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|field| match field.split_once('.') {
                // Kubernetes copies a limit into a missing request, so the request is set.
                Some((kind, resource)) => {
                    !(set(kind, resource) || (kind == "requests" && set("limits", resource)))
                }
                None => false,
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        // One violation per container, at the most precise node that holds everything
        // missing: the missing field, the `requests` or `limits` block they all belong under,
        // `resources`, or the container's name when it has no `resources` at all.
        if resources.is_none() {
            violations.add(
                container.pointer_or_name("/resources"),
                format!(
                    "{} has no resources: set {}",
                    container.label(),
                    missing.join(", ")
                ),
            );
            continue;
        }
        let fields: Vec<String> = missing.iter().map(|m| format!("resources.{m}")).collect();
        violations.add(
            container.pointer(&common_pointer(&missing)),
            format!("{} must set {}", container.label(), fields.join(", ")),
        );
    }
}

/// The pointer, from the container, of the node that holds every field of `missing`
/// (`requests.cpu`, ...): the field itself when only one is missing, else the `requests` or
/// `limits` block they share, else `resources`.
fn common_pointer(missing: &[&str]) -> String {
    let kinds: Vec<&str> = missing
        .iter()
        .filter_map(|field| field.split_once('.').map(|(kind, _)| kind))
        .collect();
    match (missing, kinds.split_first()) {
        ([field], _) => format!("/resources/{}", field.replace('.', "/")),
        (_, Some((first, rest))) if rest.iter().all(|kind| kind == first) => {
            format!("/resources/{first}")
        }
        _ => "/resources".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::Settings as _;
    use admit_policy_kit::testing::findings;
    use serde_json::{Value, json};

    fn run(settings: Settings, object: Value) -> Vec<(String, String)> {
        findings(check, "Pod", &object, &settings)
    }

    #[test]
    fn the_default_requires_requests_and_a_memory_limit() {
        let found = run(
            Settings::default(),
            json!({"spec": {
                "containers": [
                    {"name": "full", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}},
                    {"name": "limits-only", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
                    {"name": "bare"},
                ],
                "initContainers": [{"name": "setup", "resources": {"requests": {"cpu": "10m"}}}],
                "ephemeralContainers": [{"name": "debug"}],
            }}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/containers/2/name".into(),
                    "container \"bare\" has no resources: set limits.memory, requests.cpu, requests.memory"
                        .into()
                ),
                (
                    "/spec/initContainers/0/resources".into(),
                    "init container \"setup\" must set resources.limits.memory, resources.requests.memory"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn one_violation_per_container_at_the_most_precise_node() {
        let settings = Settings {
            required: vec!["requests.memory".into(), "requests.cpu".into()],
        };
        let found = run(
            settings,
            json!({"spec": {"containers": [
                {"name": "one", "resources": {"requests": {"cpu": "1"}}},
                {"name": "block", "resources": {"requests": {}}},
                {"name": "empty", "resources": {}},
                {"name": "null", "resources": null},
                {"image": "nameless"},
            ]}}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/containers/0/resources/requests/memory".into(),
                    "container \"one\" must set resources.requests.memory".into()
                ),
                (
                    "/spec/containers/1/resources/requests".into(),
                    "container \"block\" must set resources.requests.cpu, resources.requests.memory"
                        .into()
                ),
                (
                    "/spec/containers/2/resources/requests".into(),
                    "container \"empty\" must set resources.requests.cpu, resources.requests.memory"
                        .into()
                ),
                (
                    "/spec/containers/3/name".into(),
                    "container \"null\" has no resources: set requests.cpu, requests.memory"
                        .into()
                ),
                (
                    "/spec/containers/4/resources".into(),
                    "container \"\" has no resources: set requests.cpu, requests.memory".into()
                ),
            ]
        );
    }

    #[test]
    fn required_selects_the_fields() {
        let settings = Settings {
            required: vec!["limits.cpu".into(), "limits.cpu".into()],
        };
        let found = run(
            settings,
            json!({"spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "1"}}}]}}),
        );
        assert_eq!(
            found,
            [(
                "/spec/containers/0/resources/limits/cpu".into(),
                "container \"web\" must set resources.limits.cpu".into()
            )]
        );
    }

    #[test]
    fn an_old_api_version_workload_is_checked() {
        let object = json!({"apiVersion": "extensions/v1beta1", "kind": "DaemonSet",
            "spec": {"template": {"spec": {"containers": [{"name": "agent"}]}}}});
        let settings = Settings::default();
        let request = Request {
            group: "extensions",
            version: "v1beta1",
            ..admit_policy_kit::testing::request("DaemonSet", &object, &settings)
        };
        let found = admit_policy_kit::testing::violations(check, &request);
        assert_eq!(
            found.iter().map(|v| v.pointer.as_str()).collect::<Vec<_>>(),
            ["/spec/template/spec/containers/0/name"]
        );
    }

    #[test]
    fn settings_name_known_fields() {
        let check = |json: &str| serde_json::from_str::<Settings>(json).unwrap().check();
        assert!(check("{}").is_ok());
        assert_eq!(
            check(r#"{"required": ["limits.gpu"]}"#).unwrap_err(),
            "required: unknown entry \"limits.gpu\"; use requests.cpu, requests.memory, limits.cpu or limits.memory"
        );
        assert!(check(r#"{"required": []}"#).is_err());
    }
}
