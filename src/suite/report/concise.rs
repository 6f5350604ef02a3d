//! The concise report: one line per case that did not pass (and per test file that could not
//! be used), in the `path:line:col: ...` shape editors and `grep` understand, pointing at the
//! case in its test file; then the summary line.
//!
//! ```text
//! policies/privileged/admit-test.yaml:12:11: failed[privileged] each privileged container is rejected: result: expected rejected, got allowed
//! policies/broken/admit-test.yaml:4:7: error: unknown key `expct` in a case
//! Tested 2 files: 1 case, 0 passed, 1 failed, 1 error
//! ```

use super::{errors_line, summarize};
use crate::suite::outcome::{Status, SuiteOutcome};

pub(super) fn write(out: &mut dyn std::io::Write, outcome: &SuiteOutcome) -> std::io::Result<()> {
    for file in &outcome.files {
        let cases = match &file.cases {
            Ok(cases) => cases,
            Err(error) => {
                writeln!(
                    out,
                    "{}: error: {}",
                    error.place(),
                    one_line(&error.message)
                )?;
                continue;
            }
        };
        for case in cases
            .iter()
            .filter(|c| matches!(c.status, Status::Failed | Status::Error))
        {
            let mut what: Vec<String> = case.mismatches.iter().map(summarize).collect();
            if case.status == Status::Error {
                what.push(format!("errors: {}", errors_line(&case.got.errors)));
            }
            writeln!(
                out,
                "{}:{}: {}[{}] {}: {}",
                file.file,
                case.location,
                case.status.name(),
                file.suite,
                case.name,
                one_line(&what.join("; "))
            )?;
        }
    }
    let counts = outcome.counts();
    writeln!(out, "{counts}")?;
    Ok(())
}

/// `text` with its line breaks turned into spaces: one line is one case.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
