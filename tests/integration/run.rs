//! `admit run`: the AdmissionResponse line kwctl prints, for waPC and WASI policies, and the
//! bats end-to-end file of tests/run/ run with bats-core.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{self, policy, root};
use assert_cmd::cargo::cargo_bin;

const UID: &str = "1299d386-525b-4032-98ae-1949f69f9cfc";

fn data(name: &str) -> String {
    root()
        .join("tests/run/test_data")
        .join(name)
        .display()
        .to_string()
}

/// Run `admit run ARGS`: (exit code, stdout, stderr).
fn admit_run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(cargo_bin("admit"))
        .arg("run")
        .args(args)
        .env(
            "ADMIT_CACHE_DIR",
            std::env::temp_dir().join("admit-run-tests-cache"),
        )
        .output()
        .expect("admit runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The one stdout line of a successful `admit run`.
fn line(args: &[&str]) -> String {
    let (code, stdout, stderr) = admit_run(args);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    stdout.trim_end().to_string()
}

fn wasi(settings: &str) -> String {
    line(&[
        &policy("wasi-policy"),
        "-r",
        &data("pod_creation.json"),
        "--settings-json",
        settings,
    ])
}

#[test]
fn wasi_accepts() {
    assert_eq!(
        wasi("{}"),
        format!(r#"{{"uid":"{UID}","allowed":true,"auditAnnotations":null,"warnings":null}}"#)
    );
}

#[test]
fn wasi_rejects_with_the_policys_message_and_code() {
    assert_eq!(
        wasi(r#"{"reject":"no pods today"}"#),
        format!(
            r#"{{"uid":"{UID}","allowed":false,"status":{{"message":"no pods today","code":403}},"auditAnnotations":null,"warnings":null}}"#
        )
    );
}

#[test]
fn wasi_mutation_is_a_base64_json_patch() {
    // [{"op":"add","path":"/metadata/labels","value":{"team":"admit"}}]
    assert_eq!(
        wasi(r#"{"label":"team"}"#),
        format!(
            r#"{{"uid":"{UID}","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2xhYmVscyIsInZhbHVlIjp7InRlYW0iOiJhZG1pdCJ9fV0=","auditAnnotations":null,"warnings":null}}"#
        )
    );
}

#[test]
fn a_wasi_trap_or_exit_code_is_denied_with_its_stderr() {
    assert_eq!(
        wasi(r#"{"trap":true}"#),
        format!(
            r#"{{"uid":"{UID}","allowed":false,"status":{{"message":"trapping on demand","code":500}},"auditAnnotations":null,"warnings":null}}"#
        )
    );
    assert!(
        wasi(r#"{"exit":3}"#).contains(r#""message":"exiting with code 3 on demand","code":500"#)
    );
}

#[test]
fn wasi_host_calls_answer_through_stdin_with_inverted_codes() {
    // The guest logs (0 = success, empty reply) and then asks for an OCI digest, which is
    // refused offline (1 = failure); it rejects with the refusal it read back from stdin.
    let (code, stdout, stderr) = admit_run(&[
        &policy("wasi-policy"),
        "-r",
        &data("pod_creation.json"),
        "--settings-json",
        r#"{"host_call":true}"#,
        "--verbose",
        "--offline",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(
            r#""message":"host capability oci/v1/manifest_digest is not available offline""#
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("wasi-policy info: wasi-policy was here"),
        "{stderr}"
    );
}

#[test]
fn invalid_settings_exit_1_with_kwctls_message() {
    let (code, stdout, stderr) = admit_run(&[
        &policy("wasi-policy"),
        "-r",
        &data("pod_creation.json"),
        "--settings-json",
        r#"{"invalid":"bad settings"}"#,
    ]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert_eq!(
        stderr.trim(),
        "Error: Provided settings are not valid: bad settings"
    );

    let (code, _, stderr) = admit_run(&[
        &policy("require-labels"),
        "-r",
        &data("pod_creation.json"),
        "--settings-json",
        r#"{"labels":3}"#,
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("Provided settings are not valid: "),
        "{stderr}"
    );
}

#[test]
fn wapc_mutation_and_rejection() {
    // pull-policy sets imagePullPolicy: Always on a container without it.
    // [{"op":"add","path":"/spec/containers/0/imagePullPolicy","value":"Always"}]
    assert_eq!(
        line(&[&policy("pull-policy"), "-r", &data("pod_creation.json")]),
        format!(
            r#"{{"uid":"{UID}","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL3NwZWMvY29udGFpbmVycy8wL2ltYWdlUHVsbFBvbGljeSIsInZhbHVlIjoiQWx3YXlzIn1d","auditAnnotations":null,"warnings":null}}"#
        )
    );
    let rejected = line(&[
        "-r",
        &data("pod_request.yaml"),
        &policy("require-labels"),
        "--settings-json",
        r#"{"labels":["team"]}"#,
    ]);
    assert!(
        rejected.starts_with(r#"{"uid":"bare-request","allowed":false,"status":{"message":"#),
        "{rejected}"
    );
    assert!(rejected.contains("team"), "{rejected}");
}

#[test]
fn a_wapc_trap_is_an_internal_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("trap.wasm");
    let wasm = wat::parse_str(
        r#"(module
             (import "wapc" "__guest_response" (func $respond (param i32 i32)))
             (memory (export "memory") 1)
             (data (i32.const 0) "{\"valid\":true}")
             ;; validate_settings (17 bytes) succeeds; validate traps.
             (func (export "__guest_call") (param $op i32) (param i32) (result i32)
               (if (i32.eq (local.get $op) (i32.const 17))
                 (then (call $respond (i32.const 0) (i32.const 14)) (return (i32.const 1))))
               unreachable))"#,
    )
    .unwrap();
    std::fs::write(&module, wasm).unwrap();
    assert_eq!(
        line(&[module.to_str().unwrap(), "-r", &data("pod_creation.json")]).replace(UID, "U"),
        r#"{"uid":"U","allowed":false,"status":{"message":"internal server error: trapped: wasm `unreachable` instruction executed","code":500},"auditAnnotations":null,"warnings":null}"#
    );
}

#[test]
fn requests_come_from_a_review_a_bare_request_stdin_or_a_manifest() {
    let bare = line(&[&policy("noop"), "-r", &data("pod_request.yaml")]);
    assert!(
        bare.starts_with(r#"{"uid":"bare-request","allowed":true"#),
        "{bare}"
    );

    let output = Command::new(cargo_bin("admit"))
        .args(["run", &policy("noop"), "-r", "-"])
        .stdin(std::fs::File::open(data("pod_creation.json")).unwrap())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains(UID));

    let dir = support::scratch(&[(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n",
    )]);
    let manifest = dir.path().join("pod.yaml");
    let built = line(&[&policy("noop"), "--manifest", manifest.to_str().unwrap()]);
    assert!(
        built.starts_with(r#"{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":true"#),
        "{built}"
    );

    // A manifest given as a request is refused as kwctl refuses it.
    let (code, _, stderr) = admit_run(&[&policy("noop"), "-r", manifest.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("Error: cannot build AdmissionRequest object from given input: "),
        "{stderr}"
    );
}

#[test]
fn raw_requests_are_sent_as_they_are() {
    let accepted = line(&[&policy("wasi-policy"), "--raw", "-r", &data("raw.json")]);
    assert_eq!(
        accepted,
        r#"{"uid":"raw-1","allowed":true,"auditAnnotations":null,"warnings":null}"#
    );
    let rejected = line(&[
        &policy("wasi-policy"),
        "--raw",
        "-r",
        &data("raw.json"),
        "--settings-json",
        r#"{"forbid":"/action"}"#,
    ]);
    assert!(
        rejected.contains(r#""message":"/action is forbidden""#),
        "{rejected}"
    );
}

#[test]
fn built_in_ids_run_and_modes_must_agree_with_the_metadata() {
    let builtin = line(&["privileged", "-r", &data("pod_creation.json")]);
    assert!(builtin.contains(r#""allowed":true"#), "{builtin}");

    let (code, _, stderr) = admit_run(&[
        &policy("wasi-policy"),
        "-e",
        "kubewarden-wapc",
        "-r",
        &data("pod_creation.json"),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("the execution mode given (kubewarden-wapc) is different from the one in the policy's metadata (wasi)"), "{stderr}");
    // Agreeing is fine, and `kubewarden` is kwctl's spelling of kubewarden-wapc.
    line(&[
        &policy("wasi-policy"),
        "-e",
        "wasi",
        "-r",
        &data("pod_creation.json"),
    ]);
    line(&[
        &policy("noop"),
        "-e",
        "kubewarden",
        "-r",
        &data("pod_creation.json"),
    ]);
}

/// bats-core, from the npm registry into target/ when it is not on PATH.
fn bats() -> PathBuf {
    if Command::new("bats")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return PathBuf::from("bats");
    }
    let prefix = root().join("target/bats");
    let bin = prefix.join("node_modules/bats/bin/bats");
    if !bin.exists() {
        let status = Command::new("npm")
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&prefix)
            .arg("bats@1.13.0")
            .status()
            .expect("npm is installed (bats-core comes from the npm registry)");
        assert!(status.success(), "npm install bats failed");
    }
    bin
}

#[test]
fn kubewarden_style_bats_tests_pass_with_admit_run() {
    let dir: &Path = &root().join("tests/run");
    let output = Command::new(bats())
        .arg("--tap")
        .arg("e2e.bats")
        .current_dir(dir)
        .env("ADMIT", cargo_bin("admit"))
        .env("POLICY", policy("wasi-policy"))
        .output()
        .expect("bats runs");
    let tap = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{tap}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        tap.lines().filter(|l| l.starts_with("ok ")).count(),
        5,
        "{tap}"
    );
}
