//! Hostile policies: each misbehaving guest runs next to a normal policy
//! (`privileged`) on a small manifest set. admit must name the policy and what happened, still
//! report the normal policy's finding, exit 2 when the policy failed, and finish: every run has
//! a generous hang guard. Wall time and peak RSS of each case are measured (not asserted) with
//! `/usr/bin/time -v` when it exists, and printed for `docs/reliability.md`
//! (`cargo test --release --test integration hostile_policies:: -- --nocapture --test-threads 1`).
//!
//! The guests are WAT, built here, except for what needs a real guest language (a Rust panic,
//! the SDK's logging, std's file open and `print!`): the Rust guest `tests/policies/hostile/`,
//! whose `misbehave` setting picks the behaviour.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::Run;
use crate::support::measured::run_measured;
use crate::support::{policy, root};

/// Far above any case's expected run time (a few seconds): only a hang trips it.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// The privileged container of this file is what the normal policy must still report.
const WEB: &str = "fixtures/manifests/web.yaml";
const PRIVILEGED_FINDING: &str = "privileged: container \"log-shipper\" must not be privileged";

/// The parts of a hostile waPC guest. The module imports the waPC and WASI functions the cases
/// use, answers `validate_settings` with `{"valid":true}` after running `settings`, and
/// `validate` with `{"accepted":true}` after running `validate` (either may return first).
#[derive(Default)]
struct Guest<'a> {
    /// Statements run before answering `validate_settings`.
    settings: &'a str,
    /// Statements run before answering `validate`.
    validate: &'a str,
    /// Locals of the `validate` function, e.g. `(local $i i32)`.
    locals: &'a str,
    /// More imports (WAT wants them before every definition).
    imports: &'a str,
    /// More module fields: functions, exports, data.
    extra: &'a str,
    /// Initial memory, in 64 KiB pages (default 2).
    pages: Option<u32>,
}

/// Write `guest` as `NAME.wasm` in `dir`.
fn build(dir: &Path, name: &str, guest: &Guest<'_>) -> String {
    let module = format!(
        r#"(module
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (import "wapc" "__host_call"
    (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  {imports}
  (memory (export "memory") {pages})
  (data (i32.const 0) "{{\"valid\":true}}")
  (data (i32.const 64) "{{\"accepted\":true}}")
  (func $validate_settings (result i32)
    {settings}
    (call $response (i32.const 0) (i32.const 14))
    (i32.const 1))
  (func $validate (result i32) {locals}
    {validate}
    (call $response (i32.const 64) (i32.const 17))
    (i32.const 1))
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    ;; "validate_settings" is 17 bytes long, "validate" 8.
    (if (result i32) (i32.eq (local.get $op_len) (i32.const 17))
      (then (call $validate_settings))
      (else (call $validate))))
  {extra})"#,
        pages = guest.pages.unwrap_or(2),
        settings = guest.settings,
        validate = guest.validate,
        locals = guest.locals,
        imports = guest.imports,
        extra = guest.extra,
    );
    let wasm = wat::parse_str(&module).unwrap_or_else(|e| panic!("{name}: {e}\n{module}"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wasm).expect("module written");
    path.display().to_string()
}

/// Write a guest that only runs `validate` before accepting (see [`Guest`]).
fn validating(dir: &Path, name: &str, validate: &str) -> String {
    build(
        dir,
        name,
        &Guest {
            validate,
            ..Guest::default()
        },
    )
}

/// Run `admit check --no-cache` on [`WEB`] with `privileged` and the hostile module, plus
/// `extra` arguments, under the hang guard; print wall time and peak RSS.
fn run_hostile(case: &str, module: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        WEB,
        "fixtures/manifests/services.yaml",
        "--no-cache",
        "--isolated",
        "-j",
        "2",
    ];
    let privileged = policy("privileged");
    args.extend(["--policy", &privileged, "--policy", module]);
    args.extend_from_slice(extra);
    run_measured(case, &root(), &args, HANG_GUARD, "hostile:")
}

/// The checks every case shares: the policy is named with what happened, the normal policy's
/// finding is still there, and the run exits 2.
#[track_caller]
fn assert_contained(run: &Run, message: &str) {
    run.code(2).expect(message).expect(PRIVILEGED_FINDING);
}

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().to_path_buf();
    (dir, path)
}

const SPIN: &str = "(loop $spin (br $spin))";

/// What admit says of a policy it stopped after a timeout.
const HUNG: &str = "hostile: exceeded its 2 s time limit; admit stopped running this policy after its first timeout and left out everything it found in this run";

#[test]
fn an_infinite_loop_in_validate_stops_the_policy_after_its_first_timeout() {
    let (_dir, path) = scratch();
    let module = validating(&path, "hostile", SPIN);
    let run = run_hostile("infinite loop in validate", &module, &[]);
    assert_contained(&run, HUNG);
    // One error for the policy, not one per object.
    run.reject("policy failed")
        .reject("while evaluating this object");
}

#[test]
fn a_policy_that_hangs_on_every_object_costs_one_timeout_not_one_per_object() {
    let (_dir, path) = scratch();
    let module = validating(&path, "hostile", SPIN);
    // 300 Pods and web.yaml's Deployment: waiting out a 1 s deadline on each would take 150 s
    // on two threads, beyond the hang guard; stopping the policy at its first timeout takes
    // about a second.
    let inputs = path.join("pods");
    std::fs::create_dir(&inputs).unwrap();
    for file in 0..30 {
        let pods: Vec<String> = (0..10)
            .map(|pod| {
                format!(
                    "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{file}-{pod}}}\nspec: {{containers: [{{name: c, image: i}}]}}\n"
                )
            })
            .collect();
        std::fs::write(inputs.join(format!("pods-{file}.yaml")), pods.join("---\n")).unwrap();
    }
    std::fs::copy(root().join(WEB), inputs.join("web.yaml")).unwrap();
    let inputs = inputs.display().to_string();
    let privileged = policy("privileged");
    let run = run_measured(
        "infinite loop in validate, 300 objects",
        &root(),
        &[
            "check",
            &inputs,
            "--no-cache",
            "--isolated",
            "--policy-timeout",
            "1",
            "--policy",
            &privileged,
            "--policy",
            &module,
        ],
        Duration::from_secs(60),
        "hostile:",
    );
    run.code(2)
        .expect("hostile: exceeded its 1 s time limit; admit stopped running this policy")
        .expect("privileged: container \"log-shipper\" must not be privileged");
    // The summary counts only the policy that is reported (privileged, once an object), and
    // only its rejection.
    let summary = run.summary();
    assert!(
        summary.starts_with(
            "Checked 31 files, 301 objects, 1 policy (301 evaluations): 1 finding in 1 object; 1 error"
        ),
        "{summary}"
    );
}

#[test]
fn an_infinite_loop_in_validate_settings_skips_the_policy() {
    let (_dir, path) = scratch();
    let module = build(
        &path,
        "hostile",
        &Guest {
            settings: SPIN,
            ..Guest::default()
        },
    );
    let run = run_hostile(
        "infinite loop in validate_settings",
        &module,
        &["--policy-timeout", "1"],
    );
    assert_contained(
        &run,
        "hostile: failed while validating its settings: exceeded its 1 s time limit; this policy was skipped",
    );
}

#[test]
fn an_infinite_loop_at_start_up_skips_the_policy() {
    let (_dir, path) = scratch();
    for (case, extra) in [
        (
            "infinite loop in _start",
            r#"(func (export "_start") (loop $spin (br $spin)))"#,
        ),
        (
            "infinite loop in wapc_init",
            r#"(func (export "wapc_init") (loop $spin (br $spin)))"#,
        ),
        (
            "infinite loop in the start function",
            r#"(func $init (loop $spin (br $spin))) (start $init)"#,
        ),
    ] {
        let module = build(
            &path,
            "hostile",
            &Guest {
                extra,
                ..Guest::default()
            },
        );
        let run = run_hostile(case, &module, &[]);
        assert_contained(
            &run,
            "hostile: failed to start: exceeded its 2 s time limit; this policy was skipped",
        );
    }
}

#[test]
fn memory_growth_towards_4_gib_stops_at_the_cap() {
    let (_dir, path) = scratch();
    // Grow by 64 MiB at a time until refused, then give up the way compiled guests do.
    let module = validating(
        &path,
        "hostile",
        "(loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 1024)) (i32.const -1)))) unreachable",
    );
    let run = run_hostile("memory growth towards 4 GiB", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: tried to grow memory past 256 MiB",
    );

    let run = run_hostile(
        "memory growth, --policy-memory 64",
        &module,
        &["--policy-memory", "64"],
    );
    assert_contained(
        &run,
        "hostile: policy failed: tried to grow memory past 64 MiB",
    );
}

#[test]
fn a_module_that_declares_4_gib_of_memory_cannot_start() {
    let (_dir, path) = scratch();
    let module = build(
        &path,
        "hostile",
        &Guest {
            pages: Some(65536),
            ..Guest::default()
        },
    );
    let run = run_hostile("4 GiB initial memory", &module, &[]);
    assert_contained(
        &run,
        "hostile: failed to start: tried to grow memory past 256 MiB; this policy was skipped",
    );
}

#[test]
fn deep_recursion_exhausts_the_wasm_stack_not_admit() {
    let (_dir, path) = scratch();
    let module = build(
        &path,
        "hostile",
        &Guest {
            validate: "(drop (call $recurse (i32.const 0)))",
            extra: "(func $recurse (param i32) (result i32)
                      (i32.add (i32.const 1) (call $recurse (i32.add (local.get 0) (i32.const 1)))))",
            ..Guest::default()
        },
    );
    let run = run_hostile("deep recursion", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: trapped: call stack exhausted",
    );
}

#[test]
fn unreachable_is_a_trap() {
    let (_dir, path) = scratch();
    let module = validating(&path, "hostile", "unreachable");
    let run = run_hostile("unreachable", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: trapped: wasm `unreachable` instruction executed",
    );
}

#[test]
fn a_100_mb_response_is_refused_without_copying_it() {
    let (_dir, path) = scratch();
    // 1600 pages are 100 MiB: the response is really there in guest memory.
    let module = build(
        &path,
        "hostile",
        &Guest {
            validate: "(drop (memory.grow (i32.const 1600)))
                       (call $response (i32.const 0) (i32.const 100000000))
                       (return (i32.const 1))",
            ..Guest::default()
        },
    );
    let run = run_hostile("100 MB response", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: answered with 95 MiB, more than the 16 MiB admit accepts",
    );
}

/// A guest that answers `validate` with the bytes of `response`, given as WAT string text.
fn responder(dir: &Path, response_wat: &str, len: usize) -> String {
    let extra = format!(r#"(data (i32.const 256) "{response_wat}")"#);
    let validate =
        format!("(call $response (i32.const 256) (i32.const {len})) (return (i32.const 1))");
    build(
        dir,
        "hostile",
        &Guest {
            validate: &validate,
            extra: &extra,
            ..Guest::default()
        },
    )
}

#[test]
fn a_response_that_is_not_json_is_an_error() {
    let (_dir, path) = scratch();
    let module = responder(&path, "accepted: maybe", 15);
    let run = run_hostile("non-JSON response", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: answered validate with an invalid response: expected value at line 1 column 1",
    );
}

#[test]
fn a_response_with_the_wrong_types_is_an_error() {
    let (_dir, path) = scratch();
    let response = r#"{\"accepted\":\"yes\",\"violations\":7}"#;
    let module = responder(&path, response, 33);
    let run = run_hostile("response with wrong types", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: answered validate with an invalid response: invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn a_guest_error_that_is_not_utf8_is_shown_lossily() {
    let (_dir, path) = scratch();
    let module = build(
        &path,
        "hostile",
        &Guest {
            validate: "(call $error (i32.const 256) (i32.const 8)) (return (i32.const 0))",
            extra: r#"(data (i32.const 256) "bad \ff\fe\c3!")"#,
            ..Guest::default()
        },
    );
    let run = run_hostile("non-UTF-8 guest error", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: bad \u{fffd}\u{fffd}\u{fffd}!",
    );
}

#[test]
fn a_million_log_calls_are_capped_and_counted() {
    let (_dir, path) = scratch();
    let module = build(
        &path,
        "hostile",
        &Guest {
            validate: r#"(local.set $i (i32.const 1000000))
                (loop $log
                  (drop (call $host_call (i32.const 512) (i32.const 10) (i32.const 528)
                    (i32.const 7) (i32.const 544) (i32.const 3) (i32.const 560) (i32.const 37)))
                  (local.tee $i (i32.sub (local.get $i) (i32.const 1)))
                  (br_if $log))"#,
            extra: r#"(data (i32.const 512) "kubewarden")
                      (data (i32.const 528) "tracing")
                      (data (i32.const 544) "log")
                      (data (i32.const 560) "{\"level\":\"info\",\"message\":\"flooding\"}")"#,
            locals: "(local $i i32)",
            ..Guest::default()
        },
    );
    // A long deadline: this case is about memory, not time, and must not depend on speed.
    let run = run_hostile(
        "a million tracing/log calls (-v)",
        &module,
        &["-v", "--policy-timeout", "60"],
    );
    // The policy itself did nothing wrong: only the normal policy's rejection fails the run.
    run.code(1).expect(PRIVILEGED_FINDING);
    assert!(
        run.stderr.contains(
            "hostile: [warning] admit dropped 999000 more log records of this call (it keeps 1000)"
        ),
        "stderr:\n{}",
        &run.stderr[run.stderr.len().saturating_sub(4000)..]
    );
    let kept = run.stderr.matches("hostile: [info] flooding").count();
    assert_eq!(
        kept,
        4 * 1000,
        "1000 records kept for each of the 4 objects"
    );
}

#[test]
fn proc_exit_3_is_an_error() {
    let (_dir, path) = scratch();
    let module = validating(&path, "hostile", "(call $proc_exit (i32.const 3))");
    let run = run_hostile("proc_exit(3)", &module, &[]);
    assert_contained(&run, "hostile: policy failed: exited with code 3");
}

#[test]
fn opening_etc_passwd_is_refused() {
    let (_dir, path) = scratch();
    // path_open on fd 3, where a libc looks for its first preopened directory; on failure the
    // guest reports the errno (two decimal digits) as its error.
    let module = build(
        &path,
        "hostile",
        &Guest {
            validate: r#"(local.set $errno (call $path_open (i32.const 3) (i32.const 0)
                   (i32.const 300) (i32.const 11) (i32.const 0) (i64.const 2) (i64.const 0)
                   (i32.const 0) (i32.const 400)))
                (if (i32.eqz (local.get $errno))
                  (then (call $error (i32.const 330) (i32.const 16)) (return (i32.const 0))))
                (i32.store8 (i32.const 374) (i32.add (i32.const 48) (i32.div_u (local.get $errno) (i32.const 10))))
                (i32.store8 (i32.const 375) (i32.add (i32.const 48) (i32.rem_u (local.get $errno) (i32.const 10))))
                (call $error (i32.const 350) (i32.const 26))
                (return (i32.const 0))"#,
            extra: r#"(data (i32.const 300) "/etc/passwd")
                      (data (i32.const 330) "read /etc/passwd")
                      (data (i32.const 350) "open /etc/passwd: errno 00")"#,
            locals: "(local $errno i32)",
            ..Guest::default()
        },
    );
    let run = run_hostile("open /etc/passwd", &module, &[]);
    // errno 8 is EBADF: there is no fd 3, because nothing is preopened.
    assert_contained(&run, "hostile: policy failed: open /etc/passwd: errno 08");
    run.reject("read /etc/passwd\n");
}

#[test]
fn writing_100_mb_to_stdout_is_cut_off() {
    let (_dir, path) = scratch();
    // One 1 MiB iovec written 100 times; a failed write is reported as the guest's error, the
    // way Rust's `println!` panics on one.
    let module = build(
        &path,
        "hostile",
        &Guest {
            validate: r#"(i32.store (i32.const 1024) (i32.const 65536))
                (i32.store (i32.const 1028) (i32.const 1048576))
                (drop (memory.grow (i32.const 32)))
                (local.set $i (i32.const 100))
                (loop $write
                  (if (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 1) (i32.const 1040))
                    (then (call $error (i32.const 600) (i32.const 22)) (return (i32.const 0))))
                  (local.tee $i (i32.sub (local.get $i) (i32.const 1)))
                  (br_if $write))"#,
            extra: r#"(data (i32.const 600) "write to stdout failed")"#,
            locals: "(local $i i32)",
            ..Guest::default()
        },
    );
    let run = run_hostile("100 MB to stdout", &module, &[]);
    run.expect(PRIVILEGED_FINDING);
    assert_eq!(
        run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run.expect("hostile: policy failed:");
}

#[test]
fn an_import_the_host_does_not_provide_is_a_load_error() {
    let (_dir, path) = scratch();
    let module = build(
        &path,
        "hostile",
        &Guest {
            imports: r#"(import "env" "launch_missiles" (func $launch))"#,
            ..Guest::default()
        },
    );
    let run = run_hostile("missing import", &module, &[]);
    assert_contained(&run, "hostile: cannot load policy:");
    run.expect("env::launch_missiles");
}

/// The Rust guest `tests/policies/hostile/`, for what needs a real guest language: `misbehave`
/// picks the behaviour.
fn run_rust_guest(case: &str, misbehave: &str, extra: &[&str]) -> Run {
    let settings = format!(r#"{{"misbehave":"{misbehave}"}}"#);
    let hostile = policy("hostile");
    // --settings applies to one --policy only, so privileged comes from a configuration.
    let dir = tempfile::tempdir().expect("temporary directory");
    let config = dir.path().join("admit.yaml");
    std::fs::write(
        &config,
        format!(
            "policies:\n  - module: {}\n  - module: {}\n    settings: {settings}\n",
            policy("privileged"),
            hostile
        ),
    )
    .expect("configuration written");
    let config = config.display().to_string();
    let mut args = vec![
        "check",
        WEB,
        "fixtures/manifests/services.yaml",
        "--no-cache",
        "--config",
        &config,
        "-j",
        "2",
    ];
    args.extend_from_slice(extra);
    run_measured(case, &root(), &args, HANG_GUARD, "hostile:")
}

#[test]
fn a_rust_panic_is_a_trap_shown_with_what_the_guest_said_first() {
    let run = run_rust_guest("Rust panic (panic = abort)", "panic", &[]);
    assert_contained(
        &run,
        "hostile: policy failed: trapped: wasm `unreachable` instruction executed",
    );
    // Not only the trap: its log record and the panic message std wrote to stderr, without -v.
    run.expect("help: the policy wrote, before it failed:")
        .expect("log [info] about to panic")
        .expect("stderr: hostile policy panics on \"Deployment\"")
        .expect("admit discarded this instance of the policy");
}

#[test]
fn a_trap_shows_the_console_log_and_the_end_of_a_long_stderr() {
    let (_dir, path) = scratch();
    // `__console_log`, then 10,000 `~` and a last line to stderr, then a trap.
    let module = build(
        &path,
        "hostile",
        &Guest {
            imports: r#"(import "wapc" "__console_log" (func $console (param i32 i32)))"#,
            validate: r#"(call $console (i32.const 2000) (i32.const 15))
                (memory.fill (i32.const 4096) (i32.const 126) (i32.const 10000))
                (i32.store (i32.const 1024) (i32.const 4096))
                (i32.store (i32.const 1028) (i32.const 10000))
                (i32.store (i32.const 1032) (i32.const 3000))
                (i32.store (i32.const 1036) (i32.const 12))
                (drop (call $fd_write (i32.const 2) (i32.const 1024) (i32.const 1) (i32.const 1040)))
                (drop (call $fd_write (i32.const 2) (i32.const 1032) (i32.const 1) (i32.const 1040)))
                unreachable"#,
            extra: r#"(data (i32.const 2000) "console says hi")
                (data (i32.const 3000) "\nlast words\n")"#,
            ..Guest::default()
        },
    );
    let run = run_hostile("console log and 10 kB of stderr, then a trap", &module, &[]);
    assert_contained(
        &run,
        "hostile: policy failed: trapped: wasm `unreachable` instruction executed",
    );
    run.expect("log [info] console says hi")
        .expect("stderr: last words");
    // Only the end of stderr is kept: 4 KiB, the last line included, not the 10,000 bytes
    // (in each object's error).
    let failures = run.stdout.matches("stderr: last words").count();
    assert!(failures > 0);
    assert_eq!(
        run.stdout.matches('~').count(),
        failures * (4096 - "\nlast words\n".len())
    );
}

#[test]
fn a_rust_panic_while_validating_settings_shows_its_message() {
    let run = run_rust_guest("Rust panic in validate_settings", "panic-in-settings", &[]);
    assert_contained(
        &run,
        "hostile: failed while validating its settings: trapped: wasm `unreachable`",
    );
    run.expect("stderr: hostile policy panics on its settings");
}

#[test]
fn admit_run_shows_what_a_panicking_guest_wrote() {
    let hostile = policy("hostile");
    let run = |misbehave: &str| {
        let settings = format!(r#"{{"misbehave":"{misbehave}"}}"#);
        crate::support::admit(&[
            "run",
            &hostile,
            "--manifest",
            WEB,
            "--settings-json",
            &settings,
        ])
    };
    let validate = run("panic");
    // The response keeps kwctl's form; what the guest said goes to standard error.
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    assert!(
        validate
            .stdout
            .contains("internal server error: trapped: wasm `unreachable` instruction executed"),
        "{}",
        validate.stdout
    );
    for needle in [
        "the policy wrote, before it failed:",
        "log [info] about to panic",
        "stderr: hostile policy panics on \"Deployment\"",
    ] {
        assert!(
            validate.stderr.contains(needle),
            "{needle}:\n{}",
            validate.stderr
        );
    }
    let settings = run("panic-in-settings");
    assert_eq!(settings.code, 1);
    assert!(
        settings
            .stderr
            .contains("stderr: hostile policy panics on its settings"),
        "{}",
        settings.stderr
    );
    assert!(
        settings
            .stderr
            .contains("Error: Provided settings are not valid: trapped"),
        "{}",
        settings.stderr
    );
}

#[test]
fn a_million_sdk_log_records_are_capped_and_counted() {
    let run = run_rust_guest(
        "a million SDK log records (-v)",
        "log-flood",
        &["-v", "--policy-timeout", "120"],
    );
    run.code(1).expect(PRIVILEGED_FINDING);
    assert!(
        run.stderr.contains(
            "hostile: [warning] admit dropped 999000 more log records of this call (it keeps 1000)"
        ),
        "stderr:\n{}",
        &run.stderr[run.stderr.len().saturating_sub(4000)..]
    );
}

#[test]
fn std_cannot_open_etc_passwd() {
    let run = run_rust_guest("std::fs::read(\"/etc/passwd\")", "read-passwd", &[]);
    // WASI errno 76 (ENOTCAPABLE): no preopened directory can reach the path.
    assert_contained(
        &run,
        "hostile: policy failed: cannot read /etc/passwd: Capabilities insufficient (os error 76)",
    );
    run.reject("bytes of /etc/passwd");
}

#[test]
fn println_of_100_mb_is_cut_off() {
    // print! panics once the 1 MiB capture refuses a write, and the panic aborts.
    let run = run_rust_guest("100 MB through print!", "stdout-flood", &[]);
    assert_contained(
        &run,
        "hostile: policy failed: trapped: wasm `unreachable` instruction executed",
    );
}

#[test]
fn a_hostile_mix_gives_the_same_output_with_1_and_4_threads() {
    let (_dir, path) = scratch();
    // A policy that traps on every object: each failure discards its instance, and the next
    // object gets a fresh one, whichever thread runs it.
    let trapping = validating(&path, "hostile", "unreachable");
    // A policy that spins on every object: it is stopped at its first timeout, which comes
    // after a different number of evaluations on each thread count, and all it did is left out.
    let spinning = validating(&path, "spinning", SPIN);
    let inputs = path.join("inputs");
    std::fs::create_dir(&inputs).unwrap();
    for (name, text) in [
        (
            "dup.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
        ),
        (
            "tab.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: a\n",
        ),
        (
            "list.yaml",
            "apiVersion: v1\nkind: List\nitems:\n  - 42\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n    spec: {containers: [{name: c, image: i, securityContext: {privileged: true}}]}\n",
        ),
        (
            "nan.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nspec: {a: .nan}\n",
        ),
        ("roots.yaml", "--- just a scalar\n--- [a, b]\n"),
    ] {
        std::fs::write(inputs.join(name), text).unwrap();
    }
    std::fs::write(inputs.join("latin1.yaml"), b"kind: caf\xe9\n").unwrap();
    std::fs::copy(root().join(WEB), inputs.join("web.yaml")).unwrap();
    std::fs::copy(
        root().join("fixtures/manifests/services.yaml"),
        inputs.join("services.yaml"),
    )
    .unwrap();
    let privileged = policy("privileged");
    let inputs = inputs.display().to_string();
    let report = |threads: &str| {
        let run = run_measured(
            &format!("hostile mix, {threads} threads"),
            &root(),
            &[
                "check",
                &inputs,
                "--isolated",
                "--no-cache",
                "--format",
                "json",
                "-j",
                threads,
                "--policy",
                &privileged,
                "--policy",
                &trapping,
                "--policy",
                &spinning,
                "--policy-timeout",
                "1",
            ],
            HANG_GUARD,
            "\"summary\"",
        );
        run.code(2);
        // Only the elapsed time may differ.
        run.stdout
            .lines()
            .filter(|line| !line.contains("\"seconds\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let one = report("1");
    assert!(
        one.contains("trapped: wasm `unreachable` instruction executed"),
        "{one}"
    );
    assert!(one.contains("duplicate key"), "{one}");
    assert!(one.contains("exceeded its 1 s time limit"), "{one}");
    assert_eq!(one, report("4"), "output differs between 1 and 4 threads");
}
