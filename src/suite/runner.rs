//! Running cases through admit's own code, so that a case gives exactly what `admit check`
//! (a manifest) or `admit run` (a request) gives: a manifest goes through `check::run` as
//! `admit check --isolated --no-render FILE --policy ...` would check it, a request through
//! `requests::evaluate`. Cases run in parallel; results keep the order they are written in.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use rayon::prelude::*;
use regex::Regex;

use super::format::{Case, CaseInput, HostContext, TestFile, Verdict};
use super::outcome::{CaseResult, FileResult, Got, SuiteOutcome};
use super::requests::{self, Answer, RequestInput};
use super::{error::TestFileError, inline, verdict};
use crate::check::{self, CheckOptions, CheckOutcome, PolicySpec};
use crate::findings::{Finding, FindingKind};
use crate::policies::{Limits, ModuleCache, PolicyRuntime};

/// How the cases of a run are run.
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    /// Where compiled modules (and `admit check`'s results) are kept; `None` keeps nothing.
    pub(crate) cache: Option<ModuleCache>,
    /// Where inline manifests are written as files for the check.
    pub(crate) inline_dir: PathBuf,
    /// Only the cases whose `SUITE: CASE` this finds run.
    pub(crate) filter: Option<Regex>,
}

/// One run of one case: the case, and everything its evaluation is given.
#[derive(Debug)]
pub(crate) struct CaseRun<'a> {
    /// The test file.
    pub(crate) file: &'a TestFile,
    /// Its index in the file, which names its inline manifest's file.
    pub(crate) index: usize,
    /// The case.
    pub(crate) case: &'a Case,
    /// Its policies, its settings applied.
    pub(crate) policies: Vec<PolicySpec>,
    /// The context files and replay session context-aware policies are to be answered from.
    /// Checked when the test file was read; not yet given to the evaluation, which answers
    /// host calls as `admit check` does (issue 20, part 1 wires them in).
    pub(crate) host_context: &'a HostContext,
}

/// Run every case of every file (`Err`: a file that could not be read, reported as it is).
pub(crate) fn run(files: &[Result<TestFile, TestFileError>], options: &RunOptions) -> SuiteOutcome {
    let started = Instant::now();
    let runtime = OnceLock::new();
    let runs: Vec<(usize, CaseRun<'_>)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, file)| Some((i, file.as_ref().ok()?)))
        .flat_map(|(i, file)| {
            file.cases
                .iter()
                .enumerate()
                .filter(|(_, case)| selected(options, file, case))
                .map(move |(index, case)| (i, case_run(file, index, case)))
        })
        .collect();
    let results: Vec<(usize, CaseResult)> = runs
        .par_iter()
        .map(|(i, run)| (*i, run_case(run, options, &runtime)))
        .collect();
    let mut per_file: Vec<Vec<CaseResult>> = vec![Vec::new(); files.len()];
    for (i, result) in results {
        per_file[i].push(result);
    }
    let files = files
        .iter()
        .zip(per_file)
        .map(|(file, cases)| match file {
            Ok(file) => FileResult {
                file: file.source.name().to_string(),
                suite: file.name.clone(),
                filtered: file.cases.len() - cases.len(),
                cases: Ok(cases),
            },
            Err(error) => FileResult {
                file: error.test_file.clone(),
                suite: error.test_file.clone(),
                cases: Err(error.clone()),
                filtered: 0,
            },
        })
        .collect();
    SuiteOutcome {
        files,
        elapsed: started.elapsed(),
    }
}

/// Whether `--filter` selects the case: it is searched in `SUITE: CASE`.
fn selected(options: &RunOptions, file: &TestFile, case: &Case) -> bool {
    options
        .filter
        .as_ref()
        .is_none_or(|filter| filter.is_match(&format!("{}: {}", file.name, case.name)))
}

/// The run of `case`: its policies, with the case's settings in place of its one policy's.
fn case_run<'a>(file: &'a TestFile, index: usize, case: &'a Case) -> CaseRun<'a> {
    let policies = case
        .policies
        .iter()
        .filter_map(|&i| file.policies.get(i))
        .map(|policy| {
            let mut spec = policy.spec.clone();
            if let Some((settings, span)) = &case.settings {
                spec.settings = settings.clone();
                spec.declared_at = Some((file.source.clone(), *span));
            }
            spec
        })
        .collect();
    CaseRun {
        file,
        index,
        case,
        policies,
        host_context: &case.host_context,
    }
}

fn run_case(
    run: &CaseRun<'_>,
    options: &RunOptions,
    runtime: &OnceLock<Result<PolicyRuntime, String>>,
) -> CaseResult {
    let runtime = || {
        runtime
            .get_or_init(|| {
                PolicyRuntime::new(Limits::default(), options.cache.clone())
                    .map_err(|e| format!("cannot start the WebAssembly runtime: {e:#}"))
            })
            .as_ref()
    };
    let case = run.case;
    let got = match &case.input {
        CaseInput::ManifestFile(path) => {
            let mut got = check_manifest(run, options, path);
            if case.expect.patch.is_some() {
                patch_of_manifest(run, runtime(), &mut got, path, None);
            }
            got
        }
        CaseInput::InlineManifest(text) => {
            let path = inline_path(options, run);
            let mut got = match crate::atomic_file::write(&path, text.as_bytes()) {
                Ok(()) => {
                    let mut got = check_manifest(run, options, &path);
                    inline::point_into(&mut got.findings, &path, &run.file.source);
                    inline::point_into(&mut got.errors, &path, &run.file.source);
                    got
                }
                Err(error) => failed(format!(
                    "cannot write the inline manifest to {}: {error}",
                    path.display()
                )),
            };
            if case.expect.patch.is_some() {
                patch_of_manifest(run, runtime(), &mut got, &path, Some(text));
            }
            got
        }
        CaseInput::Request(document) => match runtime() {
            Ok(runtime) => evaluate_request(run, runtime, document),
            Err(message) => failed(message.clone()),
        },
    };
    let mismatches = verdict::compare(&case.expect, &got);
    let status = verdict::status(&case.expect, &got, &mismatches);
    CaseResult {
        name: case.name.clone(),
        location: run.file.source.location(case.span.start),
        status,
        mismatches,
        got,
    }
}

/// Where the inline manifest of a case is written: always the same file for the same case,
/// so that the result cache keeps one entry for it rather than one per run.
fn inline_path(options: &RunOptions, run: &CaseRun<'_>) -> PathBuf {
    use sha2::{Digest, Sha256};
    let absolute = crate::inputs::absolute(Path::new(run.file.source.name()));
    let digest = Sha256::digest(absolute.display().to_string().as_bytes());
    let name = format!("{}-{}.yaml", &crate::digest::hex(&digest)[..16], run.index);
    options.inline_dir.join(name)
}

/// What `admit check --isolated --no-render PATH` with the case's policies gives.
fn check_manifest(run: &CaseRun<'_>, options: &RunOptions, path: &Path) -> Got {
    // A test names its policies on purpose: each may read what its metadata lists, answered
    // from the case's manifests and context files, or from its replayed session.
    let check_options = CheckOptions {
        paths: vec![path.to_path_buf()],
        stdin_name: "<stdin>".into(),
        policies: run.policies.clone(),
        limits: Limits::default(),
        cache: options.cache.clone(),
        selections: Vec::new(),
        skip_kinds: Vec::new(),
        known_kinds: Vec::new(),
        disabled: Vec::new(),
        suppressions: true,
        progress: None,
        // The human report's snippets, and `--update`'s places, need the text.
        source_text: true,
        render: check::RenderOptions {
            enabled: false,
            ..check::RenderOptions::default()
        },
        context: check::ContextOptions {
            allow_all: true,
            files: run.host_context.context_files.clone(),
            replay: run.host_context.replay.clone(),
            record: None,
            registry: None,
        },
    };
    got_from_check(check::run(&check_options))
}

fn got_from_check(outcome: CheckOutcome) -> Got {
    let policies: Vec<&str> = outcome.policies.iter().map(|p| p.id.as_str()).collect();
    let (errors, findings): (Vec<Finding>, Vec<Finding>) = outcome
        .findings
        .iter()
        .filter(|f| f.is_active())
        .cloned()
        .partition(|f| f.kind == FindingKind::Error);
    let verdict = if !errors.is_empty() {
        Verdict::Error
    } else if findings.iter().any(|f| f.kind == FindingKind::Rejection) {
        Verdict::Rejected
    } else if outcome.summary.evaluations == 0 {
        Verdict::Skipped
    } else {
        Verdict::Allowed
    };
    let messages = match verdict {
        Verdict::Error => errors.iter().map(|f| f.message.clone()).collect(),
        _ => findings
            .iter()
            .filter(|f| f.kind == FindingKind::Rejection)
            .map(|f| f.message.clone())
            .collect(),
    };
    let warnings = findings
        .iter()
        .filter(|f| f.kind == FindingKind::Warning && policies.contains(&f.source.as_str()))
        .map(|f| f.message.clone())
        .collect();
    Got {
        verdict,
        findings,
        errors,
        messages,
        warnings,
        patch: None,
    }
}

/// The patch the case's one policy would apply to the manifest's one object, computed as
/// `admit run --manifest` computes it.
fn patch_of_manifest(
    run: &CaseRun<'_>,
    runtime: Result<&PolicyRuntime, &String>,
    got: &mut Got,
    path: &Path,
    text: Option<&String>,
) {
    let text = match text {
        Some(text) => text.clone(),
        None => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) => {
                add_error(got, format!("cannot read {}: {error}", path.display()));
                return;
            }
        },
    };
    let loaded = crate::documents::load(&text);
    // Reading the test file made sure of one object and one policy.
    let (Some(document), [spec]) = (loaded.documents.first(), run.policies.as_slice()) else {
        return;
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(message) => {
            add_error(got, message.clone());
            return;
        }
    };
    let answer = requests::evaluate(
        runtime,
        spec,
        RequestInput::Manifest(&document.root),
        run.host_context,
    );
    match &answer {
        Answer::Failed { policy, message } => {
            got.errors.push(Finding::new(
                FindingKind::Error,
                policy.clone(),
                message.clone(),
            ));
            got.verdict = Verdict::Error;
        }
        Answer::Response { .. } => got.patch = Some(answer.patch()),
    }
}

/// `got`, with one more error: its verdict is then `error`.
fn add_error(got: &mut Got, message: String) {
    // admit itself could not run the case (the runtime did not start, a file could not be
    // written): admit's own error, as `admit check` reports it.
    got.errors
        .push(Finding::new(FindingKind::Error, "admit", message));
    got.verdict = Verdict::Error;
    got.messages = got.errors.iter().map(|f| f.message.clone()).collect();
}

/// What a case gives when it could not be evaluated at all.
fn failed(message: String) -> Got {
    let mut got = Got {
        verdict: Verdict::Error,
        findings: Vec::new(),
        errors: Vec::new(),
        messages: Vec::new(),
        warnings: Vec::new(),
        patch: None,
    };
    add_error(&mut got, message);
    got
}

/// What `admit run` gives for the request, with each of the case's policies. Like the check,
/// it does not use `run.host_context` yet.
fn evaluate_request(
    run: &CaseRun<'_>,
    runtime: &PolicyRuntime,
    document: &serde_json::Value,
) -> Got {
    let answers: Vec<Answer> = run
        .policies
        .iter()
        .map(|spec| {
            requests::evaluate(
                runtime,
                spec,
                RequestInput::Document(document),
                run.host_context,
            )
        })
        .collect();
    let mut errors = Vec::new();
    let mut rejections = Vec::new();
    let mut warnings = Vec::new();
    for answer in &answers {
        match answer {
            Answer::Failed { policy, message } => errors.push(Finding::new(
                FindingKind::Error,
                policy.clone(),
                message.clone(),
            )),
            Answer::Response { response, .. } => {
                if !response.accepted {
                    rejections.push(response.message.clone().unwrap_or_default());
                }
                warnings.extend(response.warnings.iter().flatten().cloned());
            }
        }
    }
    let verdict = if !errors.is_empty() {
        Verdict::Error
    } else if !rejections.is_empty() {
        Verdict::Rejected
    } else {
        Verdict::Allowed
    };
    let messages = match verdict {
        Verdict::Error => errors.iter().map(|f| f.message.clone()).collect(),
        _ => rejections,
    };
    let patch = match (run.case.expect.patch.is_some(), answers.as_slice()) {
        (true, [answer]) => Some(answer.patch()),
        _ => None,
    };
    Got {
        verdict,
        findings: Vec::new(),
        errors,
        messages,
        warnings,
        patch,
    }
}
