//! Machine-readable output: one JSON document with every finding and the summary.
//!
//! Positions are one-based, columns count characters; `end_line`/`end_column` point one past
//! the last character of the underlined node. `pointer` is the JSON Pointer from the object to
//! the node when the finding is about a node.

use serde::Serialize;

use super::Report;
use crate::check::Summary;
use crate::findings::{Finding, FindingKind};

/// The JSON report.
pub struct JsonReport;

#[derive(Serialize)]
struct Document<'a> {
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    kind: &'static str,
    policy: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    objects: usize,
    skipped_documents: usize,
    policies: usize,
    evaluations: usize,
    rejected: usize,
    mutated: usize,
    errors: usize,
    warnings: usize,
    seconds: f64,
}

/// The kind names JSON output uses.
pub fn kind_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Error => "error",
        FindingKind::Rejection => "rejection",
        FindingKind::Mutation => "mutation",
        FindingKind::Warning => "warning",
    }
}

impl Report for JsonReport {
    fn write(
        &self,
        out: &mut dyn std::io::Write,
        findings: &[Finding],
        summary: &Summary,
    ) -> std::io::Result<()> {
        let document = Document {
            findings: findings.iter().map(json_finding).collect(),
            summary: JsonSummary {
                files: summary.files,
                objects: summary.objects,
                skipped_documents: summary.skipped_documents,
                policies: summary.policies,
                evaluations: summary.evaluations,
                rejected: summary.rejected,
                mutated: summary.mutated,
                errors: summary.errors,
                warnings: summary.warnings,
                seconds: summary.elapsed.as_secs_f64(),
            },
        };
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)
    }
}

fn json_finding(finding: &Finding) -> JsonFinding<'_> {
    let location = finding.location.as_ref();
    let start = location.map(|l| l.file.location(l.span.start));
    let end = location.map(|l| l.file.location(l.span.end));
    JsonFinding {
        kind: kind_name(finding.kind),
        policy: &finding.source,
        message: &finding.message,
        code: finding.code,
        file: location.map(|l| l.file.name()),
        line: start.map(|s| s.line),
        column: start.map(|s| s.column),
        end_line: end.map(|e| e.line),
        end_column: end.map(|e| e.column),
        pointer: location.and_then(|l| l.pointer.as_deref()),
        help: finding.help.as_deref(),
    }
}
