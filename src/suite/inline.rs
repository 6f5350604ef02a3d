//! Manifests written inside a test file, checked as files while every finding still points
//! into the test file.
//!
//! `admit check` reads files. An inline manifest is therefore written out as a file whose
//! text is the test file's with every byte outside the manifest turned into a space (line
//! breaks kept): the manifest's nodes keep their byte offsets, so a finding's span in that file
//! is its span in the test file, and [`point_into`] only has to swap the file. YAML allows an
//! indented root mapping, so the manifest parses where it stands.

use std::path::Path;

use crate::config::reader::Problem;
use crate::documents::{Node, Value};
use crate::findings::Finding;
use crate::source::{SourceFile, Span};

/// The text `admit check` is given for the manifest at `node` of `file`: a mapping (one
/// object) or a literal block scalar (`|`, any YAML stream).
pub(crate) fn manifest_text(file: &SourceFile, node: &Node) -> Result<String, Problem> {
    let text = file.text();
    match &node.value {
        Value::Mapping(_) => Ok(keep_only(text, node.span)),
        Value::String(_) if file.slice(node.span).starts_with('|') => {
            // The content starts on the line after the `|` header.
            let header_end = text[node.span.start..node.span.end]
                .find('\n')
                .map_or(node.span.end, |i| node.span.start + i + 1);
            Ok(outdent_markers(keep_only(
                text,
                Span::new(header_end, node.span.end),
            )))
        }
        Value::String(_) if file.slice(node.span).starts_with('>') => Err(Problem::new(
            node.span,
            "a folded block (`>`) joins the manifest's lines; write it as a literal block (`|`)",
        )),
        _ => Err(Problem::new(
            node.span,
            "a manifest is a file name, an object written as a mapping, or YAML in a literal \
             block (`manifest: |`)",
        )),
    }
}

/// `text` with every byte outside `keep` a space and line breaks where they were, as valid
/// UTF-8: `keep` starts and ends on character boundaries, and a character outside it becomes
/// one space per byte, so every offset stays where it was.
fn keep_only(text: &str, keep: Span) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if (keep.start..keep.end).contains(&i) || c == '\n' || c == '\r' {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out
}

/// A document marker (`---`, `...`) indented inside a literal block is not a marker once the
/// block is a file of its own; moved to column 0, its indentation after it, it is, and no byte
/// of a node moves.
fn outdent_markers(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        let body = content.trim_end_matches(['\n', '\r']);
        let is_marker = ["---", "..."].iter().any(|marker| {
            body.strip_prefix(marker)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        });
        if indent > 0 && is_marker {
            out.push_str(body);
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(&content[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Findings about the file `written` (the inline manifest as a file) made to point at the same
/// bytes of the test file `into`.
pub(crate) fn point_into(findings: &mut [Finding], written: &Path, into: &SourceFile) {
    let name = written.display().to_string();
    for finding in findings {
        for location in finding
            .location
            .iter_mut()
            .chain(finding.related.iter_mut())
        {
            if location.file.name() == name {
                location.file = into.clone();
            }
        }
        if let Some(file) = &mut finding.file
            && file.name == name
        {
            file.name = into.name().to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(text: &str) -> String {
        let file = SourceFile::new("t.yaml", text);
        let loaded = crate::documents::load(text);
        let node = loaded.documents[0].root.get("manifest").unwrap();
        manifest_text(&file, node).unwrap()
    }

    #[test]
    fn a_mapping_keeps_its_offsets_and_nothing_else() {
        let text = "name: é\nmanifest:\n  apiVersion: v1\n  kind: Pod\nexpect: x\n";
        let out = inline(text);
        assert_eq!(out.len(), text.len());
        assert_eq!(
            out,
            "        \n         \n  apiVersion: v1\n  kind: Pod\n         \n"
        );
        let loaded = crate::documents::load(&out);
        let root = &loaded.documents[0].root;
        let kind = root.get("kind").unwrap();
        assert_eq!(&text[kind.span.start..kind.span.end], "Pod");
    }

    #[test]
    fn a_literal_block_is_a_stream_whose_markers_move_to_column_zero() {
        let text = "manifest: |\n  kind: A\n  ---\n  kind: B\nx: 1\n";
        let out = inline(text);
        assert_eq!(out.len(), text.len());
        let loaded = crate::documents::load(&out);
        assert_eq!(loaded.documents.len(), 2, "{out:?}");
        let b = loaded.documents[1].root.get("kind").unwrap();
        assert_eq!(&text[b.span.start..b.span.end], "B");
    }

    #[test]
    fn folded_blocks_and_scalars_are_refused() {
        let file = SourceFile::new("t.yaml", "manifest: >\n  kind: A\n");
        let loaded = crate::documents::load(file.text());
        let node = loaded.documents[0].root.get("manifest").unwrap();
        assert!(manifest_text(&file, node).is_err());
    }
}
