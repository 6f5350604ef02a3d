//! What a run of test files ends with: each case's result, each unusable file's error, the
//! counts, and the exit code. The reports are sinks that print it.

use std::time::Duration;

use serde_json::Value;

use super::error::TestFileError;
use super::format::{MessageMatch, Verdict};
use super::verdict::FindingsDiff;
use crate::findings::Finding;
use crate::source::Location;

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Everything expected came out.
    Passed,
    /// Something else came out.
    Failed,
    /// A policy failed (or the input could not be checked) where the case expected none to.
    Error,
    /// `--update` rewrote its expected findings (and result) to what came out.
    Updated,
}

impl Status {
    /// Its name in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::Updated => "updated",
        }
    }
}

/// What a case's policies gave.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    /// The verdict.
    pub(crate) verdict: Verdict,
    /// The findings that are not errors, unsuppressed, in report order (manifests only).
    pub(crate) findings: Vec<Finding>,
    /// Errors: a policy that could not load, refused its settings or failed; an input that
    /// could not be checked.
    pub(crate) errors: Vec<Finding>,
    /// What the rejections said (the errors, when the verdict is `error`).
    pub(crate) messages: Vec<String>,
    /// The policies' warnings.
    pub(crate) warnings: Vec<String>,
    /// The case's one policy's JSON Patch, when the case expects one.
    pub(crate) patch: Option<Value>,
}

/// One way what came out differs from what was expected.
#[derive(Debug, Clone)]
pub(crate) enum Mismatch {
    /// Another verdict.
    Result { expected: Verdict, got: Verdict },
    /// A message that does not match (or no message at all).
    Message {
        expected: MessageMatch,
        got: Vec<String>,
    },
    /// Findings missing or unexpected.
    Findings(FindingsDiff),
    /// Other warnings.
    Warnings {
        expected: Vec<String>,
        got: Vec<String>,
    },
    /// Another patch.
    Patch { expected: Value, got: Value },
}

impl Mismatch {
    /// What the mismatch is about, as test files name it.
    pub(crate) fn subject(&self) -> &'static str {
        match self {
            Mismatch::Result { .. } => "result",
            Mismatch::Message { .. } => "message",
            Mismatch::Findings(_) => "findings",
            Mismatch::Warnings { .. } => "warnings",
            Mismatch::Patch { .. } => "patch",
        }
    }

    /// Whether `--update` can write what came out in its place.
    pub(crate) fn is_updatable(&self) -> bool {
        matches!(self, Mismatch::Result { .. } | Mismatch::Findings(_))
    }
}

/// One case, run.
#[derive(Debug, Clone)]
pub(crate) struct CaseResult {
    /// Its name.
    pub(crate) name: String,
    /// Where it is written in its test file.
    pub(crate) location: Location,
    /// How it ended.
    pub(crate) status: Status,
    /// How what came out differs from what was expected.
    pub(crate) mismatches: Vec<Mismatch>,
    /// What came out.
    pub(crate) got: Got,
}

/// One test file, run.
#[derive(Debug, Clone)]
pub(crate) struct FileResult {
    /// The file, as reports name it.
    pub(crate) file: String,
    /// The suite's name.
    pub(crate) suite: String,
    /// Its cases that ran, in the order written; or why none could.
    pub(crate) cases: Result<Vec<CaseResult>, TestFileError>,
    /// Cases `--filter` left out.
    pub(crate) filtered: usize,
}

/// A whole run.
#[derive(Debug, Clone)]
pub(crate) struct SuiteOutcome {
    /// Every test file, in path order.
    pub(crate) files: Vec<FileResult>,
    /// Wall time.
    pub(crate) elapsed: Duration,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Test files.
    pub(crate) files: usize,
    /// Cases that ran.
    pub(crate) cases: usize,
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    /// Cases that ended in an error, and test files that could not be used.
    pub(crate) errors: usize,
    pub(crate) updated: usize,
    /// Cases `--filter` left out.
    pub(crate) filtered: usize,
}

impl SuiteOutcome {
    /// The counts of the run.
    pub(crate) fn counts(&self) -> Counts {
        let mut counts = Counts {
            files: self.files.len(),
            ..Counts::default()
        };
        for file in &self.files {
            counts.filtered += file.filtered;
            let Ok(cases) = &file.cases else {
                counts.errors += 1;
                continue;
            };
            for case in cases {
                counts.cases += 1;
                match case.status {
                    Status::Passed => counts.passed += 1,
                    Status::Failed => counts.failed += 1,
                    Status::Error => counts.errors += 1,
                    Status::Updated => counts.updated += 1,
                }
            }
        }
        counts
    }

    /// 2 if a test file could not be used or a case ended in an error, 1 if a case failed,
    /// 0 when every case passed (or was updated).
    pub(crate) fn exit_code(&self) -> u8 {
        let counts = self.counts();
        if counts.errors > 0 {
            2
        } else if counts.failed > 0 {
            1
        } else {
            0
        }
    }
}

impl std::fmt::Display for Counts {
    /// `Tested 2 files: 5 cases, 4 passed, 1 failed, 0 errors`, with what was updated or
    /// filtered out when there is any.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "Tested {}: {}, {} passed, {} failed, {}",
            plural(self.files, "file", "files"),
            plural(self.cases, "case", "cases"),
            self.passed,
            self.failed,
            plural(self.errors, "error", "errors"),
        )?;
        if self.updated > 0 {
            write!(f, ", {} updated", self.updated)?;
        }
        if self.filtered > 0 {
            write!(f, ", {} filtered out", self.filtered)?;
        }
        Ok(())
    }
}
