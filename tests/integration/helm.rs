//! Helm charts rendered with Helm's own engine and every finding at its template line
//! (fixtures/helm: a chart with a subchart, `include`, `if`, `range`, `toYaml` of a values
//! block, a production rendering in `admit.yaml` that overrides values, and a chart that fails
//! to render).
//!
//! The `helm` binary is not in the registries these machines reach; Helm v4's engine is, as
//! PyPI's helm-python-sdk. The tests install it into a virtualenv under the target directory
//! and put on PATH a `helm` that runs tests/helm/helm, the `helm template` subset admit calls.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{Found, findings_of, root};

const HELM_PYTHON_SDK: &str = "helm-python-sdk==0.2.2";

/// A directory holding a `helm` that renders with Helm's engine, installed once per run.
fn helm_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("helm");
        let venv = work.join("venv");
        let python = venv.join("bin").join("python");
        let works = |python: &Path| {
            Command::new(python)
                .args(["-c", "import helm_python.chart, yaml"])
                .status()
                .is_ok_and(|status| status.success())
        };
        if !works(&python) {
            let _ = std::fs::remove_dir_all(&venv);
            let created = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                created,
                "creating a virtualenv for Helm's engine failed: install python3 and python3-venv \
                 (apt-get install -y python3-venv, as .ci/run does)"
            );
            let installed = Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args([HELM_PYTHON_SDK, "pyyaml"])
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                installed && works(&python),
                "installing {HELM_PYTHON_SDK} from PyPI failed (it ships Helm v4's engine)"
            );
        }
        let bin = work.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let script = format!(
            "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
            python.display(),
            root().join("tests/helm/helm").display()
        );
        let helm = bin.join("helm");
        std::fs::write(&helm, script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        bin
    })
}

/// Run `admit check ARGS` from the repository root with `path` as PATH.
fn admit_with_path(path: &str, args: &[&str]) -> (String, i32) {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_admit"))
        .current_dir(root())
        .arg("check")
        .args(args)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env(
            "ADMIT_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("module-cache"),
        )
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

fn with_helm(args: &[&str]) -> (String, i32) {
    let path = format!(
        "{}:{}",
        helm_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    admit_with_path(&path, args)
}

fn located(found: &[Found]) -> Vec<String> {
    found
        .iter()
        .map(|f| format!("{} {}", f.at, f.policy))
        .collect()
}

const POLICIES: [&str; 6] = [
    "-p",
    "privileged",
    "-p",
    "host-namespaces",
    "-p",
    "image-tag",
];

#[test]
fn every_finding_points_at_the_template_line_or_the_values_that_set_it() {
    let (report, code) =
        with_helm(&[&["fixtures/helm", "--format", "json"], &POLICIES[..]].concat());
    assert_eq!(code, 2, "the broken chart fails to render:\n{report}");
    let found = findings_of(&report);
    assert_eq!(
        located(&found),
        [
            // `required` fails: the chart is named and Helm quoted.
            "fixtures/helm/broken/Chart.yaml:1:1 helm",
            // The subchart's own default (`hostPID: true`), in both renderings: reported once.
            "fixtures/helm/shop/charts/db/templates/statefulset.yaml:13:16 host-namespaces",
            // Inside `if .Values.hostNetwork`, on in production.
            "fixtures/helm/shop/templates/deployment.yaml:18:20 host-namespaces",
            // `image.tag: latest` in values-prod.yaml, written by the template's image line.
            "fixtures/helm/shop/templates/deployment.yaml:22:16 image-tag",
            // The `range` over sidecars: the template's one item.
            "fixtures/helm/shop/templates/deployment.yaml:27:16 image-tag",
            // `toYaml .Values.securityContext`: the key is not in the template; the values
            // file that set it is where to fix it.
            "fixtures/helm/values-prod.yaml:5:15 privileged",
        ]
    );
    assert!(
        found[0]
            .message
            .contains("image is required: set it in values.yaml"),
        "{}",
        found[0].message
    );
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    let by_policy = |policy: &str, file_part: &str| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["policy"] == policy && f["file"].as_str().unwrap().contains(file_part))
            .cloned()
            .unwrap()
    };
    // The template line that rendered the values block is a related location.
    let privileged = by_policy("privileged", "values-prod");
    assert_eq!(
        privileged["related"][0]["file"],
        "fixtures/helm/shop/templates/deployment.yaml"
    );
    assert_eq!(privileged["related"][0]["line"], 24);
    // And what Helm rendered there, since the template does not show it.
    assert!(
        privileged["help"].as_str().unwrap().contains(
            "Helm rendered /spec/template/spec/containers/0/securityContext/privileged: true"
        ),
        "{privileged:#}"
    );
    // The values lines the image line uses are too: the repository in the chart's values,
    // the tag in production's.
    let tag = by_policy("image-tag", "deployment");
    let related: Vec<String> = tag["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}:{}", r["file"].as_str().unwrap(), r["line"]))
        .collect();
    assert_eq!(
        related,
        [
            "fixtures/helm/shop/values.yaml:3",
            "fixtures/helm/values-prod.yaml:2"
        ]
    );
    // And the renderings each finding occurs in.
    let db = by_policy("host-namespaces", "statefulset");
    assert_eq!(
        db["roots"],
        serde_json::json!(["fixtures/helm/shop (default)", "fixtures/helm/shop (prod)"])
    );
}

#[test]
fn without_helm_each_chart_is_noted_and_nothing_fails() {
    let (report, code) = admit_with_path(
        "/nonexistent",
        &[
            "fixtures/helm/shop",
            "--format",
            "concise",
            "--fail-on",
            "warning",
            "-p",
            "privileged",
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains(
            "note: chart fixtures/helm/shop not checked: its templates need rendering; run helm \
             template fixtures/helm/shop | admit check -"
        ),
        "{report}"
    );
}

#[test]
fn the_schema_knows_the_rendering_keys() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("admit.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    // fixtures/helm/admit.yaml, with the other rendering keys.
    let valid = serde_json::json!({
        "render": true,
        "kustomize": ["kubectl", "kustomize"],
        "helm": {"charts": {"shop": [
            {"name": "default"},
            {"name": "prod", "values": ["values-prod.yaml"], "release": "shop", "namespace": "shop"}
        ]}}
    });
    assert!(validator.is_valid(&valid));
    for invalid in [
        serde_json::json!({"render": "yes"}),
        serde_json::json!({"helm": {"charts": {"shop": [{"value": ["x.yaml"]}]}}}),
    ] {
        assert!(!validator.is_valid(&invalid), "{invalid}");
    }
}

/// `helm template ... | admit check -` from `dir`.
fn piped(dir: &Path, args: &[&str]) -> (String, i32) {
    let rendered = Command::new(helm_bin().join("helm"))
        .current_dir(root().join("fixtures/helm"))
        .args(["template", "shop", "shop", "--values", "values-prod.yaml"])
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_admit"))
        .current_dir(dir)
        .args(["check", "-", "--isolated", "--format", "concise"])
        .args(args)
        .write_stdin(rendered.stdout)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

#[test]
fn piped_helm_output_maps_to_the_chart_under_the_current_directory() {
    let (report, code) = piped(&root().join("fixtures/helm"), &["-p", "image-tag"]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report.starts_with("shop/templates/deployment.yaml:22:16: error[image-tag]"),
        "{report}"
    );
}

#[test]
fn piped_helm_output_of_a_chart_elsewhere_names_the_rendered_template() {
    let elsewhere = tempfile::tempdir().unwrap();
    let (report, code) = piped(elsewhere.path(), &["-p", "image-tag"]);
    assert_eq!(code, 1, "{report}");
    // The rendered manifest's own line, under its `# Source:` name.
    assert!(
        report.starts_with("shop/templates/deployment.yaml:21:16: error[image-tag]"),
        "{report}"
    );
}
