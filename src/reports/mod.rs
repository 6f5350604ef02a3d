//! Reports: how findings look. Each printer is a sink that consumes a finished check's
//! outcome; nothing upstream knows about terminals or file formats.

mod concise;
mod excerpt;
mod github;
mod human;
mod json;
mod junit;
mod notes;
mod sarif;
mod summary;

pub(crate) use concise::ConciseReport;
pub(crate) use github::GithubReport;
pub(crate) use human::HumanReport;
pub(crate) use json::JsonReport;
pub(crate) use junit::JunitReport;
pub(crate) use notes::{notes, unchecked};
pub(crate) use sarif::SarifReport;
pub(crate) use summary::SummaryLine;

use crate::check::{CheckOutcome, Summary};

/// A printer of a finished check.
pub(crate) trait Report {
    /// Write the outcome: its findings are already in report order, and suppressed ones are
    /// marked (a format that cannot show them as suppressed leaves them out).
    fn write(&self, out: &mut dyn std::io::Write, outcome: &CheckOutcome) -> std::io::Result<()>;
}

/// The notes after the summary line of the text reports, each on its own `note: ` line.
fn write_notes(out: &mut dyn std::io::Write, summary: &Summary) -> std::io::Result<()> {
    for note in notes(summary) {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

/// One report to produce: a format, and the file it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputSpec {
    /// The format.
    pub(crate) format: Format,
    /// Where to write it; `None` is standard output.
    pub(crate) file: Option<std::path::PathBuf>,
}

/// Every output format, by the name `--format` and the configuration use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    /// Snippets with the node underlined, for a person at a terminal.
    Human,
    /// One line per finding: `path:line:col: severity[policy] message`.
    Concise,
    /// The versioned JSON document described by `docs/report.schema.json`.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for GitLab, Jenkins and Azure test reports.
    Junit,
    /// GitHub Actions workflow commands, shown as annotations on the diff.
    Github,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub(crate) const ALL: [Format; 6] = [
        Format::Human,
        Format::Concise,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
    ];

    /// The format's name on the command line and in configuration.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Concise => "concise",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
        }
    }

    /// Whether the report shows the files' text: only `human` does, with its snippets. The
    /// others need only names, lines and columns, which cached results keep.
    pub(crate) fn shows_source(self) -> bool {
        self == Format::Human
    }

    /// The format called `name`, if there is one.
    pub(crate) fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The printer for this format. `color` and `width` only matter to `human`.
    pub(crate) fn report(self, color: bool, width: usize) -> Box<dyn Report> {
        match self {
            Format::Human => Box::new(HumanReport::new(color, width)),
            Format::Concise => Box::new(ConciseReport),
            Format::Json => Box::new(JsonReport),
            Format::Sarif => Box::new(SarifReport),
            Format::Junit => Box::new(JunitReport),
            Format::Github => Box::new(GithubReport),
        }
    }
}
