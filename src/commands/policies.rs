//! `admit policies`: the built-in policies, one line each.

use std::io::Write;
use std::path::Path;

use miette::IntoDiagnostic;

use crate::config::{self, Config};
use crate::findings::Severity;
use crate::policies::builtin::{BUILTINS, Builtin};
use crate::policies::{PolicySource, Risk};

/// Print a table of the built-in policies: id, presets, the severity of their findings (as
/// the configuration governing the current directory sets it, else `error`), their risk and
/// description. `config` and `isolated` choose the configuration as `admit check` does.
pub(crate) fn policies(config: Option<&Path>, isolated: bool) -> miette::Result<u8> {
    let config = match (isolated, config) {
        (true, _) => None,
        (false, Some(path)) => Some(config::load(path).map_err(miette::Report::new_boxed)?),
        (false, None) => config::discover(Path::new("."))
            .map(|path| config::load(&path).map_err(miette::Report::new_boxed))
            .transpose()?,
    };
    let mut out = std::io::stdout().lock();
    let rows: Vec<[String; 5]> = BUILTINS
        .iter()
        .map(|builtin| {
            let metadata = builtin.metadata();
            let presets = builtin.presets();
            [
                builtin.id.to_string(),
                if presets.is_empty() {
                    "-".into()
                } else {
                    presets.join(",")
                },
                severity(builtin, config.as_ref()).name().to_string(),
                metadata.risk().map(Risk::name).unwrap_or("-").to_string(),
                metadata
                    .policy_annotation("description")
                    .unwrap_or_default()
                    .to_string(),
            ]
        })
        .collect();
    let width = |column: usize, title: &str| {
        rows.iter()
            .map(|r| r[column].len())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let widths = [
        width(0, "ID"),
        width(1, "PRESETS"),
        width(2, "SEVERITY"),
        width(3, "RISK"),
    ];
    let line = |cells: [&str; 5]| {
        let [id, presets, severity, risk, description] = cells;
        let [w0, w1, w2, w3] = widths;
        format!("{id:w0$}  {presets:w1$}  {severity:w2$}  {risk:w3$}  {description}")
    };
    writeln!(
        out,
        "{}",
        line(["ID", "PRESETS", "SEVERITY", "RISK", "DESCRIPTION"])
    )
    .into_diagnostic()?;
    for [id, presets, severity, risk, description] in &rows {
        writeln!(out, "{}", line([id, presets, severity, risk, description])).into_diagnostic()?;
    }
    Ok(0)
}

/// The severity `builtin`'s findings carry under `config`: what its entry (or its preset's)
/// sets, else `error`.
fn severity(builtin: &Builtin, config: Option<&Config>) -> Severity {
    config
        .and_then(|config| config.policies.as_ref())
        .and_then(|specs| {
            specs
                .iter()
                .find(|spec| matches!(&spec.source, PolicySource::Builtin(b) if b.id == builtin.id))
        })
        .and_then(|spec| spec.severity)
        .unwrap_or(Severity::Error)
}
