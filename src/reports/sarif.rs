//! The SARIF 2.1.0 report, for GitHub code scanning and every other tool that reads the OASIS
//! Static Analysis Results Interchange Format.
//!
//! The log is built from `serde-sarif`'s types, which are generated from the official schema,
//! and a test validates real output against that schema. What it holds:
//!
//! - One run, tool driver `admit` at this build's version, `columnKind: unicodeCodePoints`
//!   because admit counts columns in characters (SARIF's default is UTF-16 code units, which
//!   would shift every column after an astral character).
//! - One rule (`reportingDescriptor`) per policy that ran: its id, its one-line description,
//!   its documentation as `help` (Markdown, the README for built-ins), `helpUri` from the
//!   module's `io.kubewarden.policy.url`, and `defaultConfiguration.level` from its severity.
//!   admit's own codes (`invalid-yaml`, `input`, ...) get a rule when they occur.
//! - One result per finding that points into a file: `ruleId`/`ruleIndex`, `level` (`error`,
//!   `warning`, `note`) from its severity, the message (and its help), and a location with
//!   - a physical location: the path as given, with forward slashes and relative to
//!     `%SRCROOT%` (the repository root for code scanning), or a `file://` URI for an absolute
//!     path; and a region with one-based `startLine`/`startColumn`/`endLine`/`endColumn`, the
//!     end one past the node's last character;
//!   - a logical location naming the object, `kind: resource` with `fullyQualifiedName`
//!     `Kind/namespace/name` (`Kind/name` when the manifest gives no namespace); for a finding
//!     in no object (a syntax error) `document N` (one-based) and the JSON Pointer.
//!
//!   `properties` carry the finding's `kind`, zero-based `document`, `pointer` and `code`.
//! - Suppressed findings are results too, with an `inSource` suppression whose justification is
//!   the reason given, so code scanning shows them as dismissed rather than dropping them.
//! - Errors always appear: one that points into a file (invalid YAML, a policy that failed on an
//!   object) is a result at level `error`; one about no place in a file (an unreadable path, a
//!   policy that could not be loaded) is a `toolExecutionNotification` of the invocation, not a
//!   result, because GitHub code scanning rejects the whole upload when any result lacks a
//!   physical location with a region. A notification about a file that could not be read
//!   names it in its `locations` (with `startLine` when the line is known).
//!   `executionSuccessful` is false whenever there was an error.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;
use serde_sarif::sarif::{
    self, ArtifactLocation, Invocation, Location, LogicalLocation, Message,
    MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ReportingDescriptor, ReportingDescriptorReference, ResultColumnKind,
    ResultLevel, Run, Sarif, SupressionKind, Tool, ToolComponent, Version,
};

use super::Report;
use super::github::repository_path;
use super::json::{document_index, kind_name, suppression_kind_name};
use crate::check::{CheckOutcome, PolicyInfo};
use crate::findings::{Finding, Severity, SourceRef};

/// Where the SARIF 2.1.0 schema is published (the `$schema` GitHub's documentation uses).
const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base that relative paths are resolved against; code scanning takes it as the
/// repository root.
const SOURCE_ROOT: &str = "%SRCROOT%";

/// SARIF 2.1.0.
pub(crate) struct SarifReport;

impl Report for SarifReport {
    fn write(&self, out: &mut dyn std::io::Write, outcome: &CheckOutcome) -> std::io::Result<()> {
        // As in the JSON report: a local buffer turns many small virtual writes into few.
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
        serde_json::to_writer_pretty(&mut buffered, &sarif_log(outcome))?;
        std::io::Write::write_all(&mut buffered, b"\n")?;
        std::io::Write::flush(&mut buffered)
    }
}

/// The whole SARIF log for `outcome`.
fn sarif_log(outcome: &CheckOutcome) -> Sarif {
    let mut rules = Rules::new(&outcome.policies);
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for finding in &outcome.findings {
        let rule = rules.reference(finding);
        match &finding.location {
            Some(location) => results.push(result(finding, location, rule)),
            None if finding.is_active() => notifications.push(notification(finding, rule)),
            None => {}
        }
    }

    let mut invocation = Invocation::builder()
        .execution_successful(outcome.summary.errors == 0)
        .build();
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
    }
    let mut driver = ToolComponent::builder().name("admit").build();
    driver.version = Some(env!("CARGO_PKG_VERSION").to_string());
    driver.semantic_version = Some(env!("CARGO_PKG_VERSION").to_string());
    driver.rules = Some(rules.descriptors);
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .build();
    run.invocations = Some(vec![invocation]);
    run.column_kind = Some(Json::from(ResultColumnKind::UnicodeCodePoints.to_string()));
    // Always present, even empty: an empty list tells code scanning every alert is fixed.
    run.results = Some(results);

    let mut log = Sarif::builder()
        .version(Json::from(Version::V2_1_0.to_string()))
        .runs(vec![run])
        .build();
    log.schema = Some(SARIF_SCHEMA.to_string());
    log
}

/// The run's rules, and where each id is among them.
struct Rules {
    descriptors: Vec<ReportingDescriptor>,
    index: HashMap<String, usize>,
}

impl Rules {
    /// One rule per policy, in the order they ran; a policy given twice has one rule.
    fn new(policies: &[PolicyInfo]) -> Self {
        let mut rules = Rules {
            descriptors: Vec::new(),
            index: HashMap::new(),
        };
        for policy in policies {
            if !rules.index.contains_key(&policy.id) {
                rules.push(policy_rule(policy));
            }
        }
        rules
    }

    fn push(&mut self, rule: ReportingDescriptor) {
        self.index.insert(rule.id.clone(), self.descriptors.len());
        self.descriptors.push(rule);
    }

    /// The id and index of the rule for `finding`'s source, adding a rule for admit's own codes
    /// (and for policies that never ran) the first time one occurs.
    fn reference(&mut self, finding: &Finding) -> (String, i64) {
        let id = &finding.source;
        let index = match self.index.get(id) {
            Some(&index) => index,
            None => {
                self.push(admit_rule(id, finding.severity));
                self.descriptors.len() - 1
            }
        };
        (id.clone(), index as i64)
    }
}

fn text(text: impl Into<String>) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

fn configuration(severity: Severity) -> ReportingConfiguration {
    ReportingConfiguration {
        level: Some(Json::from(level(severity).to_string())),
        ..ReportingConfiguration::default()
    }
}

fn properties(entries: impl IntoIterator<Item = (&'static str, Json)>) -> PropertyBag {
    PropertyBag {
        additional_properties: entries
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect::<BTreeMap<_, _>>(),
        ..PropertyBag::default()
    }
}

fn policy_rule(policy: &PolicyInfo) -> ReportingDescriptor {
    let mut rule = ReportingDescriptor::builder().id(policy.id.clone()).build();
    let description = policy
        .description
        .clone()
        .unwrap_or_else(|| format!("Kubewarden policy {}", policy.origin));
    rule.short_description = Some(text(description.clone()));
    rule.full_description = Some(text(description));
    rule.help = policy.help.as_ref().map(|help| {
        MultiformatMessageString::builder()
            .text(help.clone())
            .markdown(help.clone())
            .build()
    });
    rule.help_uri = policy.url.clone().filter(|url| is_absolute_uri(url));
    rule.default_configuration = Some(configuration(policy.severity));
    let mut bag = vec![("origin", Json::from(policy.origin.clone()))];
    // GitHub code scanning ranks a rule's alerts by its `security-severity` (a score, as a
    // string), which it reads only on rules tagged `security`.
    if let Some(risk) = policy.risk {
        bag.push(("security-severity", Json::from(risk.security_severity())));
    }
    let mut bag = properties(bag);
    if policy.risk.is_some() {
        bag.tags = Some(vec!["security".to_string()]);
    }
    rule.properties = Some(bag);
    rule
}

/// A rule for one of admit's own codes, or for a policy that did not get to run.
fn admit_rule(id: &str, severity: Severity) -> ReportingDescriptor {
    let diagnostic = crate::diagnostics::find(id);
    let description = diagnostic.map_or("Reported by admit", |d| d.summary);
    let mut rule = ReportingDescriptor::builder().id(id.to_string()).build();
    rule.short_description = Some(text(description));
    rule.help = diagnostic.map(|d| {
        let help = d.explanation();
        MultiformatMessageString::builder()
            .text(help.clone())
            .markdown(help)
            .build()
    });
    rule.default_configuration = Some(configuration(severity));
    rule
}

/// A scheme followed by something without spaces: what the schema's `format: uri` accepts.
fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn message(finding: &Finding) -> Message {
    let mut text = finding.message.clone();
    if let Some(help) = &finding.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    Message::builder().text(text).build()
}

fn result(
    finding: &Finding,
    location: &SourceRef,
    (rule_id, rule_index): (String, i64),
) -> sarif::Result {
    let mut result = sarif::Result::builder().message(message(finding)).build();
    result.rule_id = Some(rule_id);
    result.rule_index = Some(rule_index);
    result.level = Some(level(finding.severity));
    result.locations = Some(vec![Location {
        physical_location: Some(physical_location(location)),
        logical_locations: logical_location(location).map(|l| vec![l]),
        ..Location::default()
    }]);
    result.suppressions = finding.suppressed.as_ref().map(|suppressed| {
        let mut suppression = sarif::Suppression::builder()
            .kind(Json::from(SupressionKind::InSource.to_string()))
            .build();
        suppression.justification = suppressed.reason.clone();
        suppression.properties = Some(properties([(
            "kind",
            Json::from(suppression_kind_name(suppressed.kind)),
        )]));
        vec![suppression]
    });
    let mut entries = vec![("kind", Json::from(kind_name(finding.kind)))];
    if let Some(document) = document_index(location) {
        entries.push(("document", Json::from(document)));
    }
    if let Some(pointer) = &location.pointer {
        entries.push(("pointer", Json::from(pointer.clone())));
    }
    if let Some(code) = finding.code {
        entries.push(("code", Json::from(code)));
    }
    if !finding.roots.is_empty() {
        entries.push(("roots", Json::from(finding.roots.clone())));
    }
    result.properties = Some(properties(entries));
    if !finding.related.is_empty() {
        result.related_locations = Some(
            finding
                .related
                .iter()
                .enumerate()
                .map(|(id, related)| Location {
                    id: Some(id as i64),
                    physical_location: Some(physical_location(related)),
                    message: Some(
                        sarif::Message::builder()
                            .text(related.label.clone())
                            .build(),
                    ),
                    ..Location::default()
                })
                .collect(),
        );
    }
    result
}

fn physical_location(location: &SourceRef) -> PhysicalLocation {
    let start = location.file.location(location.span.start);
    let end = location.file.location(location.span.end);
    let region = Region {
        start_line: Some(start.line as i64),
        start_column: Some(start.column as i64),
        end_line: Some(end.line as i64),
        end_column: Some(end.column as i64),
        ..Region::default()
    };
    PhysicalLocation {
        artifact_location: Some(artifact_location(location.file.name())),
        region: Some(region),
        ..PhysicalLocation::default()
    }
}

/// A path as a URI reference: relative to `%SRCROOT%`, or a `file://` URI when absolute.
fn artifact_location(name: &str) -> ArtifactLocation {
    let path = repository_path(name);
    if std::path::Path::new(name).is_absolute() {
        let separator = if path.starts_with('/') { "" } else { "/" };
        ArtifactLocation {
            uri: Some(format!("file://{separator}{}", percent_encode(&path, true))),
            ..ArtifactLocation::default()
        }
    } else {
        ArtifactLocation {
            uri: Some(percent_encode(&path, false)),
            uri_base_id: Some(SOURCE_ROOT.to_string()),
            ..ArtifactLocation::default()
        }
    }
}

/// Percent-encode every byte a URI path cannot hold as is. A `:` is encoded in a relative
/// reference, where it would otherwise read as a scheme.
fn percent_encode(path: &str, keep_colon: bool) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        let plain = byte.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&byte)
            || (keep_colon && byte == b':');
        if plain {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn logical_location(location: &SourceRef) -> Option<LogicalLocation> {
    if let Some(object) = location.object.as_deref() {
        return Some(LogicalLocation {
            kind: Some("resource".to_string()),
            name: object.name.clone().or_else(|| Some(object.kind.clone())),
            fully_qualified_name: Some(object.qualified_name()),
            ..LogicalLocation::default()
        });
    }
    let document = document_index(location)?;
    Some(LogicalLocation {
        kind: Some("object".to_string()),
        fully_qualified_name: Some(format!(
            "document {}{}",
            document + 1,
            location.pointer.as_deref().unwrap_or("")
        )),
        ..LogicalLocation::default()
    })
}

fn notification(finding: &Finding, (rule_id, rule_index): (String, i64)) -> Notification {
    let mut notification = Notification::builder().message(message(finding)).build();
    notification.level = Some(Json::from(level(finding.severity).to_string()));
    notification.associated_rule = Some(ReportingDescriptorReference {
        id: Some(rule_id),
        index: Some(rule_index),
        ..ReportingDescriptorReference::default()
    });
    notification.properties = Some(properties([("kind", Json::from(kind_name(finding.kind)))]));
    // The file it is about, at the line when known: a location a notification may carry.
    notification.locations = finding.file.as_ref().map(|file| {
        vec![Location {
            physical_location: Some(PhysicalLocation {
                artifact_location: Some(artifact_location(&file.name)),
                region: file.line.map(|line| Region {
                    start_line: Some(line as i64),
                    ..Region::default()
                }),
                ..PhysicalLocation::default()
            }),
            ..Location::default()
        }]
    });
    notification
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Summary;
    use crate::findings::{FindingKind, Suppressed, SuppressionKind};
    use crate::source::{SourceFile, Span};

    fn outcome(findings: Vec<Finding>) -> serde_json::Value {
        let outcome = CheckOutcome {
            findings,
            policies: Vec::new(),
            summary: Summary::default(),
            logs: Vec::new(),
        };
        let mut out = Vec::new();
        SarifReport.write(&mut out, &outcome).expect("written");
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn a_suppressed_finding_is_a_result_with_an_in_source_suppression() {
        let file = SourceFile::new("./pods/a b.yaml", "kind: Pod\nprivileged: true\n");
        let start = file.text().find("true").expect("value");
        let mut finding = Finding::new(FindingKind::Rejection, "privileged", "no").at(SourceRef {
            file,
            span: Span::new(start, start + 4),
            document: 0,
            pointer: Some("/privileged".into()),
            label: "here".into(),
            object: None,
        });
        finding.suppressed = Some(Suppressed {
            kind: SuppressionKind::Comment,
            reason: Some("CNI agent".into()),
        });
        let log = outcome(vec![finding]);
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["suppressions"][0]["kind"], "inSource");
        assert_eq!(result["suppressions"][0]["justification"], "CNI agent");
        let physical = &result["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "pods/a%20b.yaml");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startLine"], 2);
        assert_eq!(physical["region"]["startColumn"], 13);
        assert_eq!(physical["region"]["endColumn"], 17);
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["rules"][0]["id"],
            "privileged"
        );
    }

    #[test]
    fn an_error_about_no_file_is_a_notification() {
        let log = outcome(vec![Finding::new(
            FindingKind::Error,
            "input",
            "cannot read x.yaml",
        )]);
        let run = &log["runs"][0];
        assert_eq!(run["results"], serde_json::json!([]));
        let notification = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(notification["level"], "error");
        assert_eq!(notification["associatedRule"]["id"], "input");
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "input");
    }

    #[test]
    fn absolute_paths_are_file_uris() {
        let location = artifact_location("/tmp/a:b.yaml");
        assert_eq!(location.uri.as_deref(), Some("file:///tmp/a:b.yaml"));
        assert_eq!(location.uri_base_id, None);
        assert_eq!(
            artifact_location("a:b%.yaml").uri.as_deref(),
            Some("a%3Ab%25.yaml")
        );
        assert!(is_absolute_uri("https://example.com/p"));
        assert!(!is_absolute_uri("see the README"));
    }
}
