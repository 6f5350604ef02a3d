//! A first run on a real repository: typos are errors at the key, other tools'
//! configurations, Helm charts and broken links are notes rather than noise, and excludes hold
//! from the command line and for standard input. Each test builds the repository it needs.

use std::path::Path;

use crate::support::{Run, admit_in};

/// A pod no built-in policy of `--policy privileged` objects to.
const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: registry.example.com/web:1.0
";

/// The same pod, privileged: one finding at 10:21.
const PRIVILEGED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: registry.example.com/web:1.0
      securityContext:
        privileged: true
";

/// `files` (paths may have directories) under a fresh directory with a `.git`, so that
/// configuration discovery stops there.
fn repository(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir(dir.path().join(".git")).expect(".git created");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("directories");
        std::fs::write(path, text).expect("file written");
    }
    dir
}

/// `admit check --format concise --no-cache ARGS` in `dir`.
fn check(dir: &Path, args: &[&str]) -> Run {
    let mut full = vec!["check", "--format", "concise", "--no-cache"];
    full.extend_from_slice(args);
    admit_in(dir, &full, None)
}

/// The JSON report of `admit check --no-cache ARGS` in `dir`.
fn report(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["check", "--format", "json", "--no-cache"];
    full.extend_from_slice(args);
    let run = admit_in(dir, &full, None);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

/// The lines of stdout that are findings or notes, not the summary.
fn lines(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|line| !line.starts_with("Checked "))
        .collect()
}

#[test]
fn a_misspelled_apiversion_or_kind_is_an_error_at_the_key() {
    let repo = repository(&[
        (
            "kind.yaml",
            "apiVersion: v1\nKind: Pod\nmetadata:\n  name: web\nspec: {containers: [{name: web, image: web:1}]}\n",
        ),
        (
            "apiversion.yaml",
            "apiversion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n",
        ),
        ("bare.yaml", "metadata:\n  name: orphan\nspec: {}\n"),
        (
            "pod.yaml",
            "apiVersion: v1\nkind: pod\nmetadata: {name: lower}\n",
        ),
        // Not objects, and not taken for misspelled ones.
        ("config.yaml", "replicas: 3\nimage: {tag: latest}\n"),
    ]);
    let run = check(repo.path(), &["--isolated", "--policy", "privileged", "."]);
    run.code(2);
    assert_eq!(
        lines(&run),
        [
            "apiversion.yaml:1:1: error[invalid-object] `apiversion` is not `apiVersion`: did you \
             mean `apiVersion`? Without apiVersion this is not a Kubernetes object, and no policy \
             checks it",
            "bare.yaml:1:1: error[invalid-object] this looks like a Kubernetes object (it has \
             `metadata` and `spec`) but has no `apiVersion` and `kind`, so no policy checks it",
            "kind.yaml:2:1: error[invalid-object] `Kind` is not `kind`: did you mean `kind`? \
             Without kind this is not a Kubernetes object, and no policy checks it",
            "pod.yaml:2:7: error[invalid-object] unknown kind `pod`: did you mean `Pod`? Kinds are \
             case-sensitive, and no policy checks this object until it names its kind",
        ]
    );
    let summary = &report(repo.path(), &["--isolated", "--policy", "privileged", "."])["summary"];
    assert_eq!(summary["skipped_documents"], 1, "config.yaml only");
    assert_eq!(summary["errors"], 4);
    // The human report underlines the key and asks.
    let human = admit_in(
        repo.path(),
        &["check", "--isolated", "--no-cache", "kind.yaml"],
        None,
    );
    human
        .code(2)
        .expect("[kind.yaml:2:1]")
        .expect("did you mean `kind`?");
}

/// kustomize, kubectl and kind configurations beside a manifest. (A kustomization file itself
/// is rendered, not set apart: a Kustomize transformer configuration stands for Kustomize.)
const OTHER_TOOLS: [(&str, &str); 4] = [
    (
        "deploy/labels.yaml",
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: labels}\nlabels: {team: shop}\n",
    ),
    ("deploy/pod.yaml", POD),
    (
        "kubeconfig.yaml",
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: \"\"\n",
    ),
    (
        "kind-cluster.yaml",
        "apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nnodes:\n  - role: control-plane\n",
    ),
];

#[test]
fn other_tools_configurations_are_counted_not_checked() {
    let repo = repository(&OTHER_TOOLS);
    let flags = ["--isolated", "--policy", "privileged"];
    let run = check(
        repo.path(),
        &[&flags[..], &["--fail-on", "warning", "."]].concat(),
    );
    run.code(0);
    assert_eq!(
        lines(&run),
        [
            "note: 3 configurations of other tools not checked (Kustomize 1, kind 1, kubeconfig \
             1); -v names them"
        ]
    );
    // From the result cache, the same.
    let cache = tempfile::tempdir().expect("cache directory");
    let cache_dir = cache.path().to_str().expect("UTF-8 path");
    for _ in 0..2 {
        let mut args = vec!["check", "--format", "concise", "--cache-dir", cache_dir];
        args.extend(flags);
        args.push(".");
        let run = admit_in(repo.path(), &args, None);
        assert_eq!(
            lines(&run),
            lines(&check(repo.path(), &[&flags[..], &["."]].concat()))
        );
    }
    let verbose = check(repo.path(), &[&flags[..], &["-v", "."]].concat());
    for line in [
        "admit: not checked: deploy/labels.yaml: builtin LabelTransformer, a configuration of \
         Kustomize",
        "admit: not checked: kind-cluster.yaml: kind.x-k8s.io/v1alpha4 Cluster, a configuration \
         of kind",
        "admit: not checked: kubeconfig.yaml: v1 Config, a configuration of kubeconfig",
    ] {
        assert!(verbose.stderr.contains(line), "{line}\n{}", verbose.stderr);
    }
    // JSON lists them one by one.
    let report = report(repo.path(), &[&flags[..], &["."]].concat());
    assert_eq!(report["summary"]["files"], 4);
    assert_eq!(report["summary"]["objects"], 1);
    assert_eq!(report["skipped"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        report["skipped"][0],
        serde_json::json!({
            "reason": "other-tool",
            "path": "deploy/labels.yaml",
            "object": "builtin LabelTransformer",
            "tool": "Kustomize"
        })
    );
    assert_eq!(report["notes"].as_array().map(Vec::len), Some(1));
}

/// A Flux Kustomization is a custom resource, not Kustomize's file; its CRD is not in the
/// repository.
const FLUX: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec: {interval: 10m, path: ./apps, prune: true, sourceRef: {kind: GitRepository, name: apps}}\n";
const WIDGET: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";

#[test]
fn the_configuration_names_kinds_to_skip_and_kinds_known_without_a_crd() {
    let unknown = "warning[unknown-kind] unknown kind kustomize.toolkit.fluxcd.io/v1 Kustomization";
    let repo = repository(&[("flux.yaml", FLUX), ("widget.yaml", WIDGET)]);
    let args = ["--policy", "privileged", "--fail-on", "warning", "."];
    let run = check(repo.path(), &args);
    run.code(1)
        .expect(unknown)
        .expect("unknown kind example.com/v1 Widget");

    std::fs::write(
        repo.path().join("admit.yaml"),
        "known-kinds: [kustomize.toolkit.fluxcd.io/*]\nskip-kinds: [example.com/Widget]\n",
    )
    .unwrap();
    let run = check(repo.path(), &args);
    run.code(0).reject("unknown-kind");
    assert_eq!(
        lines(&run),
        ["note: 1 object of kinds in skip-kinds not checked; -v names them"]
    );
    assert_eq!(report(repo.path(), &args)["summary"]["objects"], 1);
}

#[test]
fn the_unknown_kind_warning_is_turned_off_by_id() {
    // In the configuration, for the whole repository...
    let repo = repository(&[
        ("admit.yaml", "disable: [unknown-kind]\n"),
        ("flux.yaml", FLUX),
    ]);
    let args = ["--policy", "privileged", "--fail-on", "warning", "."];
    check(repo.path(), &args).code(0).reject("unknown-kind");
    // ...or where it is, like a policy's finding, without being called unused.
    let annotated = FLUX.replace(
        "namespace: flux-system}",
        "namespace: flux-system, annotations: {admit.dev/ignore: \"unknown-kind=Flux CRDs are installed by flux bootstrap\"}}",
    );
    let repo = repository(&[("flux.yaml", &annotated)]);
    check(repo.path(), &args)
        .code(0)
        .reject("unknown-kind")
        .reject("unused-suppression");
    assert_eq!(report(repo.path(), &args)["summary"]["suppressed"], 1);
}

#[test]
fn mistakes_in_the_new_configuration_keys_are_errors_at_their_line() {
    for (config, message, help) in [
        (
            "skip-kind: [example.com/Widget]\n",
            "unknown key `skip-kind` in the configuration",
            "did you mean `skip-kinds`?",
        ),
        (
            "skip-kinds: [example.com/v1/Widget/x]\n",
            "`example.com/v1/Widget/x` is not a kind",
            "write GROUP/KIND (`example.com/Widget`), GROUP/* for every kind of a group",
        ),
        (
            "disable: [unknown-kinds]\n",
            "`unknown-kinds` is not one of admit's warnings",
            "did you mean `unknown-kind`?",
        ),
        (
            "disable: [privileged]\n",
            "`privileged` is not one of admit's warnings",
            "`privileged` is a policy: leave it out with `except: [privileged]` on its preset, \
             or make it a warning",
        ),
    ] {
        let repo = repository(&[("admit.yaml", config), ("pod.yaml", POD)]);
        let run = check(repo.path(), &["."]);
        assert_eq!(run.code, 2, "{config}: {}", run.stderr);
        // As one line: miette wraps long messages.
        let stderr = run
            .stderr
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(stderr.contains(message), "{config}: {stderr}");
        assert!(stderr.contains(help), "{config}: {stderr}");
        assert!(
            run.stderr.contains("admit.yaml:1:"),
            "{config}: {}",
            run.stderr
        );
    }
}

#[test]
fn the_schema_knows_the_new_configuration_keys() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::root().join("admit.schema.json")).expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let valid = serde_json::json!({
        "skip-kinds": ["example.com/Widget", "example.com/v1/Gadget", "Thing"],
        "known-kinds": "monitoring.coreos.com/*",
        "disable": ["unknown-kind"]
    });
    assert!(validator.is_valid(&valid));
    for invalid in [
        serde_json::json!({"skip-kinds": ["a/b/c/d"]}),
        serde_json::json!({"disable": ["privileged"]}),
    ] {
        assert!(!validator.is_valid(&invalid), "{invalid}");
    }
}

/// A chart as `helm create` lays it out.
const CHART: [(&str, &str); 6] = [
    (
        "deploy/shop/Chart.yaml",
        "apiVersion: v2\nname: shop\ndescription: The shop\ntype: application\nversion: 0.1.0\nappVersion: \"1.16.0\"\n",
    ),
    (
        "deploy/shop/values.yaml",
        "replicaCount: 1\nimage:\n  repository: nginx\n  tag: \"\"\nservice:\n  type: ClusterIP\n  port: 80\n",
    ),
    (
        "deploy/shop/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"shop.fullname\" . }}\n  labels:\n    {{- include \"shop.labels\" . | nindent 4 }}\nspec:\n  {{- if not .Values.autoscaling.enabled }}\n  replicas: {{ .Values.replicaCount }}\n  {{- end }}\n  template:\n    spec:\n      containers:\n        - name: {{ .Chart.Name }}\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n",
    ),
    (
        "deploy/shop/templates/_helpers.tpl",
        "{{- define \"shop.fullname\" -}}\n{{ .Release.Name }}-{{ .Chart.Name }}\n{{- end }}\n",
    ),
    (
        "deploy/shop/templates/NOTES.txt",
        "1. Get the application URL by running these commands:\n",
    ),
    (
        "deploy/shop/charts/db/Chart.yaml",
        "apiVersion: v2\nname: db\nversion: 0.1.0\n",
    ),
];

const CHART_NOTE: &str = "note: chart deploy/shop not checked: its templates need rendering; run helm template deploy/shop | admit check -";

#[test]
fn a_helm_chart_is_noted_once_and_its_templates_are_not_parsed() {
    let repo = repository(&CHART);
    let run = check(repo.path(), &["--fail-on", "warning", "."]);
    run.code(0);
    assert_eq!(lines(&run), [CHART_NOTE]);
    assert_eq!(report(repo.path(), &["."])["summary"]["files"], 0);
    // Named one by one, as pre-commit names staged files: the same.
    let run = check(
        repo.path(),
        &[
            "--fail-on",
            "warning",
            "deploy/shop/templates/deployment.yaml",
            "deploy/shop/values.yaml",
            "deploy/shop/Chart.yaml",
        ],
    );
    run.code(0);
    assert_eq!(lines(&run), [CHART_NOTE]);
}

#[test]
fn a_template_outside_a_chart_is_named_as_a_template() {
    let repo = repository(&[(
        "legacy/rc.yaml",
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: rc\n  labels:\n    {{- range .Labels }}\n    {{ . }}: \"true\"\n    {{- end }}\n",
    )]);
    let run = check(repo.path(), &["--isolated", "."]);
    run.code(2);
    assert_eq!(
        lines(&run),
        [
            "legacy/rc.yaml:6:5: error[invalid-yaml] `{{-` at the start of a line is a Go template \
             action (Helm), not YAML: this file is a template; check what it renders (`helm \
             template CHART | admit check -`), not the template"
        ]
    );
}

#[cfg(unix)]
#[test]
fn broken_links_met_in_a_walk_are_notes_and_named_ones_errors() {
    use std::os::unix::fs::symlink;
    let repo = repository(&[("pod.yaml", POD)]);
    let path = repo.path();
    symlink("gone.yaml", path.join("dangling.yaml")).unwrap();
    symlink("docs/README.md", path.join("README")).unwrap();
    symlink("loop2.yaml", path.join("loop1.yaml")).unwrap();
    symlink("loop1.yaml", path.join("loop2.yaml")).unwrap();
    let flags = ["--isolated", "--policy", "privileged"];
    let run = check(
        path,
        &[&flags[..], &["--fail-on", "warning", "-v", "."]].concat(),
    );
    run.code(0);
    assert_eq!(
        lines(&run),
        ["note: 4 broken symbolic links skipped (a missing target, or a loop); -v names them"]
    );
    for line in [
        "admit: not checked: README: a broken symbolic link: its target does not exist",
        "admit: not checked: dangling.yaml: a broken symbolic link: its target does not exist",
        "admit: not checked: loop1.yaml: a symbolic link loop",
        "admit: not checked: loop2.yaml: a symbolic link loop",
    ] {
        assert!(run.stderr.contains(line), "{line}\n{}", run.stderr);
    }
    // Named on the command line, it must be read: an error naming it.
    let run = check(path, &[&flags[..], &["dangling.yaml"]].concat());
    run.code(2)
        .expect("dangling.yaml: error[input] no such file or directory");
}

#[test]
fn exclude_on_the_command_line_adds_to_the_configuration() {
    let repo = repository(&[
        (
            "admit.yaml",
            "exclude: [\"**/generated/**\"]\npolicies: [{id: privileged}]\n",
        ),
        ("deploy/a.yaml", PRIVILEGED_POD),
        ("deploy/generated/b.yaml", PRIVILEGED_POD),
        ("vendor/c.yaml", PRIVILEGED_POD),
        ("vendor/d/e.yaml", PRIVILEGED_POD),
    ]);
    let run = check(repo.path(), &["."]);
    run.code(1)
        .expect("vendor/c.yaml:10:21")
        .expect("deploy/a.yaml:10:21");
    for args in [
        &["--exclude", "vendor", "."][..],
        &["--exclude", "vendor/**", "."],
        &[
            "--exclude",
            "vendor/c.yaml",
            "--exclude",
            "vendor/d/*.yaml",
            ".",
        ],
        // Named files too, as pre-commit names them.
        &[
            "--exclude",
            "vendor",
            "vendor/c.yaml",
            "deploy/a.yaml",
            "deploy/generated/b.yaml",
        ],
    ] {
        let run = check(repo.path(), args);
        run.code(1);
        assert_eq!(
            lines(&run),
            ["deploy/a.yaml:10:21: error[privileged] container \"web\" must not be privileged"],
            "{args:?}"
        );
    }
    // Relative to the current directory, not to admit.yaml.
    let run = check(&repo.path().join("vendor"), &["--exclude", "d", "."]);
    assert_eq!(
        lines(&run),
        ["c.yaml:10:21: error[privileged] container \"web\" must not be privileged"]
    );
    let run = check(repo.path(), &["--exclude", "[z-a]", "."]);
    run.code(2);
    assert!(
        run.stderr.contains("invalid glob `[z-a]`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_excluded_stdin_filename_checks_nothing() {
    let repo = repository(&[(
        "admit.yaml",
        "exclude: [\"**/generated/**\"]\npolicies: [{id: privileged}]\n",
    )]);
    let stdin = |args: &[&str]| {
        let mut full = vec!["check", "--format", "concise", "--no-cache", "-"];
        full.extend_from_slice(args);
        admit_in(repo.path(), &full, Some(PRIVILEGED_POD))
    };
    let run = stdin(&["--stdin-filename", "deploy/generated/pod.yaml"]);
    run.code(0);
    assert_eq!(
        lines(&run),
        ["note: standard input (deploy/generated/pod.yaml) not checked: an exclude glob names it"]
    );
    let run = stdin(&["--stdin-filename", "vendor/pod.yaml", "--exclude", "vendor"]);
    run.code(0)
        .expect("note: standard input (vendor/pod.yaml) not checked");
    stdin(&["--stdin-filename", "deploy/pod.yaml"])
        .code(1)
        .expect("deploy/pod.yaml:10:21: error[privileged]");
}

#[test]
fn the_configuration_file_is_never_checked_as_a_manifest() {
    let repo = repository(&[
        ("admit.yaml", "policies: [{id: privileged}]\n"),
        ("team/.admit.yaml", "policies: [{id: privileged}]\n"),
        ("pod.yaml", POD),
    ]);
    // Walked, and named as pre-commit names every staged YAML file.
    for args in [&["."][..], &["admit.yaml", "team/.admit.yaml", "pod.yaml"]] {
        let summary = &report(repo.path(), args)["summary"];
        assert_eq!(
            (&summary["files"], &summary["skipped_documents"]),
            (&1.into(), &0.into()),
            "{args:?}"
        );
    }
}
