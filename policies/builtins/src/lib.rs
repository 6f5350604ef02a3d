//! Every built-in policy in one waPC module, for admit to run.
//!
//! Each built-in is an ordinary Kubewarden policy, one module each, and that module is what a
//! cluster runs and `admit export` writes out. But thirty modules of about 150 KB are mostly the
//! same code (the kit, serde, the SDK), and compiling each is what a first run paid for. This
//! module compiles the same sources (each policy's `src/lib.rs`, included below) once, behind
//! one entry point: its operations are each policy's, prefixed by the policy id
//! (`privileged/validate`, `privileged/validate_settings`), and `protocol_version`. The
//! sources are compiled against `kit/`, the kit with entry macros that hand the handlers here.
//!
//! admit tests that the bundle answers as each policy's own module does, on every fixture
//! (tests/integration/builtins.rs).

// The policies' unit tests are their own crates': in this crate's test build, where their
// `#[cfg(test)]` modules would be compiled against the bundle's kit, nothing is included.
#![cfg_attr(test, allow(unused_imports, unused_macros))]

use admit_policy_kit::sdk::protocol_version_guest;
use admit_policy_kit::sdk::wapc_guest::register_function;

/// The policies: `"id" => module` registers the module's handlers under the id.
macro_rules! register {
    ($($id:literal => $module:ident),* $(,)?) => {
        #[cfg(not(test))]
        #[unsafe(no_mangle)]
        pub extern "C" fn wapc_init() {
            $(
                register_function(concat!($id, "/validate"), $module::VALIDATE);
                register_function(concat!($id, "/validate_settings"), $module::VALIDATE_SETTINGS);
            )*
            register_function("protocol_version", protocol_version_guest);
        }
    };
}

register! {
    "apparmor" => apparmor,
    "automount-service-account-token" => automount_service_account_token,
    "capabilities-baseline" => capabilities_baseline,
    "capabilities-restricted" => capabilities_restricted,
    "cluster-admin-binding" => cluster_admin_binding,
    "default-namespace" => default_namespace,
    "deprecated-api-versions" => deprecated_api_versions,
    "env-secrets" => env_secrets,
    "host-namespaces" => host_namespaces,
    "host-path-volumes" => host_path_volumes,
    "host-ports" => host_ports,
    "host-probes" => host_probes,
    "host-process" => host_process,
    "image-registries" => image_registries,
    "image-tag" => image_tag,
    "privilege-escalation" => privilege_escalation,
    "privileged" => privileged,
    "probes" => probes,
    "proc-mount" => proc_mount,
    "rbac-wildcards" => rbac_wildcards,
    "read-only-root-filesystem" => read_only_root_filesystem,
    "resources" => resources,
    "run-as-non-root" => run_as_non_root,
    "run-as-user" => run_as_user,
    "seccomp-baseline" => seccomp_baseline,
    "seccomp-restricted" => seccomp_restricted,
    "selinux" => selinux,
    "service-type" => service_type,
    "sysctls" => sysctls,
    "volume-types" => volume_types,
}

#[cfg(not(test))]
#[path = "../../apparmor/src/lib.rs"]
mod apparmor;
#[cfg(not(test))]
#[path = "../../automount-service-account-token/src/lib.rs"]
mod automount_service_account_token;
#[cfg(not(test))]
#[path = "../../capabilities-baseline/src/lib.rs"]
mod capabilities_baseline;
#[cfg(not(test))]
#[path = "../../capabilities-restricted/src/lib.rs"]
mod capabilities_restricted;
#[cfg(not(test))]
#[path = "../../cluster-admin-binding/src/lib.rs"]
mod cluster_admin_binding;
#[cfg(not(test))]
#[path = "../../default-namespace/src/lib.rs"]
mod default_namespace;
#[cfg(not(test))]
#[path = "../../deprecated-api-versions/src/lib.rs"]
mod deprecated_api_versions;
#[cfg(not(test))]
#[path = "../../env-secrets/src/lib.rs"]
mod env_secrets;
#[cfg(not(test))]
#[path = "../../host-namespaces/src/lib.rs"]
mod host_namespaces;
#[cfg(not(test))]
#[path = "../../host-path-volumes/src/lib.rs"]
mod host_path_volumes;
#[cfg(not(test))]
#[path = "../../host-ports/src/lib.rs"]
mod host_ports;
#[cfg(not(test))]
#[path = "../../host-probes/src/lib.rs"]
mod host_probes;
#[cfg(not(test))]
#[path = "../../host-process/src/lib.rs"]
mod host_process;
#[cfg(not(test))]
#[path = "../../image-registries/src/lib.rs"]
mod image_registries;
#[cfg(not(test))]
#[path = "../../image-tag/src/lib.rs"]
mod image_tag;
#[cfg(not(test))]
#[path = "../../privilege-escalation/src/lib.rs"]
mod privilege_escalation;
#[cfg(not(test))]
#[path = "../../privileged/src/lib.rs"]
mod privileged;
#[cfg(not(test))]
#[path = "../../probes/src/lib.rs"]
mod probes;
#[cfg(not(test))]
#[path = "../../proc-mount/src/lib.rs"]
mod proc_mount;
#[cfg(not(test))]
#[path = "../../rbac-wildcards/src/lib.rs"]
mod rbac_wildcards;
#[cfg(not(test))]
#[path = "../../read-only-root-filesystem/src/lib.rs"]
mod read_only_root_filesystem;
#[cfg(not(test))]
#[path = "../../resources/src/lib.rs"]
mod resources;
#[cfg(not(test))]
#[path = "../../run-as-non-root/src/lib.rs"]
mod run_as_non_root;
#[cfg(not(test))]
#[path = "../../run-as-user/src/lib.rs"]
mod run_as_user;
#[cfg(not(test))]
#[path = "../../seccomp-baseline/src/lib.rs"]
mod seccomp_baseline;
#[cfg(not(test))]
#[path = "../../seccomp-restricted/src/lib.rs"]
mod seccomp_restricted;
#[cfg(not(test))]
#[path = "../../selinux/src/lib.rs"]
mod selinux;
#[cfg(not(test))]
#[path = "../../service-type/src/lib.rs"]
mod service_type;
#[cfg(not(test))]
#[path = "../../sysctls/src/lib.rs"]
mod sysctls;
#[cfg(not(test))]
#[path = "../../volume-types/src/lib.rs"]
mod volume_types;
