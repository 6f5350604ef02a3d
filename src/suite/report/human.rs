//! The terminal report: each test file with its cases, one line each; then every case that
//! did not pass, with what was expected against what came out, and the snippet of each
//! finding that came out unexpected (or each error); then the summary line.
//!
//! ```text
//! policies/privileged/admit-test.yaml (privileged)
//!   ok      no privileged container is allowed
//!   FAILED  each privileged container is rejected
//!
//! FAILED privileged: each privileged container is rejected (policies/privileged/admit-test.yaml:12:11)
//!   findings: 1 expected not found, 1 found not expected (of 4 found)
//!     - fixtures/policies/privileged/fail.yaml:17:25: rejection[privileged] ...
//!     + fixtures/policies/privileged/fail.yaml:37:25: rejection[privileged] ...
//!   × privileged: init container "format" must not be privileged
//!     ╭─[fixtures/policies/privileged/fail.yaml:37:25]
//!   ...
//! Tested 1 file: 2 cases, 1 passed, 1 failed, 0 errors (0.21 s)
//! ```

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::detail;
use crate::findings::Finding;
use crate::reports::HumanReport;
use crate::suite::outcome::{CaseResult, Mismatch, Status, SuiteOutcome};
use crate::suite::verdict::DiffLine;

pub(super) fn write(
    out: &mut dyn std::io::Write,
    outcome: &SuiteOutcome,
    color: bool,
    width: usize,
) -> std::io::Result<()> {
    let findings = HumanReport::new(color, width);
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let diagnostics = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    for file in &outcome.files {
        match &file.cases {
            Err(error) => {
                let mut text = String::new();
                if diagnostics.render_report(&mut text, error).is_err() {
                    text = format!("{error}\n");
                }
                writeln!(out, "{text}")?;
            }
            Ok(cases) => {
                if file.suite == file.file {
                    writeln!(out, "{}", file.file)?;
                } else {
                    writeln!(out, "{} ({})", file.file, file.suite)?;
                }
                for case in cases {
                    writeln!(out, "  {:<7} {}", label(case.status), case.name)?;
                }
            }
        }
    }
    for file in &outcome.files {
        let Ok(cases) = &file.cases else { continue };
        for case in cases
            .iter()
            .filter(|c| matches!(c.status, Status::Failed | Status::Error))
        {
            writeln!(out)?;
            writeln!(
                out,
                "{} {}: {} ({}:{})",
                label(case.status),
                file.suite,
                case.name,
                file.file,
                case.location
            )?;
            write_case(out, case, &findings)?;
        }
    }
    let counts = outcome.counts();
    writeln!(out)?;
    writeln!(out, "{counts} ({:.2} s)", outcome.elapsed.as_secs_f64())?;
    Ok(())
}

/// A case's status as its line shows it.
fn label(status: Status) -> &'static str {
    match status {
        Status::Passed => "ok",
        Status::Failed => "FAILED",
        Status::Error => "ERROR",
        Status::Updated => "updated",
    }
}

/// What differs, then the snippet of every finding that came out unexpected (of every
/// finding, when the findings were not compared) and of every error, which says what it is.
fn write_case(
    out: &mut dyn std::io::Write,
    case: &CaseResult,
    findings: &HumanReport,
) -> std::io::Result<()> {
    for mismatch in &case.mismatches {
        for line in detail(mismatch) {
            writeln!(out, "  {line}")?;
        }
    }
    let diff = case.mismatches.iter().find_map(|m| match m {
        Mismatch::Findings(diff) => Some(diff),
        _ => None,
    });
    let shown: Vec<&Finding> = match diff {
        Some(diff) => diff
            .lines
            .iter()
            .filter_map(|line| match line {
                DiffLine::Unexpected(j) => case.got.findings.get(*j),
                _ => None,
            })
            .collect(),
        None => case.got.findings.iter().collect(),
    };
    for finding in shown.into_iter().chain(&case.got.errors) {
        write!(out, "{}", findings.render(finding))?;
    }
    Ok(())
}
