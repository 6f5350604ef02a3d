//! `admit init`: a commented starter admit.yaml, the schema editors complete it with, and the
//! pre-commit snippet.
//!
//! The schema is written beside admit.yaml rather than referenced by URL: the starter's
//! `# yaml-language-server: $schema=admit.schema.json` line then resolves offline, in every
//! checkout, to the schema of the admit that wrote the file, whatever its version and wherever
//! its repository is published.

use std::io::Write;
use std::path::Path;

use miette::{IntoDiagnostic, miette};

use super::write_atomically;
use crate::config;

/// The schema of admit.yaml, the repository's `admit.schema.json`.
const SCHEMA: &str = include_str!("../../admit.schema.json");

/// The file name the starter's `$schema` line names, relative to admit.yaml.
const SCHEMA_NAME: &str = "admit.schema.json";

/// What a team adds to `.pre-commit-config.yaml`; `admit init` prints it and the README shows
/// it (a test checks they agree). A `local` hook runs the `admit` on `PATH`: no repository URL
/// to fill in, nothing built on the first commit. `require_serial` gives admit every staged
/// file in one run, so the files are checked in parallel by admit, and reported with one
/// summary, rather than split among several runs by pre-commit.
const PRE_COMMIT_SNIPPET: &str = "\
repos:
  - repo: local
    hooks:
      - id: admit
        name: admit
        entry: admit check
        language: system
        types_or: [yaml, json]
        require_serial: true
";

/// Write the starter configuration and its schema in `directory`, replacing an existing
/// configuration only when `force`, and print how to run admit before every commit.
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
    let schema = write_schema(directory)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Wrote {}. `admit check` reads it from any directory below it.\n{schema}\n\nTo run admit before every commit, add this to .pre-commit-config.yaml (it runs the admit on\nyour PATH):\n\n{PRE_COMMIT_SNIPPET}",
        path.display()
    )
    .into_diagnostic()?;
    Ok(0)
}

/// Write `admit.schema.json` in `directory`, unless a file of that name is not admit's schema
/// (another tool's, or the user's own): that one is left as it is. Returns what was done, for
/// the user.
fn write_schema(directory: &Path) -> miette::Result<String> {
    let path = directory.join(SCHEMA_NAME);
    let ours = schema_id(SCHEMA);
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing == SCHEMA => {
            return Ok(format!("{} is up to date.", path.display()));
        }
        Ok(existing) if schema_id(&existing) != ours => {
            return Ok(format!(
                "Left {} as it is: it is not admit's schema (its `$id` is not {}), so editors \
                 will not complete admit.yaml with it.",
                path.display(),
                ours.unwrap_or_default()
            ));
        }
        // admit's schema, from another version: replaced by this one's.
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(miette!("cannot read {}: {error}", path.display())),
    }
    write_atomically(&path, SCHEMA.as_bytes())?;
    Ok(format!(
        "Wrote {}, which editors complete and check admit.yaml with.",
        path.display()
    ))
}

/// The `$id` of a JSON schema, if the text is one.
fn schema_id(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("$id")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schema_has_the_id_that_marks_it_as_admits() {
        assert_eq!(
            schema_id(SCHEMA).as_deref(),
            Some("https://admit.dev/admit.schema.json")
        );
    }
}
