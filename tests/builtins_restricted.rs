//! The built-in policies of the Pod Security Standards' restricted level and the best-practice
//! set, run by the built binary over their fixtures: every finding of fail.yaml exactly (file,
//! line, column, pointer, message), nothing for pass.yaml, and settings that are refused.
//!
//! The modules are the committed ones (policies/<id>/<id>.wasm); rebuild them with
//! `policies/build.sh <id>` after changing a policy.

mod support;

use support::Found;

/// Registry prefixes the image-registries fixtures are written for.
const REGISTRIES: &str = r#"{"allowed": ["registry.example.com", "ghcr.io/acme"]}"#;

/// Run policy `id` with `settings` over fixtures/policies/<id>/<file>.
fn run(id: &str, file: &str, settings: Option<&str>) -> (Vec<Found>, i32) {
    let fixture = format!("fixtures/policies/{id}/{file}");
    let module = format!("policies/{id}/{id}.wasm");
    let mut args = vec![fixture.as_str(), "--policy", module.as_str()];
    if let Some(settings) = settings {
        args.extend(["--settings", settings]);
    }
    support::findings(&args)
}

/// Policy `id` rejects `file` with exactly `expected`: (line:col, pointer, message) each.
#[track_caller]
fn rejects(id: &str, file: &str, settings: Option<&str>, expected: &[(&str, &str, &str)]) {
    let (found, code) = run(id, file, settings);
    let expected: Vec<Found> = expected
        .iter()
        .map(|(at, pointer, message)| Found {
            at: format!("fixtures/policies/{id}/{file}:{at}"),
            policy: id.into(),
            pointer: (*pointer).into(),
            message: (*message).into(),
            kind: "rejection".into(),
        })
        .collect();
    assert_eq!(found, expected);
    assert_eq!(code, 1, "exit code");
}

/// Policy `id` finds nothing in pass.yaml.
#[track_caller]
fn passes(id: &str, settings: Option<&str>) {
    let (found, code) = run(id, "pass.yaml", settings);
    assert_eq!(found, []);
    assert_eq!(code, 0, "exit code");
}

/// Policy `id` refuses `settings` with `message` and exit code 2.
#[track_caller]
fn refuses(id: &str, settings: Option<&str>, message: &str) {
    let (found, code) = run(id, "pass.yaml", settings);
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

const VOLUMES: &str = "the restricted policy allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes";

#[test]
fn volume_types() {
    // A pointer to a mapping-valued node (the volume source) is reported at its key.
    rejects(
        "volume-types",
        "fail.yaml",
        None,
        &[
            (
                "25:11",
                "/spec/template/spec/volumes/1/hostPath",
                &format!("volume \"varlog\" uses hostPath; {VOLUMES}"),
            ),
            (
                "45:11",
                "/spec/template/spec/volumes/0/nfs",
                &format!("volume \"share\" uses nfs; {VOLUMES}"),
            ),
            (
                "49:11",
                "/spec/template/spec/volumes/1/gitRepo",
                &format!("volume \"repo\" uses gitRepo; {VOLUMES}"),
            ),
        ],
    );
    passes("volume-types", None);
}

#[test]
fn privilege_escalation() {
    rejects(
        "privilege-escalation",
        "fail.yaml",
        None,
        &[
            (
                "11:35",
                "/spec/containers/0/securityContext/allowPrivilegeEscalation",
                "container \"web\" must not allow privilege escalation; set securityContext.allowPrivilegeEscalation: false",
            ),
            (
                "14:7",
                "/spec/containers/1/securityContext/allowPrivilegeEscalation",
                "container \"sidecar\" must set securityContext.allowPrivilegeEscalation: false",
            ),
            (
                "17:7",
                "/spec/ephemeralContainers/0/securityContext/allowPrivilegeEscalation",
                "ephemeral container \"debug\" must set securityContext.allowPrivilegeEscalation: false",
            ),
            (
                "32:11",
                "/spec/template/spec/initContainers/0/securityContext/allowPrivilegeEscalation",
                "init container \"migrate\" must set securityContext.allowPrivilegeEscalation: false",
            ),
        ],
    );
    passes("privilege-escalation", None);
}

#[test]
fn run_as_non_root() {
    rejects(
        "run-as-non-root",
        "fail.yaml",
        None,
        &[
            (
                "19:11",
                "/spec/template/spec/containers/0/securityContext/runAsNonRoot",
                "container \"api\" must set securityContext.runAsNonRoot: true (or set it once in the pod's securityContext)",
            ),
            (
                "43:27",
                "/spec/template/spec/containers/1/securityContext/runAsNonRoot",
                "container \"backup\" must set securityContext.runAsNonRoot: true, not false",
            ),
            (
                "51:19",
                "/spec/securityContext/runAsNonRoot",
                "the pod must set securityContext.runAsNonRoot: true, not false",
            ),
        ],
    );
    passes("run-as-non-root", None);
}

#[test]
fn run_as_user() {
    rejects(
        "run-as-user",
        "fail.yaml",
        None,
        &[
            (
                "11:20",
                "/spec/template/spec/securityContext/runAsUser",
                "the pod must not set securityContext.runAsUser: 0; use a non-zero user ID",
            ),
            (
                "16:24",
                "/spec/template/spec/initContainers/0/securityContext/runAsUser",
                "init container \"prepare\" must not set securityContext.runAsUser: 0; use a non-zero user ID",
            ),
            (
                "35:20",
                "/spec/ephemeralContainers/0/securityContext/runAsUser",
                "ephemeral container \"debug\" must not set securityContext.runAsUser: 0; use a non-zero user ID",
            ),
        ],
    );
    passes("run-as-user", None);
}

#[test]
fn seccomp_restricted() {
    rejects(
        "seccomp-restricted",
        "fail.yaml",
        None,
        &[
            (
                "19:11",
                "/spec/template/spec/containers/1/securityContext/seccompProfile/type",
                "container \"proxy\" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (or set it once in the pod's securityContext)",
            ),
            (
                "35:21",
                "/spec/jobTemplate/spec/template/spec/securityContext/seccompProfile/type",
                "the pod must not use the seccomp profile \"Unconfined\"; set securityContext.seccompProfile.type to RuntimeDefault or Localhost",
            ),
            (
                "56:21",
                "/spec/template/spec/initContainers/0/securityContext/seccompProfile/type",
                "init container \"setup\" must not use the seccomp profile \"Unconfined\"; set securityContext.seccompProfile.type to RuntimeDefault or Localhost",
            ),
        ],
    );
    passes("seccomp-restricted", None);
}

#[test]
fn capabilities_restricted() {
    rejects(
        "capabilities-restricted",
        "fail.yaml",
        None,
        &[
            (
                "19:39",
                "/spec/template/spec/containers/0/securityContext/capabilities/add/1",
                "container \"proxy\" must not add capability \"NET_ADMIN\"; only NET_BIND_SERVICE may be added",
            ),
            (
                "24:15",
                "/spec/template/spec/containers/1/securityContext/capabilities/drop",
                "container \"metrics\" must drop ALL capabilities; list ALL in securityContext.capabilities.drop",
            ),
            (
                "38:15",
                "/spec/jobTemplate/spec/template/spec/initContainers/0/securityContext/capabilities/drop",
                "init container \"unlock\" must drop ALL capabilities; list ALL in securityContext.capabilities.drop",
            ),
            (
                "46:23",
                "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities/drop/0",
                "container \"cleanup\" must drop ALL capabilities, written in capitals",
            ),
        ],
    );
    passes("capabilities-restricted", None);
}

#[test]
fn image_tag() {
    rejects(
        "image-tag",
        "fail.yaml",
        None,
        &[
            (
                "9:14",
                "/spec/containers/0/image",
                "container \"web\" uses image \"nginx\" without a tag; pin a version (e.g. nginx:1.2.3) or a digest",
            ),
            (
                "14:14",
                "/spec/ephemeralContainers/0/image",
                "ephemeral container \"debug\" uses image \"busybox:latest\"; latest moves to new releases, pin a version (e.g. busybox:1.2.3) or a digest",
            ),
            (
                "29:22",
                "/spec/jobTemplate/spec/template/spec/initContainers/0/image",
                "init container \"fetch\" uses image \"registry.example.com:5000/tools/fetch\" without a tag; pin a version (e.g. registry.example.com:5000/tools/fetch:1.2.3) or a digest",
            ),
            (
                "32:22",
                "/spec/jobTemplate/spec/template/spec/containers/0/image",
                "container \"report\" uses image \"ghcr.io/acme/report:latest\"; latest moves to new releases, pin a version (e.g. ghcr.io/acme/report:1.2.3) or a digest",
            ),
        ],
    );
    passes("image-tag", None);
    // With require_digest, the tagged images of pass.yaml fail; the digest does not.
    rejects(
        "image-tag",
        "pass.yaml",
        Some(r#"{"require_digest": true}"#),
        &[
            (
                "15:18",
                "/spec/template/spec/initContainers/0/image",
                "init container \"migrate\" uses image \"registry.example.com:5000/web/migrate:2.3.1\" without a digest; pin it as registry.example.com:5000/web/migrate:2.3.1@sha256:<digest> (require_digest is set)",
            ),
            (
                "18:18",
                "/spec/template/spec/containers/0/image",
                "container \"web\" uses image \"nginx:1.27.3\" without a digest; pin it as nginx:1.27.3@sha256:<digest> (require_digest is set)",
            ),
        ],
    );
    refuses(
        "image-tag",
        Some(r#"{"require_digest": "yes"}"#),
        "invalid type: string \"yes\", expected a boolean",
    );
}

#[test]
fn image_registries() {
    rejects(
        "image-registries",
        "fail.yaml",
        Some(REGISTRIES),
        &[
            (
                "16:18",
                "/spec/template/spec/initContainers/0/image",
                "init container \"sysctl\" uses image \"busybox:1.36\" (docker.io/library/busybox), which is not from an allowed registry: registry.example.com, ghcr.io/acme",
            ),
            (
                "21:18",
                "/spec/template/spec/containers/1/image",
                "container \"exporter\" uses image \"ghcr.io/acme-labs/exporter:1.0\" (ghcr.io/acme-labs/exporter), which is not from an allowed registry: registry.example.com, ghcr.io/acme",
            ),
            (
                "33:18",
                "/spec/template/spec/containers/0/image",
                "container \"seed\" uses image \"registry.example.com.evil.io/seed:1.0\" (registry.example.com.evil.io/seed), which is not from an allowed registry: registry.example.com, ghcr.io/acme",
            ),
        ],
    );
    passes("image-registries", Some(REGISTRIES));
    // Without settings the policy cannot judge anything, so it refuses to run.
    refuses(
        "image-registries",
        None,
        r#"allowed must list at least one registry prefix, e.g. {"allowed": ["registry.example.com", "ghcr.io/acme"]}"#,
    );
}

#[test]
fn resources() {
    rejects(
        "resources",
        "fail.yaml",
        None,
        &[
            (
                "16:11",
                "/spec/template/spec/initContainers/0/resources/limits/memory",
                "init container \"migrate\" must set resources.limits.memory",
            ),
            (
                "21:11",
                "/spec/template/spec/containers/0/resources/limits/memory",
                "container \"api\" must set resources.limits.memory",
            ),
            (
                "21:11",
                "/spec/template/spec/containers/0/resources/requests/cpu",
                "container \"api\" must set resources.requests.cpu",
            ),
            (
                "21:11",
                "/spec/template/spec/containers/0/resources/requests/memory",
                "container \"api\" must set resources.requests.memory",
            ),
            (
                "42:11",
                "/spec/template/spec/containers/0/resources/limits/memory",
                "container \"import\" must set resources.limits.memory",
            ),
            (
                "42:11",
                "/spec/template/spec/containers/0/resources/requests/cpu",
                "container \"import\" must set resources.requests.cpu",
            ),
            (
                "42:11",
                "/spec/template/spec/containers/0/resources/requests/memory",
                "container \"import\" must set resources.requests.memory",
            ),
        ],
    );
    passes("resources", None);
    // Requiring CPU limits, which pass.yaml sets only on its init container.
    rejects(
        "resources",
        "pass.yaml",
        Some(r#"{"required": ["limits.cpu"]}"#),
        &[
            (
                "28:13",
                "/spec/template/spec/containers/0/resources/limits/cpu",
                "container \"db\" must set resources.limits.cpu",
            ),
            (
                "42:9",
                "/spec/containers/0/resources/limits/cpu",
                "container \"web\" must set resources.limits.cpu",
            ),
        ],
    );
    refuses(
        "resources",
        Some(r#"{"required": ["limits.gpu"]}"#),
        "required: unknown entry \"limits.gpu\"; use requests.cpu, requests.memory, limits.cpu or limits.memory",
    );
}

#[test]
fn probes() {
    rejects(
        "probes",
        "fail.yaml",
        None,
        &[
            (
                "15:11",
                "/spec/template/spec/containers/0/livenessProbe",
                "container \"web\" has no livenessProbe; add one so the kubelet restarts it when it stops responding",
            ),
            (
                "19:11",
                "/spec/template/spec/containers/1/livenessProbe",
                "container \"proxy\" has no livenessProbe; add one so the kubelet restarts it when it stops responding",
            ),
            (
                "19:11",
                "/spec/template/spec/containers/1/readinessProbe",
                "container \"proxy\" has no readinessProbe; add one so it receives traffic only when it is ready",
            ),
            (
                "34:11",
                "/spec/template/spec/containers/0/readinessProbe",
                "container \"agent\" has no readinessProbe; add one so it receives traffic only when it is ready",
            ),
            (
                "45:7",
                "/spec/containers/0/readinessProbe",
                "container \"api\" has no readinessProbe; add one so it receives traffic only when it is ready",
            ),
        ],
    );
    passes("probes", None);
    refuses(
        "probes",
        Some(r#"{"required": ["liveness"]}"#),
        "required: unknown entry \"liveness\"; use livenessProbe, readinessProbe or startupProbe",
    );
}

#[test]
fn read_only_root_filesystem() {
    rejects(
        "read-only-root-filesystem",
        "fail.yaml",
        None,
        &[
            (
                "14:11",
                "/spec/template/spec/initContainers/0/securityContext/readOnlyRootFilesystem",
                "init container \"setup\" must set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where it must write)",
            ),
            (
                "24:37",
                "/spec/template/spec/containers/1/securityContext/readOnlyRootFilesystem",
                "container \"cache\" must set securityContext.readOnlyRootFilesystem: true, not false",
            ),
            (
                "40:15",
                "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem",
                "container \"rotate\" must set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where it must write)",
            ),
        ],
    );
    passes("read-only-root-filesystem", None);
}
