//! `admit policies`: the built-in policies, one line each.

use std::io::Write;

use miette::IntoDiagnostic;

use crate::policies::builtin::BUILTINS;

/// Print a table of the built-in policies: id, presets, severity and description.
pub(crate) fn policies() -> miette::Result<u8> {
    let mut out = std::io::stdout().lock();
    let rows: Vec<[String; 4]> = BUILTINS
        .iter()
        .map(|builtin| {
            let metadata = builtin.metadata();
            let annotation = |key: &str| {
                metadata
                    .policy_annotation(key)
                    .unwrap_or_default()
                    .to_string()
            };
            let presets = builtin.presets();
            [
                builtin.id.to_string(),
                if presets.is_empty() {
                    "-".into()
                } else {
                    presets.join(",")
                },
                annotation("severity"),
                annotation("description"),
            ]
        })
        .collect();
    let width = |column: usize| rows.iter().map(|r| r[column].len()).max().unwrap_or(0);
    let (id_width, preset_width, severity_width) =
        (width(0).max(2), width(1).max(7), width(2).max(8));
    writeln!(
        out,
        "{:id_width$}  {:preset_width$}  {:severity_width$}  DESCRIPTION",
        "ID", "PRESETS", "SEVERITY"
    )
    .into_diagnostic()?;
    for [id, presets, severity, description] in &rows {
        writeln!(
            out,
            "{id:id_width$}  {presets:preset_width$}  {severity:severity_width$}  {description}"
        )
        .into_diagnostic()?;
    }
    Ok(0)
}
