//! `admit run`: evaluate one request with one policy and print the AdmissionResponse, as
//! `kwctl run` does (kwctl's `src/command/run.rs`,
//! <https://github.com/kubewarden/kwctl/blob/main/src/command/run.rs>), so that Kubewarden
//! policy repositories' end-to-end tests can run with `admit run` in place of `kwctl run`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{IntoDiagnostic, miette};
use serde_json::Value;

use super::policy_timeout;
use super::response::{admission_response, error_response};
use super::settings::parse_settings;
use super::source::PolicyModule;
use crate::cli::RunArgs;
use crate::context::ContextAnswers;
use crate::documents::{self, Node};
use crate::policies::{
    CallError, CompiledPolicy, ExecutionMode, HostContext, Limits, ModuleCache, PolicyLoadError,
    PolicyRuntime, PolicyType, Settings,
};
use crate::requests::{
    AdmissionRequest, ClusterObject, ResourceCatalog, build_request, object_header,
};

/// Where the request comes from.
#[derive(Debug, Clone)]
enum RequestSource {
    /// An AdmissionReview, a bare AdmissionRequest or (for raw policies) any document, in JSON
    /// or YAML; `-` is standard input.
    Request(PathBuf),
    /// A manifest, turned into a CREATE request the way `admit check` does.
    Manifest(PathBuf),
}

/// What `admit run` was asked to do, its arguments read.
#[derive(Debug, Clone)]
struct RunOptions {
    /// The module path or built-in id.
    policy: String,
    /// The request.
    request: RequestSource,
    /// The policy's settings (`{}` when none were given).
    settings: Settings,
    /// `-e`: the execution mode, checked against the metadata's.
    execution_mode: Option<ExecutionMode>,
    /// `--raw`: the request is the raw document, whatever the metadata says.
    raw: bool,
    /// Wall-time limit for one call.
    limits: Limits,
    /// Print what the policy logs to standard error.
    verbose: bool,
    /// How a referenced module is fetched.
    registry: crate::cli::RegistryArgs,
    /// How host calls are answered.
    context: crate::cli::ContextArgs,
}

impl RunOptions {
    fn from_args(args: RunArgs) -> miette::Result<Self> {
        let settings = match (&args.settings_path, &args.settings_json) {
            (Some(path), _) => parse_settings(&path.display().to_string())?,
            (None, Some(json)) => parse_settings(json)?,
            (None, None) => Settings::new(),
        };
        let mut limits = Limits::default();
        if let Some(timeout) = policy_timeout(args.policy_timeout)? {
            limits.timeout = timeout;
        }
        let request = match (args.request_path, args.manifest) {
            (Some(path), _) => RequestSource::Request(path),
            (None, Some(path)) => RequestSource::Manifest(path),
            (None, None) => return Err(miette!("give --request-path or --manifest")),
        };
        Ok(RunOptions {
            policy: args.policy,
            request,
            settings,
            execution_mode: args.execution_mode,
            raw: args.raw,
            limits,
            verbose: args.verbose,
            registry: args.registry,
            context: args.context,
        })
    }
}

/// Run the policy and print one AdmissionResponse line. `Ok` whether the request was allowed or
/// denied; `Err` when nothing could be evaluated (exit code 1, as kwctl).
pub(crate) fn run(args: RunArgs) -> miette::Result<()> {
    let options = &RunOptions::from_args(args)?;
    let module = PolicyModule::read(&options.policy, &options.registry)?;
    let runtime = PolicyRuntime::new(
        options.limits,
        ModuleCache::default_dir().map(ModuleCache::new),
    )
    .map_err(|e| miette!("cannot start the WebAssembly runtime: {e}"))?;
    let policy = CompiledPolicy::from_bytes_with_mode(
        &runtime,
        &module.bytes,
        module.origin.clone(),
        module.fallback_id,
        options.settings.clone(),
        options.execution_mode,
    )
    .map_err(|e| match e {
        // One line, as every error of `run` is printed.
        PolicyLoadError::ModeNeeded => miette!(
            "cannot load the policy {}: {e}; run it with -e opa or -e gatekeeper",
            module.origin
        ),
        e => miette!("cannot load the policy {}: {e}", module.origin),
    })?;
    let raw = options.raw || policy.policy_type() == PolicyType::Raw;
    let request = read_request(&options.request, raw)?;

    let mut instance = policy.instantiate().map_err(|e| {
        show_last_words(&e);
        miette!("the policy {} failed to start: {e}", module.origin)
    })?;
    let settings = instance.validate_settings().map_err(|e| {
        show_last_words(&e);
        miette!("Provided settings are not valid: {e}")
    })?;
    if !settings.valid {
        return Err(miette!(
            "Provided settings are not valid: {}",
            settings.message.unwrap_or_default()
        ));
    }
    let request_json = serde_json::to_vec(&request.payload).into_diagnostic()?;
    let answers = context_answers(
        &options.context,
        &policy,
        super::registry::image_access(super::registry::cwd_config()?.as_ref(), &options.registry),
    )?;
    let host = HostContext {
        answers: Some(answers.clone()),
        policy: 0,
        subject: None,
    };
    let answer = instance.validate_with(&request_json, &host);
    if let (Some(path), Some(recorder)) = (
        &options.context.record_host_capabilities_interactions,
        &answers.recorder,
    ) {
        crate::atomic_file::write(path, recorder.render().as_bytes())
            .map_err(|e| miette!("cannot write the session {}: {e}", path.display()))?;
    }
    let logs = instance.take_logs();
    if options.verbose {
        for log in logs {
            eprintln!("{} {}: {}", policy.id(), log.level, log.message);
        }
    }
    let response = match answer {
        Ok(response) => admission_response(&request.uid, request.original.as_ref(), &response),
        Err(error) => {
            show_last_words(&error);
            error_response(
                &request.uid,
                &error,
                policy.execution_mode() == ExecutionMode::Wasi,
            )
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{response}").into_diagnostic()?;
    Ok(())
}

/// Print to standard error what the policy wrote to stderr and logged before it failed: the
/// response, or the one-line error, keeps the form kwctl gives it.
fn show_last_words(error: &CallError) {
    if let Some(words) = error.last_words() {
        eprintln!("the policy wrote, before it failed:");
        for line in words.lines() {
            eprintln!("    {line}");
        }
    }
}

/// The request as the policy receives it, and what its response is computed against.
struct Request {
    /// What goes under `request` in the payload.
    payload: Value,
    /// The response's `uid`.
    uid: String,
    /// What a mutation is diffed against: the request's object, or the raw document.
    original: Option<Value>,
}

fn read_request(source: &RequestSource, raw: bool) -> miette::Result<Request> {
    let (path, manifest) = match source {
        RequestSource::Request(path) => (path, false),
        RequestSource::Manifest(path) => (path, true),
    };
    let node = read_document(path)?;
    if raw {
        let document = node.to_json();
        // A raw policy gets the document itself
        // (<https://docs.kubewarden.io/howtos/raw-policies>).
        let uid = document
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        return Ok(Request {
            original: Some(document.clone()),
            payload: document,
            uid,
        });
    }
    let request = if manifest {
        // As `check` builds it: the header for the request, the object written from the tree.
        let header = object_header(&node);
        let built = build_request(header, &ResourceCatalog::builtin()).map_err(|e| {
            miette!(
                "cannot build an AdmissionRequest from {}: {e}",
                path.display()
            )
        })?;
        for warning in &built.warnings {
            eprintln!("warning: {warning}");
        }
        let mut request = built.request;
        // Quantities written as the API server writes them.
        let object = ClusterObject::new(&node, &request.kind.group, &request.kind.kind);
        request.object = Some(serde_json::to_value(object).into_diagnostic()?);
        request
    } else {
        let document = node.to_json();
        let inner = match document.get("kind").and_then(Value::as_str) {
            Some("AdmissionReview") => document.get("request").cloned().unwrap_or(Value::Null),
            _ => document,
        };
        serde_json::from_value::<AdmissionRequest>(inner).map_err(|e| {
            miette!(
                help =
                    "give an AdmissionReview or its `request`; use --manifest for a plain manifest",
                "cannot build AdmissionRequest object from given input: {e}"
            )
        })?
    };
    Ok(Request {
        uid: request.uid.clone(),
        original: request.object.clone(),
        payload: serde_json::to_value(&request).into_diagnostic()?,
    })
}

/// The one JSON or YAML document in `path` (`-`: standard input).
fn read_document(path: &Path) -> miette::Result<Node> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| miette!("cannot read the request from standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| miette!("cannot read {}: {e}", path.display()))?
    };
    let loaded = documents::load(&text);
    if let Some(error) = loaded.errors.first() {
        return Err(miette!(
            "{} is not valid JSON or YAML: {}",
            path.display(),
            error.message
        ));
    }
    let count = loaded.documents.len();
    match loaded.documents.into_iter().next() {
        Some(document) if count == 1 => Ok(document.root),
        None => Err(miette!("{} holds no document", path.display())),
        Some(_) => Err(miette!(
            "{} holds {count} documents; give one request",
            path.display(),
        )),
    }
}

/// What the policy's host calls are answered from, as kwctl answers them: with
/// `--allow-context-aware`, the resources its metadata lists, from the `--context` files (there
/// is no repository around one request); a replayed session instead when one is given.
fn context_answers(
    args: &crate::cli::ContextArgs,
    policy: &CompiledPolicy,
    registry: Option<(Option<PathBuf>, std::time::Duration)>,
) -> miette::Result<Arc<ContextAnswers>> {
    ContextAnswers::for_one_policy(
        policy.id(),
        args.allow_context_aware
            .then(|| policy.context_aware_resources()),
        &args.context,
        args.replay_host_capabilities_interactions.as_deref(),
        args.record_host_capabilities_interactions.is_some(),
        registry.map(|(sources, timeout)| crate::context::Images::new(sources, timeout)),
    )
    .map(Arc::new)
    .map_err(|e| miette!("{e}"))
}
