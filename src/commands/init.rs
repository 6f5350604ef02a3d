//! `admit init`: a commented starter admit.yaml, and the pre-commit snippet.

use std::io::Write;
use std::path::Path;

use miette::{IntoDiagnostic, miette};

use super::write_atomically;
use crate::config;

/// What a team adds to `.pre-commit-config.yaml`; `admit init` prints it.
const PRE_COMMIT_SNIPPET: &str = "\
repos:
  - repo: https://github.com/OWNER/admit
    rev: v0.1.0
    hooks:
      - id: admit
";

/// Write the starter configuration in `directory`, replacing an existing one only when
/// `force`, and print how to run admit before every commit.
pub(crate) fn init(directory: &Path, force: bool) -> miette::Result<u8> {
    let path = directory.join(config::CONFIG_NAMES[0]);
    if path.exists() && !force {
        return Err(miette!(
            help = "edit it, or pass --force to replace it",
            "{} already exists",
            path.display()
        ));
    }
    std::fs::create_dir_all(directory)
        .map_err(|e| miette!("cannot create {}: {e}", directory.display()))?;
    write_atomically(&path, config::STARTER.as_bytes())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Wrote {}. `admit check` reads it from any directory below it.\n\nTo run admit before every commit, add this to .pre-commit-config.yaml:\n\n{PRE_COMMIT_SNIPPET}",
        path.display()
    )
    .into_diagnostic()?;
    Ok(0)
}
