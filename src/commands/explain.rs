//! `admit explain`: a built-in policy's documentation.

use std::io::Write;

use miette::{IntoDiagnostic, miette};

use crate::policies::Builtin;

/// Print the documentation of built-in policy `id`: what it checks, why, examples, settings.
pub(crate) fn explain(id: &str) -> miette::Result<u8> {
    let builtin = Builtin::find(id).ok_or_else(|| {
        miette!(
            help = "`admit policies` lists the built-in policies",
            "no built-in policy `{id}`"
        )
    })?;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", builtin.docs).into_diagnostic()?;
    Ok(0)
}
