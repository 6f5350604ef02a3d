//! The closing line of the text reports (human, concise, GitHub, JUnit's passing case): what
//! was checked and what was found, every number with its unit.
//!
//! ```text
//! Checked 3 files, 5 objects, 26 policies (130 evaluations): 7 findings (2 warnings) in 2 objects, 3 suppressed; 0 errors (0.05 s)
//! ```
//!
//! Findings are about the manifests (a policy's rejection, a warning, what a mutating policy
//! would change), counted one per underlined node, with the severities other than `error` they
//! include; errors are what could not be checked (an unreadable file, invalid YAML, a policy
//! that failed), which exit with 2.

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
        let mut files = plural(summary.files, "file", "files");
        if summary.renderings > 0 {
            files = format!(
                "{files} and {}",
                plural(summary.renderings, "rendering", "renderings")
            );
        }
        write!(
            f,
            "Checked {}, {}, {} ({}): {}",
            files,
            plural(summary.objects, "object", "objects"),
            plural(summary.policies, "policy", "policies"),
            plural(summary.evaluations, "evaluation", "evaluations"),
            plural(summary.findings, "finding", "findings"),
        )?;
        let severities: Vec<String> = [
            (summary.warnings, "warning", "warnings"),
            (summary.notes, "note", "notes"),
        ]
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, one, many)| plural(count, one, many))
        .collect();
        if !severities.is_empty() {
            write!(f, " ({})", severities.join(", "))?;
        }
        if summary.objects_with_findings > 0 {
            write!(
                f,
                " in {}",
                plural(summary.objects_with_findings, "object", "objects")
            )?;
        }
        if summary.suppressed > 0 {
            write!(f, ", {} suppressed", summary.suppressed)?;
        }
        write!(f, "; {}", plural(summary.errors, "error", "errors"))?;
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
    fn every_count_names_its_unit_and_optional_parts_appear_only_when_nonzero() {
        let mut summary = Summary {
            files: 1,
            objects: 2,
            policies: 1,
            evaluations: 2,
            rejected: 1,
            findings: 3,
            objects_with_findings: 1,
            errors: 0,
            elapsed: Duration::from_millis(1250),
            ..Summary::default()
        };
        assert_eq!(
            SummaryLine(&summary).to_string(),
            "Checked 1 file, 2 objects, 1 policy (2 evaluations): 3 findings in 1 object; \
             0 errors (1.25 s)"
        );
        summary.warnings = 1;
        summary.notes = 1;
        summary.errors = 1;
        summary.suppressed = 3;
        summary.skipped_documents = 1;
        summary.cached_files = 2;
        assert_eq!(
            SummaryLine(&summary).to_string(),
            "Checked 1 file, 2 objects, 1 policy (2 evaluations): 3 findings (1 warning, 1 note) \
             in 1 object, 3 suppressed; 1 error, 1 document without apiVersion/kind skipped \
             (1.25 s; 2 files unchanged since the last run)"
        );
        let clean = Summary {
            files: 2,
            objects: 1,
            policies: 26,
            evaluations: 20,
            ..Summary::default()
        };
        assert_eq!(
            SummaryLine(&clean).to_string(),
            "Checked 2 files, 1 object, 26 policies (20 evaluations): 0 findings; 0 errors (0.00 s)"
        );
    }
}
