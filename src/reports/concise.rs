//! The concise report: one line per finding, in the `path:line:col: ...` shape that editors
//! (Vim's quickfix list, VS Code's problem matchers, Emacs' compilation mode) and `grep` already
//! understand, then the summary line.
//!
//! ```text
//! deploy/app.yaml:12:19: error[privileged] container "app" must not run privileged
//! deploy/missing.yaml: error[input] no such file or directory
//! Checked 1 file, 1 object, 1 policy (1 evaluation): 1 finding in 1 object; 1 error (0.01 s)
//! ```
//!
//! - A finding about a place in a file starts with `path:line:col:` (one-based, columns in
//!   characters), the path as it was given on the command line.
//! - A finding about a whole file (one that cannot be read) starts with `path:`, or
//!   `path:line:` when the line of the problem is known (invalid UTF-8).
//! - A finding about no file (a policy that cannot be loaded or whose settings are invalid)
//!   starts with `admit:` instead, as compilers prefix their own errors with their name, so
//!   `grep '^admit:'` finds exactly those.
//! - Then `severity[policy]`: `error`, `warning` or `note`, and the policy id or admit's own
//!   code (`invalid-yaml`, `input`, ...).
//! - A message spanning several lines is joined into one, so that one line is one finding.
//! - Suppressed findings are left out (the summary counts them); the JSON and SARIF reports
//!   list them.
//! - After the summary, `note: ...` lines say what was left out on purpose (other tools'
//!   configurations, Helm charts, broken links).

use super::{Report, SummaryLine, write_notes};
use crate::check::CheckOutcome;
use crate::findings::Finding;

/// One line per finding, then the summary.
pub(crate) struct ConciseReport;

impl Report for ConciseReport {
    fn write(&self, out: &mut dyn std::io::Write, outcome: &CheckOutcome) -> std::io::Result<()> {
        for finding in outcome.findings.iter().filter(|f| f.is_active()) {
            writeln!(out, "{}", line(finding))?;
        }
        writeln!(out, "{}", SummaryLine(&outcome.summary))?;
        write_notes(out, &outcome.summary)
    }
}

/// The concise line for `finding`, without a line break; the JUnit report quotes it too.
pub(super) fn line(finding: &Finding) -> String {
    format!(
        "{}: {}[{}] {}",
        place(finding),
        finding.severity.name(),
        finding.source,
        one_line(&finding.message)
    )
}

/// `path:line:col` of the finding's start; `path` (`path:line` when the line is known) for a
/// finding about a whole file; `admit` for a finding about no file.
pub(super) fn place(finding: &Finding) -> String {
    match (&finding.location, &finding.file) {
        (Some(location), _) => format!(
            "{}:{}",
            location.file.name(),
            location.file.location(location.span.start)
        ),
        (None, Some(file)) => match file.line {
            Some(line) => format!("{}:{line}", file.name),
            None => file.name.clone(),
        },
        (None, None) => "admit".to_string(),
    }
}

/// `text` with every line break (and the indentation after it) turned into one space.
fn one_line(text: &str) -> String {
    if !text.contains(['\n', '\r']) {
        return text.to_string();
    }
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Summary;
    use crate::findings::{FindingKind, SourceRef, Suppressed, SuppressionKind};
    use crate::source::{SourceFile, Span};

    #[test]
    fn one_line_per_active_finding_then_the_summary() {
        let file = SourceFile::new("deploy/app.yaml", "a: 1\nprivileged: true\n");
        let start = file.text().find("true").expect("value");
        let at = SourceRef {
            file,
            span: Span::new(start, start + 4),
            document: 0,
            pointer: None,
            label: "here".into(),
            object: None,
        };
        let rejected = Finding::new(
            FindingKind::Rejection,
            "privileged",
            "must not\n  be privileged",
        )
        .at(at.clone());
        let mut silenced = Finding::new(FindingKind::Rejection, "host-ports", "hidden").at(at);
        silenced.suppressed = Some(Suppressed {
            kind: SuppressionKind::Annotation,
            reason: Some("needed".into()),
        });
        let unreadable = Finding::new(FindingKind::Error, "input", "cannot read x.yaml");
        let outcome = CheckOutcome {
            findings: vec![unreadable, rejected, silenced],
            policies: Vec::new(),
            summary: Summary::default(),
            logs: Vec::new(),
        };
        let mut out = Vec::new();
        ConciseReport.write(&mut out, &outcome).expect("written");
        let text = String::from_utf8(out).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..2],
            [
                "admit: error[input] cannot read x.yaml",
                "deploy/app.yaml:2:13: error[privileged] must not be privileged",
            ]
        );
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[2].starts_with("Checked 0 files"), "{text}");
    }
}
