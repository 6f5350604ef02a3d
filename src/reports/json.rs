//! Machine-readable output: one JSON document with every finding, the policies that ran and the
//! summary, described by `docs/report.schema.json`.
//!
//! The document is versioned (`"version": 1`) so that scripts can refuse what they do not
//! understand. Within a version fields are only ever added, never renamed, removed or given
//! another meaning; the schema in the repository always describes the current output exactly
//! (a test validates real output against it), so it doubles as the reference.
//!
//! Positions are one-based, columns count characters (not bytes, not UTF-16 units);
//! `end_line`/`end_column` point one past the last character of the underlined node, as in
//! SARIF. `document` is the zero-based index of the document in its YAML stream and `pointer`
//! the JSON Pointer from the object to the node, when the finding is about a node.
//!
//! Unlike the human, concise, GitHub and JUnit formats, this one keeps suppressed findings, with
//! a `suppressed` object saying how and why, so that audits can list every silenced finding.

use serde::Serialize;

use super::Report;
use crate::check::{CheckOutcome, PolicyInfo, Summary};

use crate::findings::{Finding, FindingKind, SourceRef, SuppressionKind};

/// The version of the JSON document; bumped only on an incompatible change.
pub const JSON_REPORT_VERSION: u32 = 1;

/// The JSON report.
pub struct JsonReport;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    policies: Vec<JsonPolicy<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    kind: &'static str,
    severity: &'static str,
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
    document: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<JsonObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JsonSuppressed<'a>>,
}

#[derive(Serialize)]
struct JsonObject {
    api_version: String,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    kind: &'static str,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    id: &'a str,
    origin: &'a str,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
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
    suppressed: usize,
    cached_files: usize,
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
    fn write(&self, out: &mut dyn std::io::Write, outcome: &CheckOutcome) -> std::io::Result<()> {
        let document = Document {
            version: JSON_REPORT_VERSION,
            tool: Tool {
                name: "admit",
                version: env!("CARGO_PKG_VERSION"),
            },
            findings: outcome.findings.iter().map(json_finding).collect(),
            policies: outcome.policies.iter().map(json_policy).collect(),
            summary: json_summary(&outcome.summary),
        };
        // serde_json writes a pretty document in many small pieces; through `dyn Write` each
        // is a virtual call, which cost a tenth of a cached run. A local buffer inlines them.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
        serde_json::to_writer_pretty(&mut buffered, &document)?;
        std::io::Write::write_all(&mut buffered, b"\n")?;
        std::io::Write::flush(&mut buffered)
    }
}

fn json_finding(finding: &Finding) -> JsonFinding<'_> {
    let location = finding.location.as_ref();
    let start = location.map(|l| l.file.location(l.span.start));
    let end = location.map(|l| l.file.location(l.span.end));
    let object = location
        .and_then(|l| l.object.as_deref())
        .map(|object| JsonObject {
            api_version: object.api_version.clone(),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
        });
    JsonFinding {
        kind: kind_name(finding.kind),
        severity: finding.severity.name(),
        policy: &finding.source,
        message: &finding.message,
        code: finding.code,
        file: location.map(|l| l.file.name()),
        line: start.map(|s| s.line),
        column: start.map(|s| s.column),
        end_line: end.map(|e| e.line),
        end_column: end.map(|e| e.column),
        document: location.and_then(document_index),
        pointer: location.and_then(|l| l.pointer.as_deref()),
        object,
        help: finding.help.as_deref(),
        suppressed: finding.suppressed.as_ref().map(|s| JsonSuppressed {
            kind: suppression_kind_name(s.kind),
            reason: s.reason.as_deref(),
        }),
    }
}

fn json_policy(policy: &PolicyInfo) -> JsonPolicy<'_> {
    JsonPolicy {
        id: &policy.id,
        origin: &policy.origin,
        severity: policy.severity.name(),
        description: policy.description.as_deref(),
        url: policy.url.as_deref(),
        help: policy.help.as_deref(),
    }
}

fn json_summary(summary: &Summary) -> JsonSummary {
    JsonSummary {
        files: summary.files,
        objects: summary.objects,
        skipped_documents: summary.skipped_documents,
        policies: summary.policies,
        evaluations: summary.evaluations,
        rejected: summary.rejected,
        mutated: summary.mutated,
        errors: summary.errors,
        warnings: summary.warnings,
        suppressed: summary.suppressed,
        cached_files: summary.cached_files,
        seconds: summary.elapsed.as_secs_f64(),
    }
}

/// The name of a suppression's kind in JSON and SARIF properties.
pub(super) fn suppression_kind_name(kind: SuppressionKind) -> &'static str {
    match kind {
        SuppressionKind::Annotation => "annotation",
        SuppressionKind::Comment => "comment",
    }
}

/// The zero-based index of the document a finding points into, when it is known: a YAML
/// syntax error that could not be tied to one document carries `usize::MAX`.
pub(super) fn document_index(location: &SourceRef) -> Option<usize> {
    (location.document != usize::MAX).then_some(location.document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{ObjectName, Suppressed, SuppressionKind};
    use crate::source::{SourceFile, Span};

    const STREAM: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    namespace: shop\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  generateName: web-\n";

    fn at(file: &SourceFile, needle: &str, document: usize) -> SourceRef {
        let start = file.text().find(needle).expect("needle in the text");
        SourceRef {
            file: file.clone(),
            span: Span::new(start, start + needle.len()),
            document,
            pointer: Some("/metadata/name".into()),
            label: "here".into(),
            object: Some(std::sync::Arc::new(ObjectName {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: Some("shop".into()),
                name: Some("a".into()),
            })),
        }
    }

    #[test]
    fn suppressed_findings_are_kept_with_their_reason() {
        let file = SourceFile::new("x.yaml", STREAM);
        let mut finding =
            Finding::new(FindingKind::Rejection, "privileged", "no").at(at(&file, "name: a", 0));
        finding.suppressed = Some(Suppressed {
            kind: SuppressionKind::Comment,
            reason: Some("CNI agent".into()),
        });
        let outcome = CheckOutcome {
            findings: vec![finding],
            policies: Vec::new(),
            summary: Summary {
                suppressed: 1,
                ..Summary::default()
            },
            logs: Vec::new(),
        };
        let mut out = Vec::new();
        JsonReport.write(&mut out, &outcome).expect("written");
        let json: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        let found = &json["findings"][0];
        assert_eq!(found["suppressed"]["kind"], "comment");
        assert_eq!(found["suppressed"]["reason"], "CNI agent");
        assert_eq!(found["object"]["kind"], "Pod");
        assert_eq!((&found["line"], &found["column"]), (&7.into(), &5.into()));
        assert_eq!(json["summary"]["suppressed"], 1);
    }
}
