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
    // Ephemeral containers may not declare resources at all.
    let containers = spec
        .containers()
        .filter(|c| c.list != "ephemeralContainers");
    for container in containers {
        for required in &request.settings.required {
            let Some((kind, resource)) = required.split_once('.') else {
                continue;
            };
            // Key by key rather than through a pointer: this runs for every container, and
            // only a violation needs the pointer written out.
            let set = |kind: &str| {
                is_set(
                    container
                        .value
                        .get("resources")
                        .and_then(|r| r.get(kind))
                        .and_then(|k| k.get(resource)),
                )
            };
            // Kubernetes copies a limit into a missing request, so the request is set.
            if set(kind) || (kind == "requests" && set("limits")) {
                continue;
            }
            violations.add(
                container.pointer(&format!("/resources/{kind}/{resource}")),
                format!("{} must set resources.{required}", container.label()),
            );
        }
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
                    "/spec/containers/2/resources/requests/cpu".into(),
                    "container \"bare\" must set resources.requests.cpu".into()
                ),
                (
                    "/spec/containers/2/resources/requests/memory".into(),
                    "container \"bare\" must set resources.requests.memory".into()
                ),
                (
                    "/spec/containers/2/resources/limits/memory".into(),
                    "container \"bare\" must set resources.limits.memory".into()
                ),
                (
                    "/spec/initContainers/0/resources/requests/memory".into(),
                    "init container \"setup\" must set resources.requests.memory".into()
                ),
                (
                    "/spec/initContainers/0/resources/limits/memory".into(),
                    "init container \"setup\" must set resources.limits.memory".into()
                ),
            ]
        );
    }

    #[test]
    fn required_selects_the_fields() {
        let settings = Settings {
            required: vec!["limits.cpu".into()],
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
