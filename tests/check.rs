//! `admit check` end to end: the built binary, real policies built with kubewarden-policy-sdk,
//! fixtures on disk; assertions on what a user sees (exit code, message, `file:line:col`).

mod support;

use support::{admit, admit_in, policy, root};

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
        run.summary().split(" (").next(),
        Some("Checked 1 file, 1 object, 1 policy, 1 evaluation: 1 rejected, 0 errors")
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
        .expect("Checked 1 file, 2 objects, 1 policy, 2 evaluations: 1 rejected");
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
            "Checked 6 files, 8 objects, 1 policy, 6 evaluations: 5 rejected, 0 errors, 1 document without apiVersion/kind skipped"
        ),
        "{}",
        run.summary()
    );
}

#[test]
fn yaml_syntax_error_is_reported_and_the_rest_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n",
    )
    .unwrap();
    std::fs::copy(
        root().join("fixtures/manifests/web.yaml"),
        dir.path().join("b-web.yaml"),
    )
    .unwrap();
    let run = admit_in(
        dir.path(),
        &["check", ".", "--policy", &policy("privileged")],
        None,
    );
    run.code(2)
        .expect("invalid-yaml: ")
        .expect("[a-broken.yaml:")
        .expect("[b-web.yaml:27:25]")
        .expect("1 rejected, 1 error");
}

#[test]
fn duplicate_keys_are_an_error_at_the_second_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dup.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
    )
    .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.yaml"), "labels: [team]\n").unwrap();
    std::fs::copy(
        root().join("fixtures/manifests/web.yaml"),
        dir.path().join("web.yaml"),
    )
    .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: nginx\n      imagePullPolicy: IfNotPresent\n",
    )
    .unwrap();
    let run = admit_in(
        dir.path(),
        &["check", "pod.yaml", "--policy", &policy("pull-policy")],
        None,
    );
    run.code(0)
        .expect("pull-policy: would change /spec/containers/0/imagePullPolicy to \"Always\"")
        .expect("[pod.yaml:9:24]")
        .expect("1 would change");
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
    let text = std::fs::read_to_string(root().join("fixtures/manifests/web.yaml")).unwrap();
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
    let dir = tempfile::tempdir().unwrap();
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
    std::fs::write(dir.path().join("pods.yaml"), text).unwrap();
    let run = admit_in(
        dir.path(),
        &["check", "pods.yaml", "--policy", &policy("privileged")],
        None,
    );
    run.code(1)
        .expect("[pods.yaml:21:21]")
        .expect("3 evaluations: 1 rejected");
}

#[test]
fn clean_input_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  labels: {team: a}\n",
    )
    .unwrap();
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
        .expect("Checked 1 file, 1 object, 1 policy, 1 evaluation: 0 rejected, 0 errors");
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
    .expect("Checked 1 file, 3 objects, 1 policy, 1 evaluation: 1 rejected");
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
    .expect("cannot load policy: not a valid WebAssembly module");
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
        run.stderr
            .contains("--settings applies to exactly one --policy"),
        "{}",
        run.stderr
    );
}

#[test]
fn gitignored_files_are_skipped_but_named_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/manifests/web.yaml"),
        dir.path().join("web.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join(".gitignore"), "web.yaml\n").unwrap();
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
