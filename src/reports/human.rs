//! The terminal report: one miette diagnostic per finding, with the node underlined, then a
//! one-line summary. Lines longer than a screen are cut around the node (see `excerpt`).

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode,
};

use super::excerpt::Excerpt;
use super::{Report, SummaryLine, write_notes};
use crate::check::CheckOutcome;
use crate::findings::{self, Finding, FindingKind};

/// Lines shown before and after the underlined ones.
const CONTEXT_LINES: usize = 1;

/// Human-readable output with source snippets.
pub(crate) struct HumanReport {
    handler: GraphicalReportHandler,
}

impl HumanReport {
    /// A report styled for a terminal `width` columns wide, in colour when `color` is set.
    pub(crate) fn new(color: bool, width: usize) -> Self {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        HumanReport {
            handler: GraphicalReportHandler::new_themed(theme)
                .with_width(width)
                .with_links(false)
                .with_context_lines(CONTEXT_LINES),
        }
    }

    /// Render one finding as it appears in the report.
    pub(crate) fn render(&self, finding: &Finding) -> String {
        let diagnostic = FindingDiagnostic::new(finding);
        let mut text = String::new();
        if self.handler.render_report(&mut text, &diagnostic).is_err() {
            // A span outside its file would be a bug upstream; still say what was found.
            text = format!("{diagnostic}\n");
        }
        text
    }
}

impl Report for HumanReport {
    fn write(&self, out: &mut dyn std::io::Write, outcome: &CheckOutcome) -> std::io::Result<()> {
        let (findings, summary) = (&outcome.findings, &outcome.summary);
        for finding in findings.iter().filter(|f| f.is_active()) {
            writeln!(out, "{}", self.render(finding))?;
        }
        writeln!(out, "{}", SummaryLine(summary))?;
        write_notes(out, summary)
    }
}

/// A finding seen through miette's eyes, with the excerpt of its file to show when a line
/// around it is too long to print whole, and its help with the related places and rendered
/// roots added.
struct FindingDiagnostic<'a>(&'a Finding, Option<Excerpt>, Option<String>);

impl<'a> FindingDiagnostic<'a> {
    fn new(finding: &'a Finding) -> Self {
        let excerpt = finding
            .location
            .as_ref()
            .and_then(|l| Excerpt::around(&l.file, l.span, CONTEXT_LINES));
        let mut help: Vec<String> = finding.help.iter().cloned().collect();
        for related in &finding.related {
            let at = related.file.location(related.span.start);
            help.push(format!("{}: {}:{at}", related.label, related.file.name()));
        }
        if !finding.roots.is_empty() {
            help.push(format!("rendered from {}", finding.roots.join(", ")));
        }
        let help = (!help.is_empty()).then(|| help.join("\n"));
        FindingDiagnostic(finding, excerpt, help)
    }
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let finding = self.0;
        write!(f, "{}: ", finding.source)?;
        if let Some(file) = &finding.file {
            write!(f, "{}: ", file.name)?;
        }
        write!(f, "{}", finding.message)?;
        if let Some(code) = finding.code {
            write!(f, " (code {code})")?;
        }
        // Without a snippet the file still has to be named.
        if let Some(location) = &finding.location
            && location.file.text().is_empty()
        {
            write!(f, " ({})", location.file.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn severity(&self) -> Option<Severity> {
        Some(match (self.0.kind, self.0.severity) {
            (FindingKind::Error, _) | (_, findings::Severity::Error) => Severity::Error,
            (_, findings::Severity::Warning) => Severity::Warning,
            (_, findings::Severity::Note) => Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.2
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        if let Some(excerpt) = &self.1 {
            return Some(excerpt);
        }
        self.0
            .location
            .as_ref()
            .filter(|location| !location.file.text().is_empty())
            .map(|location| &location.file as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let location = self.0.location.as_ref()?;
        if location.file.text().is_empty() {
            return None;
        }
        let span = self.1.as_ref().map_or(location.span, Excerpt::span);
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(location.label.clone()), span),
        )))
    }
}
