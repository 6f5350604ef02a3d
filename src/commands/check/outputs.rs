//! Where each report goes, and writing them.

use std::io::Write;
use std::path::PathBuf;

use miette::{IntoDiagnostic, miette};

use crate::check::CheckOutcome;
use crate::cli::ColorChoice;
use crate::commands::write_atomically;
use crate::reports::{Format, OutputSpec};

/// Settle where each report goes: `--output` names the file of the one format without a file,
/// and then standard output carries nothing, as `--output` promises. Otherwise standard output
/// carries the format given without a file, or `human` when every `--format` names its file.
pub(super) fn resolve_outputs(
    mut outputs: Vec<OutputSpec>,
    output: Option<PathBuf>,
) -> miette::Result<Vec<OutputSpec>> {
    if outputs.is_empty() {
        outputs.push(OutputSpec {
            format: Format::Human,
            file: None,
        });
    }
    let to_stdout: Vec<usize> = (0..outputs.len())
        .filter(|&i| outputs[i].file.is_none())
        .collect();
    let redirected = output.is_some();
    if let Some(file) = output {
        match to_stdout.as_slice() {
            [only] => outputs[*only].file = Some(file),
            [] => {
                return Err(miette!(
                    "--output has no format to write: every --format already names its file"
                ));
            }
            _ => {
                return Err(miette!(
                    help = "name each file with --format FORMAT=FILE",
                    "--output is ambiguous with several --format options that have no file"
                ));
            }
        }
    } else if to_stdout.len() > 1 {
        return Err(miette!(
            help = "send all but one to files with --format FORMAT=FILE",
            "only one report can go to standard output, but {} formats have no file",
            to_stdout.len()
        ));
    }
    if !redirected && outputs.iter().all(|o| o.file.is_some()) {
        outputs.push(OutputSpec {
            format: Format::Human,
            file: None,
        });
    }
    Ok(outputs)
}

/// Write every report: files first, each replaced atomically so that an interrupted run never
/// leaves half a report behind, then standard output.
pub(super) fn write_reports(
    outputs: &[OutputSpec],
    outcome: &CheckOutcome,
    color: ColorChoice,
) -> miette::Result<()> {
    let stdout = std::io::stdout();
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    for output in outputs {
        match &output.file {
            Some(path) => {
                let report = output.format.report(color == ColorChoice::Always, width);
                let mut bytes = Vec::new();
                report.write(&mut bytes, outcome).into_diagnostic()?;
                write_atomically(path, &bytes)?;
            }
            None => {
                let color = color.for_stdout();
                let report = output.format.report(color, width);
                // Standard output is line-buffered: a large report would be a syscall a line.
                let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
                report.write(&mut out, outcome).into_diagnostic()?;
                out.flush().into_diagnostic()?;
            }
        }
    }
    Ok(())
}
