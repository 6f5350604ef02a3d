//! One policy on one request, as `admit run` evaluates it: the policy's rules are not
//! consulted, raw policies get the document itself, and the answer is the policy's
//! `ValidationResponse`. A `request:` case goes this way, and so does a manifest case that
//! expects a `patch` (the patch is computed from the mutated object, as `admit run` prints it).

use std::borrow::Cow;

use serde_json::Value;

use crate::check::PolicySpec;
use crate::documents::Node;
use crate::policies::{
    CompiledPolicy, PolicyRuntime, PolicySource, PolicyType, ValidationResponse,
};
use crate::requests::{
    AdmissionRequest, ClusterObject, ResourceCatalog, build_request, object_header,
};

/// What a policy is given.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RequestInput<'a> {
    /// An AdmissionReview or an AdmissionRequest (any document, for a raw policy).
    Document(&'a Value),
    /// One object of a manifest, turned into a CREATE request as `admit run --manifest` does.
    Manifest(&'a Node),
}

/// What a policy answered, or why it could not.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// The policy answered.
    Response {
        /// Its answer (boxed: it is much larger than a failure).
        response: Box<ValidationResponse>,
        /// What a mutation is diffed against: the request's object, or the raw document.
        original: Option<Value>,
    },
    /// The policy could not be loaded, refused its settings, or failed.
    Failed {
        /// The id the policy's findings carry.
        policy: String,
        /// What went wrong, worded as `admit check` words it.
        message: String,
    },
}

impl Answer {
    /// The JSON Patch that turns the original into the mutated object; `[]` without a
    /// mutation.
    pub(crate) fn patch(&self) -> Value {
        match self {
            Answer::Response {
                response,
                original: Some(original),
            } => match &response.mutated_object {
                Some(mutated) => serde_json::to_value(json_patch::diff(original, mutated))
                    .unwrap_or_else(|_| Value::Array(Vec::new())),
                None => Value::Array(Vec::new()),
            },
            _ => Value::Array(Vec::new()),
        }
    }
}

/// Evaluate `input` with the policy of `spec`.
pub(crate) fn evaluate(
    runtime: &PolicyRuntime,
    spec: &PolicySpec,
    input: RequestInput<'_>,
    host: &super::format::HostContext,
) -> Answer {
    let named = spec.id.clone().unwrap_or_else(|| spec.source.name());
    let failed = |policy: &str, message: String| Answer::Failed {
        policy: policy.to_string(),
        message,
    };
    let (bytes, origin, fallback_id) = match module(&spec.source) {
        Ok(module) => module,
        Err(message) => return failed(&named, format!("cannot load policy: {message}")),
    };
    let policy = match CompiledPolicy::from_bytes_with_mode(
        runtime,
        &bytes,
        origin,
        fallback_id,
        spec.settings.clone(),
        spec.execution_mode,
    ) {
        Ok(policy) => policy,
        Err(error) => return failed(&named, format!("cannot load policy: {error}")),
    };
    let id = spec.id.clone().unwrap_or_else(|| policy.id().to_string());
    let mut instance = match policy.instantiate() {
        Ok(instance) => instance,
        Err(error) => return failed(&id, format!("failed to start: {error}")),
    };
    match instance.validate_settings() {
        Ok(answer) if answer.valid => {}
        Ok(answer) => {
            let why = answer.message.unwrap_or_else(|| "no reason given".into());
            return failed(&id, format!("invalid settings: {why}"));
        }
        Err(error) => {
            return failed(
                &id,
                format!("failed while validating its settings: {error}"),
            );
        }
    }
    let raw = policy.policy_type() == PolicyType::Raw;
    let (payload, original) = match payload(input, raw) {
        Ok(built) => built,
        Err(message) => return failed(&id, message),
    };
    let json = match serde_json::to_vec(&payload) {
        Ok(json) => json,
        Err(error) => return failed(&id, format!("cannot serialize the request: {error}")),
    };
    let answers = match crate::context::ContextAnswers::for_one_policy(
        &id,
        Some(policy.context_aware_resources()),
        &host.context_files,
        host.replay.as_deref(),
        false,
        None,
    ) {
        Ok(answers) => answers,
        Err(message) => return failed(&id, message),
    };
    let host = crate::policies::HostContext {
        answers: Some(std::sync::Arc::new(answers)),
        policy: 0,
        subject: None,
    };
    match instance.validate_with(&json, &host) {
        Ok(response) => Answer::Response {
            response: Box::new(response),
            original,
        },
        Err(error) => failed(&id, error.to_string()),
    }
}

/// The module's bytes, where they came from, and the id to use when its metadata has none.
fn module(source: &PolicySource) -> Result<(Cow<'static, [u8]>, String, String), String> {
    match source {
        PolicySource::Builtin(builtin) => Ok((
            Cow::Borrowed(builtin.wasm),
            format!("builtin:{}", builtin.id),
            builtin.id.to_string(),
        )),
        PolicySource::File(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let stem = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            Ok((Cow::Owned(bytes), path.display().to_string(), stem))
        }
        PolicySource::Remote(remote) => match &remote.fetched {
            Some(Ok(module)) => Ok((
                Cow::Owned(module.bytes.as_ref().clone()),
                remote.reference.written().to_string(),
                remote.reference.fallback_id(),
            )),
            Some(Err(error)) => Err(error.message.clone()),
            None => Err(format!("{} was not fetched", remote.reference.written())),
        },
    }
}

/// What goes under `request` in the payload, and what a mutation is diffed against.
fn payload(input: RequestInput<'_>, raw: bool) -> Result<(Value, Option<Value>), String> {
    let request = match input {
        // A raw policy gets the document itself
        // (<https://docs.kubewarden.io/howtos/raw-policies>).
        RequestInput::Document(document) if raw => {
            return Ok((document.clone(), Some(document.clone())));
        }
        RequestInput::Manifest(node) if raw => {
            let document = node.to_json();
            return Ok((document.clone(), Some(document)));
        }
        RequestInput::Document(document) => {
            let inner = match document.get("kind").and_then(Value::as_str) {
                Some("AdmissionReview") => document.get("request").cloned().unwrap_or(Value::Null),
                _ => document.clone(),
            };
            serde_json::from_value::<AdmissionRequest>(inner).map_err(|e| {
                format!("cannot build AdmissionRequest object from given input: {e}")
            })?
        }
        RequestInput::Manifest(node) => {
            let built = build_request(object_header(node), &ResourceCatalog::builtin())
                .map_err(|e| format!("cannot build an AdmissionRequest from the manifest: {e}"))?;
            let mut request = built.request;
            // Quantities written as the API server writes them, as `admit run --manifest`.
            let object = ClusterObject::new(node, &request.kind.group, &request.kind.kind);
            request.object = Some(
                serde_json::to_value(object)
                    .map_err(|e| format!("cannot serialize the object: {e}"))?,
            );
            request
        }
    };
    let original = request.object.clone();
    let payload =
        serde_json::to_value(&request).map_err(|e| format!("cannot serialize the request: {e}"))?;
    Ok((payload, original))
}
