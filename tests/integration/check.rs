//! `admit check` end to end: the built binary, real policies built with kubewarden-policy-sdk,
//! fixtures on disk; assertions on what a user sees (exit code, message, `file:line:col`).

use crate::support::{self, admit, admit_in, fixture, policy, root, scratch, snapshots};

#[test]
fn nested_container_field_is_reported_at_its_value() {
    let run = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        &policy("privileged"),
    ]);
    run.code(1)
        .expect("privileged: container \"log-shipper\" must not be privileged")
        .expect("[fixtures/manifests/web.yaml:27:25]")
        .expect("27 │             privileged: true");
    assert_eq!(
        run.summary().rsplit_once(" (").map(|(line, _timing)| line),
        Some("Checked 1 file, 1 object, 1 policy (1 evaluation): 1 finding in 1 object; 0 errors")
    );
}

#[test]
fn the_human_report_of_a_directory_matches_its_snapshot() {
    // Every manifest fixture: a finding in each file, each with its snippet and underline, and
    // the summary with the document that is not an object.
    let run = admit(&[
        "check",
        "fixtures/manifests",
        "--policy",
        &policy("privileged"),
        "--no-cache",
    ]);
    run.code(1);
    snapshots::settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn the_human_report_of_mutations_matches_its_snapshot() {
    // A List whose containers get an imagePullPolicy added: notes at the nearest existing node.
    let run = admit(&[
        "check",
        "fixtures/manifests/list.yaml",
        "--policy",
        &policy("pull-policy"),
        "--no-cache",
    ]);
    run.code(0);
    snapshots::settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn a_finding_in_a_minified_json_file_shows_a_cut_line() {
    // One line of more than 50 KB: the privileged container first, then a thousand variables
    // in a second container, with names in two-byte characters.
    let variables: Vec<String> = (0..1000)
        .map(|i| format!(r#"{{"name":"VÄR_{i}","value":"{}"}}"#, "v".repeat(40)))
        .collect();
    let pod = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"big"}},"spec":{{"containers":[{{"name":"app","image":"busybox:1.0","securityContext":{{"privileged":true}}}},{{"name":"env","image":"busybox:1.0","env":[{}]}}]}}}}"#,
        variables.join(",")
    );
    assert!(pod.len() > 50_000 && !pod.contains('\n'));
    let dir = scratch(&[("big.json", &pod)]);
    let run = admit_in(
        dir.path(),
        &["check", "big.json", "--policy", &policy("privileged")],
        None,
    );
    let column = pod.find("true").expect("true") + 1;
    run.code(1)
        .expect("× privileged: container \"app\" must not be privileged")
        .expect(&format!("╭─[big.json:1:{column}]"))
        .expect(r#"{"privileged":true}},{"name":"env""#)
        .expect("──┬─")
        .expect("╰── here");
    assert!(
        run.stdout.len() < 4096,
        "{} bytes:\n{}",
        run.stdout.len(),
        run.stdout
    );
    // The line is cut at both ends, between characters.
    let line = run
        .stdout
        .lines()
        .find(|line| line.starts_with(" 1 │ "))
        .expect("the snippet's line");
    assert!(line.starts_with(" 1 │ …") && line.ends_with('…'), "{line}");
    // The underline is under `true`.
    let underline = run
        .stdout
        .lines()
        .find(|line| line.contains("──┬─"))
        .expect("the underline");
    let under = |text: &str, needle: &str| {
        text.find(needle)
            .map(|at| text[..at].chars().count())
            .expect("found")
    };
    assert_eq!(
        under(underline, "──┬─"),
        under(line, "true"),
        "{line}\n{underline}"
    );
}

#[test]
fn field_in_the_third_document_of_a_stream() {
    // `privileged: yes` is a boolean to kubectl (YAML 1.1), so the policy must see `true`.
    admit(&[
        "check",
        "fixtures/manifests/services.yaml",
        "--policy",
        &policy("privileged"),
    ])
    .code(1)
    .expect("container \"setup\" must not be privileged")
    .expect("[fixtures/manifests/services.yaml:37:41]");
}

#[test]
fn json_file() {
    admit(&[
        "check",
        "fixtures/manifests/cronjob.json",
        "--policy",
        &policy("privileged"),
    ])
    .code(1)
    .expect("container \"report\" must not be privileged")
    .expect("[fixtures/manifests/cronjob.json:20:33]");
}

#[test]
fn list_item() {
    let run = admit(&[
        "check",
        "fixtures/manifests/list.yaml",
        "--policy",
        &policy("privileged"),
    ]);
    run.code(1)
        .expect("[fixtures/manifests/list.yaml:21:25]")
        .expect("Checked 1 file, 2 objects, 1 policy (2 evaluations): 1 finding in 1 object;");
}

#[test]
fn crlf_file() {
    admit(&[
        "check",
        "fixtures/manifests/crlf-pod.yaml",
        "--policy",
        &policy("privileged"),
    ])
    .code(1)
    .expect("[fixtures/manifests/crlf-pod.yaml:10:21]");
}

#[test]
fn a_whole_directory_in_path_order_with_skipped_documents_counted() {
    let run = admit(&[
        "check",
        "fixtures/manifests",
        "--policy",
        &policy("privileged"),
    ]);
    run.code(1);
    let order: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("╭─["))
        .collect();
    assert_eq!(
        order,
        [
            "fixtures/manifests/crlf-pod.yaml:10:21]",
            "fixtures/manifests/cronjob.json:20:33]",
            "fixtures/manifests/list.yaml:21:25]",
            "fixtures/manifests/services.yaml:37:41]",
            "fixtures/manifests/web.yaml:27:25]",
        ]
    );
    assert!(
        run.summary().starts_with(
            "Checked 6 files, 8 objects, 1 policy (6 evaluations): 5 findings in 5 objects; 0 errors, 1 document without apiVersion/kind skipped"
        ),
        "{}",
        run.summary()
    );
}

#[test]
fn yaml_syntax_error_is_reported_and_the_rest_still_checked() {
    let dir = scratch(&[
        (
            "a-broken.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n",
        ),
        ("b-web.yaml", &fixture("manifests/web.yaml")),
    ]);
    let run = admit_in(
        dir.path(),
        &["check", ".", "--policy", &policy("privileged")],
        None,
    );
    run.code(2)
        .expect("invalid-yaml: ")
        .expect("[a-broken.yaml:")
        .expect("[b-web.yaml:27:25]")
        .expect("1 finding in 1 object; 1 error");
}

#[test]
fn duplicate_keys_are_an_error_at_the_second_key() {
    let dir = scratch(&[(
        "dup.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
    )]);
    admit_in(
        dir.path(),
        &["check", "dup.yaml", "--policy", &policy("privileged")],
        None,
    )
    .code(2)
    .expect("duplicate key")
    .expect("[dup.yaml:5:3]");
}

#[test]
fn invalid_settings_name_the_policy_and_quote_its_message() {
    let run = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        &policy("require-labels"),
        "--settings",
        r#"{"labels": []}"#,
    ]);
    run.code(2)
        .expect("require-labels: invalid settings: labels must list at least one label")
        .expect("0 evaluations");
}

#[test]
fn settings_from_a_yaml_file() {
    let dir = scratch(&[
        ("settings.yaml", "labels: [team]\n"),
        ("web.yaml", &fixture("manifests/web.yaml")),
    ]);
    admit_in(
        dir.path(),
        &[
            "check",
            "web.yaml",
            "--policy",
            &policy("require-labels"),
            "--settings",
            "settings.yaml",
        ],
        None,
    )
    .code(1)
    .expect("require-labels: missing required labels: team");
}

#[test]
fn a_rejection_without_paths_points_at_the_object_name() {
    let run = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        &policy("privileged"),
        "--settings",
        r#"{"report_paths": false}"#,
    ]);
    run.code(1)
        .expect("privileged: Privileged container is not allowed")
        .expect("[fixtures/manifests/web.yaml:5:9]")
        .expect("rejected object");
}

#[test]
fn a_mutation_points_at_the_node_it_would_change() {
    let dir = scratch(&[(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: nginx\n      imagePullPolicy: IfNotPresent\n",
    )]);
    let run = admit_in(
        dir.path(),
        &["check", "pod.yaml", "--policy", &policy("pull-policy")],
        None,
    );
    run.code(0)
        .expect("pull-policy: would change /spec/containers/0/imagePullPolicy to \"Always\"")
        .expect("[pod.yaml:9:24]")
        .expect("1 finding (1 note) in 1 object;");
}

#[test]
fn an_added_field_points_at_its_nearest_existing_ancestor() {
    let run = admit(&[
        "check",
        "fixtures/manifests/list.yaml",
        "--policy",
        &policy("pull-policy"),
    ]);
    run.code(0)
        .expect("would add /spec/containers/0/imagePullPolicy = \"Always\"")
        .expect("[fixtures/manifests/list.yaml:10:11]");
}

#[test]
fn standard_input_is_named_by_stdin_filename() {
    let text = fixture("manifests/web.yaml");
    admit_in(
        &root(),
        &[
            "check",
            "-",
            "--stdin-filename",
            "deploy/web.yaml",
            "--policy",
            &policy("privileged"),
        ],
        Some(&text),
    )
    .code(1)
    .expect("[deploy/web.yaml:27:25]");
}

#[test]
fn quoted_yes_is_a_string_and_on_is_true() {
    let pod = |name: &str, value: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: c\n      image: x\n      securityContext:\n        privileged: {value}\n"
        )
    };
    let text = [
        pod("quoted", "\"yes\""),
        pod("switch-on", "On"),
        pod("switch-off", "no"),
    ]
    .join("---\n");
    let dir = scratch(&[("pods.yaml", &text)]);
    let run = admit_in(
        dir.path(),
        &["check", "pods.yaml", "--policy", &policy("privileged")],
        None,
    );
    run.code(1)
        .expect("[pods.yaml:21:21]")
        .expect("(3 evaluations): 1 finding in 1 object;");
}

#[test]
fn clean_input_exits_zero() {
    let dir = scratch(&[(
        "ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  labels: {team: a}\n",
    )]);
    let run = admit_in(
        dir.path(),
        &[
            "check",
            ".",
            "--policy",
            &policy("require-labels"),
            "--settings",
            r#"{"labels": ["team"]}"#,
        ],
        None,
    );
    run.code(0)
        .expect("Checked 1 file, 1 object, 1 policy (1 evaluation): 0 findings; 0 errors");
}

#[test]
fn rules_decide_which_objects_a_policy_sees() {
    // privileged's rules name pod-template kinds only: the Service and ConfigMap are not sent.
    admit(&[
        "check",
        "fixtures/manifests/services.yaml",
        "--policy",
        &policy("privileged"),
    ])
    .expect("Checked 1 file, 3 objects, 1 policy (1 evaluation): 1 finding in 1 object;");
}

#[test]
fn a_trapping_policy_is_an_error_and_other_policies_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let trap = wat::parse_str(
        r#"(module
            (memory (export "memory") 1)
            (func (export "__guest_call") (param i32 i32) (result i32) unreachable))"#,
    )
    .unwrap();
    let trap_path = dir.path().join("trap.wasm");
    std::fs::write(&trap_path, trap).unwrap();
    let run = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        &policy("privileged"),
        "--policy",
        trap_path.to_str().unwrap(),
    ]);
    run.code(2)
        .expect("trap: failed while validating its settings: trapped")
        .expect("[fixtures/manifests/web.yaml:27:25]");
}

#[test]
fn a_file_that_is_not_a_policy_is_an_error() {
    admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        "fixtures/manifests/web.yaml",
    ])
    .code(2)
    .expect("cannot load policy: not a WebAssembly module: it is a text file (it starts with");
}

#[test]
fn every_command_that_loads_a_module_says_when_a_file_is_not_one() {
    let dir = scratch(&[
        ("policy.wasm", "hello: world\n"),
        ("metadata.yml", "rules: []\nmutating: false\n"),
    ]);
    let text_file = "not a WebAssembly module: it is a text file (it starts with `hello: world`)";
    let annotate = admit_in(
        dir.path(),
        &[
            "annotate",
            "policy.wasm",
            "-m",
            "metadata.yml",
            "-o",
            "out.wasm",
        ],
        None,
    );
    assert_eq!(annotate.code, 2);
    assert!(
        annotate
            .stderr
            .contains("cannot annotate policy.wasm: not a WebAssembly module"),
        "{}",
        annotate.stderr
    );
    assert!(
        !annotate.stderr.contains("expected `(`"),
        "{}",
        annotate.stderr
    );
    assert!(!dir.path().join("out.wasm").exists());
    let inspect = admit_in(dir.path(), &["inspect", "policy.wasm"], None);
    assert_eq!(inspect.code, 2);
    assert!(
        inspect
            .stderr
            .contains("policy.wasm: not a WebAssembly module"),
        "{}",
        inspect.stderr
    );
    let run = admit_in(
        dir.path(),
        &["run", "policy.wasm", "-r", "metadata.yml"],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(text_file), "{}", run.stderr);
    admit_in(
        dir.path(),
        &["check", "--isolated", "metadata.yml", "-p", "policy.wasm"],
        None,
    )
    .code(2)
    .expect("policy.wasm: cannot load policy: not a WebAssembly module");
}

#[test]
fn missing_paths_are_errors() {
    admit(&["check", "does/not/exist.yaml"])
        .code(2)
        .expect("does/not/exist.yaml: no such file or directory");
}

#[test]
fn settings_need_exactly_one_policy() {
    let run = admit(&["check", "fixtures", "--settings", "{}"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--settings needs --policy"),
        "{}",
        run.stderr
    );
    let run = admit(&["check", "fixtures", "-p", "baseline", "--settings", "{}"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--settings applies to exactly one policy, but --policy selected"),
        "{}",
        run.stderr
    );
}

#[test]
fn gitignored_files_are_skipped_but_named_files_are_read() {
    let dir = scratch(&[
        ("web.yaml", &fixture("manifests/web.yaml")),
        (".gitignore", "web.yaml\n"),
    ]);
    admit_in(
        dir.path(),
        &["check", ".", "--policy", &policy("privileged")],
        None,
    )
    .code(0)
    .expect("Checked 0 files");
    admit_in(
        dir.path(),
        &["check", "web.yaml", "--policy", &policy("privileged")],
        None,
    )
    .code(1);
}

#[test]
fn verbose_shows_policy_logs_on_stderr() {
    let run = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        &policy("require-labels"),
        "--settings",
        r#"{"labels": ["team"]}"#,
        "-v",
    ]);
    // Logs never mix into the report.
    assert!(!run.stdout.contains("[info]"));
    assert!(run.stderr.contains("require-labels: ["), "{}", run.stderr);
}

/// A minimal waPC guest in WAT: accepts any settings, and runs `validate_body` for `validate`.
fn wat_policy(dir: &std::path::Path, name: &str, validate_body: &str) -> String {
    wat_module(dir, name, validate_body, "")
}

/// A waPC guest in WAT that answers every `validate` with `response`.
fn wat_responder(dir: &std::path::Path, name: &str, response: &str) -> String {
    wat_responder_after(dir, name, "", response)
}

/// A waPC guest in WAT that runs `first` on every `validate`, then answers with `response`.
fn wat_responder_after(dir: &std::path::Path, name: &str, first: &str, response: &str) -> String {
    let body = format!(
        "{first} (call $response (i32.const 64) (i32.const {})) (return (i32.const 1))",
        response.len()
    );
    wat_module(dir, name, &body, response)
}

fn wat_module(dir: &std::path::Path, name: &str, validate_body: &str, response: &str) -> String {
    let escaped = response.replace('\\', "\\\\").replace('"', "\\\"");
    let module = format!(
        r#"(module
            (import "wapc" "__guest_response" (func $response (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "{{\"valid\":true}}")
            (data (i32.const 64) "{escaped}")
            (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
              ;; "validate_settings" is 17 bytes long, "validate" 8.
              (if (i32.eq (local.get $op_len) (i32.const 17))
                (then (call $response (i32.const 0) (i32.const 14)) (return (i32.const 1))))
              {validate_body}
              (i32.const 0)))"#
    );
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(module).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn a_rejection_shows_the_policy_status_code() {
    let dir = tempfile::tempdir().unwrap();
    let teapot = wat_responder(
        dir.path(),
        "teapot",
        r#"{"accepted":false,"message":"short and stout","code":418}"#,
    );
    admit(&["check", "fixtures/manifests/web.yaml", "--policy", &teapot])
        .code(1)
        .expect("teapot: short and stout (code 418)")
        .expect("[fixtures/manifests/web.yaml:5:9]");
}

#[test]
fn a_response_that_is_not_json_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbled = wat_responder(dir.path(), "garbled", "accepted: maybe");
    admit(&["check", "fixtures/manifests/web.yaml", "--policy", &garbled])
        .code(2)
        .expect("garbled: policy failed: answered validate with an invalid response");
}

#[test]
fn a_policy_that_traps_in_validate_is_an_error_at_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let trap = wat_policy(dir.path(), "crashy", "unreachable");
    let run = admit(&[
        "check",
        "fixtures/manifests/list.yaml",
        "fixtures/manifests/web.yaml",
        "--policy",
        &trap,
        "--policy",
        &policy("privileged"),
    ]);
    run.code(2)
        .expect("crashy: policy failed: trapped: wasm `unreachable` instruction executed")
        .expect("[fixtures/manifests/web.yaml:5:9]")
        // The instance is recreated after the trap, so every object is still evaluated.
        .expect("[fixtures/manifests/web.yaml:27:25]")
        .expect("Checked 2 files, 3 objects, 2 policies (6 evaluations): 2 findings in 2 objects; 3 errors");
}

#[test]
fn a_policy_that_never_returns_is_stopped_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let spin = wat_policy(dir.path(), "spin", "(loop $forever (br $forever))");
    let started = std::time::Instant::now();
    let run = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        &spin,
        "--policy-timeout",
        "0.3",
    ]);
    run.code(2)
        .expect("spin: exceeded its 0.3 s time limit; admit stopped running this policy");
    // Not a timing assertion on speed: only that the deadline stopped an endless loop.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn json_output_carries_positions_and_pointers() {
    let (found, code) = support::findings(&[
        "fixtures/manifests/web.yaml",
        "--policy",
        &policy("privileged"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        found,
        [support::Found {
            at: "fixtures/manifests/web.yaml:27:25".into(),
            policy: "privileged".into(),
            pointer: "/spec/template/spec/containers/1/securityContext/privileged".into(),
            message: "container \"log-shipper\" must not be privileged".into(),
            kind: "rejection".into(),
        }]
    );
}

#[test]
fn with_no_policy_named_the_recommended_set_runs() {
    let run = admit(&["check", "fixtures/manifests/web.yaml"]);
    run.code(1)
        .expect("privileged: container \"log-shipper\" must not be privileged")
        .expect("[fixtures/manifests/web.yaml:27:25]");
}

#[test]
fn built_ins_are_selected_by_id_or_preset() {
    admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        "privileged",
    ])
    .code(1)
    .expect("1 policy (1 evaluation)");
    admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        "baseline",
        "--policy",
        "privileged",
    ])
    .expect("[fixtures/manifests/web.yaml:27:25]");
    let unknown = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        "privilidged",
    ]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("unknown policy `privilidged`; did you mean `privileged`?"),
        "{}",
        unknown.stderr
    );
    let preset = admit(&["check", "fixtures/manifests/web.yaml", "-p", "recomended"]);
    assert!(
        preset.stderr.contains("did you mean `recommended`?"),
        "{}",
        preset.stderr
    );
    for command in ["run", "inspect"] {
        let mut args = vec![command, "privilidged"];
        if command == "run" {
            args.extend(["-r", "fixtures/manifests/web.yaml"]);
        }
        let run = admit(&args);
        // miette wraps long messages; the words are what counts.
        let stderr = run.stderr.replace("\n  │ ", " ");
        assert!(
            stderr.contains("did you mean `privileged`?"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn policies_lists_and_explain_documents_the_built_ins() {
    let list = admit(&["policies"]);
    list.code(0)
        .expect("privileged")
        .expect("baseline,restricted,recommended");
    admit(&["explain", "privileged"])
        .code(0)
        .expect("## What it checks")
        .expect("## References");
    let missing = admit(&["explain", "nothing-here"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("no built-in policy or admit diagnostic `nothing-here`"),
        "{}",
        missing.stderr
    );
}

#[test]
fn severity_is_what_findings_carry_and_risk_is_the_kubewarden_annotation() {
    let row = |run: &support::Run, id: &str| -> Vec<String> {
        run.stdout
            .lines()
            .find(|line| line.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no {id} row:\n{}", run.stdout))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let dir = scratch(&[(
        "admit.yaml",
        "policies:\n  - preset: recommended\n  - id: privileged\n    severity: warning\n",
    )]);
    let list = admit_in(dir.path(), &["policies"], None);
    list.code(0);
    let header = row(&list, "ID");
    assert_eq!(
        header,
        ["ID", "PRESETS", "SEVERITY", "RISK", "DESCRIPTION"],
        "{}",
        list.stdout
    );
    // The severity its findings carry (as admit.yaml sets it), then the module's risk.
    assert_eq!(row(&list, "privileged")[2..4], ["warning", "high"]);
    assert_eq!(row(&list, "default-namespace")[2..4], ["error", "low"]);
    let isolated = admit_in(dir.path(), &["policies", "--isolated"], None);
    assert_eq!(row(&isolated, "privileged")[2..4], ["error", "high"]);

    // What the column says is what the findings say.
    let (found, _) = support::findings(&[
        "--isolated",
        "-p",
        "privileged",
        "fixtures/manifests/web.yaml",
    ]);
    assert!(found.iter().all(|f| f.kind == "rejection"));
    let json = admit(&[
        "check",
        "--isolated",
        "-p",
        "privileged",
        "--format",
        "json",
        "fixtures/manifests/web.yaml",
    ]);
    assert!(
        json.stdout.contains("\"severity\": \"error\""),
        "{}",
        json.stdout
    );

    // SARIF carries the risk as GitHub's security-severity, on a rule tagged `security`.
    let sarif = admit(&[
        "check",
        "--isolated",
        "-p",
        "privileged",
        "-p",
        "default-namespace",
        "--format",
        "sarif",
        "fixtures/manifests/web.yaml",
    ]);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    let rule = |id: &str| {
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|rule| rule["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no rule {id}"))
    };
    assert_eq!(rule("privileged")["properties"]["security-severity"], "8.0");
    assert_eq!(
        rule("privileged")["properties"]["tags"],
        serde_json::json!(["security"])
    );
    assert_eq!(
        rule("default-namespace")["properties"]["security-severity"],
        "2.0"
    );

    // The documentation says risk too.
    admit(&["explain", "privileged"])
        .code(0)
        .expect("· risk **high** ·")
        .reject("severity **");
}

/// The ids admit's sources report findings under themselves: the string literal (or the
/// `const` of its file) given to `Finding::new` as its source, and the `code` of a miette
/// diagnostic. Test code is left out: files named `tests.rs` or `*proptests.rs`, and
/// everything after a file's `#[cfg(test)]`.
fn ids_admit_emits() -> std::collections::BTreeSet<String> {
    let mut ids = std::collections::BTreeSet::new();
    let mut constants = std::collections::HashMap::new();
    let mut pending = vec![root().join("src")];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".rs") || name == "tests.rs" || name.ends_with("proptests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let literal = |rest: &str| -> Option<String> {
            let rest = rest.trim_start();
            if let Some(quoted) = rest.strip_prefix('"') {
                return quoted.split_once('"').map(|(id, _)| id.to_string());
            }
            // A constant of the same file, such as `UNUSED`.
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            let after = rest[ident.len()..].trim_start();
            if ident.is_empty() || !(after.starts_with(',') || after.starts_with(')')) {
                return None; // an expression: a policy's id
            }
            let declared = code.split_once(&format!("const {ident}: &str = \""))?.1;
            declared.split_once('"').map(|(id, _)| id.to_string())
        };
        for (offset, _) in code.match_indices("Finding::new(") {
            let arguments = &code[offset + "Finding::new(".len()..];
            // The kind first, then the source.
            if let Some((_, source)) = arguments.split_once(',') {
                ids.extend(literal(source));
            }
        }
        for (offset, _) in code.match_indices("fn code<") {
            let body = &code[offset..];
            if let Some((_, boxed)) = body.split_once("Box::new(") {
                ids.extend(literal(boxed));
            }
        }
        // Every `const NAME: &str = "..."`, for the warnings listed by constant below.
        for (offset, _) in code.match_indices("const ") {
            let rest = &code[offset + "const ".len()..];
            if let Some((name, value)) = rest.split_once(": &str = \"")
                && let Some((value, _)) = value.split_once('"')
                && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            {
                constants.insert(name.to_string(), value.to_string());
            }
        }
    }
    // admit's own warnings are listed in one array (`ADMIT_WARNINGS`), some by constant,
    // because the requests stage raises them as values rather than findings.
    let findings = std::fs::read_to_string(root().join("src/findings.rs")).unwrap();
    let listed = findings
        .split_once("pub const ADMIT_WARNINGS")
        .and_then(|(_, rest)| rest.split_once("= ["))
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(list, _)| list.to_string())
        .unwrap_or_default();
    for entry in listed.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match entry.strip_prefix('"') {
            Some(quoted) => ids.extend(quoted.split_once('"').map(|(id, _)| id.to_string())),
            None => ids.extend(
                constants
                    .get(entry.rsplit("::").next().unwrap_or(""))
                    .cloned(),
            ),
        }
    }
    ids
}

#[test]
fn explain_knows_every_id_admit_reports_itself() {
    let ids = ids_admit_emits();
    // The scan itself works: it finds ids of each kind of place they are written.
    for id in [
        "invalid-yaml",
        "request",
        "unknown-kind",
        "unused-suppression",
        "invalid-config",
    ] {
        assert!(ids.contains(id), "{id} not found in {ids:?}");
    }
    for id in &ids {
        let run = admit(&["explain", id]);
        assert_eq!(run.code, 0, "admit explain {id}:\n{}", run.stderr);
        for section in [
            format!("# {id}\n\nadmit's own diagnostic"),
            "## What it means\n".into(),
            "## Fix\n".into(),
            "## Silence it\n".into(),
        ] {
            assert!(run.stdout.contains(&section), "{id}:\n{}", run.stdout);
        }
    }
}

#[test]
fn compiled_modules_are_cached_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    let web = "fixtures/manifests/web.yaml";
    let entries = || {
        std::fs::read_dir(cache.join("modules"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    admit(&[
        "check",
        web,
        "--policy",
        "tests/policies/privileged.wasm",
        "--no-cache",
        "--cache-dir",
        cache_arg,
    ])
    .code(1);
    assert_eq!(entries(), 0, "--no-cache writes nothing");
    admit(&[
        "check",
        web,
        "--policy",
        "tests/policies/privileged.wasm",
        "--cache-dir",
        cache_arg,
    ])
    .code(1);
    assert_eq!(entries(), 1);
    // A corrupt entry is ignored and rebuilt, and the answer does not change.
    for entry in std::fs::read_dir(cache.join("modules")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    admit(&[
        "check",
        web,
        "--policy",
        "tests/policies/privileged.wasm",
        "--cache-dir",
        cache_arg,
    ])
    .code(1)
    .expect("[fixtures/manifests/web.yaml:27:25]");

    // Built-ins were compiled when admit was built: they leave nothing in the cache.
    std::fs::remove_dir_all(cache.join("modules")).unwrap();
    admit(&[
        "check",
        web,
        "--policy",
        "recommended",
        "--cache-dir",
        cache_arg,
    ])
    .code(1);
    assert_eq!(entries(), 0, "no built-in is compiled at run time");
}

#[test]
fn start_up_exit_zero_is_fine_and_guest_output_never_reaches_the_report() {
    // A TinyGo-style guest: `_start` prints to stdout and ends with proc_exit(0), as TinyGo
    // >= 0.35 does; then every request is rejected.
    let dir = tempfile::tempdir().unwrap();
    let response = r#"{"accepted":false,"message":"noisy says no"}"#;
    let module = format!(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write"
              (func $fd_write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (import "wapc" "__guest_response" (func $response (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "{{\"valid\":true}}")
            (data (i32.const 32) "GUEST-NOISE\n")
            (data (i32.const 48) "\20\00\00\00\0c\00\00\00")
            (data (i32.const 64) "{escaped}")
            (func (export "_start")
              (drop (call $fd_write (i32.const 1) (i32.const 48) (i32.const 1) (i32.const 56)))
              (call $exit (i32.const 0)))
            (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
              (if (i32.eq (local.get $op_len) (i32.const 17))
                (then (call $response (i32.const 0) (i32.const 14)) (return (i32.const 1))))
              (call $response (i32.const 64) (i32.const {len}))
              (i32.const 1)))"#,
        escaped = response.replace('"', "\\\""),
        len = response.len()
    );
    let path = dir.path().join("noisy.wasm");
    std::fs::write(&path, wat::parse_str(module).unwrap()).unwrap();
    let run = admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "--policy",
        path.to_str().unwrap(),
    ]);
    run.code(1)
        .expect("noisy: noisy says no")
        .reject("GUEST-NOISE");
    assert!(!run.stderr.contains("GUEST-NOISE"), "{}", run.stderr);
}

#[test]
fn output_is_the_same_whatever_the_thread_count() {
    let corpus = support::root().join("../shared/corpus");
    let corpus = corpus.to_string_lossy();
    let run = |threads: &str, format: &str| {
        // A cache of its own, so that every run evaluates rather than reading results back.
        let cache = tempfile::tempdir().expect("cache dir");
        let cache = cache.path().to_string_lossy().to_string();
        let run = support::admit(&[
            "check",
            "--cache-dir",
            &cache,
            "--threads",
            threads,
            "--format",
            format,
            &corpus,
            "fixtures/manifests",
        ]);
        // Only the elapsed time may differ.
        let text = run
            .stdout
            .lines()
            .filter(|line| !line.contains("\"seconds\"") && !line.starts_with("Checked "))
            .collect::<Vec<_>>()
            .join("\n");
        (
            text,
            run.code,
            run.summary()
                .rsplit_once(" (")
                .map(|(line, _timing)| line.to_string()),
        )
    };
    for format in ["json", "human"] {
        let one = run("1", format);
        let four = run("4", format);
        assert!(one.0.len() > 10_000, "a real report: {}", one.0.len());
        assert_eq!(one, four, "{format} output differs between 1 and 4 threads");
    }
}

#[test]
fn settings_are_validated_even_when_no_object_needs_the_policy() {
    // Policies compile only when an object needs them; settings are still checked.
    admit(&[
        "check",
        "fixtures/manifests/services.yaml",
        "-p",
        "image-registries",
        "--settings",
        r#"{"allowed": []}"#,
    ])
    .code(2)
    .expect("image-registries: invalid settings: allowed must list at least one registry prefix")
    .expect("0 evaluations");
}

/// A custom resource, and the CRD that defines it in three spellings: plain YAML, and JSON
/// whose kind is written with an escape (which admit must still find before checking).
const OCTOPUS: &str = "apiVersion: example.com/v1\nkind: Octopus\nmetadata: {name: paul}\n";
const OCTOPUS_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: octopi.example.com}\nspec:\n  group: example.com\n  scope: Cluster\n  names: {kind: Octopus, plural: octopi}\n";
const OCTOPUS_CRD_ESCAPED: &str = r#"{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResource\u0044efinition", "metadata": {"name": "octopi.example.com"}, "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Octopus", "plural": "octopi"}}}"#;

#[test]
fn a_crd_in_another_checked_file_defines_its_kind() {
    let guessed = "unknown kind example.com/v1 Octopus: guessed resource";
    let check = |files: &[(&str, &str)]| {
        let dir = scratch(files);
        admit_in(
            dir.path(),
            &["check", ".", "--isolated", "--no-cache"],
            None,
        )
    };
    check(&[("octopus.yaml", OCTOPUS)]).expect(guessed);
    for (name, crd) in [("crd.yaml", OCTOPUS_CRD), ("crd.json", OCTOPUS_CRD_ESCAPED)] {
        check(&[("octopus.yaml", OCTOPUS), (name, crd)]).reject(guessed);
        // Cluster-scoped by its CRD: a namespace on it is ignored, and said so.
        let namespaced = OCTOPUS.replace("{name: paul}", "{name: paul, namespace: sea}");
        check(&[("octopus.yaml", &namespaced), (name, crd)]).expect(
            "example.com/v1 Octopus \"paul\" is cluster-scoped; metadata.namespace is ignored",
        );
    }
}

#[test]
fn files_a_hung_policy_skipped_are_not_cached_without_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let rejection = r#"{"accepted":false,"message":"rejected by picky"}"#;
    // Rejects every object, but spins on a payload over 2,000 bytes.
    let picky = wat_responder_after(
        dir.path(),
        "picky",
        "(if (i32.gt_u (local.get $msg_len) (i32.const 2000)) (then (loop $spin (br $spin))))",
        rejection,
    );
    let pod = |name: &str, padding: usize| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, annotations: {{pad: '{}'}}}}\nspec: {{containers: [{{name: c, image: i}}]}}\n",
            "x".repeat(padding)
        )
    };
    let inputs = tempfile::tempdir().unwrap();
    std::fs::write(inputs.path().join("a.yaml"), pod("a", 3000)).unwrap();
    std::fs::write(inputs.path().join("b.yaml"), pod("b", 0)).unwrap();
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let check = || {
        admit_in(
            inputs.path(),
            &[
                "check",
                ".",
                "-j",
                "1",
                "--isolated",
                "--cache-dir",
                cache,
                "--policy",
                &picky,
                "--policy-timeout",
                "0.3",
            ],
            None,
        )
    };
    // a.yaml comes first and hangs the policy; b.yaml is then skipped.
    check()
        .code(2)
        .expect("picky: exceeded its 0.3 s time limit")
        .reject("rejected by picky");
    // Once a.yaml no longer hangs it, both files are rejected: b.yaml was not cached as if
    // the policy had nothing to say about it.
    std::fs::write(inputs.path().join("a.yaml"), pod("a", 0)).unwrap();
    let run = check();
    run.code(1).reject("time limit");
    assert_eq!(
        run.stdout.matches("× picky: rejected by picky").count(),
        2,
        "{}",
        run.stdout
    );
}

/// Outside modules are compiled by Winch, which lacks typed function references; a module that
/// uses them (as Go ≥ 1.26 wasip1 builds do) is compiled by Cranelift instead, and runs.
#[test]
fn a_module_the_baseline_compiler_refuses_runs_compiled_by_the_optimizing_one() {
    let dir = tempfile::tempdir().unwrap();
    let response = r#"{"accepted":false,"message":"called by reference"}"#;
    let module = format!(
        r#"(module
            (import "wapc" "__guest_response" (func $response (param i32 i32)))
            (type $answer (func (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "{{\"valid\":true}}")
            (data (i32.const 64) "{}")
            (elem declare func $respond)
            (func $respond (param i32 i32) (call $response (local.get 0) (local.get 1)))
            (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
              (if (i32.eq (local.get $op_len) (i32.const 17))
                (then
                  (call_ref $answer (i32.const 0) (i32.const 14) (ref.func $respond))
                  (return (i32.const 1))))
              (call_ref $answer (i32.const 64) (i32.const {}) (ref.func $respond))
              (i32.const 1)))"#,
        response.replace('"', "\\\""),
        response.len()
    );
    let path = dir.path().join("by-reference.wasm");
    std::fs::write(&path, wat::parse_str(module).unwrap()).unwrap();
    let policy = path.to_str().unwrap();
    for compiler in ["winch", "cranelift"] {
        crate::support::admit_env(
            &crate::support::root(),
            &[
                "check",
                "fixtures/manifests/web.yaml",
                "--policy",
                policy,
                "--no-cache",
            ],
            None,
            &[("ADMIT_COMPILER", std::path::Path::new(compiler))],
        )
        .code(1)
        .expect("by-reference: called by reference")
        .expect("[fixtures/manifests/web.yaml:5:9]");
    }
}
