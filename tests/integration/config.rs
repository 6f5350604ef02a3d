//! admit.yaml, Kubewarden policy resources, suppressions, severities and exit codes, seen as a
//! user sees them: through the binary's output and exit code.

use std::path::Path;

use crate::support::{self, admit_in, scratch};
use serde_json::Value as Json;

const PRIVILEGED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: shop
  labels: {app: agent}
spec:
  containers:
    - name: app
      image: registry.example.com/agent:1.0
      securityContext:
        privileged: true
";

/// Write `files` (paths may have directories) under a fresh directory with a `.git`, so that
/// configuration discovery stops there.
fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = scratch(&[]);
    std::fs::create_dir(dir.path().join(".git")).expect(".git created");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("directories");
        std::fs::write(path, text).expect("file written");
    }
    dir
}

/// `admit check --format json ARGS` in `dir`: the parsed report and the exit code.
fn check_json(dir: &Path, args: &[&str]) -> (Json, i32, String) {
    let mut full = vec!["check", "--format", "json"];
    full.extend_from_slice(args);
    let run = admit_in(dir, &full, None);
    let report = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "invalid JSON ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    (report, run.code, run.stderr)
}

/// `(policy, file:line:col, severity)` of every unsuppressed finding.
fn active(report: &Json) -> Vec<(String, String, String)> {
    findings(report, false)
}

fn suppressed(report: &Json) -> Vec<(String, String, String)> {
    findings(report, true)
}

fn findings(report: &Json, suppressed: bool) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f.get("suppressed").is_some_and(|s| !s.is_null()) == suppressed)
        .map(|f| {
            (
                f["policy"].as_str().unwrap_or_default().to_string(),
                format!(
                    "{}:{}:{}",
                    f["file"].as_str().unwrap_or(""),
                    f["line"],
                    f["column"]
                ),
                f["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn policies_of(report: &Json) -> Vec<String> {
    let mut policies: Vec<String> = active(report).into_iter().map(|f| f.0).collect();
    policies.dedup();
    policies
}

#[test]
fn the_configuration_is_found_from_a_nested_directory() {
    let repo = repository(&[
        (
            "admit.yaml",
            "policies:\n  - id: privileged\n  - id: host-namespaces\n",
        ),
        ("deploy/shop/agent.yaml", PRIVILEGED_POD),
    ]);
    let nested = repo.path().join("deploy/shop");
    let (report, code, _) = check_json(&nested, &["."]);
    assert_eq!(policies_of(&report), vec!["privileged"]);
    assert_eq!(report["summary"]["policies"], 2);
    assert_eq!(code, 1);

    // --isolated ignores it: the default preset runs.
    let (report, _, _) = check_json(&nested, &["--isolated", "."]);
    assert!(report["summary"]["policies"].as_u64().unwrap_or(0) > 10);

    // --config names another file.
    std::fs::write(
        repo.path().join("other.yaml"),
        "policies: [{id: host-namespaces}]\n",
    )
    .expect("written");
    let (report, code, _) = check_json(&nested, &["--config", "../../other.yaml", "."]);
    assert_eq!(active(&report), vec![]);
    assert_eq!(code, 0);
}

#[test]
fn a_configuration_mistake_points_at_its_line_and_lists_the_choices() {
    let repo = repository(&[
        (
            "admit.yaml",
            "fail-on: error\npolicies:\n  - preset: recommended\n  - id: privileged\n    severity: critical\n",
        ),
        ("pod.yaml", PRIVILEGED_POD),
    ]);
    let run = admit_in(repo.path(), &["check", "pod.yaml"], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("admit.yaml:5:15"), "{}", run.stderr);
    assert!(
        run.stderr.contains("`critical` is not a valid severity"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("choose one of: error, warning"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing was checked: {}", run.stdout);

    // Settings only the policy can judge are reported at their line too.
    std::fs::write(
        repo.path().join("admit.yaml"),
        "policies:\n  - id: image-registries\n    settings: {allowed: []}\n",
    )
    .expect("written");
    let run = admit_in(repo.path(), &["check", "pod.yaml"], None);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("admit.yaml:3:15"), "{}", run.stdout);
    assert!(run.stdout.contains("invalid settings"), "{}", run.stdout);
}

#[test]
fn include_and_exclude_hold_for_walked_and_named_files() {
    let repo = repository(&[
        (
            "admit.yaml",
            "include: [deploy]\nexclude: [\"**/generated/**\"]\npolicies: [{id: privileged}]\n",
        ),
        ("deploy/a.yaml", PRIVILEGED_POD),
        ("deploy/generated/b.yaml", PRIVILEGED_POD),
        ("docs/c.yaml", PRIVILEGED_POD),
    ]);
    let (report, _, _) = check_json(repo.path(), &["."]);
    let files: Vec<String> = active(&report).into_iter().map(|f| f.1).collect();
    assert_eq!(files, vec!["deploy/a.yaml:12:21"]);
    // pre-commit names files one by one; the configuration still decides.
    let (report, code, _) = check_json(
        repo.path(),
        &["deploy/generated/b.yaml", "docs/c.yaml", "deploy/a.yaml"],
    );
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(code, 1);
}

#[test]
fn severity_match_and_fail_on_decide_the_exit_code() {
    let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
        - name: web
          image: registry.example.com/web:1.0
";
    let repo = repository(&[
        (
            "admit.yaml",
            "policies:\n  - id: privileged\n    severity: warning\n  - id: host-namespaces\n    match: {kinds: [Deployment], namespaces: [other]}\n",
        ),
        ("pod.yaml", PRIVILEGED_POD),
        ("deploy.yaml", deployment),
    ]);
    let (report, code, _) = check_json(repo.path(), &["."]);
    assert_eq!(
        active(&report),
        vec![(
            "privileged".to_string(),
            "pod.yaml:12:21".to_string(),
            "warning".to_string()
        )]
    );
    assert_eq!(code, 0, "a warning does not fail by default");
    let (_, code, _) = check_json(repo.path(), &["--fail-on", "warning", "."]);
    assert_eq!(code, 1);

    // The same configuration with the match widened: the Deployment's hostNetwork is an error.
    std::fs::write(
        repo.path().join("admit.yaml"),
        "fail-on: never\npolicies:\n  - id: host-namespaces\n    match: {kinds: [apps/Deployment], labels: {matchExpressions: [{key: tier, operator: DoesNotExist}]}}\n",
    )
    .expect("written");
    let (report, code, _) = check_json(repo.path(), &["."]);
    assert_eq!(policies_of(&report), vec!["host-namespaces"]);
    assert_eq!(code, 0, "fail-on: never");
    let (_, code, _) = check_json(repo.path(), &["--fail-on", "error", "."]);
    assert_eq!(code, 1, "the flag overrides the file");
}

#[test]
fn kubewarden_policy_resources_are_a_policy_list() {
    let module = support::policy("privileged");
    let policies = format!(
        "\
apiVersion: policies.kubewarden.io/v1
kind: ClusterAdmissionPolicy
metadata: {{name: no-privileged-pods}}
spec:
  module: file://{module}
  mode: monitor
  rules:
    - apiGroups: [\"\"]
      apiVersions: [v1]
      resources: [pods]
      operations: [CREATE, UPDATE]
  objectSelector:
    matchLabels: {{app: agent}}
---
apiVersion: policies.kubewarden.io/v1
kind: AdmissionPolicy
metadata: {{name: shop-privileged, namespace: shop}}
spec:
  module: {module}
  rules:
    - apiGroups: [\"\"]
      apiVersions: [v1]
      resources: [pods]
      operations: [CREATE]
---
apiVersion: policies.kubewarden.io/v1
kind: AdmissionPolicy
metadata: {{name: other-privileged, namespace: other}}
spec:
  module: {module}
  rules:
    - apiGroups: [\"\"]
      apiVersions: [v1]
      resources: [pods]
      operations: [CREATE]
"
    );
    let repo = repository(&[("policies.yaml", &policies), ("pod.yaml", PRIVILEGED_POD)]);
    let (report, code, stderr) = check_json(
        repo.path(),
        &["--policies-from", "policies.yaml", "pod.yaml"],
    );
    let mut found = active(&report);
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "no-privileged-pods".to_string(),
                "pod.yaml:12:21".to_string(),
                "warning".to_string()
            ),
            (
                "shop-privileged".to_string(),
                "pod.yaml:12:21".to_string(),
                "error".to_string()
            ),
        ],
        "{stderr}"
    );
    assert_eq!(code, 1);

    // From the configuration too, and a missing module is named at its line.
    std::fs::write(
        repo.path().join("admit.yaml"),
        "policies:\n  - policies-from: policies.yaml\n",
    )
    .expect("written");
    let (report, _, _) = check_json(repo.path(), &["pod.yaml"]);
    assert_eq!(active(&report).len(), 2);
    std::fs::write(
        repo.path().join("policies.yaml"),
        "apiVersion: policies.kubewarden.io/v1\nkind: ClusterAdmissionPolicy\nmetadata: {name: x}\nspec:\n  module: registry://ghcr.io/Kubewarden/policies/pod-privileged:v1\n",
    )
    .expect("written");
    let run = admit_in(repo.path(), &["check", "pod.yaml"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("policies.yaml:5:11"), "{}", run.stderr);
    assert!(
        run.stderr.contains("a repository is lower-case"),
        "{}",
        run.stderr
    );
}

#[test]
fn suppressions_in_annotations_and_comments_are_counted_and_audited() {
    let manifest = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cni
  annotations:
    admit.dev/ignore: \"host-namespaces=the CNI agent needs the host network, host-ports\"
spec:
  selector: {matchLabels: {app: cni}}
  template:
    metadata:
      labels: {app: cni}
      annotations:
        admit.dev/ignore: \"privileged=a template annotation is the pod's, not the workload's\"
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: registry.example.com/cni:1.0
          securityContext:
            privileged: true  # admit:ignore privileged -- raw sockets
            capabilities:
              # admit:ignore capabilities-baseline -- NET_ADMIN for routes
              add: [NET_ADMIN]
        - name: sidecar
          image: registry.example.com/sidecar:1.0
          securityContext:
            privileged: true  # admit:ignore privileged
          ports:
            - containerPort: 80  # admit:ignore host-ports -- nothing to silence here
";
    let repo = repository(&[("cni.yaml", manifest)]);
    let policies = [
        "-p",
        "privileged",
        "-p",
        "host-namespaces",
        "-p",
        "host-ports",
        "-p",
        "capabilities-baseline",
    ];
    let mut args = policies.to_vec();
    args.push("cni.yaml");
    let (report, code, _) = check_json(repo.path(), &args);
    let mut silenced = suppressed(&report);
    silenced.sort();
    assert_eq!(
        silenced,
        vec![
            (
                "capabilities-baseline".to_string(),
                "cni.yaml:23:21".to_string(),
                "error".to_string()
            ),
            (
                "host-namespaces".to_string(),
                "cni.yaml:15:20".to_string(),
                "error".to_string()
            ),
            (
                "privileged".to_string(),
                "cni.yaml:20:25".to_string(),
                "error".to_string()
            ),
            (
                "privileged".to_string(),
                "cni.yaml:27:25".to_string(),
                "error".to_string()
            ),
        ]
    );
    let reasons: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["suppressed"]["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"raw sockets"), "{reasons:?}");
    let mut audit = active(&report);
    audit.sort();
    // The annotation's `host-ports` entry (column 78) has no reason and silences nothing; the
    // pod template's annotation is misplaced.
    assert_eq!(
        audit,
        vec![
            (
                "misplaced-suppression".to_string(),
                "cni.yaml:13:9".to_string(),
                "warning".to_string()
            ),
            (
                "suppression-without-reason".to_string(),
                "cni.yaml:27:31".to_string(),
                "warning".to_string()
            ),
            (
                "suppression-without-reason".to_string(),
                "cni.yaml:6:78".to_string(),
                "warning".to_string()
            ),
            (
                "unused-suppression".to_string(),
                "cni.yaml:29:34".to_string(),
                "warning".to_string()
            ),
            (
                "unused-suppression".to_string(),
                "cni.yaml:6:78".to_string(),
                "warning".to_string()
            ),
        ]
    );
    assert_eq!(report["summary"]["suppressed"], 4);
    assert_eq!(code, 0, "only warnings remain");
    let human = admit_in(
        repo.path(),
        &{
            let mut a = vec!["check"];
            a.extend_from_slice(&args);
            a
        },
        None,
    );
    assert!(human.summary().contains("4 suppressed"), "{}", human.stdout);

    // An audit sees everything.
    let mut strict = args.clone();
    strict.insert(0, "--no-suppressions");
    let (report, code, _) = check_json(repo.path(), &strict);
    assert_eq!(suppressed(&report), vec![]);
    assert_eq!(active(&report).len(), 4);
    assert_eq!(code, 1);
}

/// `(policy, line, suppression reason)` of every finding of `report`, in report order.
fn lines_and_reasons(report: &Json) -> Vec<(String, u64, Option<String>)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["policy"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["suppressed"]["reason"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn a_comment_on_a_container_line_silences_its_policies_in_the_whole_container() {
    // `resources` points at the container's `name:`, `seccomp-restricted` at its
    // `securityContext:` two lines further: one comment covers both, and nothing of the
    // other container.
    let manifest = "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: net
spec:
  containers:
    - name: agent  # admit:ignore resources, seccomp-restricted -- the node agent
      image: registry.example.com/agent:1.0
      securityContext:
        allowPrivilegeEscalation: false
    - name: sidecar
      image: registry.example.com/sidecar:1.0
      securityContext:
        allowPrivilegeEscalation: false
";
    let repo = repository(&[("pod.yaml", manifest)]);
    let (report, _, _) = check_json(
        repo.path(),
        &["-p", "resources", "-p", "seccomp-restricted", "pod.yaml"],
    );
    let reason = Some("the node agent".to_string());
    assert_eq!(
        lines_and_reasons(&report),
        [
            ("resources".to_string(), 8, reason.clone()),
            ("seccomp-restricted".to_string(), 10, reason),
            ("resources".to_string(), 12, None),
            ("seccomp-restricted".to_string(), 14, None),
        ]
    );
}

#[test]
fn a_comment_alone_on_its_line_covers_the_node_on_the_next_line() {
    let manifest = "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
spec:
  containers:
    - name: agent
      image: registry.example.com/agent:1.0
      # the whole securityContext block, both of its findings:
      # admit:ignore capabilities-baseline -- routes and raw sockets

      securityContext:
        capabilities:
          add: [NET_ADMIN, NET_RAW, SYS_TIME]
";
    let repo = repository(&[("pod.yaml", manifest)]);
    let (report, code, _) = check_json(repo.path(), &["-p", "capabilities-baseline", "pod.yaml"]);
    let reason = Some("routes and raw sockets".to_string());
    assert_eq!(
        lines_and_reasons(&report),
        [
            ("capabilities-baseline".to_string(), 14, reason.clone()),
            ("capabilities-baseline".to_string(), 14, reason.clone()),
            ("capabilities-baseline".to_string(), 14, reason),
        ]
    );
    assert_eq!(code, 0);
}

#[test]
fn a_comment_whose_finding_the_annotation_already_silenced_is_used() {
    let manifest = "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
  annotations:
    admit.dev/ignore: \"privileged=the CNI agent needs raw sockets\"
spec:
  containers:
    - name: agent
      image: registry.example.com/agent:1.0
      securityContext:
        privileged: true  # admit:ignore privileged -- raw sockets
";
    let repo = repository(&[("pod.yaml", manifest)]);
    let (report, code, _) = check_json(repo.path(), &["-p", "privileged", "pod.yaml"]);
    assert_eq!(
        lines_and_reasons(&report),
        [(
            "privileged".to_string(),
            12,
            Some("the CNI agent needs raw sockets".to_string())
        )]
    );
    assert_eq!(code, 0);
    let human = admit_in(
        repo.path(),
        &["check", "-p", "privileged", "pod.yaml"],
        None,
    );
    assert!(
        !human.stdout.contains("unused-suppression") && !human.stdout.contains("silences nothing"),
        "{}",
        human.stdout
    );
}

#[test]
fn an_annotation_on_a_pod_template_is_reported_as_misplaced() {
    let manifest = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cni
spec:
  selector: {matchLabels: {app: cni}}
  template:
    metadata:
      labels: {app: cni}
      annotations:
        admit.dev/ignore: \"privileged=raw sockets\"
    spec:
      containers:
        - name: agent
          image: registry.example.com/cni:1.0
          securityContext: {privileged: true}
";
    let repo = repository(&[("cni.yaml", manifest)]);
    let run = admit_in(
        repo.path(),
        &["check", "-p", "privileged", "cni.yaml"],
        None,
    );
    run.code(1)
        .expect(
            "misplaced-suppression: the admit.dev/ignore annotation in \
             spec.template.metadata.annotations",
        )
        .expect("╭─[cni.yaml:11:9]")
        .expect("help: move it to metadata.annotations of the Deployment")
        .expect("privileged: container \"agent\" must not be privileged");
}

#[test]
fn an_unused_annotation_entry_is_underlined_alone() {
    let pod = |annotation: &str| {
        PRIVILEGED_POD.replace(
            "  labels: {app: agent}\n",
            &format!("  labels: {{app: agent}}\n  annotations:\n{annotation}"),
        )
    };
    let repo = repository(&[
        (
            "pod.yaml",
            &pod("    admit.dev/ignore: \"privileged=raw sockets, host-ports=metrics\"\n"),
        ),
        // Folded over lines, the value is not written as it reads: the whole value is
        // underlined.
        (
            "folded.yaml",
            &pod(
                "    admit.dev/ignore: >-\n      privileged=raw sockets,\n      host-ports=metrics\n",
            ),
        ),
    ]);
    let (report, _, _) = check_json(repo.path(), &["-p", "privileged", "-p", "host-ports", "."]);
    let unused: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["policy"] == "unused-suppression")
        .map(|f| {
            format!(
                "{}:{}:{}-{}:{}",
                f["file"].as_str().unwrap_or_default(),
                f["line"],
                f["column"],
                f["end_line"],
                f["end_column"]
            )
        })
        .collect();
    assert_eq!(unused, ["folded.yaml:8:23-10:25", "pod.yaml:8:48-8:66"]);
    let human = admit_in(
        repo.path(),
        &["check", "-p", "privileged", "-p", "host-ports", "pod.yaml"],
        None,
    );
    // Under `host-ports=metrics`, 18 characters from column 48.
    human.expect(&format!(
        " 8 │     admit.dev/ignore: \"privileged=raw sockets, host-ports=metrics\"\n   ·{}{}┬{}\n",
        " ".repeat(48),
        "─".repeat(9),
        "─".repeat(8)
    ));
}

#[test]
fn init_writes_a_working_starter_and_never_overwrites() {
    let repo = repository(&[("deploy/pod.yaml", PRIVILEGED_POD)]);
    let run = admit_in(repo.path(), &["init"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("- id: admit"), "{}", run.stdout);
    let written = std::fs::read_to_string(repo.path().join("admit.yaml")).expect("written");
    assert!(written.contains("preset: recommended"));
    let again = admit_in(repo.path(), &["init"], None);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let (report, code, _) = check_json(&repo.path().join("deploy"), &["."]);
    assert!(policies_of(&report).contains(&"privileged".to_string()));
    assert_eq!(code, 1);
}

#[test]
fn init_writes_the_schema_the_starter_names() {
    let repo = repository(&[]);
    let run = admit_in(repo.path(), &["init"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let starter = std::fs::read_to_string(repo.path().join("admit.yaml")).expect("written");
    assert!(!starter.contains("OWNER"), "{starter}");
    assert!(!run.stdout.contains("OWNER"), "{}", run.stdout);

    // The editor's modeline names a file beside admit.yaml, and that file is admit's schema.
    let named = starter
        .lines()
        .find_map(|line| line.strip_prefix("# yaml-language-server: $schema="))
        .expect("a yaml-language-server modeline");
    let schema_path = repo.path().join(named.trim());
    let ours = std::fs::read_to_string(support::root().join("admit.schema.json")).expect("schema");
    assert_eq!(
        std::fs::read_to_string(&schema_path).expect("the modeline's schema exists"),
        ours
    );
    assert!(
        run.stdout.contains("Wrote ./admit.schema.json"),
        "{}",
        run.stdout
    );

    // An older schema of admit's (the same `$id`) is brought up to date.
    let older = ours.replacen("\"title\"", "\"old-title\": 1, \"title\"", 1);
    std::fs::write(&schema_path, &older).expect("older schema");
    let again = admit_in(repo.path(), &["init", "--force"], None);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&schema_path).unwrap(), ours);

    // A file of that name that is not admit's is left alone, and the user told.
    let foreign = "{\"$id\": \"https://example.com/mine.json\"}\n";
    std::fs::write(&schema_path, foreign).expect("foreign schema");
    let kept = admit_in(repo.path(), &["init", "--force"], None);
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert_eq!(std::fs::read_to_string(&schema_path).unwrap(), foreign);
    assert!(
        kept.stdout
            .contains("Left ./admit.schema.json as it is: it is not admit's schema"),
        "{}",
        kept.stdout
    );
}

/// The commented example blocks of `text`: runs of comment lines whose text is YAML (a list item
/// or a lowercase key, where prose starts with a capital), as line ranges. The editor's modeline
/// is a comment to stay.
fn commented_examples(text: &str) -> Vec<std::ops::Range<usize>> {
    let is_example = |line: &str| {
        let Some(body) = line.trim_start().strip_prefix("# ") else {
            return false;
        };
        let body = body.trim_start();
        let key = |text: &str| {
            text.split_once(':').is_some_and(|(key, _)| {
                !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            })
        };
        !body.starts_with("yaml-language-server:") && (body.starts_with("- ") || key(body))
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut start = None;
    for (index, line) in lines.iter().enumerate() {
        match (is_example(line), start) {
            (true, None) => start = Some(index),
            (false, Some(first)) => {
                blocks.push(first..index);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(first) = start {
        blocks.push(first..lines.len());
    }
    blocks
}

#[test]
fn every_example_of_the_starter_loads_once_uncommented() {
    // What the examples name exists, so that only the examples themselves are on trial.
    let repo = repository(&[("deploy/pod.yaml", PRIVILEGED_POD)]);
    std::fs::create_dir_all(repo.path().join("policies")).unwrap();
    std::fs::copy(
        support::policy("noop"),
        repo.path().join("policies/team-labels.wasm"),
    )
    .unwrap();
    std::fs::create_dir_all(repo.path().join("cluster")).unwrap();
    std::fs::write(
        repo.path().join("cluster/policies.yaml"),
        format!(
            "apiVersion: policies.kubewarden.io/v1\nkind: ClusterAdmissionPolicy\nmetadata: {{name: cluster-noop}}\nspec:\n  module: file://{}\n  rules: [{{apiGroups: [\"\"], apiVersions: [v1], resources: [pods], operations: [CREATE]}}]\n  mutating: false\n",
            support::policy("noop")
        ),
    )
    .unwrap();
    // The registry example runs offline from kwctl's store, where `kwctl pull` would put it.
    let kwctl_cache = repo.path().join("xdg-cache");
    let pulled = kwctl_cache
        .join("kubewarden/store/registry/ghcr.io/kubewarden/policies/pod-privileged:v0.3.2");
    std::fs::create_dir_all(pulled.parent().unwrap()).unwrap();
    std::fs::copy(support::policy("noop"), &pulled).unwrap();
    assert_eq!(admit_in(repo.path(), &["init"], None).code, 0);
    let starter = std::fs::read_to_string(repo.path().join("admit.yaml")).expect("written");
    let blocks = commented_examples(&starter);
    // include, skip-kinds and known-kinds, disable, except, image-registries, the module,
    // the registry module, policies-from, output.
    assert_eq!(blocks.len(), 9, "{blocks:?}\n{starter}");
    let lines: Vec<&str> = starter.lines().collect();
    for block in blocks {
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                let line = if block.contains(&index) {
                    line.replacen("# ", "", 1)
                } else {
                    line.to_string()
                };
                format!("{line}\n")
            })
            .collect();
        let config = repo.path().join("uncommented.yaml");
        std::fs::write(&config, &text).expect("written");
        let run = support::admit_env(
            repo.path(),
            &["check", "--config", "uncommented.yaml", "deploy/pod.yaml"],
            None,
            &[
                ("XDG_CACHE_HOME", &kwctl_cache),
                ("ADMIT_OFFLINE", std::path::Path::new("1")),
            ],
        );
        let shown: Vec<&str> = lines[block.clone()].to_vec();
        assert!(
            run.code == 0 || run.code == 1,
            "uncommenting {shown:#?} gives exit {}:\n{}{}",
            run.code,
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn the_schema_accepts_the_starter_and_knows_every_choice() {
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("admit.schema.json")).expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let (_, public_key) = support::registry::key_pair("schema test");
    let repo = repository(&[
        ("sources.yaml", "insecure_sources: []\n"),
        ("cosign.pub", &public_key),
    ]);
    admit_in(repo.path(), &["init"], None);
    let starter = std::fs::read_to_string(repo.path().join("admit.yaml")).expect("written");
    let module = support::policy("require-labels");
    let everything = format!(
        "include: [deploy]\nexclude: \"**/generated/**\"\nfail-on: warning\npolicy-timeout: 1.5\npolicies:\n  - preset: recommended\n    except: [resources]\n    severity: warning\n  - id: image-registries\n    settings: {{allowed: [registry.example.com]}}\n  - module: {module}\n    name: team-labels\n    allow-context-aware: true\n    settings: {{labels: [team]}}\n    severity: warning\n    match:\n      kinds: [Deployment, apps/StatefulSet]\n      namespaces: shop\n      labels: {{matchLabels: {{tier: web}}, matchExpressions: [{{key: legacy, operator: DoesNotExist}}]}}\noutput:\n  - human\n  - {{format: sarif, file: admit.sarif}}\nregistry:\n  sources: sources.yaml\n  timeout: 10\nverify:\n  keys: [cosign.pub]\n  annotations: {{env: prod}}\ncontext: [sources.yaml]\n"
    );
    for text in [starter.as_str(), everything.as_str()] {
        let value = yaml_to_json(text);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{text}");
        // What the schema accepts, admit accepts.
        std::fs::write(repo.path().join("admit.yaml"), text).expect("written");
        let run = admit_in(repo.path(), &["check", "."], None);
        assert_ne!(run.code, 2, "{}\n{text}", run.stderr);
    }
    let bad = yaml_to_json("policies:\n  - preset: everything\n");
    assert!(!validator.is_valid(&bad));
}

/// YAML to JSON with admit's own loader, the one that reads admit.yaml.
fn yaml_to_json(text: &str) -> Json {
    let loaded = admit::documents::load(text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded
        .documents
        .first()
        .map_or(Json::Null, |d| d.root.to_json())
}
