//! Whether a case passed: what came out compared with what the case expects, and, for
//! findings, which are missing and which unexpected (a diff, as a snapshot tool shows one).

use super::format::{Expect, ExpectedFinding, Verdict, kind_name};
use super::outcome::{Got, Mismatch, Status};
use crate::findings::Finding;

/// Expected findings against those that came out, aligned: the longest run of pairs that
/// match, in order, and what is left on either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FindingsDiff {
    /// In order: expected `i` matched by finding `j`, expected `i` missing, or finding `j`
    /// unexpected.
    pub(crate) lines: Vec<DiffLine>,
    /// The expected findings, described.
    pub(crate) expected: Vec<String>,
    /// The findings that came out, described.
    pub(crate) got: Vec<String>,
}

/// One line of a [`FindingsDiff`], by index into the expected findings and those that came
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffLine {
    Same(usize, usize),
    Missing(usize),
    Unexpected(usize),
}

impl FindingsDiff {
    /// How many expected findings did not come out, and how many came out unexpected.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let missing = self
            .lines
            .iter()
            .filter(|l| matches!(l, DiffLine::Missing(_)))
            .count();
        let unexpected = self
            .lines
            .iter()
            .filter(|l| matches!(l, DiffLine::Unexpected(_)))
            .count();
        (missing, unexpected)
    }
}

/// How `got` differs from `expect`. An error where none was expected is the one mismatch
/// reported: what else came out is beside the point.
pub(crate) fn compare(expect: &Expect, got: &Got) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if expect.result != got.verdict {
        mismatches.push(Mismatch::Result {
            expected: expect.result,
            got: got.verdict,
        });
        if got.verdict == Verdict::Error {
            return mismatches;
        }
    }
    if let Some(message) = &expect.message
        && (got.messages.is_empty() || !got.messages.iter().all(|m| message.matches(m)))
    {
        mismatches.push(Mismatch::Message {
            expected: message.clone(),
            got: got.messages.clone(),
        });
    }
    if let Some(expected) = &expect.findings {
        let diff = diff(expected, &got.findings);
        if diff.lines.iter().any(|l| !matches!(l, DiffLine::Same(..))) {
            mismatches.push(Mismatch::Findings(diff));
        }
    }
    if let Some(expected) = &expect.warnings
        && *expected != got.warnings
    {
        mismatches.push(Mismatch::Warnings {
            expected: expected.clone(),
            got: got.warnings.clone(),
        });
    }
    if let Some(expected) = &expect.patch {
        let got = got.patch.clone().unwrap_or(serde_json::Value::Null);
        if *expected != got {
            mismatches.push(Mismatch::Patch {
                expected: expected.clone(),
                got,
            });
        }
    }
    mismatches
}

/// How a case with these mismatches ended.
pub(crate) fn status(expect: &Expect, got: &Got, mismatches: &[Mismatch]) -> Status {
    if got.verdict == Verdict::Error && expect.result != Verdict::Error {
        Status::Error
    } else if mismatches.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    }
}

/// The findings aligned by their longest common subsequence, so that one finding more or less
/// shows as one line, not as every later one shifted.
pub(crate) fn diff(expected: &[ExpectedFinding], got: &[Finding]) -> FindingsDiff {
    let (n, m) = (expected.len(), got.len());
    // lengths[i][j]: the longest match of expected[i..] and got[j..].
    let mut lengths = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lengths[i][j] = if matches(&expected[i], &got[j]) {
                lengths[i + 1][j + 1] + 1
            } else {
                lengths[i + 1][j].max(lengths[i][j + 1])
            };
        }
    }
    let mut lines = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && matches(&expected[i], &got[j]) {
            lines.push(DiffLine::Same(i, j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lengths[i + 1][j] >= lengths[i][j + 1]) {
            // On a tie, what was expected comes first, as `-` lines precede `+` in a diff.
            lines.push(DiffLine::Missing(i));
            i += 1;
        } else {
            lines.push(DiffLine::Unexpected(j));
            j += 1;
        }
    }
    FindingsDiff {
        lines,
        expected: expected.iter().map(describe_expected).collect(),
        got: got.iter().map(describe).collect(),
    }
}

/// Whether `finding` is what `expected` describes: every field written is equal.
pub(crate) fn matches(expected: &ExpectedFinding, finding: &Finding) -> bool {
    let at_matches = expected.at.as_ref().is_none_or(|at| {
        place(finding).is_some_and(|(file, line, column)| {
            file == at.file && line == at.line && column == at.column
        })
    });
    let pointer = finding
        .location
        .as_ref()
        .and_then(|l| l.pointer.as_deref())
        .unwrap_or("");
    expected.kind == finding.kind
        && at_matches
        && expected
            .policy
            .as_ref()
            .is_none_or(|p| *p == finding.source)
        && expected
            .message
            .as_ref()
            .is_none_or(|m| *m == finding.message)
        && expected.pointer.as_ref().is_none_or(|p| p == pointer)
}

/// The file, line and column a finding points at.
pub(crate) fn place(finding: &Finding) -> Option<(&str, usize, usize)> {
    match (&finding.location, &finding.file) {
        (Some(location), _) => {
            let at = location.file.location(location.span.start);
            Some((location.file.name(), at.line, at.column))
        }
        (None, Some(file)) => Some((&file.name, file.line.unwrap_or(1), 1)),
        (None, None) => None,
    }
}

/// `path:line:col: kind[policy] message`, as the concise report words a finding.
pub(crate) fn describe(finding: &Finding) -> String {
    let at = place(finding).map_or_else(
        || "admit".to_string(),
        |(file, line, column)| format!("{file}:{line}:{column}"),
    );
    format!(
        "{at}: {}[{}] {}",
        kind_name(finding.kind),
        finding.source,
        finding.message
    )
}

/// An expected finding in the words of [`describe`], `*` for what it leaves open.
pub(crate) fn describe_expected(expected: &ExpectedFinding) -> String {
    let at = expected
        .at
        .as_ref()
        .map_or_else(|| "*".to_string(), ToString::to_string);
    let mut text = format!(
        "{at}: {}[{}] {}",
        kind_name(expected.kind),
        expected.policy.as_deref().unwrap_or("*"),
        expected.message.as_deref().unwrap_or("*"),
    );
    if let Some(pointer) = &expected.pointer {
        text.push_str(&format!(" (pointer {pointer})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{FindingKind, SourceRef};
    use crate::source::{SourceFile, Span};
    use crate::suite::format::At;

    fn finding(file: &SourceFile, needle: &str, message: &str) -> Finding {
        let start = file.text().find(needle).unwrap();
        Finding::new(FindingKind::Rejection, "p", message).at(SourceRef {
            file: file.clone(),
            span: Span::new(start, start + needle.len()),
            document: 0,
            pointer: Some("/spec".into()),
            label: "here".into(),
            object: None,
        })
    }

    fn expected(line: usize, message: &str) -> ExpectedFinding {
        ExpectedFinding {
            at: Some(At {
                file: "pod.yaml".into(),
                line,
                column: 1,
            }),
            policy: Some("p".into()),
            message: Some(message.into()),
            pointer: None,
            kind: FindingKind::Rejection,
        }
    }

    #[test]
    fn one_finding_more_or_less_is_one_line_of_the_diff() {
        let file = SourceFile::new("pod.yaml", "a: 1\nb: 2\nc: 3\n");
        let got = vec![
            finding(&file, "a", "one"),
            finding(&file, "b", "two"),
            finding(&file, "c", "three"),
        ];
        let diff = diff(&[expected(1, "one"), expected(3, "three")], &got);
        assert_eq!(
            diff.lines,
            [
                DiffLine::Same(0, 0),
                DiffLine::Unexpected(1),
                DiffLine::Same(1, 2)
            ]
        );
        assert_eq!(diff.got[1], "pod.yaml:2:1: rejection[p] two");
        let diff = super::diff(&[expected(1, "one"), expected(2, "deux")], &got[..2]);
        assert_eq!(diff.counts(), (1, 1));
        assert_eq!(diff.expected[1], "pod.yaml:2:1: rejection[p] deux");
    }

    #[test]
    fn fields_left_out_are_not_compared_but_the_kind_is() {
        let file = SourceFile::new("pod.yaml", "a: 1\n");
        let got = finding(&file, "a", "one");
        let open = ExpectedFinding {
            at: None,
            policy: None,
            message: None,
            pointer: Some("/spec".into()),
            kind: FindingKind::Rejection,
        };
        assert!(matches(&open, &got));
        let warning = ExpectedFinding {
            kind: FindingKind::Warning,
            ..open.clone()
        };
        assert!(!matches(&warning, &got));
        assert_eq!(
            describe_expected(&open),
            "*: rejection[*] * (pointer /spec)"
        );
    }
}
