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

use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;

use super::{Report, notes};
use crate::check::{CheckOutcome, PolicyInfo, Summary};
use crate::inputs::SkippedInput;

use crate::findings::{Finding, FindingKind, SourceRef, SuppressionKind};

/// The version of the JSON document; bumped only on an incompatible change.
pub(crate) const JSON_REPORT_VERSION: u32 = 1;

/// The JSON report.
pub(crate) struct JsonReport;

/// The document as serde would write it whole; [`JsonReport`] writes the same bytes, its
/// findings in parallel, and a test holds the two equal.
#[cfg(test)]
#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    policies: Vec<JsonPolicy<'a>>,
    summary: JsonSummary,
    notes: Vec<String>,
    skipped: Vec<JsonSkipped<'a>>,
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
    object: Option<JsonObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JsonSuppressed<'a>>,
    /// The Kustomize roots or Helm renderings the finding was found through.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    roots: &'a [String],
    /// Other places that explain it: the values line behind a Helm template's value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonObject<'a> {
    api_version: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
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
    renderings: usize,
    objects: usize,
    skipped_documents: usize,
    policies: usize,
    evaluations: usize,
    findings: usize,
    objects_with_findings: usize,
    rejected: usize,
    mutated: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
    suppressed: usize,
    cached_files: usize,
    seconds: f64,
}

/// Something left out of the check on purpose (the human report's notes, one by one).
#[derive(Serialize)]
struct JsonSkipped<'a> {
    /// `other-tool`, `skip-kinds`, `chart`, `broken-link` or `excluded-stdin`.
    reason: &'static str,
    /// The file, the chart's directory or the link.
    path: &'a str,
    /// `apiVersion kind` of an object set apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    /// The tool whose configuration it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    tool: Option<&'a str>,
    /// What is wrong with a broken link.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

fn json_skipped(summary: &Summary) -> Vec<JsonSkipped<'_>> {
    let objects = summary.set_apart.iter().map(|set_apart| JsonSkipped {
        reason: if set_apart.tool.is_some() {
            "other-tool"
        } else {
            "skip-kinds"
        },
        path: &set_apart.file,
        object: Some(&set_apart.object),
        tool: set_apart.tool.as_deref(),
        message: None,
    });
    let paths = summary.skipped_inputs.iter().map(|skipped| {
        let (reason, path, message) = match skipped {
            SkippedInput::Chart { directory } => ("chart", directory, None),
            SkippedInput::BrokenLink { name, reason } => {
                ("broken-link", name, Some(reason.as_str()))
            }
            SkippedInput::ExcludedStdin { name } => ("excluded-stdin", name, None),
        };
        JsonSkipped {
            reason,
            path,
            object: None,
            tool: None,
            message,
        }
    });
    objects.chain(paths).collect()
}

/// The kind names JSON output uses.
pub(crate) fn kind_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Error => "error",
        FindingKind::Rejection => "rejection",
        FindingKind::Mutation => "mutation",
        FindingKind::Warning => "warning",
    }
}

const TOOL: Tool = Tool {
    name: "admit",
    version: env!("CARGO_PKG_VERSION"),
};

impl Report for JsonReport {
    /// The document serde would write for [`Document`], assembled by hand so that the findings,
    /// most of a large report, are written on every core: writing them is the largest part of
    /// a run whose results are all cached.
    fn write(&self, out: &mut dyn Write, outcome: &CheckOutcome) -> std::io::Result<()> {
        // serde_json writes a pretty document in many small pieces; through `dyn Write` each
        // would be a virtual call. A local buffer inlines them.
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        out.write_all(b"{\n  \"version\": ")?;
        write_nested(&mut out, &JSON_REPORT_VERSION, 1)?;
        out.write_all(b",\n  \"tool\": ")?;
        write_nested(&mut out, &TOOL, 1)?;
        out.write_all(b",\n  \"findings\": ")?;
        write_findings(&mut out, &outcome.findings)?;
        out.write_all(b",\n  \"policies\": ")?;
        let policies: Vec<JsonPolicy<'_>> = outcome.policies.iter().map(json_policy).collect();
        write_nested(&mut out, &policies, 1)?;
        out.write_all(b",\n  \"summary\": ")?;
        write_nested(&mut out, &json_summary(&outcome.summary), 1)?;
        out.write_all(b",\n  \"notes\": ")?;
        write_nested(&mut out, &notes(&outcome.summary), 1)?;
        out.write_all(b",\n  \"skipped\": ")?;
        write_nested(&mut out, &json_skipped(&outcome.summary), 1)?;
        out.write_all(b"\n}\n")?;
        out.flush()
    }
}

/// How many findings a thread writes at a time, and how many are written before their text
/// goes out, which bounds the memory held.
const CHUNK: usize = 256;
const WINDOW: usize = 16 * CHUNK;

/// The findings array as serde's pretty printer writes it one level down, its elements
/// written in parallel.
fn write_findings(out: &mut impl Write, findings: &[Finding]) -> std::io::Result<()> {
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    // One buffer per chunk of a window, kept across windows: a fresh buffer is fresh pages
    // for the kernel to zero, which costs as much as writing into them.
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for (window, findings) in findings.chunks(WINDOW).enumerate() {
        let chunks = findings.len().div_ceil(CHUNK);
        if parts.len() < chunks {
            parts.resize_with(chunks, Vec::new);
        }
        parts[..chunks]
            .par_iter_mut()
            .zip(findings.par_chunks(CHUNK))
            .enumerate()
            .try_for_each(|(chunk, (part, findings))| {
                part.clear();
                for (index, finding) in findings.iter().enumerate() {
                    let first = window == 0 && chunk == 0 && index == 0;
                    part.write_all(if first { b"\n    " } else { b",\n    " })?;
                    write_nested(part, &json_finding(finding), 2)?;
                }
                Ok::<(), std::io::Error>(())
            })?;
        for part in &parts[..chunks] {
            out.write_all(part)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// `value` pretty-printed as serde does at `depth` levels of nesting.
fn write_nested(out: &mut impl Write, value: &impl Serialize, depth: usize) -> std::io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(
        out,
        Nested {
            depth,
            has_value: false,
        },
    );
    value.serialize(&mut serializer)?;
    Ok(())
}

/// serde_json's pretty layout (a line per member, two spaces a level, `": "` after keys)
/// starting `depth` levels down, where `PrettyFormatter` always starts at the top.
struct Nested {
    depth: usize,
    /// Whether the innermost open container has a member yet (`[]` and `{}` stay on one line).
    has_value: bool,
}

impl Nested {
    fn open<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        out.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, out: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            out.write_all(b"\n")?;
            indent(out, self.depth)?;
        }
        out.write_all(bracket)
    }

    fn member<W: ?Sized + Write>(&mut self, out: &mut W, first: bool) -> std::io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        indent(out, self.depth)
    }
}

fn indent<W: ?Sized + Write>(out: &mut W, depth: usize) -> std::io::Result<()> {
    const SPACES: &[u8] = b"                ";
    let mut left = 2 * depth;
    while left > 0 {
        let now = left.min(SPACES.len());
        out.write_all(&SPACES[..now])?;
        left -= now;
    }
    Ok(())
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.member(out, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.open(out, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        self.close(out, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        out: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.member(out, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, out: &mut W) -> std::io::Result<()> {
        out.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _out: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

fn json_finding(finding: &Finding) -> JsonFinding<'_> {
    let location = finding.location.as_ref();
    let start = location.map(|l| l.file.location(l.span.start));
    let end = location.map(|l| l.file.location(l.span.end));
    let object = location
        .and_then(|l| l.object.as_deref())
        .map(|object| JsonObject {
            api_version: &object.api_version,
            kind: &object.kind,
            namespace: object.namespace.as_deref(),
            name: object.name.as_deref(),
        });
    JsonFinding {
        kind: kind_name(finding.kind),
        severity: finding.severity.name(),
        policy: &finding.source,
        message: &finding.message,
        code: finding.code,
        file: finding.file_name(),
        line: start
            .map(|s| s.line)
            .or(finding.file.as_ref().and_then(|f| f.line)),
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
        roots: &finding.roots,
        related: finding
            .related
            .iter()
            .map(|related| {
                let start = related.file.location(related.span.start);
                let end = related.file.location(related.span.end);
                JsonRelated {
                    file: related.file.name(),
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    message: &related.label,
                }
            })
            .collect(),
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
        renderings: summary.renderings,
        objects: summary.objects,
        skipped_documents: summary.skipped_documents,
        policies: summary.policies,
        evaluations: summary.evaluations,
        findings: summary.findings,
        objects_with_findings: summary.objects_with_findings,
        rejected: summary.rejected,
        mutated: summary.mutated,
        errors: summary.errors,
        warnings: summary.warnings,
        notes: summary.notes,
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

    /// What serde writes for the whole document, the reference for the hand-assembled one.
    fn serde_document(outcome: &CheckOutcome) -> Vec<u8> {
        let document = Document {
            version: JSON_REPORT_VERSION,
            tool: TOOL,
            findings: outcome.findings.iter().map(json_finding).collect(),
            policies: outcome.policies.iter().map(json_policy).collect(),
            summary: json_summary(&outcome.summary),
            notes: notes(&outcome.summary),
            skipped: json_skipped(&outcome.summary),
        };
        let mut out = serde_json::to_vec_pretty(&document).expect("serialized");
        out.push(b'\n');
        out
    }

    #[test]
    fn the_document_is_byte_for_byte_what_serde_writes() {
        let file = SourceFile::new("x.yaml", STREAM);
        let policy = PolicyInfo {
            id: "privileged".into(),
            origin: "builtin:privileged".into(),
            description: Some("No \"privileged\" containers".into()),
            help: Some("# Privileged\n\nLine two,\r\n\tand a tab.\n".into()),
            url: None,
            severity: crate::findings::Severity::Warning,
            risk: None,
        };
        // Across the boundaries of chunks and windows, with and without places, help and
        // suppressions, and strings that need escaping.
        for count in [0, 1, 2, CHUNK + 1, WINDOW + CHUNK + 3] {
            let findings = (0..count)
                .map(|i| {
                    let mut finding = Finding::new(
                        FindingKind::Rejection,
                        "privileged",
                        format!("finding {i}:\n\"quoted\" \u{1F600}"),
                    );
                    if i % 3 != 0 {
                        finding = finding.at(at(&file, "name: a", i % 2));
                    }
                    if i % 5 == 0 {
                        finding = finding.with_help("help\nwith lines");
                    }
                    if i % 7 == 0 {
                        finding.suppressed = Some(Suppressed {
                            kind: SuppressionKind::Annotation,
                            reason: None,
                        });
                    }
                    finding
                })
                .collect();
            let outcome = CheckOutcome {
                findings,
                // No policy at all: an empty array stays `[]`.
                policies: if count == 2 {
                    Vec::new()
                } else {
                    vec![policy.clone()]
                },
                summary: Summary {
                    files: 3,
                    elapsed: std::time::Duration::from_millis(1234),
                    // Notes and what they count, once.
                    set_apart: (count == 1)
                        .then(|| crate::check::SetApart {
                            file: "k/kustomization.yaml".into(),
                            object: "kustomize.config.k8s.io/v1beta1 Kustomization".into(),
                            tool: Some("Kustomize".into()),
                        })
                        .into_iter()
                        .collect(),
                    skipped_inputs: (count == 1)
                        .then(|| SkippedInput::BrokenLink {
                            name: "README".into(),
                            reason: "a symbolic link loop".into(),
                        })
                        .into_iter()
                        .collect(),
                    ..Summary::default()
                },
                logs: Vec::new(),
            };
            let mut out = Vec::new();
            JsonReport.write(&mut out, &outcome).expect("written");
            assert!(
                out == serde_document(&outcome),
                "{count} findings: the report differs from serde's"
            );
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
