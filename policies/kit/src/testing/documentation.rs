//! A policy's `README.md`, which `admit explain` prints, checked against the policy itself: its
//! title and header line (category, Pod Security Standards level, risk, presets) must say
//! what `metadata.json` says, and its failing example must fail.
//!
//! The header line reads
//! `Pod Security Standards: **baseline** · risk **high** · presets `baseline`, `restricted``
//! or `Best practice · risk **low** · presets: none (opt-in)`; a note in parentheses may
//! follow the level. The failing example is the first ```` ```yaml ```` block of the
//! "## Failing example" section, run with the settings of a "With `{...}`:" line before it, or
//! the defaults.

use serde_json::{Map, Value, json};

use kubewarden_policy_sdk::wapc_guest::CallResult;

use crate::entry::{Check, Settings, validate, validate_settings};

const TITLE: &str = "io.kubewarden.policy.title";
const CATEGORY: &str = "io.kubewarden.policy.category";
const SEVERITY: &str = "io.kubewarden.policy.severity";
const PSS_LEVEL: &str = "admit.dev/pss-level";
const PRESETS: &str = "admit.dev/presets";

/// The kinds without a namespace that failing examples use: their requests have none, as
/// admit's have.
const CLUSTER_SCOPED: [&str; 3] = ["ClusterRole", "ClusterRoleBinding", "Namespace"];

/// Check `readme` against `metadata` (the texts of the policy's `README.md` and
/// `metadata.json`) and `check`; panic with what disagrees.
pub fn documentation<S: Settings>(check: Check<S>, readme: &str, metadata: &str) {
    if let Err(problem) = disagreement(check, readme, metadata) {
        panic!("{problem}");
    }
}

/// What in `readme` disagrees with `metadata` or `check`, if anything.
fn disagreement<S: Settings>(check: Check<S>, readme: &str, metadata: &str) -> Result<(), String> {
    let metadata: Value =
        serde_json::from_str(metadata).map_err(|e| format!("metadata.json: {e}"))?;
    let annotation = |key: &str| {
        metadata["annotations"][key]
            .as_str()
            .ok_or_else(|| format!("metadata.json has no {key} annotation"))
    };
    let id = annotation(TITLE)?;
    let mut lines = readme.lines().filter(|line| !line.trim().is_empty());
    ensure(lines.next() == Some(format!("# {id}").as_str()), || {
        format!("{id}: the README's title is not `# {id}`")
    })?;
    let header = lines.next().unwrap_or_default();
    let level = match annotation(PSS_LEVEL) {
        Ok(level) => format!("{}: **{level}**", annotation(CATEGORY)?),
        Err(_) => annotation(CATEGORY)?.to_string(),
    };
    let presets = annotation(PRESETS).unwrap_or_default();
    header_agrees(header, &level, annotation(SEVERITY)?, presets)
        .map_err(|problem| format!("{id}: README header {header:?}: {problem}"))?;
    failing_example_fails(check, readme).map_err(|problem| format!("{id}: {problem}"))
}

/// `Err(problem)` unless `condition`.
fn ensure(condition: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(problem()) }
}

/// Whether the header line says `level` (the category and any Pod Security Standards level,
/// which a note in parentheses may follow), `severity` (the `io.kubewarden.policy.severity`
/// annotation, which admit shows as the risk) and the comma-separated `presets`.
fn header_agrees(header: &str, level: &str, severity: &str, presets: &str) -> Result<(), String> {
    let parts: Vec<&str> = header.split(" · ").collect();
    let [lead, severity_part, presets_part] = parts[..] else {
        return Err("not `category · risk · presets`".to_string());
    };
    let note = lead.strip_prefix(level);
    ensure(
        note.is_some_and(|note| note.is_empty() || note.starts_with(" (") && note.ends_with(')')),
        || format!("metadata.json says {level:?}"),
    )?;
    let expected = format!("risk **{severity}**");
    ensure(severity_part == expected, || {
        format!("metadata.json says {expected:?}")
    })?;
    let listed: Vec<String> = presets
        .split(',')
        .map(str::trim)
        .filter(|preset| !preset.is_empty())
        .map(|preset| format!("`{preset}`"))
        .collect();
    let expected = if listed.is_empty() {
        "presets: none (opt-in)".to_string()
    } else {
        format!("presets {}", listed.join(", "))
    };
    ensure(presets_part == expected, || {
        format!("metadata.json says {expected:?}")
    })
}

/// Run the README's failing example through `validate`, as a module's `validate` would see it,
/// and require a rejection.
fn failing_example_fails<S: Settings>(check: Check<S>, readme: &str) -> Result<(), String> {
    let section = readme
        .split("\n## ")
        .find(|section| section.starts_with("Failing example\n"))
        .ok_or("the README has no \"## Failing example\" section")?;
    let settings = section
        .lines()
        .find_map(|line| line.strip_prefix("With `")?.strip_suffix("`:"))
        .unwrap_or("{}");
    let yaml = section
        .split_once("```yaml\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(yaml, _)| yaml)
        .ok_or("the failing example has no ```yaml block")?;
    let example: Value = serde_saphyr::from_str(yaml)
        .map_err(|e| format!("the failing example is not YAML: {e}"))?;
    let settings: Value = serde_json::from_str(settings)
        .map_err(|e| format!("the failing example's settings are not JSON: {e}"))?;

    let answer = json_answer(validate_settings::<S>(settings.to_string().as_bytes()))?;
    ensure(answer["valid"] == true, || {
        format!("the failing example's settings {settings} are invalid: {answer}")
    })?;
    let payload = json!({"request": admission_request(&example), "settings": settings});
    let answer = json_answer(validate::<S>(payload.to_string().as_bytes(), check))?;
    ensure(answer["accepted"] == false, || {
        format!("the README's failing example is accepted:\n{yaml}")
    })?;
    ensure(
        answer["violations"]
            .as_array()
            .is_some_and(|v| !v.is_empty()),
        || format!("the failing example is rejected without violations: {answer}"),
    )
}

/// A handler's answer as JSON.
fn json_answer(result: CallResult) -> Result<Value, String> {
    let bytes = result.map_err(|e| format!("the policy answered with an error: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("the policy's answer is not JSON: {e}"))
}

/// The AdmissionRequest of an example, as admit builds one for a manifest: kind, group and
/// version from `kind` and `apiVersion` (a Pod of `v1` when they are left out), the namespace
/// from `metadata.namespace` or `default` for a namespaced kind. An example that is only a pod
/// spec's excerpt (it lists `containers` at its top) is the spec of a Pod.
fn admission_request(example: &Value) -> Value {
    let object = if example.get("kind").is_none() && example.get("containers").is_some() {
        json!({ "spec": example })
    } else {
        example.clone()
    };
    let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
    let kind = text("/kind").unwrap_or("Pod");
    let (group, version) = match text("/apiVersion") {
        Some(api_version) => api_version.split_once('/').unwrap_or(("", api_version)),
        None => ("", "v1"),
    };
    let mut request = Map::new();
    request.insert(
        "kind".into(),
        json!({"group": group, "version": version, "kind": kind}),
    );
    if !CLUSTER_SCOPED.contains(&kind) {
        let namespace = text("/metadata/namespace").unwrap_or("default");
        request.insert("namespace".into(), json!(namespace));
    }
    request.insert("object".into(), object.clone());
    Value::Object(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::NoSettings;
    use crate::payload::Request;
    use crate::violations::Violations;

    const METADATA: &str = r#"{"annotations": {
        "io.kubewarden.policy.title": "privileged",
        "io.kubewarden.policy.severity": "high",
        "io.kubewarden.policy.category": "Pod Security Standards",
        "admit.dev/pss-level": "baseline",
        "admit.dev/presets": "baseline,restricted"
    }}"#;

    const README: &str = "# privileged

Pod Security Standards: **baseline** (v1.34+) · risk **high** · presets `baseline`, `restricted`

## Failing example
```yaml
spec:
  containers:
    - name: web
      securityContext:
        privileged: true
```

## Fix
Do not.
";

    /// Reports privileged containers of Pods, and the request's namespace on other kinds.
    fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
        let Some(spec) = request.pod_spec() else {
            violations.add("", format!("{} in {:?}", request.kind, request.namespace));
            return;
        };
        for container in spec.containers() {
            if container
                .get("/securityContext/privileged")
                .map(|v| v.to_string())
                == Some("true".into())
            {
                violations.add(container.pointer(""), "privileged");
            }
        }
    }

    fn passes(readme: &str, metadata: &str) -> bool {
        disagreement::<NoSettings>(check, readme, metadata).is_ok()
    }

    #[test]
    fn a_readme_that_agrees_passes() {
        documentation::<NoSettings>(check, README, METADATA);
    }

    #[test]
    fn a_drifted_header_fails() {
        for (from, to) in [
            ("**high**", "**medium**"),
            ("`baseline`, `restricted`", "`restricted`"),
            ("`baseline`, `restricted`", ": none (opt-in)"),
            ("**baseline** (v1.34+)", "**restricted**"),
            ("Pod Security Standards", "Best practice"),
            ("# privileged", "# privilege"),
        ] {
            assert!(!passes(&README.replace(from, to), METADATA), "{to}");
        }
        let opt_in = METADATA.replace("baseline,restricted", "");
        assert!(!passes(README, &opt_in));
        let opt_in_readme =
            README.replace("presets `baseline`, `restricted`", "presets: none (opt-in)");
        assert!(passes(&opt_in_readme, &opt_in));
    }

    #[test]
    fn an_example_that_passes_fails() {
        assert!(!passes(
            &README.replace("privileged: true", "privileged: false"),
            METADATA
        ));
        assert!(!passes(&README.replace("```yaml", "```"), METADATA));
    }

    #[test]
    fn examples_become_requests_as_admit_builds_them() {
        let request = |yaml: &str| admission_request(&serde_saphyr::from_str(yaml).unwrap());
        assert_eq!(
            request("spec:\n  containers: []\n"),
            json!({"kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "default",
                   "object": {"spec": {"containers": []}}})
        );
        assert_eq!(
            request("      containers:\n        - name: web\n"),
            json!({"kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "default",
                   "object": {"spec": {"containers": [{"name": "web"}]}}})
        );
        assert_eq!(
            request("apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  namespace: jobs\n"),
            json!({"kind": {"group": "batch", "version": "v1beta1", "kind": "CronJob"},
                   "namespace": "jobs",
                   "object": {"apiVersion": "batch/v1beta1", "kind": "CronJob",
                              "metadata": {"namespace": "jobs"}}})
        );
        assert_eq!(
            request("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"),
            json!({"kind": {"group": "rbac.authorization.k8s.io", "version": "v1",
                            "kind": "ClusterRole"},
                   "object": {"apiVersion": "rbac.authorization.k8s.io/v1",
                              "kind": "ClusterRole"}})
        );
    }

    #[test]
    fn the_settings_line_is_used() {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct Strict {
            strict: bool,
        }
        impl Settings for Strict {}
        fn strict(request: &Request<'_, Strict>, violations: &mut Violations) {
            if request.settings.strict {
                violations.add("", "strict");
            }
        }
        let readme = README.replace(
            "## Failing example\n",
            "## Failing example\nWith `{\"strict\": true}`:\n\n",
        );
        documentation::<Strict>(strict, &readme, METADATA);
        assert!(disagreement::<Strict>(strict, README, METADATA).is_err());
    }
}
