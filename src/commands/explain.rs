//! `admit explain`: a built-in policy's documentation, or what one of admit's own diagnostic
//! ids means.

use std::io::Write;

use miette::{IntoDiagnostic, miette};

use crate::diagnostics::{self, DIAGNOSTICS};
use crate::policies::Builtin;
use crate::policies::builtin::BUILTINS;

/// Print the documentation of `id`: a built-in policy (what it checks, why, examples,
/// settings) or one of admit's own diagnostics (what it means, why, how to fix or silence it).
pub(crate) fn explain(id: &str) -> miette::Result<u8> {
    let text = match (Builtin::find(id), diagnostics::find(id)) {
        (Some(builtin), _) => builtin.docs.to_string(),
        (None, Some(diagnostic)) => diagnostic.explanation(),
        (None, None) => {
            let known = BUILTINS
                .iter()
                .map(|b| b.id)
                .chain(DIAGNOSTICS.iter().map(|d| d.id));
            let own: Vec<&str> = DIAGNOSTICS.iter().map(|d| d.id).collect();
            let guess = crate::suggest::closest(id, known)
                .map(|close| format!("; did you mean `{close}`?"))
                .unwrap_or_default();
            return Err(miette!(
                help = format!(
                    "`admit policies` lists the built-in policies; admit's own diagnostics are {}",
                    own.join(", ")
                ),
                "no built-in policy or admit diagnostic `{id}`{guess}"
            ));
        }
    };
    let mut out = std::io::stdout().lock();
    write!(out, "{text}").into_diagnostic()?;
    Ok(0)
}
