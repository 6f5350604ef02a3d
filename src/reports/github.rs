//! The GitHub Actions report: one workflow command per finding, which the runner turns into an
//! annotation on the pull request's diff, at the finding's line and column.
//!
//! ```text
//! ::error file=deploy/app.yaml,line=12,col=19,endLine=12,endColumn=23,title=privileged::container "app" must not run privileged
//! ::error file=deploy/missing.yaml,title=input::no such file or directory
//! Checked 1 file, 1 object, 1 policy (1 evaluation): 1 finding in 1 object; 1 error (0.01 s)
//! ```
//!
//! - The command is `::error`, `::warning` or `::notice` by the finding's severity; `title` is
//!   the policy id (or admit's own code such as `invalid-yaml`).
//! - `line`/`col` are one-based, columns in characters; `endLine`/`endColumn` point one past
//!   the node's last character, as in SARIF. The path is the one given on the command line,
//!   without a leading `./`; GitHub matches it against the repository root, so run admit from
//!   there.
//! - A file that cannot be read is annotated as a whole: `file` without a column (`line` when
//!   the line is known, as for invalid UTF-8). A finding about no file (a policy that cannot
//!   be loaded) is an annotation without `file`, shown on the run's summary page.
//! - The message, and the help after it on a line of its own, are escaped as the runner
//!   expects (`%` `\r` `\n`; in property values also `:` and `,`), so a message can never end
//!   the command early or start a command of its own.
//! - The summary follows as a plain line, for the step's log, then its `note: ...` lines.
//! - Suppressed findings are left out (the summary counts them).
//!
//! GitHub shows at most 10 annotations of each type per step; the rest are still in the log.

use super::{Report, SummaryLine, write_notes};
use crate::check::CheckOutcome;
use crate::findings::{Finding, Severity};

/// GitHub Actions workflow commands, one per finding, then the summary.
pub(crate) struct GithubReport;

impl Report for GithubReport {
    fn write(&self, out: &mut dyn std::io::Write, outcome: &CheckOutcome) -> std::io::Result<()> {
        for finding in outcome.findings.iter().filter(|f| f.is_active()) {
            writeln!(out, "{}", command(finding))?;
        }
        writeln!(out, "{}", SummaryLine(&outcome.summary))?;
        write_notes(out, &outcome.summary)
    }
}

/// The workflow command that annotates `finding`.
fn command(finding: &Finding) -> String {
    let level = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut properties = Vec::new();
    if let Some(location) = &finding.location {
        let start = location.file.location(location.span.start);
        let end = location.file.location(location.span.end);
        properties.push(format!(
            "file={}",
            escape_property(&repository_path(location.file.name()))
        ));
        properties.push(format!("line={}", start.line));
        properties.push(format!("col={}", start.column));
        properties.push(format!("endLine={}", end.line));
        properties.push(format!("endColumn={}", end.column));
    } else if let Some(file) = &finding.file {
        properties.push(format!(
            "file={}",
            escape_property(&repository_path(&file.name))
        ));
        if let Some(line) = file.line {
            properties.push(format!("line={line}"));
        }
    }
    properties.push(format!("title={}", escape_property(&finding.source)));
    let mut message = finding.message.clone();
    if let Some(code) = finding.code {
        message.push_str(&format!(" (code {code})"));
    }
    if let Some(help) = &finding.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    format!(
        "::{level} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

/// A path as the user gave it, written the way repository tools expect: forward slashes, no
/// leading `./`. The SARIF report uses it too.
pub(super) fn repository_path(name: &str) -> String {
    let name = if cfg!(windows) {
        name.replace('\\', "/")
    } else {
        name.to_string()
    };
    let mut rest = name.as_str();
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped.trim_start_matches('/');
    }
    rest.to_string()
}

/// Escape a command's message, as the Actions runner's `escapeData` does.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command property's value, as the Actions runner's `escapeProperty` does.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{FindingKind, SourceRef};
    use crate::source::{SourceFile, Span};

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn paths_lose_their_leading_dot_slash() {
        assert_eq!(repository_path("./deploy/app.yaml"), "deploy/app.yaml");
        assert_eq!(repository_path(".//x.yaml"), "x.yaml");
        assert_eq!(repository_path("../x.yaml"), "../x.yaml");
    }

    #[test]
    fn a_finding_becomes_one_annotation() {
        let file = SourceFile::new("./a,b.yaml", "kind: Pod\nx: ü1\n");
        let start = file.text().find('1').expect("value");
        let finding = Finding::new(FindingKind::Warning, "p:1", "bad\nvalue")
            .at(SourceRef {
                file,
                span: Span::new(start, start + 1),
                document: 0,
                pointer: None,
                label: "here".into(),
                object: None,
            })
            .with_help("fix it");
        assert_eq!(
            command(&finding),
            "::warning file=a%2Cb.yaml,line=2,col=5,endLine=2,endColumn=6,title=p%3A1::bad%0Avalue%0Ahelp: fix it"
        );
        let error = Finding::new(FindingKind::Error, "admit", "no runtime");
        assert_eq!(command(&error), "::error title=admit::no runtime");
        let unreadable = Finding::new(FindingKind::Error, "input", "not valid UTF-8")
            .in_file("./a,b.yaml", Some(3));
        assert_eq!(
            command(&unreadable),
            "::error file=a%2Cb.yaml,line=3,title=input::not valid UTF-8"
        );
    }
}
