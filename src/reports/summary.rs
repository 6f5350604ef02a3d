//! The closing line of the text reports (human, concise, GitHub, JUnit's passing case): what
//! was checked and what was found, in words.

use std::fmt;

use crate::check::Summary;

/// A check's [`Summary`] as the line that closes a report.
pub(crate) struct SummaryLine<'s>(pub(crate) &'s Summary);

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

impl fmt::Display for SummaryLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summary = self.0;
        write!(
            f,
            "Checked {}, {}, {}, {}: {} rejected, {}",
            plural(summary.files, "file", "files"),
            plural(summary.objects, "object", "objects"),
            plural(summary.policies, "policy", "policies"),
            plural(summary.evaluations, "evaluation", "evaluations"),
            summary.rejected,
            plural(summary.errors, "error", "errors"),
        )?;
        if summary.mutated > 0 {
            write!(f, ", {} would change", summary.mutated)?;
        }
        if summary.warnings > 0 {
            write!(f, ", {}", plural(summary.warnings, "warning", "warnings"))?;
        }
        if summary.suppressed > 0 {
            write!(f, ", {} suppressed", summary.suppressed)?;
        }
        if summary.skipped_documents > 0 {
            write!(
                f,
                ", {} without apiVersion/kind skipped",
                plural(summary.skipped_documents, "document", "documents")
            )?;
        }
        write!(f, " ({:.2} s", summary.elapsed.as_secs_f64())?;
        if summary.cached_files > 0 {
            write!(
                f,
                "; {} unchanged since the last run",
                plural(summary.cached_files, "file", "files")
            )?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn counts_are_worded_with_their_plurals_and_optional_parts_only_when_nonzero() {
        let mut summary = Summary {
            files: 1,
            objects: 2,
            policies: 1,
            evaluations: 2,
            rejected: 1,
            errors: 0,
            elapsed: Duration::from_millis(1250),
            ..Summary::default()
        };
        assert_eq!(
            SummaryLine(&summary).to_string(),
            "Checked 1 file, 2 objects, 1 policy, 2 evaluations: 1 rejected, 0 errors (1.25 s)"
        );
        summary.mutated = 1;
        summary.warnings = 1;
        summary.suppressed = 3;
        summary.skipped_documents = 1;
        summary.cached_files = 2;
        assert_eq!(
            SummaryLine(&summary).to_string(),
            "Checked 1 file, 2 objects, 1 policy, 2 evaluations: 1 rejected, 0 errors, 1 would \
             change, 1 warning, 3 suppressed, 1 document without apiVersion/kind skipped \
             (1.25 s; 2 files unchanged since the last run)"
        );
    }
}
