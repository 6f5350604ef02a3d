//! A policy named on the command line: a module path, or a built-in id.

use std::path::Path;

use miette::miette;

use crate::policies::Builtin;
use crate::policies::builtin::BUILTINS;

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
    /// Read `name`: an existing file, else a built-in id.
    pub(crate) fn read(name: &str) -> miette::Result<Self> {
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
