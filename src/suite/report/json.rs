//! The JSON report: one document with every test file, every case that ran, what differed
//! and what came out, versioned as `admit check`'s is (`"version": 1`; fields are only ever
//! added within a version).
//!
//! ```json
//! {"version": 1, "tool": {"name": "admit", "version": "0.1.0"},
//!  "files": [{"file": "policies/privileged/admit-test.yaml", "suite": "privileged",
//!             "filtered": 0, "error": null,
//!             "cases": [{"name": "...", "line": 12, "column": 11, "status": "failed",
//!                        "result": "allowed",
//!                        "mismatches": [{"subject": "result", "expected": "rejected",
//!                                        "got": "allowed", "summary": "result: ..."}],
//!                        "findings": [...], "errors": [...]}]}],
//!  "summary": {"files": 1, "cases": 2, "passed": 1, "failed": 1, "errors": 0,
//!              "updated": 0, "filtered": 0}}
//! ```
//!
//! A finding has `kind`, `policy`, `message`, and where known `file`, `line`, `column` and
//! `pointer`. A findings mismatch lists the `missing` expected findings and the `unexpected`
//! ones found, each described as the concise report describes a finding.

use serde_json::{Value, json};

use super::summarize;
use crate::findings::Finding;
use crate::suite::format::kind_name;
use crate::suite::outcome::{CaseResult, Mismatch, SuiteOutcome};
use crate::suite::verdict::{DiffLine, place};

/// The version of the document.
const VERSION: u32 = 1;

pub(super) fn write(out: &mut dyn std::io::Write, outcome: &SuiteOutcome) -> std::io::Result<()> {
    let counts = outcome.counts();
    let files: Vec<Value> = outcome
        .files
        .iter()
        .map(|file| match &file.cases {
            Ok(cases) => json!({
                "file": file.file,
                "suite": file.suite,
                "filtered": file.filtered,
                "error": null,
                "cases": cases.iter().map(case).collect::<Vec<_>>(),
            }),
            Err(error) => {
                let location = error.location();
                json!({
                    "file": file.file,
                    "suite": file.suite,
                    "filtered": 0,
                    "error": {
                        "message": error.message,
                        "help": error.help,
                        "file": error.at.as_ref().map(|(source, _)| source.name()),
                        "line": location.map(|l| l.line),
                        "column": location.map(|l| l.column),
                    },
                    "cases": [],
                })
            }
        })
        .collect();
    let document = json!({
        "version": VERSION,
        "tool": {"name": "admit", "version": env!("CARGO_PKG_VERSION")},
        "files": files,
        "summary": {
            "files": counts.files,
            "cases": counts.cases,
            "passed": counts.passed,
            "failed": counts.failed,
            "errors": counts.errors,
            "updated": counts.updated,
            "filtered": counts.filtered,
            "elapsed_seconds": outcome.elapsed.as_secs_f64(),
        },
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn case(case: &CaseResult) -> Value {
    json!({
        "name": case.name,
        "line": case.location.line,
        "column": case.location.column,
        "status": case.status.name(),
        "result": case.got.verdict.name(),
        "mismatches": case.mismatches.iter().map(mismatch).collect::<Vec<_>>(),
        "findings": case.got.findings.iter().map(finding).collect::<Vec<_>>(),
        "errors": case.got.errors.iter().map(finding).collect::<Vec<_>>(),
        "warnings": case.got.warnings,
        "patch": case.got.patch,
    })
}

fn mismatch(mismatch: &Mismatch) -> Value {
    let summary = summarize(mismatch);
    let subject = mismatch.subject();
    match mismatch {
        Mismatch::Result { expected, got } => json!({
            "subject": subject, "summary": summary,
            "expected": expected.name(), "got": got.name(),
        }),
        Mismatch::Message { expected, got } => json!({
            "subject": subject, "summary": summary,
            "expected": expected.to_string(), "got": got,
        }),
        Mismatch::Findings(diff) => {
            let missing: Vec<&str> = diff
                .lines
                .iter()
                .filter_map(|l| match l {
                    DiffLine::Missing(i) => diff.expected.get(*i).map(String::as_str),
                    _ => None,
                })
                .collect();
            let unexpected: Vec<&str> = diff
                .lines
                .iter()
                .filter_map(|l| match l {
                    DiffLine::Unexpected(j) => diff.got.get(*j).map(String::as_str),
                    _ => None,
                })
                .collect();
            json!({
                "subject": subject, "summary": summary,
                "missing": missing, "unexpected": unexpected,
            })
        }
        Mismatch::Warnings { expected, got } => json!({
            "subject": subject, "summary": summary, "expected": expected, "got": got,
        }),
        Mismatch::Patch { expected, got } => json!({
            "subject": subject, "summary": summary, "expected": expected, "got": got,
        }),
    }
}

fn finding(finding: &Finding) -> Value {
    let place = place(finding);
    json!({
        "kind": kind_name(finding.kind),
        "policy": finding.source,
        "message": finding.message,
        "file": place.map(|(file, _, _)| file),
        "line": place.map(|(_, line, _)| line),
        "column": place.map(|(_, _, column)| column),
        "pointer": finding.location.as_ref().and_then(|l| l.pointer.as_deref()),
    })
}
