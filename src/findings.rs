//! Findings: what a check reports, each tied to the YAML node that causes it.
//!
//! A policy's answer becomes findings here. Where a finding points, most precise first:
//! 1. the JSON Pointers the policy listed in its `violations` extension;
//! 2. for a mutating policy, the paths its JSON Patch would touch;
//! 3. otherwise the object itself: its `metadata.name`, or its first line.
//!
//! A pointer to a field that does not exist (a required field is missing) points at the nearest
//! node that does. Printers turn spans into `line:column` at the very end.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::documents::Node;
use crate::objects::ObjectRef;
use crate::policies::ValidationResponse;
use crate::requests::ClusterObject;
use crate::source::{SourceFile, Span};

/// admit's own warnings, by id. A configuration's `disable` turns them off, and a suppression
/// in a manifest silences them as it silences a policy; errors are never turned off.
pub const ADMIT_WARNINGS: [&str; 6] = [
    crate::requests::UNKNOWN_KIND,
    crate::requests::REQUEST_WARNING,
    "not-an-object",
    "suppression",
    "suppression-without-reason",
    "unused-suppression",
];

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

/// How serious a finding is. With `--fail-on` this decides whether a run fails; an
/// [`FindingKind::Error`] always fails it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Information: what a mutating policy would change.
    Note,
    /// Worth fixing; fails the run only with `--fail-on warning`.
    Warning,
    /// Must be fixed; fails the run unless `--fail-on never`.
    Error,
}

impl Severity {
    /// The lower-case name used in every output format and in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// How a finding was silenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionKind {
    /// By the object's `admit.dev/ignore` annotation.
    Annotation,
    /// By an `# admit:ignore` comment on the line where the node, or one containing it, starts.
    Comment,
}

/// Why a finding is not counted: it was suppressed in the source. Suppressed findings stay in
/// the outcome so that formats able to show them (SARIF, JSON) can, and audits can count them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    /// Where the suppression was written.
    pub kind: SuppressionKind,
    /// The reason given, if any.
    pub reason: Option<String>,
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
    /// The object the finding is about, when it is about one.
    pub object: Option<Arc<ObjectName>>,
}

/// A file a finding is about as a whole, because it points at no place in it: a file that
/// could not be read has no text to point into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The file's name as reports show it (the path as given, or `--stdin-filename`).
    pub name: String,
    /// The one-based line of the problem, when it is known (where invalid UTF-8 starts).
    pub line: Option<usize>,
}

/// A Kubernetes object as reports name it (JUnit cases, SARIF logical locations, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectName {
    /// Its `apiVersion`.
    pub api_version: String,
    /// Its `kind`.
    pub kind: String,
    /// Its `metadata.namespace`, as written (no `default` is assumed).
    pub namespace: Option<String>,
    /// Its `metadata.name`, else its `metadata.generateName` followed by `*`.
    pub name: Option<String>,
}

impl ObjectName {
    /// The name of the object at `node`.
    pub fn of(node: &Node) -> Self {
        let text =
            |node: &Node, key: &str| node.get(key).and_then(Node::as_str).map(str::to_string);
        let metadata = node.get("metadata");
        ObjectName {
            api_version: text(node, "apiVersion").unwrap_or_default(),
            kind: text(node, "kind").unwrap_or_default(),
            namespace: metadata.and_then(|m| text(m, "namespace")),
            name: metadata.and_then(|m| {
                text(m, "name").or_else(|| text(m, "generateName").map(|g| format!("{g}*")))
            }),
        }
    }

    /// `Kind/namespace/name`, or `Kind/name` without a namespace, or `Kind` without a name.
    pub fn qualified_name(&self) -> String {
        [
            Some(&self.kind),
            self.namespace.as_ref(),
            self.name.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("/")
    }
}

/// One thing a check reports.
#[derive(Debug, Clone)]
pub struct Finding {
    /// What kind of finding this is.
    pub kind: FindingKind,
    /// How serious it is: from its kind, or the policy's configured severity.
    pub severity: Severity,
    /// Who reports it: a policy id, or a code such as `yaml-syntax` for admit's own findings.
    pub source: String,
    /// The message.
    pub message: String,
    /// The status code a policy gave its rejection, if any (Kubewarden's `code`).
    pub code: Option<u16>,
    /// Where it points, when it is about a place in a file.
    pub location: Option<SourceRef>,
    /// The file it is about when it points at no place in it; `None` with a `location`.
    pub file: Option<FileRef>,
    /// Advice on what to do about it.
    pub help: Option<String>,
    /// Set when a suppression in the source silenced this finding.
    pub suppressed: Option<Suppressed>,
    /// The Kustomize roots whose rendering showed it, when it was found in rendered objects
    /// (one finding in a base shared by several overlays is reported once, naming each).
    pub roots: Vec<String>,
    /// Other places that explain it: the values line that set a value a Helm template
    /// wrote, or the template line that rendered a values block.
    pub related: Vec<SourceRef>,
}

impl Finding {
    /// A finding that points nowhere in particular.
    pub fn new(kind: FindingKind, source: impl Into<String>, message: impl Into<String>) -> Self {
        let severity = match kind {
            FindingKind::Error | FindingKind::Rejection => Severity::Error,
            FindingKind::Warning => Severity::Warning,
            FindingKind::Mutation => Severity::Note,
        };
        Finding {
            kind,
            severity,
            source: source.into(),
            message: message.into(),
            code: None,
            location: None,
            file: None,
            help: None,
            suppressed: None,
            roots: Vec::new(),
            related: Vec::new(),
        }
    }

    /// The same finding at another severity; errors stay errors.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        if self.kind != FindingKind::Error {
            self.severity = severity;
        }
        self
    }

    /// Whether the finding counts: it is not suppressed.
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }

    /// The same finding, pointing at `location`.
    pub fn at(mut self, location: SourceRef) -> Self {
        self.location = Some(location);
        self
    }

    /// The same finding, about the file `name` as a whole (at `line`, when known).
    pub fn in_file(mut self, name: impl Into<String>, line: Option<usize>) -> Self {
        self.file = Some(FileRef {
            name: name.into(),
            line,
        });
        self
    }

    /// The name of the file the finding is about, if any.
    pub fn file_name(&self) -> Option<&str> {
        match (&self.location, &self.file) {
            (Some(location), _) => Some(location.file.name()),
            (None, Some(file)) => Some(&file.name),
            (None, None) => None,
        }
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

    /// Report order: findings without a file first, then by file, document and position; a
    /// finding about a whole file comes first among its file's.
    pub fn sort_key(&self) -> (Option<(&str, usize, usize)>, FindingKind, &str, &str) {
        (
            match (&self.location, &self.file) {
                (Some(l), _) => Some((l.file.name(), l.document, l.span.start)),
                (None, Some(file)) => Some((file.name.as_str(), 0, 0)),
                (None, None) => None,
            },
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
    name: &Arc<ObjectName>,
    response: &ValidationResponse,
) -> Vec<Finding> {
    let source_ref = |span: Span, pointer: Option<String>, label: String| SourceRef {
        file: file.clone(),
        span,
        document: object.document.index,
        pointer,
        label,
        object: Some(name.clone()),
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
        // Only a mutation needs the object as JSON, to diff against: the object as the policy
        // received it, or every quantity written as a number would show as changed.
        let original = serde_json::to_value(ClusterObject::of(object.node))
            .unwrap_or_else(|_| object.node.to_json());
        for operation in json_patch::diff(&original, mutated).iter() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_named_kind_namespace_name() {
        let loaded = crate::documents::load(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {generateName: web-}\n---\napiVersion: v1\nkind: Namespace\n",
        );
        let names: Vec<String> = loaded
            .documents
            .iter()
            .map(|d| ObjectName::of(&d.root).qualified_name())
            .collect();
        assert_eq!(names, ["Pod/shop/a", "Deployment/web-*", "Namespace"]);
    }
}
