//! `admit check`: the pipeline from paths to findings.
//!
//! inputs (walk, read) -> documents (YAML with spans) -> objects -> requests ->
//! policies (match, evaluate) -> findings. Printing is left to `reports`.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::documents::{self, Loaded};
use crate::findings::{self, Finding, FindingKind, SourceRef};
use crate::inputs;
use crate::objects::{self, Extracted, ObjectRef};
use crate::policies::{
    CompiledPolicy, Limits, ModuleCache, PolicyInstance, PolicyRuntime, PolicySource, Settings,
};
use crate::requests::{ResourceCatalog, build_request};
use crate::source::SourceFile;

/// A policy the user asked for, before it is loaded.
#[derive(Debug, Clone)]
pub struct PolicySpec {
    /// Where the module comes from.
    pub source: PolicySource,
    /// Settings for every call.
    pub settings: Settings,
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
    /// Findings, sorted by file, document and position.
    pub findings: Vec<Finding>,
    /// Counts for the summary line.
    pub summary: Summary,
    /// Log lines guests wrote (`kubewarden/tracing/log`), in evaluation order.
    pub logs: Vec<String>,
}

impl CheckOutcome {
    /// 2 if anything failed, 1 if a policy rejected an object, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.summary.errors > 0 {
            2
        } else if self
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Rejection)
        {
            1
        } else {
            0
        }
    }
}

/// Run a check.
pub fn run(options: &CheckOptions) -> CheckOutcome {
    let started = Instant::now();
    let mut run = Run::default();

    let policies = run.load_policies(options);
    let mut instances: Vec<PolicySlot<'_>> = policies.iter().map(PolicySlot::new).collect();
    for slot in &mut instances {
        run.validate_settings(slot);
    }
    run.summary.policies = instances.iter().filter(|s| !s.broken).count();

    let (inputs, input_errors) = inputs::collect(&options.paths, &options.stdin_name);
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
    run.summary.errors = count(&findings, FindingKind::Error);
    run.summary.warnings = count(&findings, FindingKind::Warning);
    run.summary.elapsed = started.elapsed();
    CheckOutcome {
        findings,
        summary: run.summary,
        logs: run.logs,
    }
}

fn count(findings: &[Finding], kind: FindingKind) -> usize {
    findings.iter().filter(|f| f.kind == kind).count()
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

/// A loaded policy and its live instance, if it has one.
struct PolicySlot<'p> {
    policy: &'p CompiledPolicy,
    instance: Option<PolicyInstance<'p>>,
    /// Set when the policy cannot be used for the rest of the run.
    broken: bool,
}

impl<'p> PolicySlot<'p> {
    fn new(policy: &'p CompiledPolicy) -> Self {
        PolicySlot {
            policy,
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
}

impl Run {
    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn load_policies(&mut self, options: &CheckOptions) -> Vec<CompiledPolicy> {
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
                    Ok(policy) => Some(policy),
                    Err(error) => {
                        self.push(Finding::new(
                            FindingKind::Error,
                            spec.source.name(),
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
        let id = slot.policy.id().to_string();
        let outcome = slot
            .policy
            .instantiate()
            .and_then(|mut instance| Ok((instance.validate_settings()?, instance)));
        match outcome {
            Ok((answer, instance)) if answer.valid => slot.instance = Some(instance),
            Ok((answer, _)) => {
                slot.broken = true;
                let message = answer.message.unwrap_or_else(|| "no reason given".into());
                self.push(
                    Finding::new(
                        FindingKind::Error,
                        id,
                        format!("invalid settings: {message}"),
                    )
                    .with_help("fix the settings given with --settings; this policy was skipped"),
                );
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
                    },
                ),
            );
        }
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
                        }),
                    );
                }
            }
            for object in &extracted.objects {
                self.summary.objects += 1;
                self.check_object(file, object, catalog, slots);
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
        let at_object = |label: &str| SourceRef {
            file: file.clone(),
            span: findings::object_span(file, object),
            document: object.document.index,
            pointer: None,
            label: label.into(),
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
            if slot.broken || !slot.policy.applies_to(&request) {
                continue;
            }
            let id = slot.policy.id().to_string();
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
                    let produced = findings::from_response(&id, file, object, &json, &response);
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
