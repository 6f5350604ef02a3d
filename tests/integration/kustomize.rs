//! Kustomize trees: each root rendered with the real `kubectl kustomize` (or `kustomize`), and
//! every finding at the line a user wrote (fixtures/kustomize: a base, two overlays, a
//! component, patches of every spelling, an `images:` override, a namespace, a generator and a
//! remote base that cannot render offline).

use crate::support::{Found, admit, findings, root};

/// Fail with how to get Kustomize when neither `kustomize` nor `kubectl` is on PATH.
fn require_kustomize() {
    let found = ["kustomize", "kubectl"].iter().any(|program| {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    });
    assert!(
        found,
        "these tests render with Kustomize: install kubectl (Kustomize is built in) or kustomize \
         (https://kubectl.docs.kubernetes.io/installation/kustomize/)"
    );
}

const POLICIES: [&str; 10] = [
    "-p",
    "privileged",
    "-p",
    "host-namespaces",
    "-p",
    "image-tag",
    "-p",
    "default-namespace",
    "-p",
    "privilege-escalation",
];

fn check(args: &[&str]) -> (Vec<Found>, i32) {
    require_kustomize();
    let mut full = vec!["fixtures/kustomize", "--isolated", "--no-cache"];
    full.extend_from_slice(args);
    findings(&full)
}

fn at_and_policy(found: &[Found]) -> Vec<String> {
    found
        .iter()
        .map(|f| format!("{} {}", f.at, f.policy))
        .collect()
}

#[test]
fn every_finding_points_at_the_line_that_caused_it() {
    let (found, code) = check(&POLICIES);
    assert_eq!(code, 2, "the remote root cannot render: {found:#?}");
    assert_eq!(
        at_and_policy(&found),
        [
            // The base's own gap, reached through both overlays, reported once.
            "fixtures/kustomize/base/worker.yaml:14:15 privilege-escalation",
            // The component's patch adds a container to the dev overlay's web.
            "fixtures/kustomize/components/debug/shell.yaml:12:16 image-tag",
            "fixtures/kustomize/components/debug/shell.yaml:14:37 privilege-escalation",
            // `images:` moved the tag to latest.
            "fixtures/kustomize/overlays/dev/kustomization.yaml:8:11 image-tag",
            // A JSON 6902 patch file, for worker only.
            "fixtures/kustomize/overlays/prod/host-network.yaml:3:10 host-namespaces",
            // `namespace: default`, for both Deployments.
            "fixtures/kustomize/overlays/prod/kustomization.yaml:5:12 default-namespace",
            "fixtures/kustomize/overlays/prod/kustomization.yaml:5:12 default-namespace",
            // An inline JSON 6902 patch that targets every Deployment.
            "fixtures/kustomize/overlays/prod/kustomization.yaml:15:14 host-namespaces",
            "fixtures/kustomize/overlays/prod/kustomization.yaml:15:14 host-namespaces",
            // A strategic-merge patch file.
            "fixtures/kustomize/overlays/prod/privileged.yaml:12:23 privileged",
            // The remote base cannot be fetched offline.
            "fixtures/kustomize/remote/kustomization.yaml:1:1 kustomize",
        ]
    );
    let remote = found.last().unwrap();
    assert!(
        remote
            .message
            .starts_with("cannot render fixtures/kustomize/remote:")
            && remote.message.contains("example.invalid"),
        "{}",
        remote.message
    );
}

#[test]
fn no_patch_or_kustomization_file_is_checked_as_an_object() {
    // The patches are Deployments without resources, probes or a securityContext: checked as
    // objects they would draw findings of their own.
    let (found, _) = check(&["-p", "recommended"]);
    for finding in &found {
        for not_an_object in ["privileged.yaml", "host-network.yaml", "shell.yaml"] {
            if finding.at.contains(not_an_object) {
                assert!(
                    finding
                        .pointer
                        .starts_with("/spec/template/spec/containers")
                        || finding.pointer.starts_with("/spec/template/spec/host"),
                    "{not_an_object} was checked as an object: {finding:#?}"
                );
            }
        }
        assert!(
            finding.policy != "request",
            "a kustomization was checked as an object: {finding:#?}"
        );
    }
}

#[test]
fn kustomizes_annotations_never_reach_a_policy() {
    require_kustomize();
    // The dev overlay's web Deployment, as the policy receives it.
    let run = admit(&[
        "check",
        "fixtures/kustomize/overlays/dev",
        "--isolated",
        "--no-cache",
        "--format",
        "json",
        "-p",
        "image-tag",
    ]);
    assert!(
        !run.stdout.contains("config.kubernetes.io"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("(kustomize build)"), "{}", run.stdout);
}

#[test]
fn without_rendering_the_files_are_checked_one_by_one_but_never_the_patches() {
    let (found, code) = check(&[&POLICIES[..], &["--no-render"]].concat());
    assert_eq!(code, 1, "{found:#?}");
    assert_eq!(
        at_and_policy(&found),
        ["fixtures/kustomize/base/worker.yaml:14:15 privilege-escalation"]
    );
}

#[test]
fn without_kustomize_one_warning_says_how_to_get_it() {
    let run = assert_cmd::Command::new(env!("CARGO_BIN_EXE_admit"))
        .current_dir(root())
        .args([
            "check",
            "fixtures/kustomize",
            "--isolated",
            "--no-cache",
            "--format",
            "concise",
            "-p",
            "privilege-escalation",
        ])
        .env("PATH", "/nonexistent")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let warnings: Vec<_> = stdout
        .lines()
        .filter(|l| l.contains("[kustomize]"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stdout}");
    assert!(warnings[0].contains("warning[kustomize]"), "{stdout}");
    assert!(warnings[0].contains("kubectl"), "{stdout}");
    // Checked file by file, the patches still left out.
    assert!(
        stdout.contains("fixtures/kustomize/base/worker.yaml:14:15"),
        "{stdout}"
    );
    assert!(!stdout.contains("shell.yaml"), "{stdout}");
}

#[test]
fn one_thread_or_two_give_the_same_report() {
    require_kustomize();
    let report = |threads: &str| {
        let run = admit(&[
            "check",
            "fixtures/kustomize",
            "--isolated",
            "--no-cache",
            "--format",
            "json",
            "-p",
            "recommended",
            "-j",
            threads,
        ]);
        // Everything but the elapsed time.
        let mut json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        json["summary"]
            .as_object_mut()
            .unwrap()
            .retain(|key, _| !key.contains("seconds") && !key.contains("elapsed"));
        json.to_string()
    };
    assert_eq!(report("1"), report("2"));
}

/// Copy `fixtures/kustomize` into a scratch directory.
fn scratch_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = root().join("fixtures/kustomize");
    for entry in walk(&from) {
        let to = dir.path().join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    dir
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// `admit check . --isolated --format concise ARGS` in `tree` with `cache` as its cache
/// directory: what it prints.
fn concise_report(tree: &std::path::Path, cache: &std::path::Path, args: &[&str]) -> String {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_admit"))
        .current_dir(tree)
        .args(["check", ".", "--isolated", "--format", "concise"])
        .args(args)
        .env("ADMIT_CACHE_DIR", cache)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_kept_rendering_is_used_until_a_file_of_the_tree_changes() {
    require_kustomize();
    let tree = scratch_tree();
    std::fs::remove_dir_all(tree.path().join("remote")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let check = || concise_report(tree.path(), cache.path(), &["-p", "privileged"]);
    let first = check();
    assert!(
        first.contains("overlays/prod/privileged.yaml:12:23"),
        "{first}"
    );
    assert!(cache.path().join("renders").read_dir().unwrap().count() >= 2);
    assert_eq!(check().lines().next(), first.lines().next());
    // Two lines more above the patch's value: the kept rendering is stale, the finding moves.
    let patch = tree.path().join("overlays/prod/privileged.yaml");
    let text = std::fs::read_to_string(&patch).unwrap();
    std::fs::write(&patch, format!("# Production only.\n# Reviewed.\n{text}")).unwrap();
    let third = check();
    assert!(
        third.contains("overlays/prod/privileged.yaml:14:23"),
        "{third}"
    );
}

#[test]
fn a_comment_on_a_patch_line_silences_what_the_patch_caused() {
    require_kustomize();
    let tree = scratch_tree();
    std::fs::remove_dir_all(tree.path().join("remote")).unwrap();
    let patch = tree.path().join("overlays/prod/privileged.yaml");
    let text = std::fs::read_to_string(&patch).unwrap().replace(
        "privileged: true",
        "privileged: true  # admit:ignore privileged -- the node agent needs it",
    );
    std::fs::write(&patch, text).unwrap();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_admit"))
        .current_dir(tree.path())
        .args(["check", ".", "--isolated", "--no-cache", "--format", "json"])
        .args(["-p", "privileged", "-p", "host-namespaces"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let privileged: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["policy"] == "privileged")
        .collect();
    assert_eq!(privileged.len(), 1, "{report:#}");
    assert_eq!(
        privileged[0]["suppressed"]["reason"],
        "the node agent needs it"
    );
    // The rest still counts.
    assert_eq!(output.status.code(), Some(1), "{report:#}");
}

#[test]
fn the_summary_counts_a_rendered_object_once_whatever_files_its_findings_point_into() {
    require_kustomize();
    let run = admit(&[
        "check",
        "fixtures/kustomize/overlays/prod",
        "--isolated",
        "--no-cache",
        "-p",
        "privileged",
        "-p",
        "default-namespace",
    ]);
    // web's findings point at its patch and at the kustomization; worker's at the
    // kustomization: 3 findings, 2 objects, 1 rendering.
    assert!(
        run.summary()
            .starts_with("Checked 0 files and 1 rendering, 2 objects, 2 policies (4 evaluations): 3 findings in 2 objects;"),
        "{}",
        run.summary()
    );
}

/// README's GitLab CI recipe keeps the cache inside the project (`.admit-cache`), where
/// `admit check .` walks: its kept renderings are YAML, and must never be checked as
/// manifests. A hidden directory is not walked, so the second run reports what the first did.
#[test]
fn a_cache_directory_inside_the_checked_tree_is_not_checked() {
    require_kustomize();
    let tree = scratch_tree();
    std::fs::remove_dir_all(tree.path().join("remote")).unwrap();
    let cache = tree.path().join(".admit-cache");
    let check = || concise_report(tree.path(), &cache, &[]);
    let first = check();
    assert!(
        first.contains("overlays/prod/privileged.yaml:12:23"),
        "{first}"
    );
    let kept: Vec<_> = walk(&cache.join("renders"));
    assert!(
        kept.iter()
            .any(|p| p.extension().is_some_and(|e| e == "yaml")),
        "renderings are kept as YAML: {kept:?}"
    );
    let second = check();
    assert!(!second.contains(".admit-cache"), "{second}");
    let findings = |report: &str| -> Vec<String> {
        report
            .lines()
            .filter(|l| l.contains(": error["))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(findings(&second), findings(&first));
}
