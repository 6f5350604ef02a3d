//! The built-in policy library: ordinary Kubewarden policies compiled from `policies/` and
//! embedded in the binary, so `cargo install` needs no wasm toolchain and `admit check` is
//! useful with no policy named.
//!
//! Each built-in's metadata (its title, description, severity and presets) lives in its own
//! module's `io.kubewarden.metadata` section, the same bytes a cluster would read.

use std::fmt;
use std::sync::OnceLock;

use super::metadata::{Metadata, read_metadata};

/// One embedded policy.
#[derive(Clone, Copy)]
pub struct Builtin {
    /// The policy id, e.g. `privileged`.
    pub id: &'static str,
    /// The compiled module.
    pub wasm: &'static [u8],
    /// Its documentation (`policies/<id>/README.md`), printed by `admit explain`.
    pub(crate) docs: &'static str,
}

impl fmt::Debug for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builtin").field("id", &self.id).finish()
    }
}

/// `policies/<id>/<id>.wasm` and `policies/<id>/README.md`, embedded.
macro_rules! builtin {
    ($id:literal) => {
        Builtin {
            id: $id,
            wasm: include_bytes!(concat!("../../policies/", $id, "/", $id, ".wasm")),
            docs: include_str!(concat!("../../policies/", $id, "/README.md")),
        }
    };
}

/// Every built-in policy, sorted by id. A test checks this list against `policies/`.
pub static BUILTINS: &[Builtin] = &[
    builtin!("apparmor"),
    builtin!("automount-service-account-token"),
    builtin!("capabilities-baseline"),
    builtin!("capabilities-restricted"),
    builtin!("cluster-admin-binding"),
    builtin!("default-namespace"),
    builtin!("deprecated-api-versions"),
    builtin!("env-secrets"),
    builtin!("host-namespaces"),
    builtin!("host-path-volumes"),
    builtin!("host-ports"),
    builtin!("host-probes"),
    builtin!("host-process"),
    builtin!("image-registries"),
    builtin!("image-tag"),
    builtin!("privilege-escalation"),
    builtin!("privileged"),
    builtin!("probes"),
    builtin!("proc-mount"),
    builtin!("rbac-wildcards"),
    builtin!("read-only-root-filesystem"),
    builtin!("resources"),
    builtin!("run-as-non-root"),
    builtin!("run-as-user"),
    builtin!("seccomp-baseline"),
    builtin!("seccomp-restricted"),
    builtin!("selinux"),
    builtin!("service-type"),
    builtin!("sysctls"),
    builtin!("volume-types"),
];

/// Annotation listing the presets a built-in belongs to, comma-separated.
pub(crate) const PRESETS_ANNOTATION: &str = "admit.dev/presets";

/// The named sets of built-ins.
pub(crate) const PRESETS: [&str; 3] = ["baseline", "restricted", "recommended"];

impl Builtin {
    /// The built-in with this id.
    pub fn find(id: &str) -> Option<&'static Builtin> {
        BUILTINS.iter().find(|b| b.id == id)
    }

    /// The built-in whose module is `wasm`, byte for byte: however the module reached admit
    /// (a built-in id, or a file `admit export` wrote), it runs from the bundle.
    pub(crate) fn of_module(wasm: &[u8]) -> Option<&'static Builtin> {
        BUILTINS.iter().find(|b| b.wasm == wasm)
    }

    /// The module's metadata, read once per process: selecting a preset consults every
    /// built-in's. Built-ins are checked by tests to carry valid metadata, so a failure here
    /// means a broken build; it yields empty metadata rather than a panic.
    pub(crate) fn metadata(&self) -> &'static Metadata {
        static METADATA: OnceLock<Vec<Metadata>> = OnceLock::new();
        let all = METADATA.get_or_init(|| {
            BUILTINS
                .iter()
                .map(|b| read_metadata(b.wasm).ok().flatten().unwrap_or_default())
                .collect()
        });
        let index = BUILTINS.iter().position(|b| b.id == self.id);
        static EMPTY: OnceLock<Metadata> = OnceLock::new();
        index
            .and_then(|i| all.get(i))
            .unwrap_or_else(|| EMPTY.get_or_init(Metadata::default))
    }

    /// The presets this built-in belongs to.
    pub(crate) fn presets(&self) -> Vec<&'static str> {
        self.metadata()
            .annotations
            .get(PRESETS_ANNOTATION)
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The built-ins of a preset, or `None` when `name` is not a preset.
    pub fn preset(name: &str) -> Option<Vec<&'static Builtin>> {
        PRESETS.contains(&name).then(|| {
            BUILTINS
                .iter()
                .filter(|b| b.presets().contains(&name))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::metadata::TITLE_ANNOTATION;

    #[test]
    fn every_policy_folder_is_embedded_and_sorted() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut folders: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                path.join("metadata.json")
                    .is_file()
                    .then(|| path.file_name()?.to_str().map(str::to_string))?
            })
            .collect();
        folders.sort();
        let embedded: Vec<&str> = BUILTINS.iter().map(|b| b.id).collect();
        assert_eq!(
            embedded, folders,
            "src/policies/builtin.rs must list every policy"
        );
    }

    #[test]
    fn every_builtin_has_metadata_docs_and_a_known_preset() {
        for builtin in BUILTINS {
            let metadata = read_metadata(builtin.wasm)
                .unwrap_or_else(|e| panic!("{}: {e}", builtin.id))
                .unwrap_or_else(|| panic!("{}: no metadata section", builtin.id));
            assert_eq!(
                metadata
                    .annotations
                    .get(TITLE_ANNOTATION)
                    .map(String::as_str),
                Some(builtin.id)
            );
            for key in ["description", "severity", "category"] {
                assert!(
                    metadata
                        .annotations
                        .contains_key(&format!("io.kubewarden.policy.{key}")),
                    "{}: no {key} annotation",
                    builtin.id
                );
            }
            for preset in builtin.presets() {
                assert!(
                    PRESETS.contains(&preset),
                    "{}: unknown preset {preset}",
                    builtin.id
                );
            }
            for section in [
                "## What it checks",
                "## Why it matters",
                "## Failing example",
                "## Fix",
                "## Settings",
                "## References",
            ] {
                assert!(
                    builtin.docs.contains(section),
                    "{}: docs lack {section}",
                    builtin.id
                );
            }
        }
    }

    #[test]
    fn restricted_includes_baseline_and_recommended_includes_restricted() {
        let ids = |name| -> Vec<&str> {
            Builtin::preset(name)
                .unwrap()
                .iter()
                .map(|b| b.id)
                .collect()
        };
        let (baseline, restricted, recommended) =
            (ids("baseline"), ids("restricted"), ids("recommended"));
        assert!(baseline.iter().all(|id| restricted.contains(id)));
        assert!(restricted.iter().all(|id| recommended.contains(id)));
        assert!(Builtin::preset("strict").is_none());
    }
}
