//! `admit check`: the pipeline from paths to findings.
//!
//! inputs (walk, read) -> documents (YAML with spans) -> objects -> requests ->
//! policies (match, evaluate) -> findings. Printing is left to `reports`.
//!
//! Files are read, parsed and checked in parallel (rayon); every stage keeps the inputs' order
//! and findings are sorted at the end, so the output is the same whatever the thread count.

mod file_check;
mod policy_set;
mod result_cache;

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::documents::{self, Loaded};
use crate::findings::{self, Finding, FindingKind, Severity};
use crate::inputs;
use crate::objects::{self, Extracted};
use crate::policies::scope::Scope;
use crate::policies::{Limits, ModuleCache, PolicyRuntime, PolicySource, Settings};
use crate::requests::ResourceCatalog;
use crate::source::{SourceFile, Span};
use crate::suppressions;
use file_check::{Context, FileResult};
use policy_set::{Policy, Workers};
use result_cache::ResultCache;

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
    /// The execution mode the configuration gives (`execution-mode:`), which must agree with
    /// the module's metadata; needed for a Rego module without metadata.
    pub execution_mode: Option<crate::policies::ExecutionMode>,
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
            execution_mode: None,
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
    /// Told how many files there are and when each is done; the command line draws a progress
    /// bar with it.
    pub progress: Option<Arc<dyn Progress>>,
    /// Whether a report will show the files' text (the human format's snippets). When none
    /// will, a file the result cache knows unchanged is not read at all: its findings keep the
    /// lines and columns recorded with them.
    pub source_text: bool,
}

/// Something that follows a check's progress. Called from many threads.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// The check has `files` files to go through.
    fn start(&self, files: usize);
    /// One more file is done.
    fn advance(&self);
    /// The check is over.
    fn finish(&self);
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
    /// Files whose result came from the result cache.
    pub cached_files: usize,
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
        write!(f, " ({:.2} s", self.elapsed.as_secs_f64())?;
        if self.cached_files > 0 {
            write!(
                f,
                "; {} unchanged since the last run",
                plural(self.cached_files, "file", "files")
            )?;
        }
        write!(f, ")")
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
        a.cached_files += b.cached_files;
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
    let mut findings: Vec<Finding> = Vec::new();
    let mut summary = Summary::default();

    let policies = policy_set::load(&options.policies, &mut findings);
    let infos: Vec<PolicyInfo> = policies.iter().map(|p| p.info()).collect();
    let runtime = if policies.is_empty() {
        None
    } else {
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
    };
    let policies = if runtime.is_some() {
        policies
    } else {
        Vec::new()
    };

    let (mut inputs, input_errors) = inputs::collect(&options.paths, &options.stdin_name);
    if let Some(selection) = &options.selection {
        inputs.retain(|input| match &input.origin {
            inputs::Origin::File(path) => selection.selects(path),
            inputs::Origin::Stdin => true,
        });
    }
    for error in input_errors {
        findings.push(Finding::new(FindingKind::Error, "input", error.to_string()));
    }
    let result_cache = options
        .cache
        .as_ref()
        .map(|c| ResultCache::open(c.dir(), &inputs));

    // Phase 1: read every file, and parse those the result cache does not know that may
    // define a CRD; the catalog needs every CRD before any request is built, and a known
    // file's CRDs are in its entry.
    // A file the cache knows unchanged by its size and time is not hashed, and not even read
    // when no report shows its text or its result points at nothing in it.
    let read: Vec<Result<Prepared<'_>, Box<Finding>>> = inputs
        .par_iter()
        .map(|input| {
            let entry = result_cache.as_ref().and_then(|cache| cache.entry(input));
            // Taken before reading: an edit after it makes the recorded stat stale, never
            // the recorded digest.
            let stat = result_cache
                .as_ref()
                .and_then(|_| result_cache::FileStat::of(input));
            let unchanged = entry.filter(|entry| entry.unchanged(stat));
            if let Some(entry) = unchanged
                && !(options.source_text && entry.needs_text())
            {
                return Ok(Prepared {
                    input,
                    file: None,
                    loaded: None,
                    entry: Some(entry),
                    content: Some(Cow::Borrowed(entry.content())),
                    stat,
                    crds: entry.crds(),
                });
            }
            let file = read_input(input)?;
            let (entry, content) = match (&result_cache, unchanged) {
                (_, Some(entry)) => (Some(entry), Some(Cow::Borrowed(entry.content()))),
                (Some(_), None) => {
                    let content = ResultCache::digest(&file);
                    (
                        entry.filter(|e| e.content() == content),
                        Some(Cow::Owned(content)),
                    )
                }
                (None, None) => (None, None),
            };
            let (crds, loaded) = match entry {
                Some(entry) => (entry.crds(), None),
                // Parsed in phase 2, with its batch, so that a large repository's trees are
                // not all alive at once.
                None if !may_define_crd(file.text()) => (Vec::new(), None),
                None => {
                    let loaded = documents::load(file.text());
                    (crds_in(&loaded), Some(loaded))
                }
            };
            Ok(Prepared {
                input,
                file: Some(file),
                loaded,
                entry,
                content,
                stat,
                crds,
            })
        })
        .collect();
    let mut files: Vec<Prepared<'_>> = Vec::with_capacity(read.len());
    for result in read {
        match result {
            Ok(file) => files.push(file),
            Err(finding) => findings.push(*finding),
        }
    }
    summary.files = files.len();
    let mut catalog = ResourceCatalog::builtin();
    for crd in files.iter().flat_map(|f| &f.crds) {
        catalog.add_crd(crd);
    }
    // Hashing every module is only worth it when results are cached.
    let run_key = match &result_cache {
        Some(_) => result_cache::run_fingerprint(&policies, &catalog, options.suppressions),
        None => String::new(),
    };

    if let Some(progress) = &options.progress {
        progress.start(files.len());
    }

    // Phase 2: check each file, or take its result from the cache.
    let policy_errors = Mutex::new(Vec::new());
    let context = Context {
        policies: &policies,
        runtime: runtime.as_ref(),
        catalog: &catalog,
        suppressions: options.suppressions,
        policy_errors: &policy_errors,
    };
    // One set of instances per thread for the whole run: `map_init` would set one up per
    // split of the work, and a fresh instance costs more than a warm call.
    let pool: Vec<Mutex<Workers<'_>>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(Workers::new(policies.len())))
        .collect();
    let batches: Vec<Vec<FileResult>> = files
        .into_par_iter()
        .chunks(BATCH_FILES)
        .map(|batch| {
            let slot = rayon::current_thread_index().unwrap_or(0) % pool.len();
            // The slot is taken when this thread re-entered the loop while waiting inside
            // wasmtime's parallel compilation (rayon runs other work in a join): then use
            // instances of its own rather than deadlock. A poisoned slot is still usable:
            // instances are only replaced whole.
            let (mut guard, mut own);
            let workers: &mut Workers<'_> = match pool[slot].try_lock() {
                Ok(slot) => {
                    guard = slot;
                    &mut guard
                }
                Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                    guard = poisoned.into_inner();
                    &mut guard
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    own = Workers::new(policies.len());
                    &mut own
                }
            };
            let mut done: Vec<Option<FileResult>> = batch.iter().map(|_| None).collect();
            let mut pending = Vec::new();
            for (index, prepared) in batch.into_iter().enumerate() {
                if let Some(progress) = &options.progress {
                    progress.advance();
                }
                if let Some(hit) = prepared.entry.and_then(|entry| {
                    entry.result(&run_key, prepared.file.as_ref(), policies.len())
                }) {
                    done[index] = Some(hit);
                    continue;
                }
                // Not read in phase 1 because the cache knew it, but the run changed.
                let file = match prepared.file {
                    Some(file) => file,
                    None => match read_input(prepared.input) {
                        Ok(file) => file,
                        Err(finding) => {
                            done[index] = Some(FileResult::failed(*finding));
                            continue;
                        }
                    },
                };
                let loaded = match prepared.loaded {
                    Some(loaded) => loaded,
                    None => documents::load(file.text()),
                };
                pending.push((
                    index,
                    prepared.input,
                    file,
                    loaded,
                    prepared.content,
                    prepared.stat,
                    prepared.crds,
                ));
            }
            let checked = {
                let extracted: Vec<Vec<Extracted<'_>>> = pending
                    .iter()
                    .map(|(_, _, _, loaded, _, _, _)| {
                        loaded.documents.iter().map(objects::extract).collect()
                    })
                    .collect();
                let inputs: Vec<file_check::FileInput<'_>> = pending
                    .iter()
                    .zip(&extracted)
                    .map(
                        |((_, _, file, loaded, _, _, _), extracted)| file_check::FileInput {
                            file,
                            loaded,
                            extracted,
                        },
                    )
                    .collect();
                file_check::check_files(&context, workers, &inputs)
            };
            for ((index, input, _, _, content, stat, crds), result) in
                pending.into_iter().zip(checked)
            {
                if let (Some(cache), Some(content)) = (&result_cache, content) {
                    cache.put(input, content.into_owned(), stat, &crds, &run_key, &result);
                }
                done[index] = Some(result);
            }
            // Sorted here, in parallel, the final sort of the whole run only merges runs.
            done.into_iter()
                .flatten()
                .map(|mut result| {
                    findings::sort(&mut result.findings);
                    result
                })
                .collect()
        })
        .collect();
    // Room for every finding at once: growing the list by doubling put tens of megabytes of
    // fresh pages through the kernel on a large run, more than the rest of a cached run.
    findings.reserve(
        batches
            .iter()
            .flatten()
            .map(|result| result.findings.len())
            .sum(),
    );
    let results = batches.into_iter().flatten();
    if let Some(cache) = result_cache {
        cache.save();
    }
    if let Some(progress) = &options.progress {
        progress.finish();
    }
    // A hung policy's work is left out whole (see `Policy::hang`): its findings, the audits
    // of suppressions naming it, its logs and its counts.
    let is_hung = |index: usize| policies.get(index).is_some_and(Policy::is_hung);
    let hung_ids: Vec<&str> = policies
        .iter()
        .filter(|p| p.is_hung())
        .map(|p| p.id.as_str())
        .collect();
    let mut logs = Vec::new();
    for result in results {
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
    // Policies are compiled when an object needs them; one given settings is still checked
    // when none did (or every file came from the result cache), so a mistake in its settings
    // never goes unreported.
    if let Some(runtime) = &runtime {
        policies
            .par_iter()
            .filter(|policy| !policy.spec.settings.is_empty())
            .for_each(|policy| {
                policy.compiled(runtime, &policy_errors);
            });
    }
    findings.extend(policy_errors.into_inner().unwrap_or_default());
    summary.policies = policies.iter().filter(|p| !p.is_broken()).count();

    findings::sort(&mut findings);
    summary.errors = count(&findings, |f| f.kind == FindingKind::Error);
    summary.warnings = count(&findings, |f| {
        f.kind != FindingKind::Error && f.severity == Severity::Warning
    });
    summary.suppressed = findings.iter().filter(|f| !f.is_active()).count();
    summary.elapsed = started.elapsed();
    CheckOutcome {
        findings,
        policies: infos,
        summary,
        logs,
    }
}

/// Unsuppressed findings that satisfy `test`.
fn count(findings: &[Finding], test: impl Fn(&Finding) -> bool) -> usize {
    findings.iter().filter(|f| f.is_active() && test(f)).count()
}

/// How many files a thread checks together, each policy on all their objects in a row: small
/// enough to keep both cores busy, large enough for a policy to stay in the CPU's caches.
const BATCH_FILES: usize = 16;

/// A file read (unless the result cache knows it unchanged and needs no text), and parsed
/// unless the result cache knows it.
struct Prepared<'c> {
    input: &'c inputs::Input,
    file: Option<SourceFile>,
    loaded: Option<Loaded>,
    entry: Option<&'c result_cache::Entry>,
    /// SHA-256 of the text, when results are cached.
    /// Borrowed from the cache entry when there is one: a run that takes every file from the
    /// cache never needs its own copy.
    content: Option<Cow<'c, str>>,
    /// Size and modification time before reading, when results are cached.
    stat: Option<result_cache::FileStat>,
    /// The CustomResourceDefinitions it defines, as JSON.
    crds: Vec<serde_json::Value>,
}

/// Read `input`, or the error finding that says why it cannot be.
fn read_input(input: &inputs::Input) -> Result<SourceFile, Box<Finding>> {
    inputs::read(input)
        .map_err(|error| Box::new(Finding::new(FindingKind::Error, "input", error.to_string())))
}

/// Whether `text` could define a CustomResourceDefinition, which the catalog needs before
/// any file is checked. A kind is written out in full unless escaped (`\u0044`, or a
/// double-quoted line break), and every escape needs a backslash.
fn may_define_crd(text: &str) -> bool {
    text.contains("CustomResourceDefinition") || text.contains('\\')
}

/// Every CustomResourceDefinition among a file's objects teaches the catalog its kind's plural
/// and scope, so custom resources get the same exact requests built-in kinds get.
fn crds_in(loaded: &Loaded) -> Vec<serde_json::Value> {
    loaded
        .documents
        .iter()
        .flat_map(|document| objects::extract(document).objects)
        .filter(|object| {
            object.node.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition")
        })
        .map(|object| object.node.to_json())
        .collect()
}
