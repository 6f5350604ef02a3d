//! `admit check`: the pipeline from paths to findings.
//!
//! inputs (walk, read) -> documents (YAML with spans) -> objects -> requests ->
//! policies (match, evaluate) -> findings. Printing is left to `reports`.
//!
//! A run has two phases: `read` reads every file and finds the CRDs the catalog needs before
//! any request is built; `evaluate` checks the files in batches (`file_check`), or takes their
//! results from the `result_cache`; `outcome` gathers what they found.
//!
//! Files are read, parsed and checked in parallel (rayon); every stage keeps the inputs' order
//! and findings are sorted at the end, so the output is the same whatever the thread count.

mod context;
mod evaluate;
mod file_check;
mod instances;
mod misspelled;
mod outcome;
mod policy_set;
mod read;
mod rendered;
mod result_cache;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

use crate::findings::{Finding, FindingKind, Severity};
use crate::inputs;
use crate::objects::KindPattern;
use crate::policies::scope::Scope;
use crate::policies::{ExecutionMode, Limits, ModuleCache, PolicyRuntime, PolicySource, Settings};
use crate::source::{SourceFile, Span};
pub(crate) use context::ContextOptions;
use evaluate::Evaluation;
use file_check::Context;
pub(crate) use outcome::{CheckOutcome, FailOn, PolicyInfo, SetApart, Summary};
use policy_set::Policy;
pub(crate) use rendered::RenderOptions;
use result_cache::ResultCache;

/// A policy the user asked for, before it is loaded.
#[derive(Debug, Clone)]
pub(crate) struct PolicySpec {
    /// Where the module comes from.
    pub(crate) source: PolicySource,
    /// Settings for every call.
    pub(crate) settings: Settings,
    /// The id findings carry, when the configuration names the policy (a
    /// `ClusterAdmissionPolicy`'s name); else the module's own title or file name.
    pub(crate) id: Option<String>,
    /// The severity of the policy's rejections; `None` is [`Severity::Error`].
    pub(crate) severity: Option<Severity>,
    /// Which objects it sees, beyond its own metadata rules.
    pub(crate) scope: Scope,
    /// Where a file configured it (its settings, else its entry), so that invalid settings are
    /// reported at that line; `None` for policies named by flags.
    pub(crate) declared_at: Option<(SourceFile, Span)>,
    /// The execution mode the configuration or `--execution-mode` gives, which must agree
    /// with the module's metadata; needed for a Rego module without metadata.
    pub(crate) execution_mode: Option<ExecutionMode>,
    /// Where the policy was named, which decides how an error tells the user to fix it.
    pub(crate) given_by: GivenBy,
    /// Whether it may read the repository through `kubernetes/*` host calls
    /// (`allow-context-aware: true` on its entry).
    pub(crate) allow_context_aware: bool,
}

/// Where a policy was named: each place has its own way to say more about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GivenBy {
    /// `--policy`, with `--settings` and `--execution-mode` beside it.
    CommandLine,
    /// An entry of `admit.yaml`, with keys such as `settings:` and `execution-mode:`.
    Configuration,
    /// A Kubewarden `ClusterAdmissionPolicy`/`AdmissionPolicy`, which names only the module:
    /// the rest is in the module's metadata.
    PolicyResource,
}

impl PolicySpec {
    /// A policy from `source` with `settings`, under its own id, at the default severity.
    pub(crate) fn new(source: PolicySource, settings: Settings) -> Self {
        PolicySpec {
            source,
            settings,
            id: None,
            severity: None,
            scope: Scope::default(),
            declared_at: None,
            execution_mode: None,
            given_by: GivenBy::CommandLine,
            allow_context_aware: false,
        }
    }
}

/// Everything a check needs to know.
#[derive(Debug, Clone)]
pub(crate) struct CheckOptions {
    /// Files and directories to check; `-` is standard input.
    pub(crate) paths: Vec<PathBuf>,
    /// The name standard input has in reports.
    pub(crate) stdin_name: String,
    /// The policies to run.
    pub(crate) policies: Vec<PolicySpec>,
    /// Limits for every guest call.
    pub(crate) limits: Limits,
    /// Where compiled modules are kept across runs; `None` compiles every time.
    pub(crate) cache: Option<ModuleCache>,
    /// Which of the files found are checked: those every selection selects (the
    /// configuration's `include` and `exclude`, the command line's `--exclude`). Their
    /// excludes hold for standard input's `--stdin-filename` too.
    pub(crate) selections: Vec<inputs::Selection>,
    /// Kinds never checked (`skip-kinds`), beyond the other tools' configurations.
    pub(crate) skip_kinds: Vec<KindPattern>,
    /// Kinds known without a CustomResourceDefinition (`known-kinds`).
    pub(crate) known_kinds: Vec<KindPattern>,
    /// admit's own warnings turned off, by id (`disable`).
    pub(crate) disabled: Vec<String>,
    /// Whether `admit.dev/ignore` annotations and `# admit:ignore` comments count; off for an
    /// audit that must see everything.
    pub(crate) suppressions: bool,
    /// Told how many files there are and when each is done; the command line draws a progress
    /// bar with it.
    pub(crate) progress: Option<Arc<dyn Progress>>,
    /// Whether a report will show the files' text (the human format's snippets). When none
    /// will, a file the result cache knows unchanged is not read at all: its findings keep the
    /// lines and columns recorded with them.
    pub(crate) source_text: bool,
    /// How Kustomize trees are rendered.
    pub(crate) render: RenderOptions,
    /// How context-aware policies' host calls are answered.
    pub(crate) context: ContextOptions,
}

/// Something that follows a check's progress. Called from many threads.
pub(crate) trait Progress: Send + Sync + std::fmt::Debug {
    /// The check has `files` files to go through.
    fn start(&self, files: usize);
    /// One more file is done.
    fn advance(&self);
    /// The check is over.
    fn finish(&self);
}

/// Run a check.
pub(crate) fn run(options: &CheckOptions) -> CheckOutcome {
    let started = Instant::now();
    let mut findings: Vec<Finding> = Vec::new();

    let policies = policy_set::load(&options.policies, &mut findings);
    let infos: Vec<PolicyInfo> = policies.iter().map(|p| p.info()).collect();
    let runtime = start_runtime(options, !policies.is_empty(), &mut findings);
    let policies = if runtime.is_some() {
        policies
    } else {
        Vec::new()
    };
    let (mut inputs, mut skipped_inputs) = collect_inputs(options, &mut findings);
    let rendering = rendered::prepare(
        &options.render,
        &mut inputs,
        &mut skipped_inputs,
        &mut findings,
    );
    // A recording needs every answer given afresh: a cached result asks nothing.
    let result_cache = options
        .cache
        .as_ref()
        .filter(|_| options.context.record.is_none())
        .map(|c| ResultCache::open(c.dir(), &inputs));

    let read = read::read_files(&inputs, result_cache.as_ref(), options.source_text);
    let catalog = read.catalog();
    findings.extend(read.errors);
    let mut files = read.files;
    let prepared = context::prepare(
        &options.context,
        &policies,
        &mut files,
        &catalog,
        &options.skip_kinds,
        &mut findings,
    );
    let renderings = files
        .iter()
        .filter(|f| matches!(f.input.origin, inputs::Origin::Rendered { .. }))
        .count();
    let mut summary = Summary {
        files: files.len() - renderings,
        renderings,
        skipped_inputs,
        ..Summary::default()
    };
    // Hashing every module is only worth it when results are cached.
    let run_key = match &result_cache {
        Some(_) => result_cache::run_fingerprint(
            &policies,
            &options.limits,
            &catalog,
            (&options.skip_kinds, &options.known_kinds),
            options.suppressions,
        ),
        None => String::new(),
    };
    // A context-aware result depends on every object of the run: any change anywhere is a
    // fresh evaluation of everything.
    let run_key = match &prepared.fingerprint {
        Some(fingerprint) if !run_key.is_empty() => format!("{run_key}-{fingerprint}"),
        _ => run_key,
    };

    if let Some(progress) = &options.progress {
        progress.start(files.len());
    }
    let policy_errors = Mutex::new(Vec::new());
    let context = Context {
        policies: &policies,
        runtime: runtime.as_ref(),
        catalog: &catalog,
        suppressions: options.suppressions,
        policy_errors: &policy_errors,
        skip_kinds: &options.skip_kinds,
        known_kinds: &options.known_kinds,
        host: Some(prepared.answers.clone() as Arc<dyn crate::policies::HostAnswers>),
    };
    let evaluation = Evaluation {
        context: &context,
        result_cache: result_cache.as_ref(),
        run_key: &run_key,
        progress: options.progress.as_deref(),
    };
    let mut batches = evaluate::evaluate(&evaluation, files);
    if let Some(rendering) = &rendering {
        rendered::map_back(rendering, &mut batches, options.suppressions);
    }
    if let Some(cache) = result_cache {
        cache.save();
    }
    context::finish(&options.context, &prepared, &mut findings);
    if let Some(progress) = &options.progress {
        progress.finish();
    }

    let logs = outcome::gather(batches, &policies, &mut findings, &mut summary);
    // Turned off, not suppressed: they are not counted either. Errors never are.
    findings.retain(|finding| {
        finding.kind == FindingKind::Error || !options.disabled.contains(&finding.source)
    });
    if let Some(runtime) = &runtime {
        validate_unused_settings(&policies, runtime, &policy_errors);
    }
    findings.extend(policy_errors.into_inner().unwrap_or_default());
    summary.policies = policies.iter().filter(|p| !p.is_broken()).count();
    outcome::finish(findings, infos, summary, logs, started)
}

/// The WebAssembly runtime, when there are policies to run and it starts.
fn start_runtime(
    options: &CheckOptions,
    needed: bool,
    findings: &mut Vec<Finding>,
) -> Option<PolicyRuntime> {
    if !needed {
        return None;
    }
    match PolicyRuntime::new(options.limits, options.cache.clone()) {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            findings.push(Finding::new(
                FindingKind::Error,
                "admit",
                format!("cannot start the WebAssembly runtime: {error:#}"),
            ));
            None
        }
    }
}

/// The files to check: those found under the paths that every selection selects, and the
/// paths left out on purpose. A path that cannot be walked is an error finding.
fn collect_inputs(
    options: &CheckOptions,
    findings: &mut Vec<Finding>,
) -> (Vec<inputs::Input>, Vec<inputs::SkippedInput>) {
    let inputs::Collected {
        mut inputs,
        errors,
        mut skipped,
    } = inputs::collect(&options.paths, &options.stdin_name);
    inputs.retain(|input| match &input.origin {
        inputs::Origin::File(path) => options.selections.iter().all(|s| s.selects(path)),
        // Named by `--stdin-filename`, as an editor names the buffer it pipes: an excluded
        // file must stay excluded whichever way it comes. Only `exclude` holds, since
        // standard input's default name is in no `include`.
        inputs::Origin::Stdin => {
            let name = std::path::Path::new(&input.name);
            let excluded = options.selections.iter().any(|s| s.excludes(name));
            if excluded {
                skipped.push(inputs::SkippedInput::ExcludedStdin {
                    name: input.name.clone(),
                });
            }
            !excluded
        }
        inputs::Origin::Rendered { .. } | inputs::Origin::Piped(_) => true,
    });
    findings.extend(errors.into_iter().map(read::input_error));
    skipped.sort();
    (inputs, skipped)
}

/// Policies are compiled when an object needs them; one given settings is still checked when
/// none did (or every file came from the result cache), so a mistake in its settings never
/// goes unreported.
fn validate_unused_settings(
    policies: &[Policy<'_>],
    runtime: &PolicyRuntime,
    policy_errors: &Mutex<Vec<Finding>>,
) {
    policies
        .par_iter()
        .filter(|policy| !policy.spec.settings.is_empty())
        .for_each(|policy| {
            policy.compiled(runtime, policy_errors);
        });
}
