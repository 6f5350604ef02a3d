//! `admit check`: the pipeline from paths to findings.
//!
//! inputs (walk, read) -> documents (YAML with spans) -> objects -> requests ->
//! policies (match, evaluate) -> findings. Printing is left to `reports`.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::documents::{self, Loaded};
use crate::findings::{self, Finding, FindingKind, ObjectName, Severity, SourceRef};
use crate::inputs;
use crate::objects::{self, Extracted, ObjectRef};
use crate::policies::scope::Scope;
use crate::policies::{
    Builtin, CompiledPolicy, Limits, ModuleCache, PolicyInstance, PolicyRuntime, PolicySource,
    Settings,
};
use crate::requests::{AdmissionRequest, ResourceCatalog, build_request};
use crate::source::{SourceFile, Span};
use crate::suppressions;

/// A policy the user asked for, before it is loaded.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    /// Where the module comes from.
    pub source: PolicySource,
    /// Settings for every call.
    pub settings: Settings,
    /// The id findings carry, when the configuration names the policy (a
    /// `ClusterAdmissionPolicy`'s name); else the module's own title or file name.
    pub id: Option<String>,
    /// The severity of the policy's rejections; `None` is [`Severity::Error`].
    pub severity: Option<Severity>,
    /// Which objects it sees, beyond its own metadata rules.
    pub scope: Scope,
    /// Where a file configured it (its settings, else its entry), so that invalid settings are
    /// reported at that line; `None` for policies named by flags.
    pub declared_at: Option<(SourceFile, Span)>,
}

impl PolicySpec {
    /// A policy from `source` with `settings`, under its own id, at the default severity.
    pub fn new(source: PolicySource, settings: Settings) -> Self {
        PolicySpec {
            source,
            settings,
            id: None,
            severity: None,
            scope: Scope::default(),
            declared_at: None,
        }
    }
}

/// Which findings fail a run (exit code 1). Errors always exit 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailOn {
    /// Rejections at severity `error` (the default).
    #[default]
    Error,
    /// Any finding at severity `warning` or above.
    Warning,
    /// Nothing but errors.
    Never,
}

/// What the reports say about a policy that took part in a run (SARIF's rules).
#[derive(Debug, Clone)]
pub struct PolicyInfo {
    /// The id its findings carry.
    pub id: String,
    /// Where its module came from: a path, or `builtin:<id>`.
    pub origin: String,
    /// One line on what it checks.
    pub description: Option<String>,
    /// Its documentation (Markdown), for built-ins their README.
    pub help: Option<String>,
    /// Where to read more, from the module's `io.kubewarden.policy.url` annotation.
    pub url: Option<String>,
    /// The severity of its rejections.
    pub severity: Severity,
}

/// Everything a check needs to know.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Files and directories to check; `-` is standard input.
    pub paths: Vec<PathBuf>,
    /// The name standard input has in reports.
    pub stdin_name: String,
    /// The policies to run.
    pub policies: Vec<PolicySpec>,
    /// Limits for every guest call.
    pub limits: Limits,
    /// Where compiled modules are kept across runs; `None` compiles every time.
    pub cache: Option<ModuleCache>,
    /// Which of the files found are checked; `None` checks all.
    pub selection: Option<inputs::Selection>,
    /// Whether `admit.dev/ignore` annotations and `# admit:ignore` comments count; off for an
    /// audit that must see everything.
    pub suppressions: bool,
}

/// Counts for the closing line of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Kubernetes objects found.
    pub objects: usize,
    /// Non-empty documents that are not Kubernetes objects.
    pub skipped_documents: usize,
    /// Policies loaded and run.
    pub policies: usize,
    /// Policy evaluations (object × applicable policy).
    pub evaluations: usize,
    /// Evaluations that rejected their object.
    pub rejected: usize,
    /// Evaluations that would have changed their object.
    pub mutated: usize,
    /// Error findings.
    pub errors: usize,
    /// Warning findings.
    pub warnings: usize,
    /// Findings silenced by a suppression in the source.
    pub suppressed: usize,
    /// Wall time of the check.
    pub elapsed: Duration,
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Checked {}, {}, {}, {}: {} rejected, {}",
            plural(self.files, "file", "files"),
            plural(self.objects, "object", "objects"),
            plural(self.policies, "policy", "policies"),
            plural(self.evaluations, "evaluation", "evaluations"),
            self.rejected,
            plural(self.errors, "error", "errors"),
        )?;
        if self.mutated > 0 {
            write!(f, ", {} would change", self.mutated)?;
        }
        if self.warnings > 0 {
            write!(f, ", {}", plural(self.warnings, "warning", "warnings"))?;
        }
        if self.suppressed > 0 {
            write!(f, ", {} suppressed", self.suppressed)?;
        }
        if self.skipped_documents > 0 {
            write!(
                f,
                ", {} without apiVersion/kind skipped",
                plural(self.skipped_documents, "document", "documents")
            )?;
        }
        write!(f, " ({:.2} s)", self.elapsed.as_secs_f64())
    }
}

/// The result of a check: findings in report order, counts, and guest logs.
#[derive(Debug)]
pub struct CheckOutcome {
    /// Findings, sorted by file, document and position; suppressed ones included and marked.
    pub findings: Vec<Finding>,
    /// The policies that ran, in the order they were given.
    pub policies: Vec<PolicyInfo>,
    /// Counts for the summary line.
    pub summary: Summary,
    /// Log lines guests wrote (`kubewarden/tracing/log`), in evaluation order.
    pub logs: Vec<String>,
}

impl CheckOutcome {
    /// One outcome from two checks of different paths (each under its own configuration).
    pub fn merge(mut self, other: CheckOutcome) -> CheckOutcome {
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
        a.objects += b.objects;
        a.skipped_documents += b.skipped_documents;
        a.policies = a.policies.max(b.policies);
        a.evaluations += b.evaluations;
        a.rejected += b.rejected;
        a.mutated += b.mutated;
        a.errors += b.errors;
        a.warnings += b.warnings;
        a.suppressed += b.suppressed;
        a.elapsed += b.elapsed;
        self
    }

    /// 2 if anything failed, 1 if an unsuppressed finding is at or above the `fail_on` level,
    /// 0 otherwise. Never depends on how the outcome is printed.
    pub fn exit_code(&self, fail_on: FailOn) -> u8 {
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

/// Run a check.
pub fn run(options: &CheckOptions) -> CheckOutcome {
    let started = Instant::now();
    let mut run = Run {
        suppressions: options.suppressions,
        ..Run::default()
    };

    let policies = run.load_policies(options);
    let infos: Vec<PolicyInfo> = policies.iter().map(LoadedPolicy::info).collect();
    let mut instances: Vec<PolicySlot<'_>> = policies.iter().map(PolicySlot::new).collect();
    for slot in &mut instances {
        run.validate_settings(slot);
    }
    run.summary.policies = instances.iter().filter(|s| !s.broken).count();
    run.ran = instances
        .iter()
        .filter(|s| !s.broken)
        .map(|s| s.loaded.id.clone())
        .collect();

    let (mut inputs, input_errors) = inputs::collect(&options.paths, &options.stdin_name);
    if let Some(selection) = &options.selection {
        inputs.retain(|input| match &input.origin {
            inputs::Origin::File(path) => selection.selects(path),
            inputs::Origin::Stdin => true,
        });
    }
    for error in input_errors {
        run.push(Finding::new(FindingKind::Error, "input", error.to_string()));
    }
    let files: Vec<(SourceFile, Loaded)> = inputs
        .iter()
        .filter_map(|input| match inputs::read(input) {
            Ok(file) => {
                let loaded = documents::load(file.text());
                Some((file, loaded))
            }
            Err(error) => {
                run.push(Finding::new(FindingKind::Error, "input", error.to_string()));
                None
            }
        })
        .collect();
    run.summary.files = files.len();

    // Objects are found once per document; the catalog needs all of them (every CRD) before
    // any request is built.
    let extracted: Vec<Vec<Extracted<'_>>> = files
        .iter()
        .map(|(_, loaded)| loaded.documents.iter().map(objects::extract).collect())
        .collect();
    let catalog = catalog_of(extracted.iter().flatten());
    for ((file, loaded), documents) in files.iter().zip(&extracted) {
        run.check_file(file, loaded, documents, &catalog, &mut instances);
    }

    let mut findings = run.findings;
    findings::sort(&mut findings);
    run.summary.errors = count(&findings, |f| f.kind == FindingKind::Error);
    run.summary.warnings = count(&findings, |f| {
        f.kind != FindingKind::Error && f.severity == Severity::Warning
    });
    run.summary.suppressed = findings.iter().filter(|f| !f.is_active()).count();
    run.summary.elapsed = started.elapsed();
    CheckOutcome {
        findings,
        policies: infos,
        summary: run.summary,
        logs: run.logs,
    }
}

/// Unsuppressed findings that satisfy `test`.
fn count(findings: &[Finding], test: impl Fn(&Finding) -> bool) -> usize {
    findings.iter().filter(|f| f.is_active() && test(f)).count()
}

/// The index of the document at byte `offset`: the last one starting at or before it.
fn document_at(loaded: &Loaded, offset: usize) -> usize {
    loaded
        .documents
        .iter()
        .take_while(|d| d.span.start <= offset)
        .last()
        .map_or(0, |d| d.index)
}

/// Every CustomResourceDefinition among the inputs teaches the catalog its kind's plural and
/// scope, so custom resources get the same exact requests built-in kinds get.
fn catalog_of<'d>(documents: impl Iterator<Item = &'d Extracted<'d>>) -> ResourceCatalog {
    let mut catalog = ResourceCatalog::builtin();
    for object in documents.flat_map(|extracted| &extracted.objects) {
        if object.node.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition") {
            catalog.add_crd(&object.node.to_json());
        }
    }
    catalog
}

/// A compiled policy with what the configuration says about it.
struct LoadedPolicy<'o> {
    policy: CompiledPolicy,
    spec: &'o PolicySpec,
    /// The id its findings carry.
    id: String,
}

impl<'o> LoadedPolicy<'o> {
    fn new(policy: CompiledPolicy, spec: &'o PolicySpec) -> Self {
        let id = spec.id.clone().unwrap_or_else(|| policy.id().to_string());
        LoadedPolicy { policy, spec, id }
    }

    fn info(&self) -> PolicyInfo {
        let annotation = |key: &str| {
            self.policy
                .metadata()
                .and_then(|m| m.annotations.get(&format!("io.kubewarden.policy.{key}")))
                .filter(|value| !value.trim().is_empty())
                .cloned()
        };
        let help = match &self.spec.source {
            PolicySource::Builtin(builtin) => Some(builtin.docs.to_string()),
            PolicySource::File(_) => None,
        };
        PolicyInfo {
            id: self.id.clone(),
            origin: self.policy.origin().to_string(),
            description: annotation("description"),
            help,
            url: annotation("url"),
            severity: self.spec.severity.unwrap_or(Severity::Error),
        }
    }
}

/// A loaded policy and its live instance, if it has one.
struct PolicySlot<'p> {
    loaded: &'p LoadedPolicy<'p>,
    policy: &'p CompiledPolicy,
    instance: Option<PolicyInstance<'p>>,
    /// Set when the policy cannot be used for the rest of the run.
    broken: bool,
}

impl<'p> PolicySlot<'p> {
    /// Whether the policy sees `request`: its rules (the configured ones, else the module's)
    /// match, and so does the configured scope.
    fn applies_to(&self, request: &AdmissionRequest) -> bool {
        let scope = &self.loaded.spec.scope;
        scope
            .rules_match(request)
            .unwrap_or_else(|| self.policy.applies_to(request))
            && scope.admits(request)
    }

    fn new(loaded: &'p LoadedPolicy<'p>) -> Self {
        PolicySlot {
            loaded,
            policy: &loaded.policy,
            instance: None,
            broken: false,
        }
    }
}

#[derive(Default)]
struct Run {
    findings: Vec<Finding>,
    summary: Summary,
    logs: Vec<String>,
    /// Whether suppressions in the source count.
    suppressions: bool,
    /// Ids of the policies that run, to tell an unused suppression from one for a policy that
    /// was not asked for.
    ran: HashSet<String>,
}

impl Run {
    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn load_policies<'o>(&mut self, options: &'o CheckOptions) -> Vec<LoadedPolicy<'o>> {
        if options.policies.is_empty() {
            return Vec::new();
        }
        let runtime = match PolicyRuntime::new(options.limits, options.cache.clone()) {
            Ok(runtime) => runtime,
            Err(error) => {
                self.push(Finding::new(
                    FindingKind::Error,
                    "admit",
                    format!("cannot start the WebAssembly runtime: {error:#}"),
                ));
                return Vec::new();
            }
        };
        options
            .policies
            .iter()
            .filter_map(|spec| {
                let settings = spec.settings.clone();
                let loaded = match &spec.source {
                    PolicySource::File(path) => CompiledPolicy::load(&runtime, path, settings),
                    PolicySource::Builtin(builtin) => CompiledPolicy::from_bytes(
                        &runtime,
                        builtin.wasm,
                        format!("builtin:{}", builtin.id),
                        builtin.id.to_string(),
                        settings,
                    ),
                };
                match loaded {
                    Ok(policy) => Some(LoadedPolicy::new(policy, spec)),
                    Err(error) => {
                        self.push(Finding::new(
                            FindingKind::Error,
                            spec.id.clone().unwrap_or_else(|| spec.source.name()),
                            format!("cannot load policy: {error}"),
                        ));
                        None
                    }
                }
            })
            .collect()
    }

    /// Ask each policy about its settings once, before any evaluation; a policy with invalid
    /// settings is skipped for the whole run.
    fn validate_settings(&mut self, slot: &mut PolicySlot<'_>) {
        let id = slot.loaded.id.clone();
        let outcome = slot
            .policy
            .instantiate()
            .and_then(|mut instance| Ok((instance.validate_settings()?, instance)));
        match outcome {
            Ok((answer, instance)) if answer.valid => slot.instance = Some(instance),
            Ok((answer, _)) => {
                slot.broken = true;
                let message = answer.message.unwrap_or_else(|| "no reason given".into());
                let finding = Finding::new(
                    FindingKind::Error,
                    id,
                    format!("invalid settings: {message}"),
                );
                self.push(match &slot.loaded.spec.declared_at {
                    Some((file, span)) => finding
                        .at(SourceRef {
                            file: file.clone(),
                            span: *span,
                            document: 0,
                            pointer: None,
                            label: "these settings".into(),
                            object: None,
                        })
                        .with_help("this policy was skipped"),
                    None => finding.with_help(
                        "fix the settings given with --settings; this policy was skipped",
                    ),
                });
            }
            Err(error) => {
                slot.broken = true;
                self.push(Finding::new(
                    FindingKind::Error,
                    id,
                    format!(
                        "failed while validating its settings: {error}; this policy was skipped"
                    ),
                ));
            }
        }
    }

    fn check_file(
        &mut self,
        file: &SourceFile,
        loaded: &Loaded,
        documents: &[Extracted<'_>],
        catalog: &ResourceCatalog,
        slots: &mut [PolicySlot<'_>],
    ) {
        for error in &loaded.errors {
            self.push(
                Finding::new(FindingKind::Error, "invalid-yaml", error.message.clone()).at(
                    SourceRef {
                        file: file.clone(),
                        span: error.span,
                        document: error.document.unwrap_or(usize::MAX),
                        pointer: None,
                        label: "here".into(),
                        object: None,
                    },
                ),
            );
        }
        let first = self.findings.len();
        let mut comments = if self.suppressions {
            suppressions::from_comments(file, &loaded.documents)
        } else {
            Vec::new()
        };
        for (document, extracted) in loaded.documents.iter().zip(documents) {
            for skipped in &extracted.skipped {
                if skipped.pointer.is_empty() {
                    self.summary.skipped_documents += 1;
                } else {
                    let span = findings::first_line(file, skipped.node.span);
                    self.push(
                        Finding::new(
                            FindingKind::Warning,
                            "not-an-object",
                            format!(
                                "List item is not a Kubernetes object ({}); skipped",
                                skipped.reason
                            ),
                        )
                        .at(SourceRef {
                            file: file.clone(),
                            span,
                            document: document.index,
                            pointer: Some(skipped.pointer.clone()),
                            label: "this item".into(),
                            object: None,
                        }),
                    );
                }
            }
            for object in &extracted.objects {
                self.summary.objects += 1;
                self.check_object(file, object, catalog, slots);
            }
        }
        if !comments.is_empty() {
            suppressions::apply(&mut comments, &mut self.findings[first..], file);
            for suppression in &comments {
                let document = document_at(loaded, suppression.span.start);
                let audit = suppressions::audit(
                    std::slice::from_ref(suppression),
                    file,
                    (document, None),
                    &self.ran,
                    |id| Builtin::find(id).is_some(),
                );
                self.findings.extend(audit);
            }
        }
    }

    fn check_object(
        &mut self,
        file: &SourceFile,
        object: &ObjectRef<'_>,
        catalog: &ResourceCatalog,
        slots: &mut [PolicySlot<'_>],
    ) {
        let first = self.findings.len();
        let name = Arc::new(ObjectName::of(object.node));
        self.evaluate_object(file, object, &name, catalog, slots);
        if !self.suppressions {
            return;
        }
        let mut annotations = suppressions::from_annotation(object);
        if !annotations.is_empty() {
            suppressions::apply(&mut annotations, &mut self.findings[first..], file);
            let audit = suppressions::audit(
                &annotations,
                file,
                (object.document.index, Some(&name)),
                &self.ran,
                |id| Builtin::find(id).is_some(),
            );
            self.findings.extend(audit);
        }
    }

    fn evaluate_object(
        &mut self,
        file: &SourceFile,
        object: &ObjectRef<'_>,
        name: &Arc<ObjectName>,
        catalog: &ResourceCatalog,
        slots: &mut [PolicySlot<'_>],
    ) {
        let at_object = |label: &str| SourceRef {
            file: file.clone(),
            span: findings::object_span(file, object),
            document: object.document.index,
            pointer: None,
            label: label.into(),
            object: Some(name.clone()),
        };
        let json = object.node.to_json();
        let built = match build_request(&json, catalog) {
            Ok(built) => built,
            Err(error) => {
                self.push(
                    Finding::new(FindingKind::Error, "invalid-object", error.to_string())
                        .at(at_object("this object")),
                );
                return;
            }
        };
        for warning in built.warnings {
            self.push(
                Finding::new(FindingKind::Warning, "request", warning).at(at_object("this object")),
            );
        }
        let request = built.request;
        let request_json = match serde_json::to_vec(&request) {
            Ok(json) => json,
            Err(error) => {
                self.push(
                    Finding::new(
                        FindingKind::Error,
                        "invalid-object",
                        format!("cannot serialize the request: {error}"),
                    )
                    .at(at_object("this object")),
                );
                return;
            }
        };
        for slot in slots.iter_mut() {
            if slot.broken || !slot.applies_to(&request) {
                continue;
            }
            let id = slot.loaded.id.clone();
            let instance = match slot.instance.take() {
                Some(instance) => instance,
                None => match slot.policy.instantiate() {
                    Ok(instance) => instance,
                    Err(error) => {
                        slot.broken = true;
                        self.push(Finding::new(
                            FindingKind::Error,
                            id,
                            format!("failed to start: {error}; this policy was skipped for the rest of the run"),
                        ));
                        continue;
                    }
                },
            };
            let mut instance = instance;
            self.summary.evaluations += 1;
            let outcome = instance.validate(&request_json);
            for log in instance.take_logs() {
                let location = file.location(object.node.span.start);
                self.logs.push(format!(
                    "{id}: [{}] {} ({}:{location})",
                    log.level,
                    log.message,
                    file.name()
                ));
            }
            match outcome {
                Ok(response) => {
                    // A healthy instance is reused; a failed one is dropped below, because a
                    // guest that trapped may have left its memory inconsistent.
                    slot.instance = Some(instance);
                    let severity = slot.loaded.spec.severity;
                    let produced =
                        findings::from_response(&id, file, object, name, &json, &response)
                            .into_iter()
                            .map(|f| match (f.kind, severity) {
                                (FindingKind::Rejection, Some(severity)) => {
                                    f.with_severity(severity)
                                }
                                _ => f,
                            })
                            .collect::<Vec<_>>();
                    if !response.accepted {
                        self.summary.rejected += 1;
                    } else if produced.iter().any(|f| f.kind == FindingKind::Mutation) {
                        self.summary.mutated += 1;
                    }
                    self.findings.extend(produced);
                }
                Err(error) => {
                    self.push(
                        Finding::new(FindingKind::Error, id, format!("policy failed: {error}"))
                            .at(at_object("while evaluating this object")),
                    );
                }
            }
        }
    }
}
