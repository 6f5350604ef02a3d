//! The Pod Security Standards baseline built-ins on their fixtures, through the built binary:
//! every finding of `fixtures/policies/<id>/fail.yaml` exactly (location, pointer, message) and
//! nothing on `pass.yaml`. Each expected `line:col` was checked against the fixture by hand: it
//! is the offending value (a scalar), or the key of an offending mapping.

mod support;

use support::Found;

/// Run the module `policies/<id>/<id>.wasm` on `fixtures/policies/<id>/<file>.yaml`.
fn run(id: &str, file: &str, extra: &[&str]) -> (Vec<Found>, i32) {
    let fixture = format!("fixtures/policies/{id}/{file}.yaml");
    let module = format!("policies/{id}/{id}.wasm");
    let mut args = vec![fixture.as_str(), "--policy", module.as_str()];
    args.extend_from_slice(extra);
    support::findings(&args)
}

/// The rejections `id` should report on its fail.yaml, as (`line:col`, pointer, message).
fn rejections(id: &str, expected: &[(&str, &str, &str)]) -> Vec<Found> {
    expected
        .iter()
        .map(|(at, pointer, message)| Found {
            at: format!("fixtures/policies/{id}/fail.yaml:{at}"),
            policy: id.to_string(),
            pointer: pointer.to_string(),
            message: message.to_string(),
            kind: "rejection".to_string(),
        })
        .collect()
}

/// fail.yaml yields exactly `expected` and exit code 1; pass.yaml yields nothing and exit 0.
#[track_caller]
fn assert_policy(id: &str, expected: &[(&str, &str, &str)]) {
    let (found, code) = run(id, "fail", &[]);
    assert_eq!(found, rejections(id, expected), "{id}: fail.yaml");
    assert_eq!(code, 1, "{id}: exit code on fail.yaml");
    let (found, code) = run(id, "pass", &[]);
    assert_eq!(found, [], "{id}: pass.yaml");
    assert_eq!(code, 0, "{id}: exit code on pass.yaml");
}

#[test]
fn host_process() {
    assert_policy(
        "host-process",
        &[
            (
                "9:20",
                "/spec/securityContext/windowsOptions/hostProcess",
                "pod must not run as a Windows HostProcess pod (windowsOptions.hostProcess: true)",
            ),
            (
                "39:28",
                "/spec/template/spec/initContainers/0/securityContext/windowsOptions/hostProcess",
                "init container \"setup\" must not run as a Windows HostProcess container \
                 (windowsOptions.hostProcess: true)",
            ),
            (
                "51:28",
                "/spec/template/spec/containers/1/securityContext/windowsOptions/hostProcess",
                "container \"shipper\" must not run as a Windows HostProcess container \
                 (windowsOptions.hostProcess: true)",
            ),
        ],
    );
}

#[test]
fn host_namespaces() {
    assert_policy(
        "host-namespaces",
        &[
            (
                "15:20",
                "/spec/template/spec/hostNetwork",
                "pod must not share the host network (hostNetwork: true)",
            ),
            (
                "16:16",
                "/spec/template/spec/hostPID",
                "pod must not share the host process ID namespace (hostPID: true)",
            ),
            (
                "28:12",
                "/spec/hostIPC",
                "pod must not share the host IPC namespace (hostIPC: true)",
            ),
            (
                "44:24",
                "/spec/jobTemplate/spec/template/spec/hostNetwork",
                "pod must not share the host network (hostNetwork: true)",
            ),
        ],
    );
}

#[test]
fn capabilities_baseline() {
    assert_policy(
        "capabilities-baseline",
        &[
            (
                "22:19",
                "/spec/template/spec/initContainers/0/securityContext/capabilities/add/0",
                "init container \"setup\" adds capability SYS_ADMIN, which is outside the \
                 baseline set",
            ),
            (
                "29:41",
                "/spec/template/spec/containers/0/securityContext/capabilities/add/1",
                "container \"web\" adds capability NET_ADMIN, which is outside the baseline set",
            ),
            (
                "47:15",
                "/spec/ephemeralContainers/0/securityContext/capabilities/add/1",
                "ephemeral container \"debugger\" adds capability SYS_PTRACE, which is outside \
                 the baseline set",
            ),
        ],
    );
}

#[test]
fn host_path_volumes() {
    // Each `hostPath` is a mapping, so the finding is at its key (block and flow style alike).
    assert_policy(
        "host-path-volumes",
        &[
            (
                "26:11",
                "/spec/template/spec/volumes/0/hostPath",
                "volume \"docker\" must not mount a host path (hostPath: /var/run/docker.sock)",
            ),
            (
                "30:11",
                "/spec/template/spec/volumes/1/hostPath",
                "volume \"varlog\" must not mount a host path (hostPath: /var/log)",
            ),
            (
                "59:11",
                "/spec/template/spec/volumes/1/hostPath",
                "volume \"data\" must not mount a host path (hostPath: /mnt/cache)",
            ),
        ],
    );
}

#[test]
fn host_ports() {
    assert_policy(
        "host-ports",
        &[
            (
                "22:25",
                "/spec/template/spec/containers/0/ports/0/hostPort",
                "container \"web\" must not use hostPort 8080",
            ),
            (
                "43:45",
                "/spec/template/spec/containers/0/ports/0/hostPort",
                "container \"dns\" must not use hostPort 53",
            ),
            (
                "44:45",
                "/spec/template/spec/containers/0/ports/1/hostPort",
                "container \"dns\" must not use hostPort 53",
            ),
            (
                "56:21",
                "/spec/initContainers/0/ports/0/hostPort",
                "init container \"register\" must not use hostPort 9000",
            ),
        ],
    );
}

#[test]
fn host_ports_allowed_by_settings_pass_and_the_rest_name_them() {
    let (found, code) = run(
        "host-ports",
        "fail",
        &["--settings", r#"{"allowedPorts": [53]}"#],
    );
    assert_eq!(
        found,
        rejections(
            "host-ports",
            &[
                (
                    "22:25",
                    "/spec/template/spec/containers/0/ports/0/hostPort",
                    "container \"web\" must not use hostPort 8080 (allowed host ports: 53)",
                ),
                (
                    "56:21",
                    "/spec/initContainers/0/ports/0/hostPort",
                    "init container \"register\" must not use hostPort 9000 (allowed host ports: 53)",
                ),
            ]
        )
    );
    assert_eq!(code, 1);
}

#[test]
fn host_ports_settings_must_be_port_numbers() {
    let (found, code) = run(
        "host-ports",
        "fail",
        &["--settings", r#"{"allowedPorts": [0]}"#],
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, "error");
    assert_eq!(
        found[0].message,
        "invalid settings: allowedPorts: 0 is not a port number; list ports from 1 to 65535"
    );
    assert_eq!(code, 2);
}

#[test]
fn apparmor() {
    assert_policy(
        "apparmor",
        &[
            (
                "8:57",
                "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1web",
                "container \"web\" must not run with AppArmor profile unconfined; use \
                 runtime/default or localhost/<profile>",
            ),
            (
                "32:17",
                "/spec/template/spec/securityContext/appArmorProfile/type",
                "pod must not use AppArmor profile type Unconfined; use RuntimeDefault or Localhost",
            ),
            (
                "45:63",
                "/spec/template/metadata/annotations/\
                 container.apparmor.security.beta.kubernetes.io~1setup",
                "init container \"setup\" must not run with AppArmor profile unconfined; use \
                 runtime/default or localhost/<profile>",
            ),
            (
                "56:21",
                "/spec/template/spec/containers/0/securityContext/appArmorProfile/type",
                "container \"migrate\" must not use AppArmor profile type Unconfined; use \
                 RuntimeDefault or Localhost",
            ),
        ],
    );
}

#[test]
fn selinux() {
    const TYPES: &str = "use container_t, container_init_t, container_kvm_t or container_engine_t, or leave it \
         unset";
    assert_policy(
        "selinux",
        &[
            (
                "10:13",
                "/spec/securityContext/seLinuxOptions/user",
                "pod must not set a custom SELinux user (system_u); remove seLinuxOptions.user",
            ),
            (
                "11:13",
                "/spec/securityContext/seLinuxOptions/role",
                "pod must not set a custom SELinux role (system_r); remove seLinuxOptions.role",
            ),
            (
                "35:21",
                "/spec/template/spec/containers/0/securityContext/seLinuxOptions/type",
                &format!("container \"builder\" must not use SELinux type spc_t; {TYPES}"),
            ),
            (
                "54:36",
                "/spec/template/spec/initContainers/0/securityContext/seLinuxOptions/type",
                &format!(
                    "init container \"setup\" must not use SELinux type unconfined_t; {TYPES}"
                ),
            ),
        ],
    );
}

#[test]
fn proc_mount() {
    assert_policy(
        "proc-mount",
        &[
            (
                "12:20",
                "/spec/containers/0/securityContext/procMount",
                "container \"builder\" must not use procMount Unmasked; set it to Default or \
                 remove it",
            ),
            (
                "25:40",
                "/spec/template/spec/initContainers/0/securityContext/procMount",
                "init container \"prepare\" must not use procMount Unmasked; set it to Default \
                 or remove it",
            ),
        ],
    );
}

#[test]
fn seccomp_baseline() {
    assert_policy(
        "seccomp-baseline",
        &[
            (
                "9:13",
                "/spec/securityContext/seccompProfile/type",
                "pod must not use seccomp profile Unconfined; use RuntimeDefault or Localhost",
            ),
            (
                "32:40",
                "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/seccompProfile/type",
                "container \"backup\" must not use seccomp profile Unconfined; use \
                 RuntimeDefault or Localhost",
            ),
            (
                "48:17",
                "/spec/ephemeralContainers/0/securityContext/seccompProfile/type",
                "ephemeral container \"strace\" must not use seccomp profile Unconfined; use \
                 RuntimeDefault or Localhost",
            ),
        ],
    );
}

#[test]
fn sysctls() {
    // A sysctl item is a mapping in a list, without a key: the finding is at its first line.
    assert_policy(
        "sysctls",
        &[
            (
                "11:9",
                "/spec/securityContext/sysctls/1",
                "pod must not set sysctl kernel.msgmax, which is outside the safe set",
            ),
            (
                "13:9",
                "/spec/securityContext/sysctls/2",
                "pod must not set sysctl net.core.somaxconn, which is outside the safe set",
            ),
            (
                "36:13",
                "/spec/template/spec/securityContext/sysctls/1",
                "pod must not set sysctl vm.max_map_count, which is outside the safe set",
            ),
        ],
    );
}

#[test]
fn host_probes() {
    let redirect = |who: &str, handler: &str, host: &str| {
        format!(
            "{who} must not send its {handler} to host \"{host}\"; remove host so the kubelet probes the pod itself"
        )
    };
    assert_policy(
        "host-probes",
        &[
            (
                "18:21",
                "/spec/template/spec/containers/0/livenessProbe/httpGet/host",
                &redirect(
                    "container \"web\"",
                    "livenessProbe httpGet",
                    "169.254.169.254",
                ),
            ),
            (
                "33:27",
                "/spec/initContainers/0/startupProbe/tcpSocket/host",
                &redirect(
                    "init container \"wait-for-db\"",
                    "startupProbe tcpSocket",
                    "db.internal",
                ),
            ),
            (
                "40:19",
                "/spec/containers/0/lifecycle/preStop/httpGet/host",
                &redirect(
                    "container \"worker\"",
                    "lifecycle.preStop httpGet",
                    "10.0.0.7",
                ),
            ),
        ],
    );
}
