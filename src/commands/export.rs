//! `admit export`: write built-in policies out as the Kubewarden modules they are, to push to
//! a registry (`kwctl push`) and run in a cluster.
//!
//! admit itself runs the built-ins from one precompiled bundle (`policies/builtins`), compiled
//! from the same sources; what is written here is each policy's own module, byte for byte the
//! one `policies/build.sh` built and admit embeds, with its metadata section.

use std::io::Write;
use std::path::Path;

use miette::{IntoDiagnostic, miette};
use sha2::{Digest, Sha256};

use crate::digest::hex;
use crate::policies::Builtin;
use crate::policies::builtin::BUILTINS;
use crate::policies::{builtins_named, did_you_mean};

/// Write `<output>/<id>.wasm` for each built-in or preset named (every built-in when none is),
/// and list what was written: file, size and sha256.
pub(crate) fn export(names: &[String], output: &Path) -> miette::Result<u8> {
    let mut chosen: Vec<&'static Builtin> = Vec::new();
    for name in names {
        let found = builtins_named(name).ok_or_else(|| unknown(name))?;
        chosen.extend(found);
    }
    if names.is_empty() {
        chosen.extend(BUILTINS);
    }
    chosen.sort_by_key(|b| b.id);
    chosen.dedup_by_key(|b| b.id);

    if !output.is_dir() {
        std::fs::create_dir_all(output)
            .map_err(|e| miette!("cannot create {}: {e}", output.display()))?;
    }
    // Every module is written before anything is printed, so a reader that stops early
    // (`| head`) cannot cut the export short.
    let mut listing = String::new();
    for builtin in chosen {
        let path = output.join(format!("{}.wasm", builtin.id));
        super::write_atomically(&path, builtin.wasm)?;
        let digest = hex(&Sha256::digest(builtin.wasm));
        listing.push_str(&format!(
            "{}  {} bytes  sha256:{digest}\n",
            path.display(),
            builtin.wasm.len()
        ));
    }
    match std::io::stdout().lock().write_all(listing.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).into_diagnostic()
        }
        _ => Ok(0),
    }
}

fn unknown(name: &str) -> miette::Report {
    let guess = did_you_mean(name)
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default();
    miette!(
        help = "`admit policies` lists the built-in policies; the presets are baseline, restricted and recommended",
        "no built-in policy or preset `{name}`{guess}"
    )
}
