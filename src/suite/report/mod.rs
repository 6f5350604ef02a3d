//! How a run of test files looks: `human`, `concise`, `json` and `junit`. Each is a sink that
//! prints a finished [`SuiteOutcome`]; nothing upstream knows about them.

mod concise;
mod human;
mod json;
mod junit;

use std::path::PathBuf;

use super::outcome::{CaseResult, Mismatch, SuiteOutcome};
use super::verdict::{DiffLine, describe};

/// The formats of `admit test`, by the name `--format` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Each case on a line, then each failing case with expected vs got and the findings'
    /// snippets.
    Human,
    /// One line per failing case, `path:line:col: failed[suite] case: what differs`.
    Concise,
    /// One JSON document with every case.
    Json,
    /// JUnit XML: a suite per test file, a test case per case.
    Junit,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub(crate) const ALL: [Format; 4] =
        [Format::Human, Format::Concise, Format::Json, Format::Junit];

    /// The format's name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Concise => "concise",
            Format::Json => "json",
            Format::Junit => "junit",
        }
    }

    /// The format called `name`, if there is one.
    pub(crate) fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Write `outcome` in this format. `color` and `width` only matter to `human`.
    pub(crate) fn write(
        self,
        out: &mut dyn std::io::Write,
        outcome: &SuiteOutcome,
        color: bool,
        width: usize,
    ) -> std::io::Result<()> {
        match self {
            Format::Human => human::write(out, outcome, color, width),
            Format::Concise => concise::write(out, outcome),
            Format::Json => json::write(out, outcome),
            Format::Junit => junit::write(out, outcome),
        }
    }
}

/// One report to produce: a format, and the file it goes to (`None`: standard output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputSpec {
    pub(crate) format: Format,
    pub(crate) file: Option<PathBuf>,
}

/// A mismatch in one line: `result: expected rejected, got allowed`.
pub(crate) fn summarize(mismatch: &Mismatch) -> String {
    match mismatch {
        Mismatch::Result { expected, got } => {
            format!("result: expected {}, got {}", expected.name(), got.name())
        }
        Mismatch::Message { expected, got } => match got.as_slice() {
            [] => format!("message: expected {expected}, got no message"),
            [one] => format!("message: expected {expected}, got {one:?}"),
            many => format!(
                "message: expected {expected} for each, got {}",
                many.iter()
                    .map(|m| format!("{m:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Mismatch::Findings(diff) => {
            let (missing, unexpected) = diff.counts();
            format!(
                "findings: {missing} expected not found, {unexpected} found not expected (of {} \
                 found)",
                diff.got.len()
            )
        }
        Mismatch::Warnings { expected, got } => {
            format!("warnings: expected {expected:?}, got {got:?}")
        }
        Mismatch::Patch { expected, got } => format!("patch: expected {expected}, got {got}"),
    }
}

/// A mismatch in full: its summary, and for findings the diff, `-` expected and not found,
/// `+` found and not expected.
pub(crate) fn detail(mismatch: &Mismatch) -> Vec<String> {
    let mut lines = vec![summarize(mismatch)];
    if let Mismatch::Findings(diff) = mismatch {
        for line in &diff.lines {
            match *line {
                DiffLine::Same(..) => {}
                DiffLine::Missing(i) => lines.push(format!("  - {}", diff.expected[i])),
                DiffLine::Unexpected(j) => lines.push(format!("  + {}", diff.got[j])),
            }
        }
    }
    lines
}

/// The findings that came out of a failing case whose findings were not compared, so that
/// a wrong result still shows why: `found: path:line:col: kind[policy] message`.
pub(crate) fn found_lines(case: &CaseResult) -> Vec<String> {
    if case
        .mismatches
        .iter()
        .any(|m| matches!(m, Mismatch::Findings(_)))
    {
        return Vec::new();
    }
    case.got
        .findings
        .iter()
        .map(|f| format!("found: {}", describe(f)))
        .collect()
}

/// What went wrong in a case that ended in an error, in one line: each error with the policy
/// (or admit's own id) that reports it.
pub(crate) fn errors_line(errors: &[crate::findings::Finding]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.source, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}
