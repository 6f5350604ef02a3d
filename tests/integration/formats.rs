//! The CI output formats end to end: `--format concise|json|sarif|junit|github` on real
//! manifests, asserting what a user (or the CI system reading the report) sees: the exact
//! `line:col`, the severity, the policy id, errors that are not only on stderr, escaping, and an
//! exit code that never depends on the format. SARIF output is validated against the official
//! SARIF 2.1.0 schema shipped in the `serde-sarif` crate's source, JSON output against
//! `docs/report.schema.json`.

use std::path::{Path, PathBuf};

use crate::support::{self, admit_in, fixture, policy, root, scratch, snapshots};
use serde_json::Value as Json;

/// A Pod whose privileged container is written after multi-byte characters on the same line:
/// columns count characters, so `true` is at column 66 (byte 68).
const UNICODE_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: débug
spec:
  containers:
    - {name: \"çà\", image: busybox, securityContext: {privileged: true}}
";

const BROKEN: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n";

const CLEAN_POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: quiet
spec:
  containers:
    - name: app
      image: busybox
";

/// A directory with an invalid YAML file, the storefront Deployment and the Unicode Pod.
fn manifests() -> tempfile::TempDir {
    scratch(&[
        ("a-broken.yaml", BROKEN),
        ("b-web.yaml", &fixture("manifests/web.yaml")),
        ("c-pod.yaml", UNICODE_POD),
    ])
}

/// `admit check` in `dir` on the three manifests and a file that does not exist, with the
/// `privileged` test policy, in `format`.
fn check_all(dir: &Path, format: &str) -> support::Run {
    admit_in(
        dir,
        &[
            "check",
            "a-broken.yaml",
            "b-web.yaml",
            "c-pod.yaml",
            "missing.yaml",
            "--policy",
            &policy("privileged"),
            "--format",
            format,
        ],
        None,
    )
}

/// Every format of one run on [`manifests`], whole, as a user or the CI system reading the
/// report gets it: a snapshot each, masked only where two runs differ. The run uses no cache,
/// so that its summary never depends on an earlier one.
#[test]
fn each_format_of_the_same_run_matches_its_snapshot() {
    let dir = manifests();
    let privileged = policy("privileged");
    for format in ["human", "concise", "json", "sarif", "junit", "github"] {
        let run = admit_in(
            dir.path(),
            &[
                "check",
                "a-broken.yaml",
                "b-web.yaml",
                "c-pod.yaml",
                "missing.yaml",
                "--policy",
                &privileged,
                "--no-cache",
                "--format",
                format,
            ],
            None,
        );
        run.code(2);
        let mut settings = snapshots::settings();
        settings.set_snapshot_suffix(format);
        settings.bind(|| insta::assert_snapshot!(run.stdout));
    }
}

/// The report's lines without the summary's timing, which changes from run to run.
fn lines_without_timing(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|line| match line.rfind(" (") {
            Some(at) if line.starts_with("Checked ") => line[..at].to_string(),
            _ => line.to_string(),
        })
        .collect()
}

fn parse_json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{text}"))
}

#[test]
fn concise_is_one_line_per_finding_with_exact_positions() {
    let dir = manifests();
    let run = check_all(dir.path(), "concise");
    run.code(2);
    assert_eq!(
        lines_without_timing(&run.stdout),
        [
            "a-broken.yaml:4:9: error[invalid-yaml] unclosed bracket '['",
            "b-web.yaml:27:25: error[privileged] container \"log-shipper\" must not be privileged",
            "c-pod.yaml:7:66: error[privileged] container \"çà\" must not be privileged",
            // A file that cannot be read is named, without a position.
            "missing.yaml: error[input] no such file or directory",
            "Checked 3 files, 2 objects, 1 policy (2 evaluations): 2 findings in 2 objects; 2 errors",
        ],
        "stderr:\n{}",
        run.stderr
    );
}

#[test]
fn concise_reports_mutations_as_notes_and_a_clean_run_as_the_summary_alone() {
    let dir = scratch(&[("pod.yaml", CLEAN_POD)]);
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "pod.yaml",
            "--policy",
            &policy("pull-policy"),
            "--format",
            "concise",
        ],
        None,
    );
    run.code(0);
    assert_eq!(
        lines_without_timing(&run.stdout),
        [
            "pod.yaml:7:7: note[pull-policy] would add /spec/containers/0/imagePullPolicy = \"Always\"",
            "Checked 1 file, 1 object, 1 policy (1 evaluation): 1 finding (1 note) in 1 object; 0 errors",
        ]
    );
    let clean = admit_in(
        dir.path(),
        &[
            "check",
            "pod.yaml",
            "--policy",
            &policy("privileged"),
            "--format",
            "concise",
        ],
        None,
    );
    clean.code(0);
    assert_eq!(
        lines_without_timing(&clean.stdout),
        ["Checked 1 file, 1 object, 1 policy (1 evaluation): 0 findings; 0 errors"]
    );
}

#[test]
fn github_annotations_point_at_the_node_and_escape_what_the_runner_parses() {
    let dir = scratch(&[("odd,name:100%.yaml", UNICODE_POD)]);
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "./odd,name:100%.yaml",
            "gone%.yaml",
            "--policy",
            &policy("privileged"),
            "--policy",
            &policy("require-labels"),
            "--format",
            "github",
        ],
        None,
    );
    run.code(2);
    let lines = lines_without_timing(&run.stdout);
    assert_eq!(
        lines,
        [
            // Without its settings require-labels is an error about no file, with help.
            "::error title=require-labels::invalid settings: labels must list at least one label%0Ahelp: fix the settings given with --settings; this policy was skipped",
            // The unreadable file is annotated as a whole.
            "::error file=gone%25.yaml,title=input::no such file or directory",
            "::error file=odd%2Cname%3A100%25.yaml,line=7,col=66,endLine=7,endColumn=70,title=privileged::container \"çà\" must not be privileged",
            "Checked 1 file, 1 object, 1 policy (1 evaluation): 1 finding in 1 object; 2 errors",
        ],
        "stderr:\n{}",
        run.stderr
    );
}

/// The official SARIF 2.1.0 schema, as the `serde-sarif` crate ships it in its source (the
/// crate generates its types from it). `cargo metadata` says where that source is, so this
/// works wherever `cargo test` could build the crate.
fn official_sarif_schema() -> Json {
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata = parse_json(&String::from_utf8_lossy(&output.stdout));
    let manifest = metadata["packages"]
        .as_array()
        .expect("a package list")
        .iter()
        .find(|package| package["name"] == "serde-sarif")
        .and_then(|package| package["manifest_path"].as_str())
        .expect("serde-sarif is a dependency");
    let path: PathBuf = Path::new(manifest)
        .parent()
        .expect("a crate directory")
        .join("src/schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema = parse_json(&text);
    // Make sure this is the OASIS schema, not some other file that moved there.
    assert_eq!(
        schema["$id"],
        "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
    );
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    fix_language_pattern(schema)
}

/// The 2.1.0 schema as published in 2020 (the revision serde-sarif ships) gives the `language`
/// properties a pattern that is not a valid ECMA 262 regular expression, so a validator that
/// checks the schema itself refuses it. OASIS fixed that erratum in the same file later; apply
/// exactly that fix, and nothing else, so that the rest is checked as published.
fn fix_language_pattern(mut schema: Json) -> Json {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    const FIXED: &str = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$";
    fn walk(value: &mut Json, fixed: &mut usize) {
        match value {
            Json::String(text) if text == BROKEN => {
                *text = FIXED.to_string();
                *fixed += 1;
            }
            Json::Array(items) => items.iter_mut().for_each(|item| walk(item, fixed)),
            Json::Object(entries) => entries.values_mut().for_each(|item| walk(item, fixed)),
            _ => {}
        }
    }
    let mut fixed = 0;
    walk(&mut schema, &mut fixed);
    // Run.language and toolComponent.language; none once a fixed revision ships.
    assert!(fixed == 2 || fixed == 0, "{fixed} patterns fixed");
    schema
}

/// A validator for `schema` that checks formats (`uri`, `uri-reference`, ...) too.
fn validator(schema: &Json) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("the schema does not compile: {e}"))
}

/// Fail with every violation when `instance` does not satisfy `schema`.
#[track_caller]
fn assert_valid(schema: &Json, instance: &Json, what: &str) {
    let errors: Vec<String> = validator(schema)
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(instance).unwrap_or_default()
    );
}

#[test]
fn sarif_matches_the_official_schema_and_points_at_the_node() {
    let schema = official_sarif_schema();
    let dir = manifests();
    let run = check_all(dir.path(), "sarif");
    run.code(2);
    let log = parse_json(&run.stdout);
    assert_valid(&schema, &log, "SARIF output");
    // The validator does check: a level SARIF does not define is refused.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = Json::from("fatal");
    assert!(!validator(&schema).is_valid(&broken));

    let sarif_run = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(sarif_run["columnKind"], "unicodeCodePoints");
    let driver = &sarif_run["tool"]["driver"];
    assert_eq!(driver["name"], "admit");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|rule| rule["id"].as_str())
        .collect();
    assert_eq!(rules, ["privileged", "invalid-yaml", "input"]);
    assert_eq!(driver["rules"][0]["defaultConfiguration"]["level"], "error");

    // The unreadable file is a notification that names it: code scanning rejects results
    // without a region.
    let invocation = &sarif_run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    assert_eq!(notification["associatedRule"]["id"], "input");
    assert_eq!(notification["message"]["text"], "no such file or directory");
    assert_eq!(
        notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "missing.yaml"
    );

    let results = sarif_run["results"].as_array().expect("results");
    let summary: Vec<(String, String, i64, String, String)> = results
        .iter()
        .map(|result| {
            let location = &result["locations"][0];
            let physical = &location["physicalLocation"];
            let region = &physical["region"];
            (
                result["ruleId"].as_str().unwrap_or_default().to_string(),
                format!(
                    "{}:{}:{}-{}:{}",
                    physical["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap_or_default(),
                    region["startLine"],
                    region["startColumn"],
                    region["endLine"],
                    region["endColumn"]
                ),
                result["ruleIndex"].as_i64().unwrap_or(-1),
                result["level"].as_str().unwrap_or_default().to_string(),
                location["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let expected = [
        (
            "invalid-yaml",
            "a-broken.yaml:4:9-4:10",
            1,
            "error",
            "document 1",
        ),
        (
            "privileged",
            "b-web.yaml:27:25-27:29",
            0,
            "error",
            "Deployment/shop/web",
        ),
        (
            "privileged",
            "c-pod.yaml:7:66-7:70",
            0,
            "error",
            "Pod/débug",
        ),
    ]
    .map(|(rule, at, index, level, object)| {
        (
            rule.to_string(),
            at.to_string(),
            index,
            level.to_string(),
            object.to_string(),
        )
    });
    assert_eq!(summary, expected);
    for result in results {
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
        assert!(result.get("suppressions").is_none(), "{result}");
    }
    assert_eq!(
        results[1]["properties"]["pointer"],
        "/spec/template/spec/containers/1/securityContext/privileged"
    );
    assert_eq!(
        results[1]["message"]["text"],
        "container \"log-shipper\" must not be privileged"
    );
}

#[test]
fn sarif_of_a_clean_run_and_of_builtins_with_help_matches_the_official_schema() {
    let schema = official_sarif_schema();
    let dir = scratch(&[
        ("pod.yaml", CLEAN_POD),
        ("web.yaml", &fixture("manifests/web.yaml")),
    ]);
    let clean = admit_in(
        dir.path(),
        &[
            "check",
            "pod.yaml",
            "--policy",
            "privileged",
            "--format",
            "sarif",
        ],
        None,
    );
    clean.code(0);
    let log = parse_json(&clean.stdout);
    assert_valid(&schema, &log, "SARIF output of a clean run");
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );

    // The recommended set: many rules, each with its README as Markdown help, and warnings.
    let recommended = admit_in(dir.path(), &["check", ".", "--format", "sarif"], None);
    recommended.code(1);
    let log = parse_json(&recommended.stdout);
    assert_valid(&schema, &log, "SARIF output of the recommended set");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let privileged = rules
        .iter()
        .find(|rule| rule["id"] == "privileged")
        .expect("a rule per built-in policy");
    assert!(
        privileged["help"]["markdown"]
            .as_str()
            .is_some_and(|help| help.starts_with("# privileged")),
        "{privileged}"
    );
    assert_eq!(
        privileged["shortDescription"]["text"],
        "Containers must not run privileged"
    );
    let levels: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|result| result["level"].as_str())
        .collect();
    assert!(levels.contains(&"error"), "{levels:?}");
}

#[test]
fn json_matches_its_documented_schema() {
    let schema = parse_json(
        &std::fs::read_to_string(root().join("docs/report.schema.json")).expect("schema file"),
    );
    let dir = manifests();
    let run = check_all(dir.path(), "json");
    run.code(2);
    let report = parse_json(&run.stdout);
    assert_valid(&schema, &report, "JSON output");
    // The schema describes the output exactly: an undocumented field is refused.
    let mut undocumented = report.clone();
    undocumented["findings"][0]["extra"] = Json::from(1);
    assert!(!validator(&schema).is_valid(&undocumented));
    assert_eq!(report["version"], 1);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 4);
    assert_eq!(findings[0]["kind"], "error");
    assert_eq!(findings[0]["policy"], "invalid-yaml");
    assert_eq!(findings[0]["document"], 0);
    // The file that cannot be read is named, in its place by path, without a position.
    let missing = &findings[3];
    assert_eq!(missing["policy"], "input");
    assert_eq!(missing["file"], "missing.yaml");
    assert_eq!(missing["message"], "no such file or directory");
    assert!(missing.get("line").is_none() && missing.get("column").is_none());
    let web = &findings[1];
    assert_eq!(
        (
            &web["file"],
            &web["line"],
            &web["column"],
            &web["end_line"],
            &web["end_column"]
        ),
        (
            &Json::from("b-web.yaml"),
            &Json::from(27),
            &Json::from(25),
            &Json::from(27),
            &Json::from(29)
        )
    );
    assert_eq!(web["severity"], "error");
    assert_eq!(web["document"], 0);
    assert_eq!(
        web["object"],
        serde_json::json!({"api_version": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web"})
    );
    assert_eq!(findings[2]["column"], 66);
    assert!(findings.iter().all(|f| f.get("suppressed").is_none()));
    assert_eq!(report["policies"][0]["id"], "privileged");
    assert_eq!(report["policies"][0]["severity"], "error");
    // Findings and the objects they are in, apart from the errors (the unreadable file and the
    // invalid YAML).
    assert_eq!(report["summary"]["findings"], 2);
    assert_eq!(report["summary"]["objects_with_findings"], 2);
    assert_eq!(report["summary"]["errors"], 2);
    assert_eq!(report["summary"]["suppressed"], 0);

    // Mutations (notes), request warnings and built-in policies with their help, too.
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
    let kind_cluster = "apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\n";
    let more = scratch(&[
        ("pod.yaml", CLEAN_POD),
        ("widget.yaml", widget),
        ("kind-cluster.yaml", kind_cluster),
    ]);
    // And what the notes count: another tool's configuration and a chart.
    std::fs::create_dir_all(more.path().join("chart/templates")).expect("chart");
    std::fs::write(more.path().join("chart/Chart.yaml"), "apiVersion: v2\n").expect("chart");
    let run = admit_in(
        more.path(),
        &[
            "check",
            ".",
            "--policy",
            &policy("pull-policy"),
            "--policy",
            "recommended",
            "--format",
            "json",
        ],
        None,
    );
    let report = parse_json(&run.stdout);
    assert_valid(&schema, &report, "JSON output with notes and warnings");
    let severities: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert!(severities.contains(&"note"), "{severities:?}");
    assert!(severities.contains(&"warning"), "{severities:?}");
    assert_eq!(report["notes"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["skipped"][1]["reason"], "chart");
}

#[test]
fn a_file_that_cannot_be_read_is_named_in_every_format_with_its_line_when_known() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"apiVersion: v1\nkind: ConfigMap\ndata: {city: Z\xfcrich}\n",
    )
    .expect("written");
    let run = |format: &str| {
        let run = admit_in(
            dir.path(),
            &[
                "check",
                "latin1.yaml",
                "-p",
                "privileged",
                "--format",
                format,
            ],
            None,
        );
        run.code(2);
        run.stdout
    };
    let message = "not valid UTF-8 (byte 45 on line 3)";
    let json = parse_json(&run("json"));
    let schema = parse_json(
        &std::fs::read_to_string(root().join("docs/report.schema.json")).expect("schema file"),
    );
    assert_valid(&schema, &json, "JSON output about an unreadable file");
    let finding = &json["findings"][0];
    assert_eq!(
        (&finding["file"], &finding["line"], &finding["message"]),
        (
            &Json::from("latin1.yaml"),
            &Json::from(3),
            &Json::from(message)
        )
    );
    assert!(finding.get("column").is_none(), "{finding}");
    assert_eq!(
        lines_without_timing(&run("github"))[0],
        format!("::error file=latin1.yaml,line=3,title=input::{message}")
    );
    assert_eq!(
        lines_without_timing(&run("concise"))[0],
        format!("latin1.yaml:3: error[input] {message}")
    );
    let sarif = parse_json(&run("sarif"));
    assert_valid(
        &official_sarif_schema(),
        &sarif,
        "SARIF output about an unreadable file",
    );
    let location = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["locations"]
        [0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "latin1.yaml");
    assert_eq!(location["region"]["startLine"], 3);
    let junit = run("junit");
    let document = roxmltree::Document::parse(&junit).expect("valid XML");
    let suite = document
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a suite");
    assert_eq!(attribute(suite, "name"), "latin1.yaml");
    assert!(
        run("human").contains(&format!("× input: latin1.yaml: {message}")),
        "the human report names the file too"
    );
}

/// The value of an element's attribute, `""` when it has none.
fn attribute<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    node.attribute(name).unwrap_or_default()
}

#[test]
fn junit_has_a_suite_per_file_and_a_case_per_object_and_policy() {
    let dir = manifests();
    let run = check_all(dir.path(), "junit");
    run.code(2);
    let document = roxmltree::Document::parse(&run.stdout)
        .unwrap_or_else(|e| panic!("invalid XML ({e}):\n{}", run.stdout));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        ["tests", "failures", "errors"].map(|name| attribute(root, name)),
        ["4", "2", "2"]
    );
    let suites: Vec<(String, Vec<(String, String)>)> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|suite| {
            let cases = suite
                .children()
                .filter(|n| n.has_tag_name("testcase"))
                .map(|case| {
                    let outcome = case
                        .children()
                        .find(|n| n.is_element())
                        .map_or("passed", |n| n.tag_name().name());
                    (attribute(case, "name").to_string(), outcome.to_string())
                })
                .collect();
            (attribute(suite, "name").to_string(), cases)
        })
        .collect();
    let expected: Vec<(String, Vec<(String, String)>)> = [
        ("a-broken.yaml", ("document 1 [invalid-yaml]", "error")),
        (
            "b-web.yaml",
            ("Deployment/shop/web [privileged]", "failure"),
        ),
        ("c-pod.yaml", ("Pod/débug [privileged]", "failure")),
        // The file that cannot be read has its suite.
        ("missing.yaml", ("input", "error")),
    ]
    .into_iter()
    .map(|(suite, (case, outcome))| {
        (
            suite.to_string(),
            vec![(case.to_string(), outcome.to_string())],
        )
    })
    .collect();
    assert_eq!(suites, expected);

    let failure = root
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(
        attribute(failure, "message"),
        "container \"log-shipper\" must not be privileged"
    );
    assert_eq!(
        failure.text(),
        Some(
            "b-web.yaml:27:25: error[privileged] container \"log-shipper\" must not be privileged"
        )
    );
}

#[test]
fn junit_of_a_clean_run_is_one_passing_case() {
    let dir = scratch(&[("pod.yaml", CLEAN_POD)]);
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "pod.yaml",
            "--policy",
            &policy("privileged"),
            "--format",
            "junit",
        ],
        None,
    );
    run.code(0);
    let document = roxmltree::Document::parse(&run.stdout).expect("valid XML");
    let root = document.root_element();
    assert_eq!(
        ["tests", "failures", "errors"].map(|name| attribute(root, name)),
        ["1", "0", "0"]
    );
    let case = root
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .expect("a test case");
    assert_eq!(attribute(case, "name"), "admit check");
}

#[test]
fn a_format_written_to_a_file_leaves_the_human_report_on_stdout() {
    let schema = official_sarif_schema();
    let dir = manifests();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    let run = admit_in(
        dir.path(),
        &[
            "check",
            "b-web.yaml",
            "--policy",
            &policy("privileged"),
            "--format",
            "sarif=reports/admit.sarif",
        ],
        None,
    );
    run.code(1).expect("╭─[b-web.yaml:27:25]").expect(
        "Checked 1 file, 1 object, 1 policy (1 evaluation): 1 finding in 1 object; 0 errors",
    );
    let written = std::fs::read_to_string(dir.path().join("reports/admit.sarif"))
        .expect("the SARIF file was written");
    let log = parse_json(&written);
    assert_valid(&schema, &log, "the SARIF file");
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "privileged");

    let run = admit_in(
        dir.path(),
        &[
            "check",
            "b-web.yaml",
            "--policy",
            &policy("privileged"),
            "--format",
            "junit",
            "--output",
            "admit.xml",
        ],
        None,
    );
    // `--output` takes the one report to the file: nothing is left for standard output.
    run.code(1);
    assert_eq!(run.stdout, "");
    let xml = std::fs::read_to_string(dir.path().join("admit.xml")).expect("JUnit file");
    assert!(roxmltree::Document::parse(&xml).is_ok(), "{xml}");
}

#[test]
fn the_exit_code_never_depends_on_the_format() {
    let dir = scratch(&[
        ("broken.yaml", BROKEN),
        ("web.yaml", &fixture("manifests/web.yaml")),
        ("pod.yaml", CLEAN_POD),
    ]);
    let privileged = policy("privileged");
    let cases: [(&[&str], i32); 4] = [
        (&["web.yaml"], 1),
        (&["web.yaml", "broken.yaml"], 2),
        (&["pod.yaml"], 0),
        (&["web.yaml", "--fail-on", "never"], 0),
    ];
    for format in ["human", "concise", "json", "sarif", "junit", "github"] {
        for (arguments, code) in cases {
            let mut args = vec!["check", "--policy", &privileged, "--format", format];
            args.extend_from_slice(arguments);
            let run = admit_in(dir.path(), &args, None);
            assert_eq!(
                run.code,
                code,
                "admit {} gave {}; stdout:\n{}\nstderr:\n{}",
                args.join(" "),
                run.code,
                run.stdout,
                run.stderr
            );
            assert!(!run.stdout.is_empty(), "{format} printed nothing");
        }
    }
}

#[test]
fn report_files_that_are_not_regular_files_are_written_in_place() {
    // Renaming a temporary file over /dev/stdout (or /dev/null) would replace the device.
    let run = support::admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "-p",
        "privileged",
        "--format",
        "concise",
        "--format",
        "json=/dev/stdout",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("\"policy\": \"privileged\""),
        "{}",
        run.stdout
    );
    // A symbolic link keeps pointing at its target, which gets the report.
    let dir = tempfile::tempdir().expect("temporary directory");
    let target = dir.path().join("reports").join("admit.sarif");
    std::fs::create_dir_all(target.parent().expect("parent")).expect("directory");
    std::fs::write(&target, "old").expect("old report");
    let link = dir.path().join("latest.sarif");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let spec = format!("sarif={}", link.display());
    let run = support::admit(&[
        "check",
        "fixtures/manifests/web.yaml",
        "-p",
        "privileged",
        "--format",
        &spec,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    let written = std::fs::read_to_string(&target).expect("target written");
    assert!(written.contains("\"version\": \"2.1.0\""), "{written}");
}
