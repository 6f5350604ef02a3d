//! Findings: what a check reports, each tied to the YAML node that causes it.
//!
//! A policy's answer becomes findings here. Where a finding points, most precise first:
//! 1. the JSON Pointers the policy listed in its `violations` extension;
//! 2. for a mutating policy, the paths its JSON Patch would touch;
//! 3. otherwise the object itself: its `metadata.name`, or its first line.
//!
//! A pointer to a field that does not exist (a required field is missing) points at the nearest
//! node that does. Printers turn spans into `line:column` at the very end.

use serde_json::Value as Json;

use crate::documents::Node;
use crate::objects::ObjectRef;
use crate::policies::ValidationResponse;
use crate::source::{SourceFile, Span};

/// What kind of thing a finding reports; this decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingKind {
    /// The input, a policy or admit itself failed: exit code 2.
    Error,
    /// A policy rejected an object: exit code 1.
    Rejection,
    /// A mutating policy would change an accepted object.
    Mutation,
    /// Worth reading, but nothing failed.
    Warning,
}

/// Where in which file a finding points.
#[derive(Debug, Clone)]
pub struct SourceRef {
    /// The file.
    pub file: SourceFile,
    /// The bytes to underline.
    pub span: Span,
    /// Zero-based index of the document in its stream, for ordering.
    pub document: usize,
    /// JSON Pointer from the object to the node, when the finding is about a node.
    pub pointer: Option<String>,
    /// Text under the underline.
    pub label: String,
}

/// One thing a check reports.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What kind of finding this is.
    pub kind: FindingKind,
    /// Who reports it: a policy id, or a code such as `yaml-syntax` for admit's own findings.
    pub source: String,
    /// The message.
    pub message: String,
    /// The status code a policy gave its rejection, if any (Kubewarden's `code`).
    pub code: Option<u16>,
    /// Where it points, when it is about a place in a file.
    pub location: Option<SourceRef>,
    /// Advice on what to do about it.
    pub help: Option<String>,
}

impl Finding {
    /// A finding that points nowhere in particular.
    pub fn new(kind: FindingKind, source: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            kind,
            source: source.into(),
            message: message.into(),
            code: None,
            location: None,
            help: None,
        }
    }

    /// The same finding, pointing at `location`.
    pub fn at(mut self, location: SourceRef) -> Self {
        self.location = Some(location);
        self
    }

    /// The same finding, with a policy's status code.
    pub fn with_code(mut self, code: Option<u16>) -> Self {
        self.code = code;
        self
    }

    /// The same finding, with advice.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Report order: findings without a file first, then by file, document and position.
    pub fn sort_key(&self) -> (Option<(&str, usize, usize)>, FindingKind, &str, &str) {
        (
            self.location
                .as_ref()
                .map(|l| (l.file.name(), l.document, l.span.start)),
            self.kind,
            &self.source,
            &self.message,
        )
    }
}

/// Sort findings into report order; the order never depends on evaluation order.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// A span on one line: a collection's span covers many lines, but one underlined line reads
/// better and is what editors expect for a range start.
pub fn first_line(file: &SourceFile, span: Span) -> Span {
    let text = file.slice(span);
    let end = text.find(['\n', '\r']).map_or(span.end, |i| span.start + i);
    Span::new(span.start, end.max(span.start))
}

/// Where in `file` the node at `pointer` (relative to `object`) is, and whether it exists.
///
/// A scalar is underlined whole; a collection by its key when it has one, else its first line.
/// A missing node points at its nearest existing ancestor, keyed the same way.
pub fn locate(file: &SourceFile, object: &ObjectRef<'_>, pointer: &str) -> (Span, bool) {
    let full = format!("{}{}", object.pointer, pointer);
    let located = object.document.root.locate(&full);
    let collection = matches!(
        located.node.value,
        crate::documents::Value::Mapping(_) | crate::documents::Value::Sequence(_)
    );
    let span = match (collection, located.key_span) {
        (false, _) => located.node.span,
        (true, Some(key)) => key,
        (true, _) => first_line(file, located.node.span),
    };
    (span, located.exact)
}

/// The span that stands for a whole object: its `metadata.name` value, else its first line.
pub fn object_span(file: &SourceFile, object: &ObjectRef<'_>) -> Span {
    object
        .node
        .get("metadata")
        .and_then(|metadata| metadata.get("name"))
        .map(|name: &Node| name.span)
        .unwrap_or_else(|| first_line(file, object.node.span))
}

/// Turn a policy's response about `object` into findings.
pub fn from_response(
    policy: &str,
    file: &SourceFile,
    object: &ObjectRef<'_>,
    original: &Json,
    response: &ValidationResponse,
) -> Vec<Finding> {
    let source_ref = |span: Span, pointer: Option<String>, label: String| SourceRef {
        file: file.clone(),
        span,
        document: object.document.index,
        pointer,
        label,
    };
    let mut findings = Vec::new();
    if !response.accepted {
        let message = response
            .message
            .clone()
            .unwrap_or_else(|| "the request was rejected".into());
        if response.violations.is_empty() {
            let span = object_span(file, object);
            findings.push(
                Finding::new(FindingKind::Rejection, policy, message.clone())
                    .with_code(response.code)
                    .at(source_ref(span, None, "rejected object".into())),
            );
        }
        for violation in &response.violations {
            let (span, exact) = locate(file, object, &violation.pointer);
            let label = if exact { "here" } else { "missing under here" };
            let text = violation.message.clone().unwrap_or_else(|| message.clone());
            findings.push(
                Finding::new(FindingKind::Rejection, policy, text)
                    .with_code(response.code)
                    .at(source_ref(
                        span,
                        Some(violation.pointer.clone()),
                        label.into(),
                    )),
            );
        }
    } else if let Some(mutated) = &response.mutated_object {
        for operation in json_patch::diff(original, mutated).iter() {
            let (pointer, message) = describe_patch(operation);
            let (span, exact) = locate(file, object, &pointer);
            let label = if exact {
                "here"
            } else {
                "would be added under here"
            };
            findings.push(
                Finding::new(FindingKind::Mutation, policy, message).at(source_ref(
                    span,
                    Some(pointer),
                    label.into(),
                )),
            );
        }
    }
    for warning in response.warnings.iter().flatten() {
        let span = object_span(file, object);
        findings.push(
            Finding::new(FindingKind::Warning, policy, warning.clone()).at(source_ref(
                span,
                None,
                "this object".into(),
            )),
        );
    }
    findings
}

fn describe_patch(operation: &json_patch::PatchOperation) -> (String, String) {
    use json_patch::PatchOperation as Op;
    let short = |value: &Json| {
        let text = value.to_string();
        if text.chars().count() > 60 {
            format!("{}…", text.chars().take(59).collect::<String>())
        } else {
            text
        }
    };
    match operation {
        Op::Add(op) => (
            op.path.to_string(),
            format!("would add {} = {}", op.path, short(&op.value)),
        ),
        Op::Replace(op) => (
            op.path.to_string(),
            format!("would change {} to {}", op.path, short(&op.value)),
        ),
        Op::Remove(op) => (op.path.to_string(), format!("would remove {}", op.path)),
        Op::Move(op) => (
            op.path.to_string(),
            format!("would move {} to {}", op.from, op.path),
        ),
        Op::Copy(op) => (
            op.path.to_string(),
            format!("would copy {} to {}", op.from, op.path),
        ),
        Op::Test(op) => (op.path.to_string(), format!("would test {}", op.path)),
    }
}
