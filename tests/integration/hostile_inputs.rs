//! Hostile inputs: each file sits next to a normal manifest (`web.yaml`, whose
//! privileged container the `privileged` policy must still report) in a scratch directory, and
//! admit checks the directory. Each must give a clear diagnostic with the file (and line:col
//! where meaningful), still check the other file, exit with the right code, and neither panic
//! nor hang (a generous hang guard kills a stuck run and fails the test). Large inputs are
//! generated here, never committed. Wall time and peak RSS are printed, not asserted
//! (`cargo test --release --test integration hostile_inputs:: -- --nocapture --test-threads 1`).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::support::measured::{Measured, run_measured};
use crate::support::{fixture, policy};

const HANG_GUARD: Duration = Duration::from_secs(300);
const PRIVILEGED_FINDING: &str = "privileged: container \"log-shipper\" must not be privileged";

/// A scratch directory with `web.yaml` and the hostile files, as (name, bytes).
fn scratch(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("web.yaml"), fixture("manifests/web.yaml"))
        .expect("web.yaml written");
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("hostile file written");
    }
    dir
}

/// `admit check .` in `dir` with the `privileged` test policy; `marker` picks the line to print.
fn check(case: &str, dir: &Path, marker: &str) -> Measured {
    let privileged = policy("privileged");
    let run = run_measured(
        case,
        dir,
        &[
            "check",
            ".",
            "--isolated",
            "--no-cache",
            "--policy",
            &privileged,
        ],
        HANG_GUARD,
        marker,
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{case}: admit panicked:\n{}",
        run.stderr
    );
    run.expect(PRIVILEGED_FINDING).expect("[web.yaml:27:25]");
    run
}

/// One hostile file next to web.yaml: exit 2 with `message` at `at`.
#[track_caller]
fn assert_error(case: &str, name: &str, bytes: &[u8], message: &str, at: Option<&str>) {
    let dir = scratch(&[(name, bytes)]);
    let run = check(case, dir.path(), name);
    run.code(2).expect(message);
    if let Some(at) = at {
        run.expect(&format!("[{at}]"));
    }
}

#[test]
fn an_alias_bomb_is_bounded_and_reported() {
    let mut bomb = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n");
    bomb.push_str(
        "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, previous) in "bcdefghi".chars().zip("abcdefgh".chars()) {
        let refs = vec![format!("*{previous}"); 9].join(",");
        writeln!(bomb, "  {name}: &{name} [{refs}]").unwrap();
    }
    assert_error(
        "alias bomb (9^9 nodes)",
        "bomb.yaml",
        bomb.as_bytes(),
        "invalid-yaml: alias expansion exceeds 1000000 nodes",
        Some("bomb.yaml:10:9"),
    );
}

#[test]
fn nesting_10000_levels_deep_is_an_error_not_a_stack_overflow() {
    let flow = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    assert_error(
        "10,000-deep flow nesting",
        "deep.yaml",
        flow.as_bytes(),
        "invalid-yaml: nesting deeper than 500 levels",
        Some("deep.yaml:1:503"),
    );
    let mut block = String::from("a:\n");
    for depth in 1..10_000 {
        writeln!(block, "{}b:", " ".repeat(depth)).unwrap();
    }
    assert_error(
        "10,000-deep block nesting",
        "deepblock.yaml",
        block.as_bytes(),
        "invalid-yaml: nesting deeper than 500 levels",
        Some("deepblock.yaml:501:501"),
    );
}

#[test]
fn a_100_mb_file_and_100_000_documents_simply_work() {
    // One ConfigMap of 100,000 keys of 1 KB each: about 100 MB.
    let mut big = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n");
    let value = "x".repeat(1000);
    for key in 0..100_000 {
        writeln!(big, "  key{key}: {value}").unwrap();
    }
    assert!(big.len() > 100_000_000);
    let mut stream = String::new();
    for index in 0..100_000 {
        writeln!(
            stream,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{index}}}\ndata: {{a: b}}"
        )
        .unwrap();
    }
    let dir = scratch(&[
        ("big.yaml", big.as_bytes()),
        ("stream.yaml", stream.as_bytes()),
    ]);
    drop((big, stream));
    let run = check("100 MB file + 100,000 documents", dir.path(), "Checked");
    run.code(1).expect(
        "Checked 3 files, 100002 objects, 1 policy (1 evaluation): 1 finding in 1 object; 0 errors",
    );
}

#[test]
fn bad_encodings_are_errors_with_the_line() {
    assert_error(
        "invalid UTF-8",
        "latin1.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
        "input: latin1.yaml: not valid UTF-8 (byte 52 on line 4)",
        None,
    );
    let utf16: Vec<u8> = "\u{feff}apiVersion: v1\nkind: ConfigMap\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_error(
        "UTF-16 with BOM",
        "utf16.yaml",
        &utf16,
        "input: utf16.yaml: the file is UTF-16; Kubernetes manifests must be UTF-8",
        None,
    );
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert_error(
        "binary named .yaml",
        "binary.yaml",
        &binary,
        "input: binary.yaml: not valid UTF-8 (byte 1 on line 1)",
        None,
    );
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    let dir = scratch(&[
        ("empty.yaml", b""),
        ("comments.yaml", b"# only\n# comments\n"),
    ]);
    check("empty file + only comments", dir.path(), "Checked")
        .code(1)
        .expect(
            "Checked 3 files, 1 object, 1 policy (1 evaluation): 1 finding in 1 object; 0 errors",
        );
}

#[test]
fn a_directory_named_like_a_manifest_is_walked() {
    let dir = scratch(&[]);
    std::fs::create_dir(dir.path().join("x.yaml")).unwrap();
    std::fs::write(dir.path().join("x.yaml/inner.yaml"), "# empty\n").unwrap();
    check("directory named x.yaml", dir.path(), "Checked")
        .code(1)
        .expect("Checked 2 files, 1 object");
}

#[cfg(unix)]
#[test]
fn symlink_loops_met_in_a_walk_are_passed_over_with_a_note() {
    let dir = scratch(&[]);
    let path = dir.path();
    std::os::unix::fs::symlink("loop2.yaml", path.join("loop1.yaml")).unwrap();
    std::os::unix::fs::symlink("loop1.yaml", path.join("loop2.yaml")).unwrap();
    std::fs::create_dir(path.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", path.join("sub/up")).unwrap();
    let run = check("symlink loops", path, "loop");
    // Only web.yaml's finding decides the exit code.
    run.code(1)
        .reject("input:")
        .expect("note: 3 broken symbolic links skipped");
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch(&[("secret.yaml", b"apiVersion: v1\nkind: ConfigMap\n")]);
    let secret = dir.path().join("secret.yaml");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads a mode-000 file anyway; then only the second case below applies.
    if std::fs::read(&secret).is_err() {
        check("unreadable file (mode 000)", dir.path(), "secret")
            .code(2)
            .expect("input: secret.yaml: permission denied");
    } else {
        eprintln!("running as root: mode 000 does not stop reading; skipping that case");
    }
    std::fs::remove_file(&secret).unwrap();
    // A file whose read fails for root too: /proc/self/mem is unmapped at offset 0.
    std::os::unix::fs::symlink("/proc/self/mem", dir.path().join("mem.yaml")).unwrap();
    check("unreadable file (read fails)", dir.path(), "mem.yaml")
        .code(2)
        .expect("input: mem.yaml: Input/output error (os error 5)");
}

#[test]
fn a_file_deleted_after_the_walk_is_an_error() {
    // The library API, because no run of the binary can delete a file at a chosen moment:
    // the walk lists the file, the file goes, and reading it then is a clear error.
    let dir = scratch(&[("gone.yaml", b"apiVersion: v1\nkind: ConfigMap\n")]);
    let admit::inputs::Collected { inputs, errors, .. } =
        admit::inputs::collect(&[dir.path().to_path_buf()], "-");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(inputs.len(), 2);
    std::fs::remove_file(dir.path().join("gone.yaml")).unwrap();
    let results: Vec<_> = inputs.iter().map(admit::inputs::read).collect();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|result| result.as_ref().err())
        .map(ToString::to_string)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].ends_with("gone.yaml: no such file or directory"),
        "{failed:?}"
    );
    assert!(results.iter().any(|result| {
        result
            .as_ref()
            .is_ok_and(|file| file.name().ends_with("web.yaml"))
    }));
}

#[test]
fn structural_yaml_problems_point_at_the_node() {
    assert_error(
        "duplicate keys",
        "dup.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
        "invalid-yaml: duplicate key \"name\" (first defined at line 4)",
        Some("dup.yaml:5:3"),
    );
    assert_error(
        "tab indentation",
        "tab.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n",
        "invalid-yaml: tabs disallowed within this context (block indentation)",
        Some("tab.yaml:4:2"),
    );
    assert_error(
        "non-string keys",
        "keys.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  1: one\n  [a]: b\n",
        "invalid-yaml: mapping keys must be scalars",
        Some("keys.yaml:6:3"),
    );
    assert_error(
        ".nan and .inf",
        "nan.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nspec: {a: .nan, b: .inf}\n",
        "invalid-yaml: the float `.nan` is not representable in JSON",
        Some("nan.yaml:4:11"),
    );
    assert_error(
        "truncated JSON",
        "truncated.json",
        br#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "#,
        "invalid-yaml: unclosed bracket '{'",
        Some("truncated.json:1:55"),
    );
}

#[test]
fn scalar_and_sequence_roots_are_skipped_and_counted() {
    // Not Kubernetes objects; like a Helm values file or an Ansible playbook they are counted
    // in the summary rather than reported one by one.
    let dir = scratch(&[("roots.yaml", b"--- just a scalar\n--- [a, b]\n")]);
    check("scalar and sequence roots", dir.path(), "Checked")
        .code(1)
        .expect("2 documents without apiVersion/kind skipped");
}

#[test]
fn integers_beyond_64_bits_become_floats_as_kubectl_sends_them() {
    let dir = scratch(&[(
        "big-int.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {}\nreplicas: 123456789012345678901234567890\n",
    )]);
    check("integer beyond 64 bits", dir.path(), "Checked")
        .code(1)
        .expect("Checked 2 files, 2 objects")
        .reject("big-int.yaml:");
}

#[test]
fn list_items_that_are_not_objects_are_warnings() {
    let dir = scratch(&[(
        "list.yaml",
        b"apiVersion: v1\nkind: List\nitems:\n  - 42\n  - [a]\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: ok}\n",
    )]);
    check("List with non-object items", dir.path(), "list.yaml")
        .code(1)
        .expect("not-an-object: List item is not a Kubernetes object (not a mapping); skipped")
        .expect("[list.yaml:4:5]")
        .expect("[list.yaml:5:5]");
}

/// Every file under `dir` with its contents, sorted, for before/after comparisons.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_partial_report_and_inputs_untouched() {
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let mut stream = String::new();
    for index in 0..50_000 {
        writeln!(
            stream,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{index}}}\ndata: {{a: b}}"
        )
        .unwrap();
    }
    let inputs = scratch(&[("stream.yaml", stream.as_bytes())]);
    let before = snapshot(inputs.path());
    let privileged = policy("privileged");
    // SIGINT at several moments: while walking and parsing, while evaluating, and around the
    // report's write; each run must end with no report or a whole one, and nothing else.
    for delay_ms in [50u64, 300, 800, 1500, 3000] {
        let out = tempfile::tempdir().unwrap();
        let report = out.path().join("report.json");
        let mut child = Command::new(env!("CARGO_BIN_EXE_admit"))
            .current_dir(inputs.path())
            .args([
                "check",
                ".",
                "--isolated",
                "--no-cache",
                "--format",
                "json",
                "--output",
            ])
            .arg(&report)
            .args(["--policy", &privileged])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("admit starts");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > HANG_GUARD {
                let _ = child.kill();
                panic!("admit did not stop {delay_ms} ms after SIGINT");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let left: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        match status.code() {
            // Finished before the signal arrived: the whole report is there.
            Some(1) => {
                assert_eq!(left, ["report.json"], "after {delay_ms} ms");
                let text = std::fs::read_to_string(&report).unwrap();
                serde_json::from_str::<serde_json::Value>(&text)
                    .unwrap_or_else(|e| panic!("a partial report after {delay_ms} ms: {e}"));
            }
            // Interrupted: the report was not written, and no temporary file is left.
            Some(130) => assert!(left.is_empty(), "after {delay_ms} ms: {left:?}"),
            other => panic!("exit {other:?} after SIGINT at {delay_ms} ms"),
        }
        eprintln!(
            "SIGINT after {delay_ms} ms: exit {:?}, left {left:?}",
            status.code()
        );
    }
    assert!(before == snapshot(inputs.path()), "an input file changed");
}
