//! OPA and Gatekeeper execution modes end to end with `admit check`: the committed stand-ins
//! for `opa build -t wasm` output (`tests/policies/rego-guest`, built as `opa-labels.wasm` and
//! `gatekeeper-labels.wasm`), and WAT modules for what needs no real evaluator.

use std::path::Path;

use crate::support::{self, admit_in, policy, scratch};

/// A ConfigMap with the `team` and `app` labels (line 4: its name), and a Pod with `app` only
/// (line 14).
const OBJECTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: labelled
  labels:
    team: payments
    app: payments
data:
  a: b
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
    - name: web
      image: nginx
";

/// `admit check objects.yaml` in a scratch directory holding `admit.yaml` = `config`.
fn check_with_config(config: &str) -> support::Run {
    let dir = scratch(&[("objects.yaml", OBJECTS), ("admit.yaml", config)]);
    admit_in(dir.path(), &["check", "objects.yaml"], None)
}

/// `admit check objects.yaml --policy MODULE [--settings JSON]` in a scratch directory.
fn check_one(module: &str, settings: Option<&str>) -> support::Run {
    let dir = scratch(&[("objects.yaml", OBJECTS)]);
    let mut args = vec!["check", "objects.yaml", "--policy", module];
    if let Some(settings) = settings {
        args.extend(["--settings", settings]);
    }
    admit_in(dir.path(), &args, None)
}

#[test]
fn opa_accepts_an_object_with_the_label() {
    check_one(&policy("opa-labels"), Some(r#"{"required_label": "app"}"#))
        .code(0)
        .expect("Checked 1 file, 2 objects, 1 policy (2 evaluations): 0 findings; 0 errors")
        .reject("×");
}

#[test]
fn opa_rejects_with_the_message_its_sprintf_built() {
    let run = check_one(&policy("opa-labels"), None);
    run.code(1)
        // `%s %q ... %q`, formatted by the host's sprintf through opa_builtin2.
        .expect("opa-labels: Pod \"web\" must have the label \"team\"")
        .expect("[objects.yaml:14:9]")
        .expect("rejected object")
        .expect(
            "Checked 1 file, 2 objects, 1 policy (2 evaluations): 1 finding in 1 object; 0 errors",
        );
    // The labelled ConfigMap is accepted.
    run.reject("[objects.yaml:4:9]");
}

#[test]
fn gatekeeper_accepts_when_no_violation() {
    check_one(&policy("gatekeeper-labels"), Some(r#"{"labels": []}"#))
        .code(0)
        .expect("0 findings; 0 errors");
}

#[test]
fn gatekeeper_violations_are_joined_into_one_message() {
    let run = check_one(
        &policy("gatekeeper-labels"),
        Some(r#"{"labels": ["team", "tier"]}"#),
    );
    run.code(1)
        .expect(
            "gatekeeper-labels: you must provide the label \"team\", you must provide the \
             label \"tier\"",
        )
        .expect("[objects.yaml:14:9]")
        // The ConfigMap has `team` but not `tier`: one violation, no separator.
        .expect("gatekeeper-labels: you must provide the label \"tier\"\n")
        .expect("[objects.yaml:4:9]")
        .expect("2 findings in 2 objects; 0 errors");
}

#[test]
fn rego_settings_are_never_validated_by_the_module() {
    // Kubewarden never asks a Rego module about its settings: policy-evaluator's Rego runtime
    // answers `validate_settings` with valid for any
    // (https://github.com/kubewarden/policy-evaluator/blob/main/src/runtimes/rego/runtime.rs).
    // Settings the module cannot use are not an error; this Gatekeeper policy falls back to
    // its default label.
    check_one(&policy("gatekeeper-labels"), Some(r#"{"labels": "team"}"#))
        .code(1)
        .reject("invalid settings")
        .expect("gatekeeper-labels: you must provide the label \"team\"")
        .expect("1 finding in 1 object; 0 errors");
    check_one(&policy("opa-labels"), Some(r#"{"required_label": 5}"#))
        .code(1)
        .reject("invalid settings")
        .expect("must have the label \"team\"");
}

#[test]
fn settings_that_are_not_an_object_are_refused_for_rego_policies_too() {
    let dir = scratch(&[("objects.yaml", OBJECTS), ("settings.yaml", "- team\n")]);
    for module in ["opa-labels", "gatekeeper-labels"] {
        let run = admit_in(
            dir.path(),
            &[
                "check",
                "objects.yaml",
                "--policy",
                &policy(module),
                "--settings",
                "settings.yaml",
            ],
            None,
        );
        assert_eq!(run.code, 2, "{module}: {run:?}");
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("settings"), "{module}: {all}");
        assert!(!all.contains("rejected object"), "{module}: {all}");
    }
}

#[test]
fn a_trap_is_an_error_naming_the_policy_and_other_policies_still_run() {
    let config = format!(
        "policies:\n  - module: {opa}\n    settings: {{trap: true}}\n  - module: {gk}\n",
        opa = policy("opa-labels"),
        gk = policy("gatekeeper-labels"),
    );
    let run = check_with_config(&config);
    run.code(2)
        .expect("opa-labels: policy failed: trapped: wasm `unreachable` instruction executed")
        .expect("gatekeeper-labels: you must provide the label \"team\"")
        .expect("[objects.yaml:14:9]")
        .expect("2 policies (4 evaluations): 1 finding in 1 object; 2 errors");

    // And the other way round, through `opa_abort`.
    let config = format!(
        "policies:\n  - module: {gk}\n    settings: {{abort: \"cannot go on\"}}\n  - module: {opa}\n",
        opa = policy("opa-labels"),
        gk = policy("gatekeeper-labels"),
    );
    check_with_config(&config)
        .code(2)
        .expect("gatekeeper-labels: policy failed: aborted: cannot go on")
        .expect("opa-labels: Pod \"web\" must have the label \"team\"")
        .expect("1 finding in 1 object; 2 errors");
}

#[test]
fn a_failing_builtin_names_itself() {
    // sprintf with one argument instead of two, through opa_builtin1.
    check_one(&policy("opa-labels"), Some(r#"{"sprintf_args": ["%s"]}"#))
        .code(2)
        .expect(
            "opa-labels: policy failed: builtin `sprintf` failed: expected at least 2 \
             arguments, got 1",
        );
}

#[test]
fn one_instance_serves_many_objects() {
    // Every object goes through the same instance, the heap pointer reset between them:
    // 200 objects, every other one rejected, each with its own name in the message.
    let mut objects = String::new();
    for i in 0..200 {
        let labels = if i % 2 == 0 { "team: a" } else { "app: b" };
        objects.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels:\n    {labels}\n"
        ));
    }
    let dir = scratch(&[("many.yaml", &objects)]);
    let run = admit_in(
        dir.path(),
        &["check", "many.yaml", "--policy", &policy("opa-labels")],
        None,
    );
    run.code(1)
        .expect("ConfigMap \"cm-199\" must have the label \"team\"")
        .expect("ConfigMap \"cm-1\" must have the label \"team\"")
        .reject("\"cm-198\" must have")
        .expect("200 objects, 1 policy (200 evaluations): 100 findings in 100 objects; 0 errors");
}

/// A minimal module with the OPA ABI's exports in WAT, for `mode` (`opa` or `gatekeeper`).
/// `opa_json_dump` always prints `dump` (so `builtins` and `entrypoints` read it, and every
/// result is it), `start` is the body of the module's start function, and `eval` returns
/// `eval_status`.
fn wat_opa(
    dir: &Path,
    name: &str,
    mode: &str,
    dump: &str,
    start: &str,
    eval_status: i32,
) -> String {
    let metadata = format!(
        r#"{{"protocolVersion":"Unknown","rules":[{{"apiGroups":["*"],"apiVersions":["*"],"resources":["*"],"operations":["*"]}}],"mutating":false,"executionMode":"{mode}","annotations":{{"io.kubewarden.policy.title":"{name}"}}}}"#
    );
    let escape = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let wat = format!(
        r#"(module
            (@custom "io.kubewarden.metadata" "{metadata}")
            (import "env" "memory" (memory 2))
            (import "env" "opa_abort" (func $abort (param i32)))
            (data (i32.const 1024) "{dump}\00")
            (func $start {start})
            (start $start)
            (func (export "opa_malloc") (param i32) (result i32) i32.const 4096)
            (func (export "opa_json_parse") (param i32 i32) (result i32) i32.const 8)
            (func (export "opa_json_dump") (param i32) (result i32) i32.const 1024)
            (func (export "opa_heap_ptr_get") (result i32) i32.const 8192)
            (func (export "opa_heap_ptr_set") (param i32))
            (func (export "opa_eval_ctx_new") (result i32) i32.const 16)
            (func (export "opa_eval_ctx_set_input") (param i32 i32))
            (func (export "opa_eval_ctx_set_data") (param i32 i32))
            (func (export "opa_eval_ctx_set_entrypoint") (param i32 i32))
            (func (export "opa_eval_ctx_get_result") (param i32) (result i32) i32.const 8)
            (func (export "eval") (param i32) (result i32) i32.const {eval_status})
            (func (export "builtins") (result i32) i32.const 8)
            (func (export "entrypoints") (result i32) i32.const 8))"#,
        metadata = escape(&metadata),
        dump = escape(dump),
    );
    let bytes = wat::parse_str(wat).expect("valid WAT");
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).expect("module written");
    path.display().to_string()
}

#[test]
fn a_module_needing_a_builtin_admit_lacks_is_refused_at_load_naming_it() {
    for mode in ["opa", "gatekeeper"] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let module = wat_opa(
            dir.path(),
            "needy",
            mode,
            r#"{"yaml.marshal":0,"sprintf":1,"custom.thing":2}"#,
            "",
            0,
        );
        let run = check_one(&module, None);
        run.code(2);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            all.contains(
                "the policy needs Rego builtins admit does not implement: custom.thing, \
                 yaml.marshal"
            ),
            "{mode}: {all}"
        );
        assert!(!all.contains("sprintf,"), "{mode}: {all}");
    }
}

#[test]
fn a_start_function_that_never_returns_is_stopped_at_the_deadline() {
    // OPA modules run a start function during instantiation, under the deadline. (That the
    // deadline is set before it at all is covered by every other test here: the rego-guest
    // modules have a start function too, which would be interrupted at once otherwise.)
    let dir = tempfile::tempdir().expect("temporary directory");
    let module = wat_opa(
        dir.path(),
        "spin",
        "opa",
        "{}",
        "(loop $forever (br $forever))",
        0,
    );
    let scratch = scratch(&[("objects.yaml", OBJECTS)]);
    let run = admit_in(
        scratch.path(),
        &[
            "check",
            "objects.yaml",
            "--policy",
            &module,
            "--policy-timeout",
            "0.3",
        ],
        None,
    );
    run.code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("cannot start the OPA module: exceeded its 0.3 s time limit"),
        "{all}"
    );
}

#[test]
fn opa_mode_on_a_module_without_the_opa_abi_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bytes = wat::parse_str(
        r#"(module (@custom "io.kubewarden.metadata" "{\"rules\":[{\"apiGroups\":[\"*\"],\"apiVersions\":[\"*\"],\"resources\":[\"*\"],\"operations\":[\"*\"]}],\"mutating\":false,\"executionMode\":\"gatekeeper\"}")
             (memory (export "memory") 1))"#,
    )
    .expect("valid WAT");
    let path = dir.path().join("plain.wasm");
    std::fs::write(&path, bytes).expect("module written");
    let run = check_one(path.to_str().expect("UTF-8 path"), None);
    run.code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("execution mode gatekeeper needs a Rego module (one that exports `opa_*`)"),
        "{all}"
    );
}

#[test]
fn opa_println_is_a_policy_log_shown_with_verbose() {
    let dir = scratch(&[("objects.yaml", OBJECTS)]);
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "objects.yaml",
            "--policy",
            &policy("opa-labels"),
            "--settings",
            r#"{"print": "hello from rego", "required_label": "app"}"#,
            "--verbose",
        ],
        None,
    );
    run.code(0);
    for at in ["objects.yaml:1:1", "objects.yaml:11:1"] {
        let line = format!("opa-labels: [info] hello from rego ({at})");
        assert!(run.stderr.contains(&line), "{line} in:\n{}", run.stderr);
    }
}

#[test]
fn a_gatekeeper_policy_cannot_be_raw() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bytes = wat::parse_str(
        r#"(module (@custom "io.kubewarden.metadata" "{\"rules\":[{\"apiGroups\":[\"*\"],\"apiVersions\":[\"*\"],\"resources\":[\"*\"],\"operations\":[\"*\"]}],\"mutating\":false,\"executionMode\":\"gatekeeper\",\"policyType\":\"raw\"}")
             (memory (export "memory") 1)
             (func (export "opa_eval")))"#,
    )
    .expect("valid WAT");
    let path = dir.path().join("raw-gatekeeper.wasm");
    std::fs::write(&path, bytes).expect("module written");
    let run = check_one(path.to_str().expect("UTF-8 path"), None);
    run.code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("a Gatekeeper policy cannot be a raw policy"),
        "{all}"
    );
}

#[test]
fn a_module_without_entrypoint_0_is_refused_at_load() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let module = wat_opa(dir.path(), "no-entry", "opa", "{}", "", 0);
    let run = check_one(&module, None);
    run.code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("the OPA module has no entrypoint 0"), "{all}");
}

#[test]
fn an_eval_that_reports_failure_is_an_error_at_the_object() {
    // Every value of this module dumps as `{"sprintf":0}`: an entrypoint 0 and a builtin
    // admit has, so it loads; then `eval` fails.
    let dir = tempfile::tempdir().expect("temporary directory");
    let module = wat_opa(
        dir.path(),
        "failing",
        "gatekeeper",
        r#"{"sprintf":0}"#,
        "",
        3,
    );
    check_one(&module, None)
        .code(2)
        .expect("failing: policy failed: the evaluation failed (`eval` returned 3)")
        .expect("[objects.yaml:14:9]");
}

/// `opa-labels.wasm` without its metadata, as `opa build` writes a module, in `dir`.
fn without_metadata(dir: &Path) -> String {
    let wasm = std::fs::read(policy("opa-labels")).expect("opa-labels.wasm");
    let mut module = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        let payload = payload.expect("a valid module");
        if let wasmparser::Payload::CustomSection(section) = &payload
            && section.name() == "io.kubewarden.metadata"
        {
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            module.section(&wasm_encoder::RawSection {
                id,
                data: &wasm[range],
            });
        }
    }
    std::fs::write(dir.join("rego.wasm"), module.finish()).expect("module written");
    "rego.wasm".into()
}

#[test]
fn check_takes_the_execution_mode_of_a_rego_module_without_metadata() {
    let dir = scratch(&[("objects.yaml", OBJECTS)]);
    let rego = without_metadata(dir.path());
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--isolated", "objects.yaml"];
        args.extend_from_slice(extra);
        admit_in(dir.path(), &args, None)
    };

    // Without a mode: an error that names the flag this command has.
    let run = check(&["--policy", &rego]);
    run.code(2)
        .expect("rego: cannot load policy: this is a Rego module without metadata")
        .expect("help: give it after the --policy: `--execution-mode opa` (or `--execution-mode gatekeeper`)");

    // With it, the module runs as an OPA policy.
    check(&["--policy", &rego, "--execution-mode", "opa"])
        .code(1)
        .expect("rego: Pod \"web\" must have the label \"team\"")
        .expect("0 errors");
    check(&["--policy", &rego, "-e", "opa"]).code(1);

    // Beside built-ins, it is for the module alone.
    check(&["--policy", "privileged", "--policy", &rego, "-e", "opa"])
        .code(1)
        .expect("Checked 1 file, 2 objects, 2 policies")
        .expect("rego: Pod \"web\" must have the label \"team\"")
        .expect("0 errors");

    // A mode that does not fit is refused, as kwctl refuses it.
    check(&["--policy", &rego, "-e", "wasi"])
        .code(2)
        .expect("this is a Rego module (it exports `opa_*`), which cannot run in wasi mode");
    check(&["--policy", "privileged", "-e", "opa"])
        .code(2)
        .expect(
            "the execution mode given (opa) is different from the one in the policy's metadata",
        );
    let only_builtins = check(&[
        "--policy",
        "privileged",
        "--policy",
        "host-ports",
        "-e",
        "opa",
    ]);
    assert_eq!(only_builtins.code, 2);
    assert!(
        only_builtins
            .stderr
            .contains("--execution-mode applies to .wasm modules, but --policy selected only")
            && only_builtins
                .stderr
                .contains("built-in policies (privileged, host-ports)"),
        "{}",
        only_builtins.stderr
    );
    let alone = check(&["-e", "opa"]);
    assert_eq!(alone.code, 2);
    assert!(
        alone.stderr.contains("--execution-mode needs --policy"),
        "{}",
        alone.stderr
    );
}

#[test]
fn admit_yaml_is_told_to_give_the_execution_mode_in_the_entry() {
    let dir = scratch(&[("objects.yaml", OBJECTS)]);
    let rego = without_metadata(dir.path());
    let config = |entry: &str| {
        std::fs::write(
            dir.path().join("admit.yaml"),
            format!("policies:\n  - module: {rego}\n{entry}"),
        )
        .expect("configuration written");
        admit_in(dir.path(), &["check", "objects.yaml"], None)
    };
    config("")
        .code(2)
        .expect("rego: cannot load policy: this is a Rego module without metadata")
        .expect("[admit.yaml:2:13]")
        .expect("help: add `execution-mode: opa` (or `execution-mode: gatekeeper`) to its entry");
    config("    execution-mode: opa\n")
        .code(1)
        .expect("rego: Pod \"web\" must have the label \"team\"");
}

#[test]
fn run_is_told_to_give_the_execution_mode_with_e() {
    let dir = scratch(&[(
        "review.json",
        r#"{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","userInfo":{},"object":{"metadata":{"name":"web"}}}"#,
    )]);
    let rego = without_metadata(dir.path());
    let run = admit_in(dir.path(), &["run", &rego, "-r", "review.json"], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("this is a Rego module without metadata, so admit cannot tell whether it is an OPA or a Gatekeeper policy; run it with -e opa or -e gatekeeper"),
        "{}",
        run.stderr
    );
}
