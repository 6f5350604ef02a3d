//! A policy named on the command line: a module path, a registry:// or https:// reference, or
//! a built-in id.

use std::path::Path;

use miette::miette;

use crate::cli::RegistryArgs;
use crate::policies::Builtin;
use crate::policies::builtin::BUILTINS;
use crate::registry::ModuleRef;

/// A policy module's bytes and where they came from.
#[derive(Debug)]
pub(crate) struct PolicyModule {
    /// The module.
    pub(crate) bytes: Vec<u8>,
    /// The path, or `builtin:<id>`.
    pub(crate) origin: String,
    /// The id to use when the metadata has no title: the file stem or the built-in id.
    pub(crate) fallback_id: String,
}

impl PolicyModule {
    /// Read `name`: a reference (fetched through the lockfile and store of the admit.yaml
    /// governing the current directory), an existing file, else a built-in id.
    pub(crate) fn read(name: &str, registry: &RegistryArgs) -> miette::Result<Self> {
        if ModuleRef::is_remote(name) {
            return Self::fetch(name, registry);
        }
        let path = Path::new(name);
        if path.is_file() {
            let bytes =
                std::fs::read(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))?;
            let fallback_id = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.to_string());
            return Ok(PolicyModule {
                bytes,
                origin: name.to_string(),
                fallback_id,
            });
        }
        match Builtin::find(name) {
            Some(builtin) => Ok(PolicyModule {
                bytes: builtin.wasm.to_vec(),
                origin: format!("builtin:{}", builtin.id),
                fallback_id: builtin.id.to_string(),
            }),
            None => Err(
                match crate::suggest::closest(name, BUILTINS.iter().map(|b| b.id)) {
                    Some(close) => miette!(
                        help = "`admit policies` lists the built-in ids",
                        "no policy module at {name}, and no built-in policy of that id; did you mean \
                     `{close}`?"
                    ),
                    None => miette!(
                        help = "give the path of a .wasm module, or a built-in id from `admit policies`",
                        "no policy module at {name}, and no built-in policy of that id"
                    ),
                },
            ),
        }
    }
}

impl PolicyModule {
    fn fetch(name: &str, flags: &RegistryArgs) -> miette::Result<Self> {
        let reference = ModuleRef::parse(name).map_err(|e| miette!("{e}"))?;
        let config = super::registry::cwd_config()?;
        let mut session = super::registry::session(config.as_ref(), flags, None)?;
        let module = session
            .module(&reference)
            .map_err(|error| super::registry::report(&reference, error))?;
        super::registry::finish(&mut session)?;
        Ok(PolicyModule {
            bytes: module.bytes.as_ref().clone(),
            origin: reference.written().to_string(),
            fallback_id: reference.fallback_id(),
        })
    }
}
