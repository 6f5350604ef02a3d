//! A test file that cannot be used: a diagnostic at the line that makes it so, as admit.yaml's
//! mistakes are reported.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::config::reader::Problem;
use crate::source::{SourceFile, Span};

/// What is wrong with a test file, or with a file it names (a context file, a request).
#[derive(Debug, Clone)]
pub(crate) struct TestFileError {
    /// The test file, as reports name it.
    pub(crate) test_file: String,
    /// What is wrong.
    pub(crate) message: String,
    /// How to put it right.
    pub(crate) help: Option<String>,
    /// The file and node at fault, when there is one to point at.
    pub(crate) at: Option<(SourceFile, Span)>,
}

impl TestFileError {
    /// A problem about the test file as a whole (it cannot be read).
    pub(crate) fn whole(test_file: &str, message: impl Into<String>) -> Self {
        TestFileError {
            test_file: test_file.to_string(),
            message: message.into(),
            help: None,
            at: None,
        }
    }

    /// `problem`, found in `file` while reading the test file `test_file`.
    pub(crate) fn at(test_file: &str, file: &SourceFile, problem: Problem) -> Self {
        TestFileError {
            test_file: test_file.to_string(),
            message: problem.message,
            help: problem.help,
            at: Some((file.clone(), problem.span)),
        }
    }

    /// `path:line:col` of the node at fault, else the test file's name.
    pub(crate) fn place(&self) -> String {
        match &self.at {
            Some((file, span)) => format!("{}:{}", file.name(), file.location(span.start)),
            None => self.test_file.clone(),
        }
    }

    /// The one-based line and column of the node at fault, in its file.
    pub(crate) fn location(&self) -> Option<crate::source::Location> {
        self.at
            .as_ref()
            .map(|(file, span)| file.location(span.start))
    }
}

impl fmt::Display for TestFileError {
    // The file and line are in the diagnostic's header, next to the snippet; without one,
    // the message names the file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(_) => f.write_str(&self.message),
            None => write!(f, "{}: {}", self.test_file, self.message),
        }
    }
}

impl std::error::Error for TestFileError {}

impl Diagnostic for TestFileError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.at.as_ref().map(|(file, _)| file as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span) = self.at.as_ref()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some("here".into()), *span),
        )))
    }
}
