//! The result cache: an unchanged file is not evaluated again, and anything that could change
//! what it finds (its text, a policy, settings, suppressions) means it is.

use std::path::Path;

use crate::support::{admit_in, scratch};

const POD: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true  # admit:ignore host-ports -- nothing to silence
";

/// `admit check --format json` in `dir` with its own cache in `cache`: the report without
/// its timing, the number of files taken from the cache, and the exit code.
fn check(dir: &Path, cache: &Path, args: &[&str]) -> (serde_json::Value, u64, i32) {
    let cache = cache.to_string_lossy();
    let mut full = vec!["check", "--format", "json", "--cache-dir", &cache];
    full.extend_from_slice(args);
    let run = admit_in(dir, &full, None);
    let mut report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{}\n{}", run.stdout, run.stderr));
    let summary = report["summary"].as_object_mut().expect("a summary");
    summary.remove("seconds");
    let cached = summary
        .remove("cached_files")
        .and_then(|c| c.as_u64())
        .expect("cached_files");
    (report, cached, run.code)
}

#[test]
fn an_unchanged_file_is_not_evaluated_again() {
    let dir = scratch(&[("pod.yaml", POD), ("other.yaml", POD)]);
    let cache = tempfile::tempdir().expect("cache dir");
    let args = ["-p", "privileged", "-p", "host-ports", "."];
    let (first, cached, code) = check(dir.path(), cache.path(), &args);
    assert_eq!((cached, code), (0, 1));
    let (second, cached, code) = check(dir.path(), cache.path(), &args);
    assert_eq!((cached, code), (2, 1));
    assert_eq!(
        first, second,
        "a cached run reports exactly what a fresh one did"
    );
    assert!(
        second["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["policy"] == "unused-suppression")),
        "suppression audits come back too: {second}"
    );

    // The human summary says so.
    let cache_dir = cache.path().to_string_lossy().to_string();
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "--cache-dir",
            &cache_dir,
            "-p",
            "privileged",
            "-p",
            "host-ports",
            ".",
        ],
        None,
    );
    assert!(
        run.summary()
            .contains("; 2 files unchanged since the last run)"),
        "{}",
        run.stdout
    );

    // --no-cache neither reads nor writes.
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "--no-cache",
            "-p",
            "privileged",
            "-p",
            "host-ports",
            ".",
        ],
        None,
    );
    assert!(!run.summary().contains("unchanged"), "{}", run.stdout);
}

#[test]
fn findings_of_several_objects_keep_their_own_objects_from_the_cache() {
    // The cache names each object once and each finding by index: three objects, two with
    // findings each and one (in the middle) with none, so an index that slipped would show.
    let stream = [
        POD.replace("name: web", "name: first"),
        POD.replace("privileged: true", "privileged: false"),
        POD.replace("name: web", "name: third")
            .replace("kind: Pod", "kind: Pod\n# the third"),
    ]
    .join("---\n");
    let dir = scratch(&[("pods.yaml", &stream)]);
    let cache = tempfile::tempdir().expect("cache dir");
    let args = ["-p", "privileged", "-p", "run-as-non-root", "."];
    let (first, cached, _) = check(dir.path(), cache.path(), &args);
    assert_eq!(cached, 0);
    let (second, cached, _) = check(dir.path(), cache.path(), &args);
    assert_eq!(cached, 1);
    assert_eq!(first, second, "a cached run names the same objects");
    let names: Vec<_> = second["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["object"]["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(names.contains(&"first".to_string()), "{names:?}");
    assert!(names.contains(&"third".to_string()), "{names:?}");
    assert!(names.contains(&"web".to_string()), "{names:?}");
}

#[test]
fn a_change_to_the_file_or_the_policies_means_a_fresh_evaluation() {
    let dir = scratch(&[("pod.yaml", POD)]);
    let cache = tempfile::tempdir().expect("cache dir");
    let args = ["-p", "privileged", "pod.yaml"];
    check(dir.path(), cache.path(), &args);
    assert_eq!(check(dir.path(), cache.path(), &args).1, 1);

    // The text changed: evaluated again, and the new finding is where the text says.
    std::fs::write(dir.path().join("pod.yaml"), format!("# moved down\n{POD}")).expect("edit");
    let (report, cached, _) = check(dir.path(), cache.path(), &args);
    assert_eq!(cached, 0);
    assert_eq!(report["findings"][0]["line"], 10);

    // Other policies, other settings, suppressions ignored: evaluated again each time.
    assert_eq!(
        check(dir.path(), cache.path(), &["-p", "baseline", "pod.yaml"]).1,
        0
    );
    let registries = |allowed: &str| {
        let settings = format!("{{\"allowed\": [\"{allowed}\"]}}");
        check(
            dir.path(),
            cache.path(),
            &[
                "-p",
                "image-registries",
                "--settings",
                &settings,
                "pod.yaml",
            ],
        )
        .1
    };
    assert_eq!(registries("docker.io"), 0);
    assert_eq!(registries("docker.io"), 1);
    assert_eq!(registries("quay.io"), 0);
    let mut strict = args.to_vec();
    strict.insert(0, "--no-suppressions");
    assert_eq!(check(dir.path(), cache.path(), &strict).1, 0);
}

#[test]
fn limits_are_part_of_what_a_result_depends_on() {
    let dir = scratch(&[("pod.yaml", POD)]);
    let cache = tempfile::tempdir().expect("cache dir");
    let run = |extra: &[&str]| {
        let mut args = vec!["-p", "privileged", "pod.yaml"];
        args.extend_from_slice(extra);
        check(dir.path(), cache.path(), &args)
    };
    let (_, cached, code) = run(&["--policy-memory", "256"]);
    assert_eq!((cached, code), (0, 1));
    assert_eq!(
        run(&["--policy-memory", "256"]).1,
        1,
        "cached as it should be"
    );

    // 1 MiB is too little for the policy to start: a fresh run fails, and so must this one.
    let (report, cached, code) = run(&["--policy-memory", "1"]);
    assert_eq!((cached, code), (0, 2), "{report}");
    let errors: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "error")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        errors
            .iter()
            .any(|m| m.contains("tried to grow memory past 1 MiB")),
        "{report}"
    );

    // The time limit is a limit too.
    assert_eq!(
        run(&["--policy-memory", "256", "--policy-timeout", "5"]).1,
        0
    );
    assert_eq!(
        run(&["--policy-memory", "256", "--policy-timeout", "5"]).1,
        1
    );
}

#[test]
fn a_broken_policy_is_reported_on_every_run() {
    let dir = scratch(&[("pod.yaml", POD)]);
    let cache = tempfile::tempdir().expect("cache dir");
    let args = [
        "-p",
        "image-registries",
        "--settings",
        "{\"allowed\": []}",
        "pod.yaml",
    ];
    for _ in 0..2 {
        let (report, cached, code) = check(dir.path(), cache.path(), &args);
        assert_eq!((cached, code), (0, 2));
        assert!(
            report["findings"][0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("invalid settings")),
            "{report}"
        );
    }
}

/// Set `path`'s modification time to `age` before now.
fn age(path: &Path, age: std::time::Duration) -> std::time::SystemTime {
    let time = std::time::SystemTime::now() - age;
    set_modified(path, time);
    time
}

fn set_modified(path: &Path, time: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .expect("set the modification time");
}

/// Replace `path`'s text behind the cache's back: its modification time stays `time`.
fn rewrite_keeping_time(path: &Path, text: &str, time: std::time::SystemTime) {
    std::fs::write(path, text).expect("rewrite");
    set_modified(path, time);
}

/// [`POD`] as the `privileged` policy accepts it (`fals_` is not `true`), one same-size edit
/// away from one it rejects.
fn accepted_pod() -> String {
    POD.replace(
        "true  # admit:ignore host-ports -- nothing to silence",
        "fals_",
    )
}

#[test]
fn a_file_known_by_size_and_time_is_rechecked_when_the_policies_change() {
    // An old file whose result points at nothing is not even read on the second run; when the
    // policies change, it must be read after all, and its new finding placed exactly.
    let accepted = POD.replace("  # admit:ignore host-ports -- nothing to silence", "");
    let dir = scratch(&[("pod.yaml", &accepted)]);
    age(
        &dir.path().join("pod.yaml"),
        std::time::Duration::from_secs(3600),
    );
    let cache = tempfile::tempdir().expect("cache dir");
    let (_, _, code) = check(dir.path(), cache.path(), &["-p", "host-ports", "."]);
    assert_eq!(code, 0);
    let (_, cached, code) = check(dir.path(), cache.path(), &["-p", "host-ports", "."]);
    assert_eq!(
        (cached, code),
        (1, 0),
        "the unchanged file comes from the cache"
    );
    let (report, cached, code) = check(dir.path(), cache.path(), &["-p", "privileged", "."]);
    assert_eq!((cached, code), (0, 1), "{report}");
    let finding = &report["findings"][0];
    assert_eq!(
        (
            finding["file"].as_str(),
            finding["line"].as_u64(),
            finding["column"].as_u64()
        ),
        (Some("pod.yaml"), Some(9), Some(21)),
        "{report}"
    );
}

#[test]
fn a_same_size_edit_within_the_clock_granularity_is_seen() {
    // git's "racy" case: a file edited again right after a run, so fast that its size and
    // time do not change. admit trusts a file's time only when the file was old enough when
    // recorded, so it rehashes this one and sees the edit.
    let accepted = accepted_pod();
    let dir = scratch(&[("pod.yaml", &accepted)]);
    let pod = dir.path().join("pod.yaml");
    let time = age(&pod, std::time::Duration::ZERO);
    let cache = tempfile::tempdir().expect("cache dir");
    let args = ["-p", "privileged", "."];
    let (report, _, code) = check(dir.path(), cache.path(), &args);
    assert_eq!(code, 0, "`fals_` is not `true`: {report}");

    let edited = accepted.replace("fals_", "true ");
    assert_eq!(edited.len(), accepted.len());
    rewrite_keeping_time(&pod, &edited, time);
    let (report, cached, code) = check(dir.path(), cache.path(), &args);
    assert_eq!((cached, code), (0, 1), "the edit is seen: {report}");
}

#[test]
fn a_report_without_snippets_takes_positions_from_the_cache_without_reading_the_file() {
    // JSON, SARIF, concise and the other machine formats need only a finding's line and
    // column, which the cache keeps: an old file known unchanged by its size and time is not
    // read at all. Proven by changing its bytes behind the cache's back, keeping its size and
    // time (the trust git and ruff place in them): the report still places the finding where
    // the original text had it, where the new text has no line 9.
    let dir = scratch(&[("pod.yaml", POD)]);
    let pod = dir.path().join("pod.yaml");
    let time = age(&pod, std::time::Duration::from_secs(3600));
    let cache = tempfile::tempdir().expect("cache dir");
    let args = ["-p", "privileged", "."];
    let (first, cached, code) = check(dir.path(), cache.path(), &args);
    assert_eq!((cached, code), (0, 1), "{first}");
    let place = |report: &serde_json::Value| {
        let finding = &report["findings"][0];
        (
            finding["line"].as_u64(),
            finding["column"].as_u64(),
            finding["end_line"].as_u64(),
            finding["end_column"].as_u64(),
        )
    };
    assert_eq!(place(&first), (Some(9), Some(21), Some(9), Some(25)));

    rewrite_keeping_time(&pod, &"x".repeat(POD.len()), time);
    let (second, cached, code) = check(dir.path(), cache.path(), &args);
    assert_eq!((cached, code), (1, 1), "{second}");
    assert_eq!(
        first, second,
        "the cached report is the first one, places and all"
    );

    let cache_dir = cache.path().to_string_lossy().to_string();
    let concise = admit_in(
        dir.path(),
        &[
            "check",
            "--format",
            "concise",
            "--cache-dir",
            &cache_dir,
            "-p",
            "privileged",
            ".",
        ],
        None,
    );
    assert!(
        concise.stdout.starts_with("pod.yaml:9:21: "),
        "{}",
        concise.stdout
    );
}
