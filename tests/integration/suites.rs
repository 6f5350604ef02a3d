//! `admit test`: the shipped suite of every built-in policy, and the command itself on small
//! scratch suites: what a failing case shows, an invalid test file, --filter, --update, and
//! the JSON and JUnit reports.

use serde_json::Value as Json;

use crate::support::{self, Run, admit, admit_in, root, scratch};

/// The cases in `policies/*/admit-test.yaml`: two per built-in (its pass and fail fixtures),
/// the settings cases, and the inputs `policies/privileged` shows off.
const SHIPPED_CASES: usize = 79;

/// A Pod with one privileged container: `privileged: true` at 10:37.
const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext: {privileged: true}
";

fn test_in(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut full = vec!["test"];
    full.extend_from_slice(args);
    admit_in(dir, &full, None)
}

#[test]
fn every_built_in_policy_has_a_suite_and_every_case_passes() {
    let run = admit(&["test", "policies/"]);
    run.code(0);
    let summary = run
        .stdout
        .lines()
        .find(|line| line.starts_with("Tested "))
        .unwrap();
    assert!(
        summary.starts_with(&format!(
            "Tested 30 files: {SHIPPED_CASES} cases, {SHIPPED_CASES} passed, 0 failed, 0 errors ("
        )),
        "{summary}"
    );
    for builtin in admit::policies::builtin::BUILTINS {
        let header = format!("policies/{0}/admit-test.yaml ({0})", builtin.id);
        assert!(run.stdout.contains(&header), "{header}\n{}", run.stdout);
    }
    // A finding in a manifest written in the test file points into the test file.
    let json = admit(&["test", "policies/privileged", "--format", "json"]);
    let document: Json = serde_json::from_str(&json.stdout).unwrap();
    let inline = &document["files"][0]["cases"][2];
    assert_eq!(
        inline["findings"][0]["file"],
        "policies/privileged/admit-test.yaml"
    );
    assert_eq!(inline["findings"][0]["line"], 45);
}

#[test]
fn every_shipped_suite_matches_the_schema_its_editor_line_names() {
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(root().join("admit-test.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    // The schema knows every built-in id, and nothing else.
    let mut ids: Vec<&str> = schema["$defs"]["policy"]["properties"]["id"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    let mut builtins: Vec<&str> = admit::policies::builtin::BUILTINS
        .iter()
        .map(|b| b.id)
        .collect();
    ids.sort_unstable();
    builtins.sort_unstable();
    assert_eq!(ids, builtins);
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let path = entry.unwrap().path().join("admit-test.yaml");
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../../admit-test.schema.json\n"),
            "{}",
            path.display()
        );
        let errors: Vec<String> = validator
            .iter_errors(&yaml_to_json(&text))
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        checked += 1;
    }
    assert_eq!(checked, 30);
    // What the schema refuses, admit refuses too.
    for bad in [
        "policies: [{id: privileged, module: x.wasm}]\ncases: [{name: a, manifest: a.yaml, expect: {result: allowed}}]\n",
        "policies: [{id: privileged}]\ncases: [{name: a, manifest: a.yaml, expect: {result: passed}}]\n",
        "policies: [{id: privileged}]\ncases: [{name: a, manifest: a.yaml, request: r.json, expect: {result: allowed}}]\n",
        "policies: [{id: privileged}]\ncases: [{name: a, manifest: a.yaml, expect: {result: allowed, findings: [{at: here}]}}]\n",
    ] {
        assert!(!validator.is_valid(&yaml_to_json(bad)), "{bad}");
        let dir = scratch(&[("admit-test.yaml", bad), ("a.yaml", POD)]);
        test_in(dir.path(), &[]).code(2);
    }
}

/// YAML to JSON with admit's own loader, the one that reads test files.
fn yaml_to_json(text: &str) -> Json {
    let loaded = admit::documents::load(text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded
        .documents
        .first()
        .map_or(Json::Null, |d| d.root.to_json())
}

#[test]
fn a_failing_case_shows_expected_against_got_with_the_snippet() {
    let suite = "\
name: team
policies:
  - id: privileged
cases:
  - name: the web pod is allowed
    manifest: pod.yaml
    expect:
      result: allowed
      findings: []
  - name: the web pod is rejected
    manifest: pod.yaml
    expect:
      result: rejected
      message: container \"app\" must not be privileged
";
    let dir = scratch(&[("admit-test.yaml", suite), ("pod.yaml", POD)]);
    let run = test_in(dir.path(), &[]);
    run.code(1)
        .expect("admit-test.yaml (team)\n  FAILED  the web pod is allowed\n  ok      the web pod is rejected\n")
        .expect("FAILED team: the web pod is allowed (admit-test.yaml:5:11)\n")
        .expect("  result: expected allowed, got rejected\n")
        .expect("  findings: 0 expected not found, 1 found not expected (of 1 found)\n")
        .expect("    + pod.yaml:10:37: rejection[privileged] container \"app\" must not be privileged\n")
        .expect("╭─[pod.yaml:10:37]")
        .expect(" 10 │       securityContext: {privileged: true}")
        .expect("Tested 1 file: 2 cases, 1 passed, 1 failed, 0 errors (");
    let concise = test_in(dir.path(), &["--format", "concise"]);
    concise.code(1);
    assert_eq!(
        concise.stdout,
        "admit-test.yaml:5:11: failed[team] the web pod is allowed: result: expected allowed, \
         got rejected; findings: 0 expected not found, 1 found not expected (of 1 found)\n\
         Tested 1 file: 2 cases, 1 passed, 1 failed, 0 errors\n"
    );
}

#[test]
fn an_invalid_test_file_is_an_error_at_its_line_and_the_others_still_run() {
    let broken = "\
policies:
  - id: privileged
cases:
  - name: typo
    manifest: pod.yaml
    expct:
      result: allowed
";
    let good = "\
policies: [{id: privileged}]
cases:
  - name: rejected
    manifest: pod.yaml
    expect: {result: rejected}
";
    let dir = scratch(&[
        ("broken.admit-test.yaml", broken),
        ("good.admit-test.yaml", good),
        ("pod.yaml", POD),
    ]);
    let run = test_in(dir.path(), &[]);
    run.code(2)
        .expect("unknown key `expct` in a case")
        .expect("╭─[broken.admit-test.yaml:6:5]")
        .expect("help: did you mean `expect`? valid keys: name, manifest, request, policies, settings, context, replay, expect")
        .expect("good.admit-test.yaml\n  ok      rejected\n")
        .expect("Tested 2 files: 1 case, 1 passed, 0 failed, 1 error (");
    let concise = test_in(dir.path(), &["--format", "concise"]);
    concise
        .code(2)
        .expect("broken.admit-test.yaml:6:5: error: unknown key `expct` in a case\n");
    // A case that ends in an error where none was expected is an error too.
    let settings = "\
policies: [{id: image-registries}]
cases:
  - name: no registries
    manifest: pod.yaml
    expect: {result: allowed}
";
    let dir = scratch(&[("admit-test.yaml", settings), ("pod.yaml", POD)]);
    test_in(dir.path(), &[])
        .code(2)
        .expect("  ERROR   no registries\n")
        .expect("result: expected allowed, got error")
        .expect(
            "× image-registries: invalid settings: allowed must list at least one registry prefix",
        )
        .expect("╭─[admit-test.yaml:1:17]");
    // No test file at all.
    let empty = scratch(&[("pod.yaml", POD)]);
    let run = test_in(empty.path(), &[]);
    run.code(2);
    assert!(
        run.stderr.contains("no test files under ."),
        "{}",
        run.stderr
    );
}

#[test]
fn filter_runs_the_cases_whose_names_it_finds() {
    let suite = "\
name: web
policies: [{id: privileged}]
cases:
  - name: rejected as written
    manifest: pod.yaml
    expect: {result: rejected}
  - name: wrongly allowed
    manifest: pod.yaml
    expect: {result: allowed}
";
    let dir = scratch(&[("admit-test.yaml", suite), ("pod.yaml", POD)]);
    test_in(dir.path(), &["--filter", "as written"])
        .code(0)
        .expect("  ok      rejected as written\n")
        .reject("wrongly allowed")
        .expect("Tested 1 file: 1 case, 1 passed, 0 failed, 0 errors, 1 filtered out (");
    // The suite's name counts: `SUITE: CASE`.
    test_in(dir.path(), &["--filter", "^web: wrong"]).code(1);
    let none = test_in(dir.path(), &["--filter", "nothing like it"]);
    none.code(2);
    assert!(
        none.stderr
            .contains("--filter \"nothing like it\" matches no case"),
        "{}",
        none.stderr
    );
}

#[test]
fn update_rewrites_the_expected_findings_and_keeps_the_rest_of_the_file() {
    let before = "\
# Our pods. This comment stays.
policies:
  - id: privileged   # the one that matters
cases:
  - name: the web pod
    manifest: pod.yaml
    expect:
      result: allowed  # wrong, and rewritten
  - name: inline
    manifest:
      apiVersion: v1
      kind: Pod
      metadata: {name: a}
      spec:
        containers: [{name: b, image: c, securityContext: {privileged: true}}]
    expect: {result: rejected}
";
    let dir = scratch(&[("admit-test.yaml", before), ("pod.yaml", POD)]);
    let run = test_in(dir.path(), &["--update"]);
    run.code(0)
        .expect("  updated the web pod\n")
        .expect("  updated inline\n")
        .expect("Tested 1 file: 2 cases, 0 passed, 0 failed, 0 errors, 2 updated (");
    assert!(
        run.stderr.contains("admit: updated admit-test.yaml"),
        "{}",
        run.stderr
    );
    let after = std::fs::read_to_string(dir.path().join("admit-test.yaml")).unwrap();
    assert_eq!(
        after,
        "\
# Our pods. This comment stays.
policies:
  - id: privileged   # the one that matters
cases:
  - name: the web pod
    manifest: pod.yaml
    expect:
      result: rejected  # wrong, and rewritten
      findings:
        - at: \"10:37\"
          policy: privileged
          message: container \"app\" must not be privileged
  - name: inline
    manifest:
      apiVersion: v1
      kind: Pod
      metadata: {name: a}
      spec:
        containers: [{name: b, image: c, securityContext: {privileged: true}}]
    expect: {result: rejected, findings: [{at: \"19:72\", policy: \"privileged\", message: \"container \\\"b\\\" must not be privileged\"}]}
"
    );
    // Now it passes as it is, and a second --update changes nothing.
    test_in(dir.path(), &[]).code(0);
    let again = test_in(dir.path(), &["--update"]);
    again.code(0);
    assert!(!again.stderr.contains("updated"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("admit-test.yaml")).unwrap(),
        after
    );
}

#[test]
fn junit_has_one_test_case_per_case_and_json_says_what_differs() {
    let suite = "\
name: web
policies: [{id: privileged}]
cases:
  - name: rejected
    manifest: pod.yaml
    expect: {result: rejected}
  - name: says something else
    manifest: pod.yaml
    expect: {result: rejected, message-pattern: '^Privileged'}
  - name: with a typo in its settings
    manifest: pod.yaml
    settings: {other: 1}
    expect: {result: rejected}
";
    let dir = scratch(&[("admit-test.yaml", suite), ("pod.yaml", POD)]);
    let run = test_in(
        dir.path(),
        &["--format", "junit=junit.xml", "--format", "json"],
    );
    run.code(2);
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let document = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<roxmltree::Node<'_, '_>> = document
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(
        names,
        [
            "rejected",
            "says something else",
            "with a typo in its settings"
        ]
    );
    assert!(
        cases
            .iter()
            .all(|c| c.attribute("classname") == Some("web"))
    );
    let child = |case: &roxmltree::Node<'_, '_>| {
        case.children()
            .find(|n| n.is_element())
            .map(|n| n.tag_name().name().to_string())
    };
    assert_eq!(child(&cases[0]), None);
    assert_eq!(child(&cases[1]).as_deref(), Some("failure"));
    assert_eq!(child(&cases[2]).as_deref(), Some("error"));
    let failure = cases[1].children().find(|n| n.is_element()).unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some(
            "message: expected a match for /^Privileged/, got \"container \\\"app\\\" must not be privileged\""
        )
    );

    let json: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["version"], 1);
    let cases = &json["files"][0]["cases"];
    assert_eq!(cases[0]["status"], "passed");
    assert_eq!(cases[0]["findings"][0]["line"], 10);
    assert_eq!(
        cases[0]["findings"][0]["pointer"],
        "/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(cases[1]["status"], "failed");
    assert_eq!(cases[1]["mismatches"][0]["subject"], "message");
    assert_eq!(cases[2]["status"], "error");
    assert_eq!(cases[2]["result"], "error");
    let error = cases[2]["errors"][0]["message"].as_str().unwrap();
    assert!(error.starts_with("invalid settings: "), "{error}");
    assert_eq!(json["summary"]["cases"], 3);
    assert_eq!(json["summary"]["errors"], 1);
}

#[test]
fn requests_run_as_admit_run_runs_them_and_patches_are_compared() {
    let module = support::policy("pull-policy");
    let suite = format!(
        "\
policies:
  - module: {module}
    name: pull
cases:
  - name: a request is mutated
    request: review.json
    expect:
      result: allowed
      patch:
        - {{op: add, path: /spec/containers/0/imagePullPolicy, value: Always}}
  - name: a manifest is mutated the same way
    manifest: pod.yaml
    expect:
      result: allowed
      patch: [{{op: add, path: /spec/containers/0/imagePullPolicy, value: Always}}]
      findings:
        - at: \"8:7\"
          kind: mutation
          policy: pull
          message: would add /spec/containers/0/imagePullPolicy = \"Always\"
  - name: a wrong patch fails
    request: review.json
    expect:
      result: allowed
      patch: []
"
    );
    let review = r#"{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
      "request": {"uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"}, "operation": "CREATE",
        "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
          "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}"#;
    let dir = scratch(&[
        ("admit-test.yaml", &suite),
        ("pod.yaml", POD),
        ("review.json", review),
    ]);
    let run = test_in(dir.path(), &[]);
    run.code(1)
        .expect("  ok      a request is mutated\n")
        .expect("  ok      a manifest is mutated the same way\n")
        .expect("  FAILED  a wrong patch fails\n")
        .expect(
            "  patch: expected [], got [{\"op\":\"add\",\"path\":\"/spec/containers/0/imagePullPolicy\",\"value\":\"Always\"}]\n",
        );
}

#[test]
fn context_and_replay_files_are_checked_when_the_test_file_is_read() {
    let session = "\
- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: v1
    kind: Namespace
    name: shop
    namespace: null
    disable_cache: false
  response:
    type: Success
    payload: '{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\"}}'
";
    let suite = "\
policies: [{id: privileged}]
context: [cluster.yaml]
replay: session.yml
cases:
  - name: rejected
    manifest: pod.yaml
    expect: {result: rejected}
";
    let cluster = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
    let dir = scratch(&[
        ("admit-test.yaml", suite),
        ("pod.yaml", POD),
        ("cluster.yaml", cluster),
        ("session.yml", session),
    ]);
    test_in(dir.path(), &[]).code(0);
    // A mistake in the session is reported at its line, in the session file.
    std::fs::write(
        dir.path().join("session.yml"),
        session.replace("!KubernetesGetResource", "!KubernetesGetResources"),
    )
    .unwrap();
    test_in(dir.path(), &[])
        .code(2)
        .expect("unknown request type `!KubernetesGetResources`")
        .expect("╭─[session.yml:2:12]");
    std::fs::write(dir.path().join("cluster.yaml"), "a: [1\n").unwrap();
    std::fs::write(dir.path().join("session.yml"), session).unwrap();
    test_in(dir.path(), &[])
        .code(2)
        .expect("not a YAML stream of objects")
        .expect("╭─[cluster.yaml:");
}

#[test]
fn a_registry_module_is_fetched_and_locked_as_check_fetches_it() {
    let registry = crate::support::registry::Registry::start();
    let wasm = std::fs::read(root().join("tests/policies/privileged.wasm")).unwrap();
    registry.push_policy("policies/privileged:v1", &wasm);
    let reference = registry.reference("policies/privileged:v1");
    let suite = format!(
        "\
policies:
  - module: {reference}
    name: remote
cases:
  - name: rejected where it is written
    manifest: pod.yaml
    expect:
      result: rejected
      findings:
        - at: \"10:37\"
          policy: remote
          message: container \"app\" must not be privileged
"
    );
    let dir = scratch(&[
        ("admit.yaml", "registry:\n  sources: sources.yaml\n"),
        (
            "sources.yaml",
            &format!("insecure_sources: [\"{}\"]\n", registry.host),
        ),
        ("admit-test.yaml", &suite),
        ("pod.yaml", POD),
    ]);
    let home = tempfile::tempdir().unwrap();
    let (cache, docker) = (home.path().join("cache"), home.path().join("docker"));
    std::fs::create_dir_all(&docker).unwrap();
    let (xdg_cache, xdg_config) = (
        home.path().join("xdg-cache"),
        home.path().join("xdg-config"),
    );
    let no_auth = home.path().join("no-auth.json");
    let env: [(&str, &std::path::Path); 5] = [
        ("ADMIT_CACHE_DIR", &cache),
        ("DOCKER_CONFIG", &docker),
        ("XDG_CACHE_HOME", &xdg_cache),
        ("XDG_CONFIG_HOME", &xdg_config),
        ("REGISTRY_AUTH_FILE", &no_auth),
    ];
    let run = support::admit_env(dir.path(), &["test"], None, &env);
    run.code(0)
        .expect("  ok      rejected where it is written\n");
    assert!(
        run.stderr.contains(&format!("locked {reference} in")),
        "{}",
        run.stderr
    );
    let lock = std::fs::read_to_string(dir.path().join("admit.lock")).unwrap();
    assert!(
        lock.contains(&format!("reference: \"{reference}\"")),
        "{lock}"
    );
    // From then on, from the store.
    drop(registry);
    support::admit_env(dir.path(), &["test", "--offline", "--locked"], None, &env).code(0);
}

#[test]
fn a_context_aware_policy_is_tested_against_context_files_and_sessions() {
    // tests/policies/context-aware/admit-test.yaml: the same Deployment allowed with cluster
    // state as context, rejected at its serviceAccountName without, and both verdicts again
    // from kwctl sessions.
    let run = admit(&["test", "tests/policies/context-aware"]);
    run.code(0)
        .expect("  ok      a ServiceAccount in the cluster state exists\n")
        .expect("  ok      a ServiceAccount nowhere is rejected at serviceAccountName\n")
        .expect("  ok      a recorded cluster that lacks it rejects\n")
        .expect("4 cases, 4 passed, 0 failed, 0 errors");
}

/// The large outside policy (1.5 MB, typed k8s-openapi objects) passes its own suite compiled
/// by either compiler: Winch, admit's default for outside modules, and Cranelift.
#[test]
fn the_large_test_policy_passes_its_suite_under_both_compilers() {
    let cache = tempfile::tempdir().unwrap();
    for compiler in ["winch", "cranelift"] {
        let run = support::admit_env(
            &root(),
            &[
                "test",
                "tests/policies/typed-workloads",
                "--cache-dir",
                cache.path().to_str().unwrap(),
            ],
            None,
            &[("ADMIT_COMPILER", std::path::Path::new(compiler))],
        );
        run.code(0);
        assert!(
            run.stdout.contains("11 passed"),
            "{compiler}: {}",
            run.stdout
        );
    }
}
