//! Execution modes and the module commands: WASI sandbox limits, raw policies in `check`,
//! `admit inspect` and `admit annotate`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{policy, root, scratch};
use assert_cmd::cargo::cargo_bin;

fn admit(args: &[&str], dir: &Path) -> Output {
    Command::new(cargo_bin("admit"))
        .args(args)
        .current_dir(dir)
        .env("ADMIT_CACHE_DIR", dir.join("cache"))
        .output()
        .expect("admit runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const RAW_METADATA: &str = "rules: []\nmutating: false\nexecutionMode: wasi\npolicyType: raw\nannotations:\n  io.kubewarden.policy.title: no-debug\n";

/// wasi-policy re-annotated as a raw policy, in `dir`.
fn raw_policy(dir: &Path) -> String {
    std::fs::write(dir.join("raw.yml"), RAW_METADATA).unwrap();
    std::fs::write(dir.join("README.md"), "# no-debug\nForbids a node.\n").unwrap();
    let out = admit(
        &[
            "annotate",
            "-m",
            "raw.yml",
            "-u",
            "README.md",
            "-o",
            "raw.wasm",
            &policy("wasi-policy"),
        ],
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    "raw.wasm".into()
}

#[test]
fn a_raw_policy_sees_every_document_and_points_into_it() {
    let dir = scratch(&[(
        "app.yaml",
        "server:\n  port: 8080\n  debug: true\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  debug: \"yes\"\n",
    )]);
    let raw = raw_policy(dir.path());
    let out = admit(
        &[
            "check",
            "--isolated",
            "-p",
            &raw,
            "-s",
            r#"{"forbid":"/server/debug"}"#,
            "--format",
            "concise",
            "app.yaml",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some("app.yaml:3:10: error[no-debug] /server/debug is forbidden")
    );
    // The Kubernetes document is a document too: its pointer is into the ConfigMap.
    let out = admit(
        &[
            "check",
            "--isolated",
            "-p",
            &raw,
            "-s",
            r#"{"forbid":"/data/debug"}"#,
            "--format",
            "concise",
            "app.yaml",
        ],
        dir.path(),
    );
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some("app.yaml:10:10: error[no-debug] /data/debug is forbidden")
    );
}

#[test]
fn annotate_replaces_the_metadata_and_embeds_the_readme() {
    let dir = scratch(&[]);
    let raw = raw_policy(dir.path());
    let out = admit(&["inspect", &raw, "--format", "json"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["executionMode"], "wasi");
    assert_eq!(json["policyType"], "raw");
    assert_eq!(json["protocolVersion"], "Unknown");
    assert_eq!(
        json["annotations"]["io.kubewarden.policy.usage"],
        "# no-debug\nForbids a node.\n"
    );
    assert_eq!(json["metadata"]["protocolVersion"], "Unknown");
    assert_eq!(json["metadata"]["backgroundAudit"], true);
    // The original title is gone: the section was replaced, not added.
    assert_eq!(
        json["annotations"]["io.kubewarden.policy.title"],
        "no-debug"
    );
    assert!(
        json["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "host.call")
    );
}

#[test]
fn annotate_asks_a_wapc_module_its_protocol_version_and_validates_metadata() {
    let dir = scratch(&[
        (
            "meta.yml",
            "rules:\n- apiGroups: ['']\n  apiVersions: [v1]\n  resources: [pods]\n  operations: [CREATE]\nmutating: true\n",
        ),
        ("bad.yml", "rules: []\n"),
        (
            "wasi.yml",
            "rules: []\nmutating: false\nexecutionMode: wasi\n",
        ),
    ]);
    let out = admit(
        &[
            "annotate",
            "-m",
            "meta.yml",
            "-o",
            "out.wasm",
            &policy("pull-policy"),
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = admit(&["inspect", "out.wasm", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["metadata"]["protocolVersion"], "v1");
    assert_eq!(json["protocolVersion"], "v1");
    assert_eq!(json["mutating"], true);

    let out = admit(
        &[
            "annotate",
            "-m",
            "bad.yml",
            "-o",
            "bad.wasm",
            &policy("pull-policy"),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("missing field `mutating`"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("bad.wasm").exists());

    // Metadata can claim WASI for a waPC module; running it then says what is wrong.
    let out = admit(
        &[
            "annotate",
            "-m",
            "wasi.yml",
            "-o",
            "w.wasm",
            &policy("pull-policy"),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let run = admit(
        &[
            "run",
            "w.wasm",
            "--manifest",
            &root().join("fixtures").display().to_string(),
        ],
        dir.path(),
    );
    assert_eq!(run.status.code(), Some(1));
}

#[test]
fn inspect_reports_a_builtin_in_human_form() {
    let dir = scratch(&[]);
    let out = admit(&["inspect", "privileged"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for expected in [
        "policy                  builtin:privileged",
        "execution mode          kubewarden-wapc",
        "policy type             kubernetes",
        "protocol version        v1",
        "import                  wapc.__guest_request",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in\n{stdout}");
    }
    let missing = admit(&["inspect", "no-such-policy"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no policy module at no-such-policy"));
}

#[test]
fn a_wasi_command_runs_under_the_deadline_without_metadata_given_e_wasi() {
    let dir = scratch(&[(
        "review.json",
        r#"{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","userInfo":{},"object":{}}"#,
    )]);
    // A command that never ends: the deadline is set before instantiation and covers `_start`.
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("loop.wasm"), wasm).unwrap();
    let out = admit(
        &[
            "run",
            "loop.wasm",
            "-e",
            "wasi",
            "-r",
            "review.json",
            "--policy-timeout",
            "0.2",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "Error: Provided settings are not valid: exceeded its 0.2 s time limit"
    );
    // Without -e, a module without metadata is taken for waPC, which it is not.
    let out = admit(&["run", "loop.wasm", "-r", "review.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("__guest_call"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn admit_yaml_gives_an_execution_mode_that_must_agree_with_the_metadata() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n";
    let dir = scratch(&[("pod.yaml", pod)]);
    std::fs::copy(policy("wasi-policy"), dir.path().join("wasi.wasm")).unwrap();
    let config = |mode: &str| {
        let text = format!(
            "policies:\n- module: wasi.wasm\n  execution-mode: {mode}\n  settings: {{reject: nope}}\n"
        );
        std::fs::write(dir.path().join("admit.yaml"), text).unwrap();
        admit(&["check", "--format", "concise", "pod.yaml"], dir.path())
    };
    let agreeing = config("wasi");
    assert_eq!(
        agreeing.status.code(),
        Some(1),
        "{}",
        text(&agreeing.stderr)
    );
    assert!(
        text(&agreeing.stdout).contains("error[wasi-policy] nope"),
        "{}",
        text(&agreeing.stdout)
    );

    let disagreeing = config("kubewarden-wapc");
    assert_eq!(disagreeing.status.code(), Some(2));
    assert!(
        text(&disagreeing.stdout).contains("the execution mode given (kubewarden-wapc) is different from the one in the policy's metadata (wasi)"),
        "{}",
        text(&disagreeing.stdout)
    );

    let unknown = config("wapc2");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("execution-mode"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn a_wasi_command_is_held_to_the_memory_cap() {
    let dir = scratch(&[(
        "review.json",
        r#"{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","userInfo":{},"object":{}}"#,
    )]);
    // Asks for 320 MiB more and traps when refused, as a guest's allocator does.
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1)
             (func (export "_start")
               (if (i32.eq (memory.grow (i32.const 5120)) (i32.const -1)) (then unreachable))))"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("hog.wasm"), wasm).unwrap();
    let out = admit(
        &["run", "hog.wasm", "-e", "wasi", "-r", "review.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "Error: Provided settings are not valid: tried to grow memory past 256 MiB"
    );
}
