//! Suppressions written in the manifests themselves, each with a reason that can be audited.
//!
//! - On an object: the annotation `admit.dev/ignore: "privileged=CNI needs raw sockets,
//!   host-ports=metrics on the node"` silences those policies for that object only. Entries are
//!   separated by `;`, new lines, or a comma followed by another `id=` (or a bare id), so reasons
//!   may contain commas. A pod template's annotations are the pod's, not the workload's, and do
//!   not silence the workload.
//! - On a line: `privileged: true  # admit:ignore privileged -- CNI agent` silences that policy's
//!   findings whose span starts on that line; a comment alone on its line applies to the next
//!   line with content. Only possible because every finding has a span.
//!
//! A suppression without a reason still silences, but is itself a warning; one that silences
//! nothing is reported, as ruff reports an unused `noqa`. Errors are never silenced.

use std::sync::Arc;

use crate::documents::{Document, Node, Value};
use crate::findings::{Finding, FindingKind, ObjectName, SourceRef, Suppressed, SuppressionKind};
use crate::objects::ObjectRef;
use crate::source::{SourceFile, Span};

/// The annotation that silences policies for one object.
pub const ANNOTATION: &str = "admit.dev/ignore";
/// The marker of a line suppression comment.
pub const COMMENT_MARKER: &str = "admit:ignore";

/// One suppression as written: the policies it names, why, and where.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Policy ids, each with whether it silenced anything yet.
    pub policies: Vec<(String, bool)>,
    /// The reason, when one is given.
    pub reason: Option<String>,
    /// Annotation or comment.
    pub kind: SuppressionKind,
    /// Where it is written.
    pub span: Span,
    /// For a comment, the zero-based line whose findings it silences.
    pub line: Option<usize>,
}

impl Suppression {
    /// Mark `finding` suppressed if this suppression covers it.
    fn apply(&mut self, finding: &mut Finding, file: &SourceFile) -> bool {
        if finding.kind == FindingKind::Error || finding.suppressed.is_some() {
            return false;
        }
        if let Some(line) = self.line {
            let on_line = finding
                .location
                .as_ref()
                .is_some_and(|l| file.lines().line_of(l.span.start) == line);
            if !on_line {
                return false;
            }
        }
        let Some(entry) = self
            .policies
            .iter_mut()
            .find(|(id, _)| *id == finding.source)
        else {
            return false;
        };
        entry.1 = true;
        finding.suppressed = Some(Suppressed {
            kind: self.kind,
            reason: self.reason.clone(),
        });
        true
    }
}

/// The `admit.dev/ignore` annotation of `object`, one suppression per entry.
pub fn from_annotation(object: &ObjectRef<'_>) -> Vec<Suppression> {
    let Some(node) = object
        .node
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(ANNOTATION))
    else {
        return Vec::new();
    };
    let text = match &node.value {
        Value::String(text) => text.as_str(),
        _ => "",
    };
    annotation_entries(text)
        .into_iter()
        .map(|(id, reason)| Suppression {
            policies: vec![(id, false)],
            reason,
            kind: SuppressionKind::Annotation,
            span: node.span,
            line: None,
        })
        .collect()
}

/// Split an annotation value into `(policy id, reason)` entries.
fn annotation_entries(text: &str) -> Vec<(String, Option<String>)> {
    let mut entries = Vec::new();
    for piece in text.split([';', '\n']) {
        let mut rest = piece;
        while !rest.trim().is_empty() {
            // An entry ends at a comma that starts another entry: `, id=` or `, id,` or `, id`
            // at the end.
            let end = rest
                .match_indices(',')
                .map(|(i, _)| i)
                .find(|&i| starts_entry(&rest[i + 1..]))
                .unwrap_or(rest.len());
            let entry = &rest[..end];
            let (id, reason) = match entry.split_once('=') {
                Some((id, reason)) => (id.trim(), Some(reason.trim())),
                None => (entry.trim(), None),
            };
            if !id.is_empty() {
                entries.push((
                    id.to_string(),
                    reason.filter(|r| !r.is_empty()).map(str::to_string),
                ));
            }
            rest = rest.get(end + 1..).unwrap_or("");
        }
    }
    entries
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':')
}

/// Whether `text` (what follows a comma) begins a new entry.
fn starts_entry(text: &str) -> bool {
    let text = text.trim_start();
    let id_len = text.find(|c: char| !is_id_char(c)).unwrap_or(text.len());
    if id_len == 0 {
        return false;
    }
    let after = text[id_len..].trim_start();
    after.is_empty() || after.starts_with('=') || after.starts_with(',')
}

/// Every `# admit:ignore` comment in `file`. `documents` tells comments from `#` inside
/// scalars.
pub fn from_comments(file: &SourceFile, documents: &[Document]) -> Vec<Suppression> {
    let text = file.text();
    let mut found = Vec::new();
    for (offset, _) in text.match_indices(COMMENT_MARKER) {
        let Some(hash) = comment_start(text, offset) else {
            continue;
        };
        if documents.iter().any(|d| inside_scalar(&d.root, hash)) {
            continue;
        }
        let lines = file.lines();
        let line = lines.line_of(hash);
        let line_start = lines.line_start(line);
        let line_end = text[hash..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| hash + i);
        let body = &text[offset + COMMENT_MARKER.len()..line_end];
        let (ids, reason) = match body.split_once("--") {
            Some((ids, reason)) => (ids, Some(reason.trim()).filter(|r| !r.is_empty())),
            None => (body, None),
        };
        let policies: Vec<(String, bool)> = ids
            .split([',', ' ', '\t'])
            .filter(|id| !id.is_empty())
            .map(|id| (id.to_string(), false))
            .collect();
        let alone = text[line_start..hash].trim().is_empty();
        let target = if alone {
            next_content_line(file, line)
        } else {
            Some(line)
        };
        found.push(Suppression {
            policies,
            reason: reason.map(str::to_string),
            kind: SuppressionKind::Comment,
            span: Span::new(hash, line_end),
            line: target,
        });
    }
    found
}

/// The `#` that starts the comment holding the marker at `offset`, if the marker directly
/// follows `#` and optional spaces, and that `#` starts a comment (line start or after a
/// space).
fn comment_start(text: &str, offset: usize) -> Option<usize> {
    let before = text[..offset].trim_end_matches([' ', '\t']);
    let hash = before.strip_suffix('#').map(str::len)?;
    let previous = text[..hash].chars().next_back();
    previous
        .is_none_or(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r')
        .then_some(hash)
}

fn next_content_line(file: &SourceFile, line: usize) -> Option<usize> {
    let lines = file.lines();
    (line + 1..lines.line_count()).find(|&next| {
        let start = lines.line_start(next);
        let end = if next + 1 < lines.line_count() {
            lines.line_start(next + 1)
        } else {
            file.text().len()
        };
        let content = file.text()[start..end].trim();
        !content.is_empty() && !content.starts_with('#')
    })
}

fn inside_scalar(node: &Node, offset: usize) -> bool {
    if offset < node.span.start || offset >= node.span.end {
        return false;
    }
    match &node.value {
        Value::Sequence(items) => items.iter().any(|item| inside_scalar(item, offset)),
        Value::Mapping(entries) => entries.iter().any(|entry| {
            (entry.key_span.start <= offset && offset < entry.key_span.end)
                || inside_scalar(&entry.value, offset)
        }),
        _ => true,
    }
}

/// Mark the `findings` that `suppressions` cover.
pub fn apply(suppressions: &mut [Suppression], findings: &mut [Finding], file: &SourceFile) {
    for finding in findings.iter_mut() {
        for suppression in suppressions.iter_mut() {
            if suppression.apply(finding, file) {
                break;
            }
        }
    }
}

/// Warnings about the suppressions themselves: without a reason, or silencing nothing.
/// `ran` holds the ids of the policies that ran; a suppression of any other policy cannot be
/// judged unused, but one naming a policy no one has heard of (`known`) is likely a typo.
pub fn audit(
    suppressions: &[Suppression],
    file: &SourceFile,
    (document, object): (usize, Option<&Arc<ObjectName>>),
    ran: &dyn Fn(&str) -> bool,
    known: impl Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for suppression in suppressions {
        let at = |label: &str| SourceRef {
            file: file.clone(),
            span: suppression.span,
            document,
            pointer: None,
            label: label.into(),
            object: object.cloned(),
        };
        let written = match suppression.kind {
            SuppressionKind::Annotation => format!("the {ANNOTATION} annotation"),
            SuppressionKind::Comment => format!("`# {COMMENT_MARKER}`"),
        };
        let ids: Vec<&str> = suppression
            .policies
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        if ids.is_empty() {
            findings.push(
                Finding::new(
                    FindingKind::Warning,
                    "suppression",
                    format!("{written} names no policy"),
                )
                .at(at("here"))
                .with_help(format!("write `# {COMMENT_MARKER} POLICY -- reason`")),
            );
            continue;
        }
        if suppression.reason.is_none() {
            let help = match suppression.kind {
                SuppressionKind::Annotation => format!("write `{ANNOTATION}: \"{}=why\"`", ids[0]),
                SuppressionKind::Comment => {
                    format!("write `# {COMMENT_MARKER} {} -- why`", ids.join(","))
                }
            };
            findings.push(
                Finding::new(
                    FindingKind::Warning,
                    "suppression-without-reason",
                    format!("{written} silences {} without a reason", ids.join(", ")),
                )
                .at(at("no reason given"))
                .with_help(help),
            );
        }
        for (id, used) in &suppression.policies {
            if *used {
                continue;
            }
            let message = if ran(id) {
                match suppression.line {
                    Some(line) => format!(
                        "{written}{}: no {id} finding starts on line {}",
                        silences_nothing(id),
                        line + 1
                    ),
                    None => format!("{written}{} on this object", silences_nothing(id)),
                }
            } else if !known(id) {
                format!(
                    "{written} names `{id}`, which is not a built-in policy nor one this run loaded"
                )
            } else {
                continue;
            };
            findings.push(
                Finding::new(FindingKind::Warning, UNUSED, message)
                    .at(at("unused"))
                    .with_help("remove it, or move it to the line the finding is on"),
            );
        }
    }
    findings
}

/// The source of the warning that a suppression silenced nothing.
const UNUSED: &str = "unused-suppression";

/// The words that say a suppression for `id` silenced nothing, in both of its messages.
fn silences_nothing(id: &str) -> String {
    format!(" for {id} silences nothing")
}

/// Whether `finding` is this module's warning that a suppression for policy `id` silenced
/// nothing: such a warning is only true if the policy ran to the end.
pub fn audits(finding: &Finding, id: &str) -> bool {
    finding.source == UNUSED && finding.message.contains(&silences_nothing(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_entries_allow_commas_in_reasons() {
        let entries = annotation_entries("privileged=needs raw sockets, for the CNI, host-ports");
        assert_eq!(
            entries,
            vec![
                (
                    "privileged".into(),
                    Some("needs raw sockets, for the CNI".into())
                ),
                ("host-ports".into(), None),
            ]
        );
        let entries = annotation_entries("a=x; b = y\nc");
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1], ("b".into(), Some("y".into())));
    }

    #[test]
    fn comments_target_their_line_or_the_next_one() {
        let text = "a: 1 # admit:ignore p1 -- why\n# admit:ignore p2,p3\n\n# other\nb: \"# admit:ignore p4\"\nc: x#admit:ignore p5\n";
        let file = SourceFile::new("x.yaml", text);
        let loaded = crate::documents::load(text);
        let found = from_comments(&file, &loaded.documents);
        let summary: Vec<(Vec<String>, Option<String>, Option<usize>)> = found
            .iter()
            .map(|s| {
                (
                    s.policies.iter().map(|(id, _)| id.clone()).collect(),
                    s.reason.clone(),
                    s.line,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (vec!["p1".into()], Some("why".into()), Some(0)),
                (vec!["p2".into(), "p3".into()], None, Some(4)),
            ]
        );
    }
}
