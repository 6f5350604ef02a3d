//! The subcommands, one module each. `src/cli.rs` parses their arguments and calls in here.

pub(crate) mod annotate;
pub(crate) mod check;
pub(crate) mod explain;
pub(crate) mod export;
pub(crate) mod init;
pub(crate) mod inspect;
pub(crate) mod policies;
pub(crate) mod registry;
mod response;
pub(crate) mod run;
mod settings;
mod source;
pub(crate) mod test;

use std::path::Path;
use std::time::Duration;

use miette::miette;

use crate::atomic_file;

/// The compiled-module cache `--no-cache` and `--cache-dir` ask for: none, the directory
/// given, or the default one.
fn module_cache(
    no_cache: bool,
    cache_dir: Option<std::path::PathBuf>,
) -> Option<crate::policies::ModuleCache> {
    if no_cache {
        return None;
    }
    cache_dir
        .or_else(crate::policies::ModuleCache::default_dir)
        .map(crate::policies::ModuleCache::new)
}

/// Write a file atomically, as a diagnostic when that fails.
fn write_atomically(path: &Path, bytes: &[u8]) -> miette::Result<()> {
    // A report, a configuration or a module the user named: a missing directory is more likely
    // a typo than a wish, so it is refused rather than made.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(miette!(
            help = "create the directory first, or name a file in an existing one",
            "cannot write {}: the directory {} does not exist",
            path.display(),
            parent.display()
        ));
    }
    atomic_file::write(path, bytes).map_err(|e| miette!("cannot write {}: {e}", path.display()))
}

/// `--policy-timeout`, when given: a positive number of seconds.
fn policy_timeout(seconds: Option<f64>) -> miette::Result<Option<Duration>> {
    match seconds {
        Some(seconds) if !(seconds.is_finite() && seconds > 0.0) => Err(miette!(
            "--policy-timeout must be a positive number of seconds"
        )),
        seconds => Ok(seconds.map(Duration::from_secs_f64)),
    }
}
