//! What a check ends with: its findings, counts and logs, gathered from the files' results;
//! how two checks' outcomes merge; and the exit code they give.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::file_check::FileResult;
use super::policy_set::Policy;
use crate::findings::{self, Finding, FindingKind, ObjectName, Severity};
use crate::inputs::SkippedInput;
use crate::policies::Risk;
use crate::suppressions;

/// Which findings fail a run (exit code 1). Errors always exit 2.
///
/// Its `--fail-on` and `fail-on:` names are clap's (`error`, `warning`, `never`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailOn {
    // Plain comments: clap would show doc comments in `--help` as each value's help.
    // Rejections at severity `error` (the default).
    #[default]
    Error,
    // Any finding at severity `warning` or above.
    Warning,
    // Nothing but errors.
    Never,
}

/// What the reports say about a policy that took part in a run (SARIF's rules).
#[derive(Debug, Clone)]
pub(crate) struct PolicyInfo {
    /// The id its findings carry.
    pub(crate) id: String,
    /// Where its module came from: a path, or `builtin:<id>`.
    pub(crate) origin: String,
    /// One line on what it checks.
    pub(crate) description: Option<String>,
    /// Its documentation (Markdown), for built-ins their README.
    pub(crate) help: Option<String>,
    /// Where to read more, from the module's `io.kubewarden.policy.url` annotation.
    pub(crate) url: Option<String>,
    /// The severity of its rejections.
    pub(crate) severity: Severity,
    /// How much harm what it catches can do, from its metadata.
    pub(crate) risk: Option<Risk>,
}

/// An object a check set apart without checking it: another tool's configuration, or a kind
/// the configuration's `skip-kinds` names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SetApart {
    /// The file it is in, as reports name it.
    pub(crate) file: String,
    /// Its `apiVersion kind`.
    pub(crate) object: String,
    /// The tool whose configuration it is; `None` for a kind `skip-kinds` names.
    pub(crate) tool: Option<String>,
}

/// Counts for the closing line of a report; `reports` words it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Files read, besides renderings.
    pub(crate) files: usize,
    /// Kustomize roots and Helm chart renderings rendered and checked.
    pub(crate) renderings: usize,
    /// Kubernetes objects found.
    pub(crate) objects: usize,
    /// Non-empty documents that are not Kubernetes objects.
    pub(crate) skipped_documents: usize,
    /// Policies loaded and run.
    pub(crate) policies: usize,
    /// Policy evaluations (object × applicable policy).
    pub(crate) evaluations: usize,
    /// Evaluations that rejected their object.
    pub(crate) rejected: usize,
    /// Evaluations that would have changed their object.
    pub(crate) mutated: usize,
    /// Findings about the manifests, unsuppressed: rejections, warnings and mutations; not
    /// the errors.
    pub(crate) findings: usize,
    /// Objects with at least one of those findings.
    pub(crate) objects_with_findings: usize,
    /// Those findings at severity warning.
    pub(crate) warnings: usize,
    /// Those findings at severity note (what a mutating policy would change).
    pub(crate) notes: usize,
    /// Errors: inputs, objects or policies that could not be checked (exit code 2).
    pub(crate) errors: usize,
    /// Findings silenced by a suppression in the source.
    pub(crate) suppressed: usize,
    /// Files whose result came from the result cache.
    pub(crate) cached_files: usize,
    /// Wall time of the check.
    pub(crate) elapsed: Duration,
    /// Objects set apart unchecked, sorted; reports count them in notes.
    pub(crate) set_apart: Vec<SetApart>,
    /// Paths left out on purpose (Helm charts, broken links, an excluded standard input),
    /// sorted; reports say so in notes.
    pub(crate) skipped_inputs: Vec<SkippedInput>,
}

/// The result of a check: findings in report order, counts, and guest logs.
#[derive(Debug)]
pub(crate) struct CheckOutcome {
    /// Findings, sorted by file, document and position; suppressed ones included and marked.
    pub(crate) findings: Vec<Finding>,
    /// The policies that ran, in the order they were given.
    pub(crate) policies: Vec<PolicyInfo>,
    /// Counts for the summary line.
    pub(crate) summary: Summary,
    /// Log lines guests wrote (`kubewarden/tracing/log`), in evaluation order.
    pub(crate) logs: Vec<String>,
}

impl CheckOutcome {
    /// One outcome from two checks of different paths (each under its own configuration).
    pub(crate) fn merge(mut self, other: CheckOutcome) -> CheckOutcome {
        self.findings.extend(other.findings);
        findings::sort(&mut self.findings);
        for policy in other.policies {
            if !self.policies.iter().any(|p| p.id == policy.id) {
                self.policies.push(policy);
            }
        }
        self.logs.extend(other.logs);
        let (a, b) = (&mut self.summary, other.summary);
        a.files += b.files;
        a.renderings += b.renderings;
        a.objects += b.objects;
        a.skipped_documents += b.skipped_documents;
        a.policies = a.policies.max(b.policies);
        a.evaluations += b.evaluations;
        a.rejected += b.rejected;
        a.mutated += b.mutated;
        a.findings += b.findings;
        a.objects_with_findings += b.objects_with_findings;
        a.warnings += b.warnings;
        a.notes += b.notes;
        a.errors += b.errors;
        a.suppressed += b.suppressed;
        a.cached_files += b.cached_files;
        a.elapsed += b.elapsed;
        a.set_apart.extend(b.set_apart);
        a.set_apart.sort();
        a.skipped_inputs.extend(b.skipped_inputs);
        a.skipped_inputs.sort();
        a.skipped_inputs.dedup();
        self
    }

    /// 2 if anything failed, 1 if an unsuppressed finding is at or above the `fail_on` level,
    /// 0 otherwise. Never depends on how the outcome is printed.
    pub(crate) fn exit_code(&self, fail_on: FailOn) -> u8 {
        let threshold = match fail_on {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Never => None,
        };
        if self.summary.errors > 0 {
            2
        } else if threshold.is_some_and(|threshold| {
            self.findings
                .iter()
                .any(|f| f.is_active() && f.severity >= threshold)
        }) {
            1
        } else {
            0
        }
    }
}

/// Fold every file's result into the run's findings and counts, and return the guests' logs.
///
/// A hung policy's work is left out whole (see `Policy::hang`): its findings, the audits of
/// suppressions naming it, its logs and its counts; one error (`Policy::hung_error`) takes
/// their place.
pub(super) fn gather(
    batches: Vec<Vec<FileResult>>,
    policies: &[Policy<'_>],
    findings: &mut Vec<Finding>,
    summary: &mut Summary,
) -> Vec<String> {
    // Room for every finding at once, rather than growing the list by doubling through a
    // large run.
    findings.reserve(
        batches
            .iter()
            .flatten()
            .map(|result| result.findings.len())
            .sum(),
    );
    let is_hung = |index: usize| policies.get(index).is_some_and(Policy::is_hung);
    let hung_ids: Vec<&str> = policies
        .iter()
        .filter(|p| p.is_hung())
        .map(|p| p.id.as_str())
        .collect();
    let mut logs = Vec::new();
    for result in batches.into_iter().flatten() {
        findings.extend(result.findings.into_iter().filter(|finding| {
            !hung_ids
                .iter()
                .any(|id| finding.source == *id || suppressions::audits(finding, id))
        }));
        logs.extend(
            result
                .logs
                .into_iter()
                .filter(|(index, _)| !is_hung(*index))
                .map(|(_, line)| line),
        );
        summary.objects += result.objects;
        summary.skipped_documents += result.skipped_documents;
        summary.set_apart.extend(result.set_apart);
        for (index, tally) in result.tallies.iter().enumerate() {
            if !is_hung(index) {
                summary.evaluations += tally.evaluations;
                summary.rejected += tally.rejected;
                summary.mutated += tally.mutated;
            }
        }
        summary.cached_files += usize::from(result.cached);
    }
    findings.extend(policies.iter().filter_map(Policy::hung_error));
    logs
}

/// The outcome, once every finding is in: findings sorted into report order, and counted.
pub(super) fn finish(
    mut findings: Vec<Finding>,
    policies: Vec<PolicyInfo>,
    mut summary: Summary,
    logs: Vec<String>,
    started: Instant,
) -> CheckOutcome {
    findings::sort(&mut findings);
    summary.set_apart.sort();
    summary.errors = count(&findings, |f| f.kind == FindingKind::Error);
    let about_manifests = |f: &Finding| f.kind != FindingKind::Error;
    summary.findings = count(&findings, about_manifests);
    summary.warnings = count(&findings, |f| {
        about_manifests(f) && f.severity == Severity::Warning
    });
    summary.notes = count(&findings, |f| {
        about_manifests(f) && f.severity == Severity::Note
    });
    // An object is known by its file, document and name: two objects of one document with the
    // same name count once, the same whether their findings come fresh or from the cache. A
    // rendered object's findings point into several files (a patch, a base, a kustomization):
    // it is known by the rendering it came from and its name.
    let objects: HashSet<(&str, usize, &ObjectName)> = findings
        .iter()
        .filter(|f| f.is_active() && about_manifests(f))
        .filter_map(|f| {
            let location = f.location.as_ref()?;
            let object = location.object.as_deref()?;
            Some(match f.roots.first() {
                Some(root) => (root.as_str(), usize::MAX, object),
                None => (location.file.name(), location.document, object),
            })
        })
        .collect();
    summary.objects_with_findings = objects.len();
    summary.suppressed = findings.iter().filter(|f| !f.is_active()).count();
    summary.elapsed = started.elapsed();
    CheckOutcome {
        findings,
        policies,
        summary,
        logs,
    }
}

/// Unsuppressed findings that satisfy `test`.
fn count(findings: &[Finding], test: impl Fn(&Finding) -> bool) -> usize {
    findings.iter().filter(|f| f.is_active() && test(f)).count()
}
