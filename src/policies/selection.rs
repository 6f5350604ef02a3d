//! What `--policy NAME` means: a `.wasm` file, a built-in id, a preset of built-ins, or a
//! `registry://` or `https://` reference to a module admit downloads.

use std::path::{Path, PathBuf};

use super::builtin::{BUILTINS, Builtin, PRESETS};
use crate::registry::{ModuleRef, RemoteSource};

/// Where a policy's module comes from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// A module on disk.
    File(PathBuf),
    /// A module embedded in admit.
    Builtin(&'static Builtin),
    /// A module named by reference, fetched before the run (`crate::registry::prepare`).
    Remote(Box<RemoteSource>),
}

impl PolicySource {
    /// A name for messages: the path, or the built-in's id.
    pub fn name(&self) -> String {
        match self {
            PolicySource::File(path) => path.display().to_string(),
            PolicySource::Builtin(builtin) => builtin.id.to_string(),
            PolicySource::Remote(remote) => remote.reference.written().to_string(),
        }
    }

    /// The source for a `registry://` or `https://` reference.
    pub fn remote(name: &str) -> Result<PolicySource, String> {
        let reference = ModuleRef::parse(name).map_err(|e| e.to_string())?;
        Ok(PolicySource::Remote(Box::new(RemoteSource {
            reference,
            fetched: None,
            named_at: None,
        })))
    }

    /// Whether the module is the user's (a file or a reference) rather than a built-in.
    pub fn is_module(&self) -> bool {
        !matches!(self, PolicySource::Builtin(_))
    }

    fn same_as(&self, other: &PolicySource) -> bool {
        match (self, other) {
            (PolicySource::File(a), PolicySource::File(b)) => a == b,
            (PolicySource::Builtin(a), PolicySource::Builtin(b)) => a.id == b.id,
            (PolicySource::Remote(a), PolicySource::Remote(b)) => a.reference == b.reference,
            _ => false,
        }
    }
}

/// The set `admit check` runs when no policy is named.
pub const DEFAULT_PRESET: &str = "recommended";

/// Resolve each name, in order, dropping repeats (`--policy baseline --policy privileged`
/// runs `privileged` once). A name that is an existing file, or ends in `.wasm`, is a file;
/// otherwise a preset or a built-in id.
pub fn select(names: &[String]) -> Result<Vec<PolicySource>, String> {
    let mut selected: Vec<PolicySource> = Vec::new();
    for name in names {
        for source in resolve(name)? {
            if !selected.iter().any(|s| s.same_as(&source)) {
                selected.push(source);
            }
        }
    }
    Ok(selected)
}

fn resolve(name: &str) -> Result<Vec<PolicySource>, String> {
    if ModuleRef::is_remote(name) {
        return Ok(vec![PolicySource::remote(name)?]);
    }
    let path = Path::new(name);
    if path.extension().is_some_and(|e| e == "wasm") || path.is_file() {
        return Ok(vec![PolicySource::File(path.to_path_buf())]);
    }
    if let Some(builtins) = builtins_named(name) {
        return Ok(builtins.into_iter().map(PolicySource::Builtin).collect());
    }
    if let Some(close) = did_you_mean(name) {
        return Err(format!(
            "unknown policy `{name}`; did you mean `{close}`? It is not a .wasm file, a \
             registry:// or https:// reference, a preset or a built-in id (`admit policies` \
             lists them)"
        ));
    }
    let ids: Vec<&str> = BUILTINS.iter().map(|b| b.id).collect();
    Err(format!(
        "unknown policy `{name}`: not a .wasm file, a registry:// or https:// reference, a preset ({}) or a built-in id ({}); `admit policies` lists them",
        PRESETS.join(", "),
        ids.join(", ")
    ))
}

/// The built-ins of preset `name`, or built-in `name` alone; `None` when it is neither.
pub(crate) fn builtins_named(name: &str) -> Option<Vec<&'static Builtin>> {
    Builtin::preset(name).or_else(|| Builtin::find(name).map(|builtin| vec![builtin]))
}

/// The preset or built-in id closest to `name`, when it is close enough to be a typo of it.
pub(crate) fn did_you_mean(name: &str) -> Option<&'static str> {
    crate::suggest::closest(
        name,
        PRESETS.into_iter().chain(BUILTINS.iter().map(|b| b.id)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_ids_and_files_resolve_without_repeats() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let selected = select(&names(&["baseline", "privileged", "x.wasm"])).unwrap();
        let shown: Vec<String> = selected.iter().map(PolicySource::name).collect();
        assert_eq!(shown.iter().filter(|n| *n == "privileged").count(), 1);
        assert_eq!(shown.last().map(String::as_str), Some("x.wasm"));
        let error = select(&names(&["privilidged"])).unwrap_err();
        assert!(
            error.contains("unknown policy `privilidged`; did you mean `privileged`?"),
            "{error}"
        );
        let error = select(&names(&["restricted-ish-thing"])).unwrap_err();
        assert!(!error.contains("did you mean"), "{error}");
    }
}
