//! The JUnit XML report, for CI test views, written by `quick-junit` as `admit check`'s is.
//!
//! - One `<testsuite>` per test file, named by its path.
//! - One `<testcase>` per case that ran, named by the case, its `classname` the suite's name:
//!   a `<failure>` when it failed, an `<error>` when it ended in an error, passing otherwise (an
//!   updated case passes). The failure's `message` is what differs in one line; its text is
//!   what differs in full, findings missing (`-`) and unexpected (`+`) one per line (every
//!   finding, `found:`, when the case does not compare findings).
//! - A test file that could not be used is its suite with one `<error>` case, `the test file`,
//!   whose text is the diagnostic's place and message.
//! - Cases `--filter` left out are not listed.

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::{detail, errors_line, found_lines, summarize};
use crate::suite::outcome::{CaseResult, Status, SuiteOutcome};

pub(super) fn write(out: &mut dyn std::io::Write, outcome: &SuiteOutcome) -> std::io::Result<()> {
    let mut report = quick_junit::Report::new("admit test");
    report.set_time(outcome.elapsed);
    for file in &outcome.files {
        let mut suite = TestSuite::new(file.file.as_str());
        match &file.cases {
            Ok(cases) => {
                for case in cases {
                    suite.add_test_case(test_case(&file.suite, case));
                }
            }
            Err(error) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_message(error.message.as_str())
                    .set_type("invalid test file")
                    .set_description(format!("{}: {}", error.place(), error.message));
                let mut case = TestCase::new("the test file", status);
                case.set_classname(file.file.as_str());
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    report.serialize(&mut *out).map_err(std::io::Error::other)?;
    writeln!(out)
}

fn test_case(suite: &str, case: &CaseResult) -> TestCase {
    let mut lines: Vec<String> = case.mismatches.iter().flat_map(detail).collect();
    lines.extend(found_lines(case));
    let mut message: Vec<String> = case.mismatches.iter().map(summarize).collect();
    if case.status == Status::Error {
        let errors = format!("errors: {}", errors_line(&case.got.errors));
        lines.push(errors.clone());
        message.push(errors);
    }
    let kind = match case.status {
        Status::Passed | Status::Updated => None,
        Status::Failed => Some(NonSuccessKind::Failure),
        Status::Error => Some(NonSuccessKind::Error),
    };
    let status = match kind {
        Some(kind) => {
            let mut status = TestCaseStatus::non_success(kind);
            status
                .set_message(message.join("; "))
                .set_type(case.status.name())
                .set_description(lines.join("\n"));
            status
        }
        None => TestCaseStatus::success(),
    };
    let mut test_case = TestCase::new(case.name.as_str(), status);
    test_case.set_classname(suite);
    test_case
}
