//! `probes`: best practice. The containers of long-running workloads must tell the kubelet how
//! to check them: a liveness probe, so a hung process is restarted, and a readiness probe, so a
//! Service sends traffic only to a container that can serve it. Run-to-completion pods (Jobs,
//! CronJobs, bare pods that do not restart), init containers and ephemeral containers are exempt.

use admit_policy_kit::{Node, Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

const KNOWN: [&str; 3] = ["livenessProbe", "readinessProbe", "startupProbe"];

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Which of `KNOWN` every container must define.
    required: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            required: vec!["livenessProbe".into(), "readinessProbe".into()],
        }
    }
}

impl admit_policy_kit::Settings for Settings {
    fn check(&self) -> Result<(), String> {
        if self.required.is_empty() {
            return Err(
                "required must list at least one of livenessProbe, readinessProbe, startupProbe"
                    .into(),
            );
        }
        match self.required.iter().find(|r| !KNOWN.contains(&r.as_str())) {
            Some(unknown) => Err(format!(
                "required: unknown entry {unknown:?}; use livenessProbe, readinessProbe or startupProbe"
            )),
            None => Ok(()),
        }
    }
}

fn why(probe: &str) -> &'static str {
    match probe {
        "livenessProbe" => "so the kubelet restarts it when it stops responding",
        "readinessProbe" => "so it receives traffic only when it is ready",
        _ => "so a slow start is not taken for a failure",
    }
}

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    let long_running = match request.kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "ReplicationController" => true,
        // A bare pod runs to completion unless it restarts always (the default).
        "Pod" => matches!(
            spec.get("/restartPolicy").and_then(Node::as_str),
            None | Some("Always")
        ),
        _ => false,
    };
    if !long_running {
        return;
    }
    for container in spec.containers().filter(|c| c.list == "containers") {
        for probe in &request.settings.required {
            if container
                .get(&format!("/{probe}"))
                .is_some_and(|p| !p.is_null())
            {
                continue;
            }
            violations.add(
                container.pointer_or_name(&format!("/{probe}")),
                format!(
                    "{} has no {probe}; add one {}",
                    container.label(),
                    why(probe)
                ),
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

    fn run(kind: &str, settings: Settings, object: Value) -> Vec<(String, String)> {
        findings(check, kind, &object, &settings)
    }

    #[test]
    fn app_containers_of_long_running_workloads_need_probes() {
        let found = run(
            "Deployment",
            Settings::default(),
            json!({"spec": {"template": {"spec": {
                "containers": [
                    {"name": "web", "livenessProbe": {"httpGet": {"path": "/", "port": 80}}},
                ],
                "initContainers": [{"name": "setup"}],
            }}}}),
        );
        assert_eq!(
            found,
            [(
                "/spec/template/spec/containers/0/name".into(),
                "container \"web\" has no readinessProbe; add one so it receives traffic only when it is ready".into()
            )]
        );
    }

    #[test]
    fn run_to_completion_pods_are_exempt() {
        let bare = |policy: &str| json!({"spec": {"restartPolicy": policy, "containers": [{"name": "task"}]}});
        assert!(run("Pod", Settings::default(), bare("Never")).is_empty());
        assert!(run("Pod", Settings::default(), bare("OnFailure")).is_empty());
        assert_eq!(run("Pod", Settings::default(), bare("Always")).len(), 2);
        let job = json!({"spec": {"template": {"spec": {"containers": [{"name": "task"}]}}}});
        assert!(run("Job", Settings::default(), job).is_empty());
    }

    #[test]
    fn required_selects_the_probes() {
        let settings = Settings {
            required: vec!["startupProbe".into()],
        };
        let found = run(
            "StatefulSet",
            settings,
            json!({"spec": {"template": {"spec": {"containers": [{"name": "db"}]}}}}),
        );
        assert_eq!(
            found,
            [(
                "/spec/template/spec/containers/0/name".into(),
                "container \"db\" has no startupProbe; add one so a slow start is not taken for a failure".into()
            )]
        );
        let check = |json: &str| serde_json::from_str::<Settings>(json).unwrap().check();
        assert_eq!(
            check(r#"{"required": ["liveness"]}"#).unwrap_err(),
            "required: unknown entry \"liveness\"; use livenessProbe, readinessProbe or startupProbe"
        );
        assert!(check(r#"{"required": []}"#).is_err());
    }
}
