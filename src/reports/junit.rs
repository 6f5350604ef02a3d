//! The JUnit XML report, for the test-report views of GitLab, Jenkins, Azure Pipelines and
//! others, which know JUnit and nothing else. It is written by `quick-junit`, the library
//! cargo-nextest uses, so escaping and the suite counts are right.
//!
//! What is represented, and how:
//! - One `<testsuite>` per file with findings (an unreadable file's error too), named by its
//!   path as given; findings about no file (a policy that could not be loaded) go to a suite
//!   named `admit`.
//! - One `<testcase>` per object and policy that produced findings, named
//!   `Kind/namespace/name [policy]` (`Kind/name [policy]` when the manifest gives no
//!   namespace), `document N [policy]` (one-based) for a finding in no object, or just the
//!   policy or code for a finding about no place in a file; its `classname` is the suite's
//!   name.
//! - A case is an `<error>` when one of its findings is an error (admit or the policy failed,
//!   the YAML is invalid), a `<failure>` when one is at severity `error` or `warning` (a
//!   rejection, a warning), and passes when it holds only notes (what a mutating policy would
//!   change). `message` joins the findings' messages; the element's text lists them one per
//!   line as the concise format does, `path:line:col: severity[policy] message`.
//! - Suppressed findings are left out.
//!
//! What is not: passing objects and policies. The outcome lists findings, not every evaluation
//! or every file read, so a pair that passed cannot be named. A run without any finding is one
//! passing case, `admit check` in suite `admit`, whose output is the summary line, so that a
//! clean run still shows a passing test rather than an empty report.

use std::collections::HashMap;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::concise;
use super::json::document_index;
use super::{Report, SummaryLine};
use crate::check::CheckOutcome;
use crate::findings::{Finding, FindingKind, Severity};

/// The name of the suite for findings about no file, and of the report.
const ADMIT: &str = "admit";

/// JUnit XML: a suite per file, a case per object and policy with findings.
pub(crate) struct JunitReport;

impl Report for JunitReport {
    fn write(&self, out: &mut dyn std::io::Write, outcome: &CheckOutcome) -> std::io::Result<()> {
        let mut report = quick_junit::Report::new(ADMIT);
        report.set_time(outcome.summary.elapsed);
        let suites = group(outcome);
        if suites.is_empty() {
            let mut suite = TestSuite::new(ADMIT);
            let mut case = TestCase::new("admit check", TestCaseStatus::success());
            case.set_classname(ADMIT);
            case.set_system_out(SummaryLine(&outcome.summary).to_string());
            suite.add_test_case(case);
            report.add_test_suite(suite);
        }
        for group in suites {
            let mut suite = TestSuite::new(group.name.as_str());
            for case in &group.cases {
                suite.add_test_case(test_case(&group.name, case));
            }
            report.add_test_suite(suite);
        }
        report.serialize(&mut *out).map_err(std::io::Error::other)?;
        writeln!(out)
    }
}

/// The findings of one suite, grouped into cases.
struct Suite<'a> {
    name: String,
    cases: Vec<Case<'a>>,
}

/// The findings one object and one policy produced.
struct Case<'a> {
    name: String,
    findings: Vec<&'a Finding>,
}

/// Group the active findings into suites and cases, each in the order of its first finding
/// (findings are in report order: by file, then document, then position).
fn group(outcome: &CheckOutcome) -> Vec<Suite<'_>> {
    let mut suites: Vec<Suite<'_>> = Vec::new();
    let mut cases: HashMap<(String, String), (usize, usize)> = HashMap::new();
    for finding in outcome.findings.iter().filter(|f| f.is_active()) {
        let (suite_name, subject) = match &finding.location {
            Some(location) => {
                let subject = match location.object.as_deref() {
                    Some(object) => Some(object.qualified_name()),
                    None => document_index(location).map(|d| format!("document {}", d + 1)),
                };
                (location.file.name().to_string(), subject)
            }
            None => (finding.file_name().unwrap_or(ADMIT).to_string(), None),
        };
        let case_name = match subject {
            Some(subject) => format!("{subject} [{}]", finding.source),
            None => finding.source.clone(),
        };
        let (suite, case) = *cases
            .entry((suite_name.clone(), case_name.clone()))
            .or_insert_with(|| {
                let suite = match suites.iter().position(|s| s.name == suite_name) {
                    Some(suite) => suite,
                    None => {
                        suites.push(Suite {
                            name: suite_name,
                            cases: Vec::new(),
                        });
                        suites.len() - 1
                    }
                };
                suites[suite].cases.push(Case {
                    name: case_name,
                    findings: Vec::new(),
                });
                (suite, suites[suite].cases.len() - 1)
            });
        suites[suite].cases[case].findings.push(finding);
    }
    suites
}

fn test_case(suite: &str, case: &Case<'_>) -> TestCase {
    let lines: Vec<String> = case.findings.iter().map(|f| concise::line(f)).collect();
    let worst = case.findings.iter().map(|f| f.severity).max();
    let status = if case.findings.iter().any(|f| f.kind == FindingKind::Error) {
        Some((NonSuccessKind::Error, "error"))
    } else {
        match worst {
            Some(Severity::Error) => Some((NonSuccessKind::Failure, "error")),
            Some(Severity::Warning) => Some((NonSuccessKind::Failure, "warning")),
            Some(Severity::Note) | None => None,
        }
    };
    let mut test_case = match status {
        Some((kind, severity)) => {
            let mut status = TestCaseStatus::non_success(kind);
            let messages: Vec<&str> = case.findings.iter().map(|f| f.message.as_str()).collect();
            status
                .set_message(messages.join("; "))
                .set_type(severity)
                .set_description(lines.join("\n"));
            TestCase::new(case.name.as_str(), status)
        }
        None => {
            let mut test_case = TestCase::new(case.name.as_str(), TestCaseStatus::success());
            test_case.set_system_out(lines.join("\n"));
            test_case
        }
    };
    test_case.set_classname(suite);
    test_case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Summary;
    use crate::findings::{SourceRef, Suppressed, SuppressionKind};
    use crate::source::{SourceFile, Span};

    fn write(findings: Vec<Finding>) -> String {
        let outcome = CheckOutcome {
            findings,
            policies: Vec::new(),
            summary: Summary::default(),
            logs: Vec::new(),
        };
        let mut out = Vec::new();
        JunitReport.write(&mut out, &outcome).expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn one_case_per_object_and_policy_and_suppressed_findings_left_out() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec: {}\n";
        let file = SourceFile::new("pod.yaml", text);
        let at = |needle: &str| {
            let start = text.find(needle).expect("needle");
            SourceRef {
                file: file.clone(),
                span: Span::new(start, start + needle.len()),
                document: 0,
                pointer: None,
                label: "here".into(),
                object: Some(std::sync::Arc::new(crate::findings::ObjectName {
                    api_version: "v1".into(),
                    kind: "Pod".into(),
                    namespace: None,
                    name: Some("web".into()),
                })),
            }
        };
        let first = Finding::new(FindingKind::Rejection, "p", "one <&>").at(at("web"));
        let second = Finding::new(FindingKind::Rejection, "p", "two").at(at("spec"));
        let mut silenced = Finding::new(FindingKind::Rejection, "q", "hidden").at(at("web"));
        silenced.suppressed = Some(Suppressed {
            kind: SuppressionKind::Annotation,
            reason: None,
        });
        let xml = write(vec![first, second, silenced]);
        assert!(
            xml.contains(r#"<testcase name="Pod/web [p]" classname="pod.yaml">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"message="one &lt;&amp;&gt;; two""#), "{xml}");
        assert!(
            xml.contains("pod.yaml:4:9: error[p] one &lt;&amp;&gt;\npod.yaml:5:1: error[p] two"),
            "{xml}"
        );
        assert!(!xml.contains("hidden"), "{xml}");
        assert!(
            xml.contains(
                r#"<testsuite name="pod.yaml" tests="1" skipped="0" errors="0" failures="1">"#
            ),
            "{xml}"
        );
    }

    #[test]
    fn a_clean_run_is_one_passing_case() {
        let xml = write(Vec::new());
        assert!(
            xml.contains(r#"<testcase name="admit check" classname="admit">"#),
            "{xml}"
        );
        assert!(xml.contains("Checked 0 files"), "{xml}");
    }
}
