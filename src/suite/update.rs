//! `--update`: write what came out into the test file, as snapshot tools accept a new
//! snapshot. A case's `findings:` are replaced by the findings its manifest now gives (added
//! when the case has none), and its `result:` by the verdict, when they differ. Everything else
//! in the file, comments included, stays byte for byte: the edits replace only those nodes.
//! Comments inside a replaced `findings:` list are lost. A case that ended in an error is left
//! as it is, and so is one that expects an error: an error is rarely what a test means to pin,
//! and what it says is in `message:`, written by hand.

use std::path::Path;

use super::error::TestFileError;
use super::format::{Case, TestFile, Verdict, kind_name};
use super::outcome::{CaseResult, Mismatch, Status};
use super::verdict::{DiffLine, place};
use crate::documents::{self, Node, Value};
use crate::findings::{Finding, FindingKind};
use crate::inputs::absolute;
use crate::source::Span;

/// One replacement of the file's text.
#[derive(Debug)]
struct Edit {
    span: Span,
    text: String,
}

/// Rewrite `file`'s cases in `results` to what came out, and mark them updated. Returns
/// whether the file was written.
pub(crate) fn update(file: &TestFile, results: &mut [CaseResult]) -> Result<bool, TestFileError> {
    let mut edits: Vec<Edit> = Vec::new();
    let mut touched = Vec::new();
    for (index, result) in results.iter().enumerate() {
        let Some(case) = file.cases.iter().find(|c| c.name == result.name) else {
            continue;
        };
        if result.got.verdict == Verdict::Error {
            continue;
        }
        // A manifest written in the test file moves with every line written above it, the
        // case's own `findings:` included when it comes first; the lines an edit adds do not
        // depend on the numbers in it, so a second pass that counts this case's edits is
        // exact.
        let provisional = case_edits(file, case, result, &edits);
        let mut before: Vec<&Edit> = edits.iter().collect();
        before.extend(&provisional);
        let own = case_edits(file, case, result, &before);
        if !own.is_empty() {
            touched.push(index);
        }
        edits.extend(own);
    }
    if edits.is_empty() {
        return Ok(false);
    }
    let text = apply(file.source.text(), edits);
    // The edits are written by admit; a file they broke would be admit's bug, and is never
    // written.
    if let Some(error) = documents::load(&text).errors.first() {
        return Err(TestFileError::whole(
            file.source.name(),
            format!(
                "--update would make it invalid YAML ({}), so it was left as it was",
                error.message
            ),
        ));
    }
    crate::atomic_file::write(Path::new(file.source.name()), text.as_bytes())
        .map_err(|e| TestFileError::whole(file.source.name(), format!("cannot write it: {e}")))?;
    for index in touched {
        let result = &mut results[index];
        result.mismatches.retain(|m| !m.is_updatable());
        result.status = if result.mismatches.is_empty() {
            Status::Updated
        } else {
            Status::Failed
        };
    }
    Ok(true)
}

/// The edits that make `case` expect what `result` got.
fn case_edits<E: std::borrow::Borrow<Edit>>(
    file: &TestFile,
    case: &Case,
    result: &CaseResult,
    earlier: &[E],
) -> Vec<Edit> {
    let text = file.source.text();
    let layout = &case.expect.layout;
    let mut edits = Vec::new();
    if result
        .mismatches
        .iter()
        .any(|m| matches!(m, Mismatch::Result { .. }))
    {
        edits.push(Edit {
            span: layout.result,
            text: result.got.verdict.name().to_string(),
        });
    }
    if !case.input.is_manifest() {
        return edits;
    }
    let diff = result.mismatches.iter().find_map(|m| match m {
        Mismatch::Findings(diff) => Some(diff),
        _ => None,
    });
    let pointers: Vec<Option<String>> = (0..result.got.findings.len())
        .map(|j| {
            let i = diff?.lines.iter().find_map(|line| match line {
                DiffLine::Same(i, found) if *found == j => Some(*i),
                _ => None,
            })?;
            case.expect.findings.as_ref()?.get(i)?.pointer.clone()
        })
        .collect();
    let home = match &case.input {
        super::format::CaseInput::ManifestFile(path) => path.display().to_string(),
        _ => file.source.name().to_string(),
    };
    let entries: Vec<Vec<(&str, String)>> = result
        .got
        .findings
        .iter()
        .zip(&pointers)
        .map(|(finding, pointer)| {
            let at = place(finding).map(|(name, line, column)| {
                match &finding.location {
                    // In the test file itself: where it will be once the edits are made.
                    Some(location) if name == file.source.name() => {
                        let (line, column) = moved(text, earlier, location.span.start);
                        (name.to_string(), line, column)
                    }
                    _ => (name.to_string(), line, column),
                }
            });
            entry(finding, at, pointer.as_deref(), &home, &file.directory)
        })
        .collect();
    match layout.findings {
        Some(_) if diff.is_none() => {}
        Some((key, value)) => {
            let colon = text[key.end..]
                .find(':')
                .map_or(key.end, |i| key.end + i + 1);
            let prefix = line_prefix(text, key.start);
            edits.push(Edit {
                span: Span::new(key.start, value.end.max(colon)),
                text: format!("findings:{}", render(&entries, prefix)),
            });
        }
        None => edits.extend(insert_findings(text, &layout.node, &entries)),
    }
    edits
}

/// `findings:` added to the `expect:` mapping `node`, after its last entry.
fn insert_findings(text: &str, node: &Node, entries: &[Vec<(&str, String)>]) -> Option<Edit> {
    let Value::Mapping(existing) = &node.value else {
        return None;
    };
    let first = existing.first()?;
    if text[node.span.start..].starts_with('{') {
        // A flow mapping: before its closing brace.
        let end = node.span.end.checked_sub(1)?;
        return Some(Edit {
            span: Span::new(end, end),
            text: format!(", findings: {}", flow(entries)),
        });
    }
    let prefix = line_prefix(text, first.key_span.start);
    if !prefix.chars().all(|c| c == ' ') {
        return None;
    }
    // After the rest of the last entry's line, which holds at most a comment.
    let at = text[node.span.end..]
        .find('\n')
        .map_or(text.len(), |i| node.span.end + i);
    Some(Edit {
        span: Span::new(at, at),
        text: format!("\n{prefix}findings:{}", render(entries, prefix)),
    })
}

/// The text of the line before `offset`.
fn line_prefix(text: &str, offset: usize) -> &str {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    &text[start..offset]
}

/// A `findings:` value, after the key: block entries under a key indented by `prefix`, or
/// a flow list when the key sits in a flow mapping.
fn render(entries: &[Vec<(&str, String)>], prefix: &str) -> String {
    if entries.is_empty() {
        return " []".to_string();
    }
    if !prefix.chars().all(|c| c == ' ') {
        return format!(" {}", flow(entries));
    }
    let indent = " ".repeat(prefix.len() + 2);
    let mut out = String::new();
    for fields in entries {
        for (i, (key, value)) in fields.iter().enumerate() {
            let lead = if i == 0 { "- " } else { "  " };
            // `at` looks like a YAML 1.1 sexagesimal number to some readers: always quoted.
            let value = if *key == "at" {
                quoted(value)
            } else {
                scalar(value)
            };
            out.push_str(&format!("\n{indent}{lead}{key}: {value}"));
        }
    }
    out
}

/// Entries as a flow list, every value double-quoted: a plain scalar cannot hold `,` there.
fn flow(entries: &[Vec<(&str, String)>]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|fields| {
            let fields: Vec<String> = fields
                .iter()
                .map(|(key, value)| format!("{key}: {}", quoted(value)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// A finding's fields, unquoted, as a test file writes them: `at` (`LINE:COL` in the case's manifest
/// `home`, else `PATH:LINE:COL` relative to the test file's `directory`), `kind` unless a
/// rejection, `policy`, `message`, and the `pointer` the case already wrote for it.
fn entry<'a>(
    finding: &Finding,
    at: Option<(String, usize, usize)>,
    pointer: Option<&str>,
    home: &str,
    directory: &Path,
) -> Vec<(&'a str, String)> {
    let mut fields = Vec::new();
    if let Some((file, line, column)) = at {
        let at = if file == home {
            format!("{line}:{column}")
        } else {
            format!("{}:{line}:{column}", relative(Path::new(&file), directory))
        };
        fields.push(("at", at));
    }
    if finding.kind != FindingKind::Rejection {
        fields.push(("kind", kind_name(finding.kind).to_string()));
    }
    fields.push(("policy", finding.source.clone()));
    fields.push(("message", finding.message.clone()));
    if let Some(pointer) = pointer {
        fields.push(("pointer", pointer.to_string()));
    }
    fields
}

/// `file` relative to `directory`, both as reports name them.
fn relative(file: &Path, directory: &Path) -> String {
    let file = absolute(file);
    let directory = absolute(directory);
    let file: Vec<_> = file.components().collect();
    let directory: Vec<_> = directory.components().collect();
    let common = file
        .iter()
        .zip(&directory)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = std::path::PathBuf::new();
    for _ in common..directory.len() {
        out.push("..");
    }
    for component in &file[common..] {
        out.push(component);
    }
    out.display().to_string()
}

/// `text` as a YAML scalar that reads back as exactly `text`: plain when it can be, else
/// single-quoted, else double-quoted with JSON's escapes (which YAML's double quotes share).
fn scalar(text: &str) -> String {
    let single = format!("'{}'", text.replace('\'', "''"));
    [text.to_string(), single]
        .into_iter()
        .find(|candidate| !candidate.contains(['\n', '\r']) && reads_back(candidate, text))
        .unwrap_or_else(|| quoted(text))
}

/// `text` double-quoted.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}

fn reads_back(candidate: &str, text: &str) -> bool {
    let loaded = documents::load(&format!("k: {candidate}\n"));
    loaded.errors.is_empty()
        && loaded
            .documents
            .first()
            .and_then(|d| d.root.get("k"))
            .and_then(Node::as_str)
            == Some(text)
}

/// The one-based line and column that byte `offset` of `text` will have once the `earlier`
/// edits before it are made.
fn moved<E: std::borrow::Borrow<Edit>>(text: &str, earlier: &[E], offset: usize) -> (usize, usize) {
    let mut before: Vec<&Edit> = earlier
        .iter()
        .map(std::borrow::Borrow::borrow)
        .filter(|edit| edit.span.end <= offset)
        .collect();
    before.sort_by_key(|edit| std::cmp::Reverse((edit.span.start, edit.span.end)));
    let mut prefix = text[..offset].to_string();
    for edit in before {
        prefix.replace_range(edit.span.start..edit.span.end, &edit.text);
    }
    let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
    (
        prefix.matches('\n').count() + 1,
        prefix[line_start..].chars().count() + 1,
    )
}

/// `text` with `edits` (which never overlap) applied.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|edit| std::cmp::Reverse((edit.span.start, edit.span.end)));
    let mut out = text.to_string();
    for edit in edits {
        out.replace_range(edit.span.start..edit.span.end, &edit.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_plain_when_they_read_back_so() {
        assert_eq!(scalar("privileged"), "privileged");
        assert_eq!(
            scalar("container \"agent\" must not be privileged"),
            "container \"agent\" must not be privileged"
        );
        assert_eq!(scalar("true"), "'true'");
        assert_eq!(scalar("a: b"), "'a: b'");
        assert_eq!(scalar("it's # not"), "'it''s # not'");
        assert_eq!(scalar("two\nlines"), "\"two\\nlines\"");
        assert_eq!(scalar(""), "''");
    }

    #[test]
    fn block_findings_are_indented_under_their_key() {
        let entries = vec![vec![
            ("at", "3:5".to_string()),
            ("policy", "p".to_string()),
            ("message", "a, b: c".to_string()),
        ]];
        assert_eq!(
            render(&entries, "      "),
            "\n        - at: \"3:5\"\n          policy: p\n          message: 'a, b: c'"
        );
        assert_eq!(render(&[], "  "), " []");
        assert_eq!(
            render(&entries, "    expect: {"),
            " [{at: \"3:5\", policy: \"p\", message: \"a, b: c\"}]"
        );
    }

    #[test]
    fn paths_are_relative_to_the_test_file() {
        assert_eq!(
            relative(Path::new("fixtures/a/fail.yaml"), Path::new("policies/a")),
            "../../fixtures/a/fail.yaml"
        );
        assert_eq!(relative(Path::new("x/b.yaml"), Path::new("x")), "b.yaml");
    }
}
