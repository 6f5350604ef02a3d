//! Suppressions written in the manifests themselves, each with a reason that can be audited.
//!
//! - On an object: the annotation `admit.dev/ignore: "privileged=CNI needs raw sockets,
//!   host-ports=metrics on the node"` silences those policies for that object only. Entries are
//!   separated by `;`, new lines, or a comma followed by another `id=` (or a bare id), so reasons
//!   may contain commas. It is read from the object's own `metadata.annotations` only: one in
//!   other metadata (a pod template's) is reported as misplaced, as it silences nothing.
//! - In a comment: `# admit:ignore privileged -- CNI agent` silences that policy in the YAML
//!   nodes that start on the comment's line, and everything inside them: on `- name: app` the
//!   whole list item, on `securityContext:` the whole block, on `privileged: true` that field. A
//!   comment alone on its line covers the nodes that start on the next line that is not a
//!   comment. A finding is silenced when its span lies inside what the comment covers: only
//!   possible because every finding has a span.
//!
//! A suppression without a reason still silences, but is itself a warning; one that silences
//! nothing is reported, as ruff reports an unused `noqa`. Errors are never silenced.

use std::sync::Arc;

use crate::documents::{Document, Entry, Node, Value, escape_pointer_token};
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
    /// Where it is written: the comment, or the annotation's entry.
    pub span: Span,
    /// For a comment, the bytes it covers (see [`covered`]); an annotation covers its whole
    /// object.
    pub covers: Option<Span>,
}

impl Suppression {
    /// Whether this suppression silences `finding`: it names the finding's policy, and covers
    /// where the finding points.
    fn covers(&self, finding: &Finding) -> bool {
        if !self.policies.iter().any(|(id, _)| *id == finding.source) {
            return false;
        }
        match self.covers {
            None => true,
            Some(covers) => finding
                .location
                .as_ref()
                .is_some_and(|l| covers.start <= l.span.start && l.span.start <= covers.end),
        }
    }

    /// Remember that this suppression silenced a finding of `policy`.
    fn mark_used(&mut self, policy: &str) {
        for (id, used) in &mut self.policies {
            if id == policy {
                *used = true;
            }
        }
    }

    /// How much source the suppression covers, to prefer the innermost of several.
    fn extent(&self) -> usize {
        self.covers.map_or(usize::MAX, |covers| covers.len())
    }
}

/// The `admit.dev/ignore` annotation of `object`, one suppression per entry.
pub fn from_annotation(file: &SourceFile, object: &ObjectRef<'_>) -> Vec<Suppression> {
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
    let verbatim = verbatim_start(file, node);
    annotation_entries(text)
        .into_iter()
        .map(|entry| Suppression {
            policies: vec![(entry.id, false)],
            reason: entry.reason,
            kind: SuppressionKind::Annotation,
            // The entry itself when the value is written as it reads; else the whole value.
            span: verbatim.map_or(node.span, |start| {
                Span::new(start + entry.written.start, start + entry.written.end)
            }),
            covers: None,
        })
        .collect()
}

/// Where the text of the string scalar `node` starts in the source, when it is written as it
/// reads (plain, or quoted without escapes, on one line): an offset into the value is then
/// the same offset from there. A folded, multi-line or escaped scalar has no such start.
fn verbatim_start(file: &SourceFile, node: &Node) -> Option<usize> {
    let Value::String(text) = &node.value else {
        return None;
    };
    let written = file.slice(node.span);
    if written == text {
        return Some(node.span.start);
    }
    ['"', '\'']
        .into_iter()
        .any(|quote| {
            written
                .strip_prefix(quote)
                .and_then(|inner| inner.strip_suffix(quote))
                == Some(text.as_str())
        })
        .then_some(node.span.start + 1)
}

/// One entry of an annotation value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AnnotationEntry {
    id: String,
    reason: Option<String>,
    /// Where the entry is in the value, without the spaces around it.
    written: std::ops::Range<usize>,
}

/// Split an annotation value into its entries.
fn annotation_entries(text: &str) -> Vec<AnnotationEntry> {
    let mut entries = Vec::new();
    let mut piece_start = 0;
    for piece in text.split([';', '\n']) {
        let mut offset = piece_start;
        let mut rest = piece;
        piece_start += piece.len() + 1;
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
                let leading = entry.len() - entry.trim_start().len();
                let start = offset + leading;
                entries.push(AnnotationEntry {
                    id: id.to_string(),
                    reason: reason.filter(|r| !r.is_empty()).map(str::to_string),
                    written: start..start + entry.trim().len(),
                });
            }
            offset += end + 1;
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

/// Warnings about `admit.dev/ignore` annotations in `object` that are not in its own metadata
/// (a pod template's, a claim template's): admit reads none of them, and without a word the
/// user would believe the policies silenced.
pub fn misplaced(
    file: &SourceFile,
    object: &ObjectRef<'_>,
    name: &Arc<ObjectName>,
) -> Vec<Finding> {
    let mut found = Vec::new();
    if let Value::Mapping(entries) = &object.node.value {
        for entry in entries.iter().filter(|entry| entry.key != "metadata") {
            nested_annotations(entry, &mut Vec::new(), &mut found);
        }
    }
    found
        .into_iter()
        .map(|(path, entry)| {
            let pointer = format!(
                "/{}/{}",
                path.iter()
                    .map(|token| escape_pointer_token(token))
                    .collect::<Vec<_>>()
                    .join("/"),
                escape_pointer_token(ANNOTATION)
            );
            Finding::new(
                FindingKind::Warning,
                MISPLACED,
                format!(
                    "the {ANNOTATION} annotation in {} silences nothing: admit reads it only \
                     from the object's own metadata.annotations",
                    path.join(".")
                ),
            )
            .at(SourceRef {
                file: file.clone(),
                span: entry.key_span,
                document: object.document.index,
                pointer: Some(pointer),
                label: "not read here".into(),
                object: Some(name.clone()),
            })
            .with_help(format!(
                "move it to metadata.annotations of the {}",
                if name.kind.is_empty() {
                    "object"
                } else {
                    &name.kind
                }
            ))
        })
        .collect()
}

/// Every `admit.dev/ignore` entry under `metadata.annotations` inside `entry`, each with the
/// path of keys (and item indexes) to its annotations.
fn nested_annotations<'n>(
    entry: &'n Entry,
    path: &mut Vec<String>,
    found: &mut Vec<(Vec<String>, &'n Entry)>,
) {
    path.push(entry.key.clone());
    if entry.key == "metadata"
        && let Some(annotation) = entry
            .value
            .get("annotations")
            .and_then(|annotations| annotations.entry(ANNOTATION))
    {
        let mut at = path.clone();
        at.push("annotations".into());
        found.push((at, annotation));
    }
    nested_in_node(&entry.value, path, found);
    path.pop();
}

fn nested_in_node<'n>(
    node: &'n Node,
    path: &mut Vec<String>,
    found: &mut Vec<(Vec<String>, &'n Entry)>,
) {
    match &node.value {
        Value::Mapping(entries) => {
            for entry in entries {
                nested_annotations(entry, path, found);
            }
        }
        Value::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                nested_in_node(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Every `# admit:ignore` comment in `file`. `documents` tells comments from `#` inside
/// scalars, and gives the nodes each comment covers.
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
            // A comment with nothing after it covers nothing.
            covers: Some(target.map_or(Span::new(text.len(), text.len()), |target| {
                covered(file, documents, target)
            })),
        });
    }
    found
}

/// What a comment covers when it applies to zero-based `line`: every mapping entry (key and
/// value) and sequence item that starts on that line, with everything inside it; when none
/// does (a line that closes a flow collection, say), the line itself.
fn covered(file: &SourceFile, documents: &[Document], line: usize) -> Span {
    let lines = file.lines();
    let start = lines.line_start(line);
    let end = file.text()[start.min(file.text().len())..]
        .find(['\n', '\r'])
        .map_or(file.text().len(), |i| start + i);
    let on_line = Span::new(start, end);
    let mut covers: Option<Span> = None;
    for document in documents {
        if document.span.end >= start && document.span.start <= end {
            starting_on(&document.root, on_line, &mut covers);
        }
    }
    covers.unwrap_or(on_line)
}

/// Widen `covers` by every entry and item inside `node` that starts within `line`; look only
/// inside those that contain the line.
fn starting_on(node: &Node, line: Span, covers: &mut Option<Span>) {
    let mut consider = |unit: Span, inner: &Node| {
        if line.start <= unit.start && unit.start <= line.end {
            *covers = Some(match *covers {
                Some(c) => Span::new(c.start.min(unit.start), c.end.max(unit.end)),
                None => unit,
            });
        } else if unit.start < line.start && line.start <= unit.end {
            starting_on(inner, line, covers);
        }
    };
    match &node.value {
        Value::Mapping(entries) => {
            for entry in entries {
                let unit = Span::new(
                    entry.key_span.start,
                    entry.value.span.end.max(entry.key_span.end),
                );
                consider(unit, &entry.value);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                consider(item.span, item);
            }
        }
        _ => {}
    }
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

/// Mark the `findings` that `suppressions` cover. Every suppression that covers a finding
/// counts as used, even when another one (the object's annotation, or a comment on an
/// enclosing node) already silenced it; the finding carries the innermost one's reason.
pub fn apply(suppressions: &mut [Suppression], findings: &mut [Finding]) {
    for finding in findings.iter_mut() {
        if finding.kind == FindingKind::Error {
            continue;
        }
        let covering: Vec<usize> = suppressions
            .iter()
            .enumerate()
            .filter(|(_, suppression)| suppression.covers(finding))
            .map(|(index, _)| index)
            .collect();
        for &index in &covering {
            suppressions[index].mark_used(&finding.source);
        }
        let innermost = covering
            .into_iter()
            .min_by_key(|&index| suppressions[index].extent());
        if finding.suppressed.is_none()
            && let Some(index) = innermost
        {
            let suppression = &suppressions[index];
            finding.suppressed = Some(Suppressed {
                kind: suppression.kind,
                reason: suppression.reason.clone(),
            });
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
            let (message, help) = if ran(id) {
                match suppression.covers {
                    Some(covers) => (
                        format!(
                            "{written}{}: no {id} finding on {}, which it covers",
                            silences_nothing(id),
                            lines(file, covers)
                        ),
                        "remove it, or put it on the line where the node the finding points \
                         at (or a node that contains it) starts",
                    ),
                    None => (
                        format!("{written}{} on this object", silences_nothing(id)),
                        "remove this entry",
                    ),
                }
            } else if !known(id) {
                (
                    format!(
                        "{written} names `{id}`, which is not a built-in policy nor one this run \
                         loaded"
                    ),
                    "check the policy id: `admit policies` lists the built-ins",
                )
            } else {
                continue;
            };
            findings.push(
                Finding::new(FindingKind::Warning, UNUSED, message)
                    .at(at("unused"))
                    .with_help(help),
            );
        }
    }
    findings
}

/// `line 4`, or `lines 4-9`, for the lines `span` is on.
fn lines(file: &SourceFile, span: Span) -> String {
    let first = file.location(span.start).line;
    let last = file.location(span.end).line;
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}-{last}")
    }
}

/// The source of the warning that an annotation is where admit does not read it.
const MISPLACED: &str = "misplaced-suppression";

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

    fn entries(text: &str) -> Vec<(String, Option<String>, &str)> {
        annotation_entries(text)
            .into_iter()
            .map(|entry| (entry.id, entry.reason, &text[entry.written]))
            .collect()
    }

    #[test]
    fn annotation_entries_allow_commas_in_reasons_and_know_where_they_are() {
        let text = "privileged=needs raw sockets, for the CNI,  host-ports ";
        assert_eq!(
            entries(text),
            vec![
                (
                    "privileged".into(),
                    Some("needs raw sockets, for the CNI".into()),
                    "privileged=needs raw sockets, for the CNI"
                ),
                ("host-ports".into(), None, "host-ports"),
            ]
        );
        let found = entries("a=x; b = y\nc");
        assert_eq!(found.len(), 3);
        assert_eq!(found[1], ("b".into(), Some("y".into()), "b = y"));
        assert_eq!(found[2], ("c".into(), None, "c"));
    }

    /// The text each comment of `text` covers.
    fn covered_text(text: &str) -> Vec<(Vec<String>, Option<String>, String)> {
        let file = SourceFile::new("x.yaml", text);
        let loaded = crate::documents::load(text);
        from_comments(&file, &loaded.documents)
            .iter()
            .map(|s| {
                (
                    s.policies.iter().map(|(id, _)| id.clone()).collect(),
                    s.reason.clone(),
                    s.covers
                        .map(|c| file.slice(c).to_string())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn comments_cover_the_nodes_that_start_on_their_line_or_the_next_one() {
        let text = "a: 1 # admit:ignore p1 -- why\n# admit:ignore p2,p3\n\n# other\nb: \"# admit:ignore p4\"\nc: x#admit:ignore p5\n";
        assert_eq!(
            covered_text(text),
            vec![
                (vec!["p1".into()], Some("why".into()), "a: 1".into()),
                (
                    vec!["p2".into(), "p3".into()],
                    None,
                    "b: \"# admit:ignore p4\"".into()
                ),
            ]
        );
        let text = "\
spec:
  containers:
    - name: app  # admit:ignore p1
      securityContext:  # admit:ignore p2
        privileged: true
      image: x
    - name: other
  flow: [a,
    b]  # admit:ignore p3
";
        let covers: Vec<String> = covered_text(text).into_iter().map(|c| c.2).collect();
        assert_eq!(
            covers,
            [
                // The whole item, not the list that starts on the same line.
                "name: app  # admit:ignore p1\n      securityContext:  # admit:ignore p2\n        privileged: true\n      image: x",
                "securityContext:  # admit:ignore p2\n        privileged: true",
                // The item `b` starts on the line.
                "b",
            ]
        );
    }

    #[test]
    fn a_comment_on_a_line_where_no_node_starts_covers_that_line() {
        let text = "flow: [a,\n  b\n  ]  # admit:ignore p1\n";
        assert_eq!(
            covered_text(text)[0].2,
            "  ]  # admit:ignore p1".to_string()
        );
    }
}
