//! The built-in policies on their fixtures, through the built binary.
//!
//! Each `fixtures/policies/<id>/{fail,pass}.yaml` has a snapshot (`snapshots/`, one file per
//! policy and fixture) of the report a user reads, `--format concise`, with the JSON Pointer
//! of each finding from `--format json` under it: a changed message, place or pointer is a
//! diff to review. Whatever a snapshot says, pass.yaml must give nothing and fail.yaml only
//! rejections by its policy. Settings that change what a policy reports, and settings it
//! refuses, are asserted below.

use crate::support::{self, Found, admit, findings_of, snapshots};

/// Registry prefixes the image-registries fixtures are written for.
const REGISTRIES: &str = r#"{"allowed": ["registry.example.com", "ghcr.io/acme"]}"#;

/// The settings a policy needs to judge its fixtures at all: image-registries refuses to run
/// without the registries it allows.
fn fixture_settings(id: &str) -> Option<&'static str> {
    (id == "image-registries").then_some(REGISTRIES)
}

/// `admit check <fixture> --policy <id>` in the concise format (no cache, so that the summary
/// never depends on an earlier run) with the JSON report written beside it: the text a
/// snapshot holds, the findings and the exit code.
fn report(id: &str, fixture: &str, settings: Option<&str>) -> (String, Vec<Found>, i32) {
    let out = tempfile::tempdir().expect("temporary directory");
    let json = out.path().join("report.json");
    let json_format = format!("json={}", json.display());
    let mut args = vec![
        "check",
        fixture,
        "--policy",
        id,
        "--no-cache",
        "--format",
        "concise",
        "--format",
        &json_format,
    ];
    if let Some(settings) = settings {
        args.extend(["--settings", settings]);
    }
    let run = admit(&args);
    let found = findings_of(&std::fs::read_to_string(&json).expect("the JSON report"));

    let settings = settings.map_or(String::new(), |s| format!(" --settings '{s}'"));
    let mut text = format!("$ admit check {fixture} --policy {id}{settings} --format concise\n");
    let mut lines = run.stdout.lines().peekable();
    for finding in &found {
        let line = lines.next().unwrap_or_default();
        assert!(
            line.ends_with(&finding.message),
            "{fixture}: the concise line {line:?} is not the finding {finding:?}\n{}",
            run.stdout
        );
        text.push_str(line);
        text.push('\n');
        if !finding.pointer.is_empty() {
            text.push_str(&format!("    pointer {}\n", finding.pointer));
        }
    }
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!("exit code {}\n", run.code));
    (text, found, run.code)
}

#[test]
fn fixture_findings() {
    snapshots::settings().bind(|| {
        insta::glob!("../../fixtures/policies", "*/*.yaml", |path| {
            let id = path
                .parent()
                .and_then(std::path::Path::file_name)
                .and_then(|name| name.to_str())
                .expect("fixtures/policies/<id>/");
            let file = path
                .file_name()
                .and_then(|name| name.to_str())
                .expect("a file name");
            let fixture = format!("fixtures/policies/{id}/{file}");
            let (text, found, code) = report(id, &fixture, fixture_settings(id));
            match file {
                "pass.yaml" => {
                    assert_eq!(found, [], "{fixture} must give nothing");
                    assert_eq!(code, 0, "{fixture}: exit code");
                }
                "fail.yaml" => {
                    assert!(!found.is_empty(), "{fixture} must give findings");
                    for finding in &found {
                        assert_eq!(
                            (finding.policy.as_str(), finding.kind.as_str()),
                            (id, "rejection"),
                            "{fixture}: {finding:?}"
                        );
                        assert!(finding.at.starts_with(&fixture), "{finding:?}");
                    }
                    assert_eq!(code, 1, "{fixture}: exit code");
                }
                other => panic!("{id}: unexpected fixture {other}"),
            }
            insta::assert_snapshot!(text);
        });
    });
}

/// Policy `id` on `fixtures/policies/<id>/<file>` with `settings`: findings and exit code.
fn run(id: &str, file: &str, settings: Option<&str>) -> (Vec<Found>, i32) {
    let fixture = format!("fixtures/policies/{id}/{file}");
    let mut args = vec![fixture.as_str(), "--policy", id];
    if let Some(settings) = settings {
        args.extend(["--settings", settings]);
    }
    support::findings(&args)
}

/// A rejection by `id` at `line:col` of its fixture `file`.
fn rejection(id: &str, file: &str, line_col: &str, pointer: &str, message: &str) -> Found {
    Found {
        at: format!("fixtures/policies/{id}/{file}:{line_col}"),
        policy: id.into(),
        pointer: pointer.into(),
        message: message.into(),
        kind: "rejection".into(),
    }
}

/// Policy `id` refuses `settings` with `message` before checking anything: one error and exit
/// code 2, whatever its fixtures hold.
#[track_caller]
fn refuses(id: &str, settings: Option<&str>, message: &str) {
    let fixtures = format!("fixtures/policies/{id}");
    let mut args = vec![fixtures.as_str(), "--policy", id];
    if let Some(settings) = settings {
        args.extend(["--settings", settings]);
    }
    let (found, code) = support::findings(&args);
    assert_eq!(
        found,
        [Found {
            at: "::".into(),
            policy: id.into(),
            pointer: String::new(),
            message: format!("invalid settings: {message}"),
            kind: "error".into(),
        }]
    );
    assert_eq!(code, 2, "exit code");
}

#[test]
fn host_ports_allowed_by_settings_pass_and_the_rest_name_them() {
    let id = "host-ports";
    let (found, code) = run(id, "fail.yaml", Some(r#"{"allowedPorts": [53]}"#));
    assert_eq!(
        found,
        [
            rejection(
                id,
                "fail.yaml",
                "22:25",
                "/spec/template/spec/containers/0/ports/0/hostPort",
                "container \"web\" must not use hostPort 8080 (allowed host ports: 53)",
            ),
            rejection(
                id,
                "fail.yaml",
                "56:21",
                "/spec/initContainers/0/ports/0/hostPort",
                "init container \"register\" must not use hostPort 9000 (allowed host ports: 53)",
            ),
        ]
    );
    assert_eq!(code, 1);
    refuses(
        id,
        Some(r#"{"allowedPorts": [0]}"#),
        "allowedPorts: 0 is not a port number; list ports from 1 to 65535",
    );
}

#[test]
fn image_tag_with_require_digest_rejects_tags_without_a_digest() {
    let id = "image-tag";
    // The tagged images of pass.yaml fail; its digest does not.
    let (found, code) = run(id, "pass.yaml", Some(r#"{"require_digest": true}"#));
    assert_eq!(
        found,
        [
            rejection(
                id,
                "pass.yaml",
                "15:18",
                "/spec/template/spec/initContainers/0/image",
                "init container \"migrate\" uses image \"registry.example.com:5000/web/migrate:2.3.1\" without a digest; pin it as registry.example.com:5000/web/migrate:2.3.1@sha256:<digest> (require_digest is set)",
            ),
            rejection(
                id,
                "pass.yaml",
                "18:18",
                "/spec/template/spec/containers/0/image",
                "container \"web\" uses image \"nginx:1.27.3\" without a digest; pin it as nginx:1.27.3@sha256:<digest> (require_digest is set)",
            ),
        ]
    );
    assert_eq!(code, 1);
    refuses(
        id,
        Some(r#"{"require_digest": "yes"}"#),
        "invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn image_registries_refuses_to_run_without_registries() {
    refuses(
        "image-registries",
        None,
        r#"allowed must list at least one registry prefix, e.g. {"allowed": ["registry.example.com", "ghcr.io/acme"]}"#,
    );
}

#[test]
fn resources_requires_what_the_settings_name() {
    let id = "resources";
    // CPU limits, which pass.yaml sets only on its init container.
    let (found, code) = run(id, "pass.yaml", Some(r#"{"required": ["limits.cpu"]}"#));
    assert_eq!(
        found,
        [
            rejection(
                id,
                "pass.yaml",
                "28:13",
                "/spec/template/spec/containers/0/resources/limits/cpu",
                "container \"db\" must set resources.limits.cpu",
            ),
            rejection(
                id,
                "pass.yaml",
                "42:9",
                "/spec/containers/0/resources/limits/cpu",
                "container \"web\" must set resources.limits.cpu",
            ),
        ]
    );
    assert_eq!(code, 1);
    refuses(
        id,
        Some(r#"{"required": ["limits.gpu"]}"#),
        "required: unknown entry \"limits.gpu\"; use requests.cpu, requests.memory, limits.cpu or limits.memory",
    );
}

#[test]
fn probes_refuses_an_unknown_probe() {
    refuses(
        "probes",
        Some(r#"{"required": ["liveness"]}"#),
        "required: unknown entry \"liveness\"; use livenessProbe, readinessProbe or startupProbe",
    );
}

#[test]
fn default_namespace_with_require_namespace_adds_objects_without_one() {
    let id = "default-namespace";
    let (default, _) = run(id, "fail.yaml", None);
    let (found, code) = run(id, "fail.yaml", Some(r#"{"require_namespace": true}"#));
    // The Service that names no namespace is added, at its `metadata` key.
    let mut expected = default;
    expected.push(rejection(
        id,
        "fail.yaml",
        "31:1",
        "/metadata/namespace",
        "Service has no namespace, so it lands in whatever namespace kubectl uses; set \
         metadata.namespace",
    ));
    assert_eq!(found, expected);
    assert_eq!(code, 1);
    refuses(
        id,
        Some(r#"{"require_namespace": "yes"}"#),
        "invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn env_secrets_never_quotes_the_secret() {
    let (found, code) = run("env-secrets", "fail.yaml", None);
    assert_eq!(code, 1);
    for finding in &found {
        for secret in ["hunter2", "AKIAIOSFODNN7EXAMPLE", "ghp_", "eyJ", "0c7e1f2a"] {
            assert!(!finding.message.contains(secret), "{}", finding.message);
        }
    }
}

#[test]
fn deprecated_api_versions_judges_against_the_kubernetes_version_given() {
    let id = "deprecated-api-versions";
    // For 1.24 the CronJob and the PDB are still served, and v1beta3 FlowSchema is current.
    let (found, code) = run(id, "fail.yaml", Some(r#"{"kubernetes_version": "1.24"}"#));
    assert_eq!(
        found,
        [
            rejection(
                id,
                "fail.yaml",
                "3:13",
                "/apiVersion",
                "extensions/v1beta1 Ingress was removed in Kubernetes 1.22; use \
                 networking.k8s.io/v1",
            ),
            rejection(
                id,
                "fail.yaml",
                "13:13",
                "/apiVersion",
                "batch/v1beta1 CronJob is deprecated and will be removed in Kubernetes 1.25; use \
                 batch/v1",
            ),
            rejection(
                id,
                "fail.yaml",
                "29:13",
                "/apiVersion",
                "policy/v1beta1 PodDisruptionBudget is deprecated and will be removed in \
                 Kubernetes 1.25; use policy/v1",
            ),
        ]
    );
    assert_eq!(code, 1);
    assert_eq!(
        run(id, "pass.yaml", Some(r#"{"kubernetes_version": "1.29"}"#)),
        (vec![], 0)
    );
    refuses(
        id,
        Some(r#"{"kubernetes_version": "v1.24"}"#),
        "kubernetes_version \"v1.24\" is not a Kubernetes minor version; write it as \"1.N\", \
         such as \"1.34\"",
    );
}

#[test]
fn cluster_admin_binding_spares_the_allowed_subjects() {
    let id = "cluster-admin-binding";
    let (default, _) = run(id, "fail.yaml", None);
    let allowed = r#"{"allowed_subjects": ["system:masters", "alice"]}"#;
    let (found, code) = run(id, "fail.yaml", Some(allowed));
    // Only the bindings of the ServiceAccount and of bob (an rbac v1beta1 binding) are left.
    let not_allowed: Vec<Found> = default
        .into_iter()
        .filter(|f| {
            f.message.contains("ServiceAccount \"shop/ci\"") || f.message.contains("User \"bob\"")
        })
        .collect();
    assert_eq!(not_allowed.len(), 2, "{not_allowed:?}");
    assert_eq!(found, not_allowed);
    assert_eq!(code, 1);
    // The RoleBinding's subject has no namespace: it is the binding's.
    let all = r#"{"allowed_subjects": ["system:masters", "alice", "bob", "system:serviceaccount:shop:ci"]}"#;
    assert_eq!(run(id, "fail.yaml", Some(all)), (vec![], 0));
    refuses(
        id,
        Some(r#"{"allowed_subjects": ["system:serviceaccount:shop"]}"#),
        "allowed_subjects entry \"system:serviceaccount:shop\" names no ServiceAccount; write \
         it as system:serviceaccount:NAMESPACE:NAME",
    );
}

#[test]
fn service_type_with_no_allowed_types_rejects_load_balancers_too() {
    let id = "service-type";
    let (default, _) = run(id, "fail.yaml", None);
    let (found, code) = run(id, "fail.yaml", Some(r#"{"allowed_types": []}"#));
    let mut expected = default;
    expected.push(rejection(
        id,
        "fail.yaml",
        "23:9",
        "/spec/type",
        "Service type LoadBalancer asks for an external load balancer; use ClusterIP behind an \
         Ingress or Gateway, or add LoadBalancer to allowed_types",
    ));
    assert_eq!(found, expected);
    assert_eq!(code, 1);
    refuses(
        id,
        Some(r#"{"allowed_types": ["Loadbalancer"]}"#),
        "allowed_types has \"Loadbalancer\", which is not a Service type; use NodePort or \
         LoadBalancer (ClusterIP and ExternalName are always allowed)",
    );
}

/// `module` with one more custom section: the same policy, but no longer byte for byte a
/// built-in's module, so admit compiles it and runs it as the module it is.
fn as_outside_module(module: &[u8]) -> Vec<u8> {
    let name = b"admit-test-copy";
    let mut copy = module.to_vec();
    copy.extend([0, (1 + name.len()) as u8, name.len() as u8]);
    copy.extend(name);
    copy
}

#[test]
fn export_writes_each_builtins_own_module() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("modules");
    let run = admit(&[
        "export",
        "baseline",
        "privileged",
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written: Vec<String> = run
        .stdout
        .lines()
        .map(|line| line.split("  ").next().unwrap().to_string())
        .collect();
    assert!(written.len() > 5, "{}", run.stdout);
    assert!(written.contains(&dir.join("privileged.wasm").display().to_string()));
    for path in &written {
        let id = std::path::Path::new(path)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(format!("policies/{id}/{id}.wasm")).unwrap(),
            "{id}: the module policies/build.sh built"
        );
    }
    let run = admit(&["export", "privilegd", "-o", dir.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no built-in policy or preset `privilegd`; did you mean `privileged`?"),
        "{}",
        run.stderr
    );
}

/// admit runs the built-ins from the bundle (policies/builtins), compiled from the same
/// sources ahead of time; a cluster runs each policy's own module. Both must answer alike: on
/// every fixture, the same findings at the same places with the same messages and exit code,
/// and the same refusal of unknown settings.
#[test]
fn every_builtin_answers_as_its_own_module_does() {
    let out = tempfile::tempdir().unwrap();
    let exported = out.path().join("exported");
    let cache = out.path().join("cache");
    let run = admit(&["export", "-o", exported.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut compared = 0;
    for entry in std::fs::read_dir("fixtures/policies").unwrap() {
        let id = entry.unwrap().file_name().to_str().unwrap().to_string();
        let own = out.path().join(format!("{id}.wasm"));
        std::fs::write(
            &own,
            as_outside_module(&std::fs::read(exported.join(format!("{id}.wasm"))).unwrap()),
        )
        .unwrap();
        let fixtures = format!("fixtures/policies/{id}");
        let settings = fixture_settings(&id).unwrap_or("{}");
        for settings in [settings, r#"{"noSuchSetting": true}"#] {
            let answers = [id.as_str(), own.to_str().unwrap()].map(|policy| {
                support::findings(&[
                    &fixtures,
                    "--policy",
                    policy,
                    "--settings",
                    settings,
                    "--cache-dir",
                    cache.to_str().unwrap(),
                ])
            });
            assert!(!answers[0].0.is_empty(), "{id}: its fixtures give findings");
            assert_eq!(
                answers[0], answers[1],
                "{id} with {settings}: bundle, then own module"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 60, "every built-in, twice");
    // The own modules were compiled at run time; the bundle never was.
    assert_eq!(
        std::fs::read_dir(cache.join("modules")).unwrap().count(),
        30
    );
}
