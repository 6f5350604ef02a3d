//! The policies of a run, compiled only when first needed.
//!
//! Reading a module's metadata is enough to know which requests it wants, so a policy is
//! compiled (or loaded from the module cache) and its settings validated the first time an
//! object matches it. A pre-commit run on one Deployment never compiles the RBAC policies, and
//! a cold start pays only for what the inputs need. Every thread shares the compiled policy;
//! instances are per thread (see `instances`).

use std::borrow::Cow;
use std::sync::{Mutex, OnceLock};

use super::{GivenBy, PolicyInfo, PolicySpec};
use crate::findings::{Finding, FindingKind, Severity, SourceRef};
use crate::policies::{
    CallError, CompiledPolicy, Metadata, PolicyLoadError, PolicyRuntime, PolicySource,
    read_metadata,
};
use crate::requests::AdmissionRequest;

/// One policy of the run: known from its metadata, compiled on first use.
pub(crate) struct Policy<'o> {
    /// What the configuration or the command line asked for.
    pub(crate) spec: &'o PolicySpec,
    /// The id its findings carry.
    pub(crate) id: String,
    origin: String,
    bytes: Cow<'static, [u8]>,
    metadata: Option<Metadata>,
    /// `None` inside once compiling or validating the settings failed; the error is reported
    /// once, and the policy is skipped for the rest of the run.
    compiled: OnceLock<Option<CompiledPolicy>>,
    /// Set, to the time limit it ran past, when a call timed out; see [`Policy::hang`].
    hung: OnceLock<String>,
}

impl<'o> Policy<'o> {
    /// Whether the policy wants to see `request`: its rules (the configured ones, else the
    /// module's) match, and so does the configured scope. Needs no compilation.
    pub(crate) fn applies_to(&self, request: &AdmissionRequest) -> bool {
        let scope = &self.spec.scope;
        let rules_match = scope.rules_match(request).unwrap_or_else(|| {
            self.metadata.as_ref().is_none_or(|metadata| {
                crate::policies::rules::any_rule_matches(&metadata.rules, request)
            })
        });
        rules_match && scope.admits(request)
    }

    /// Whether the policy is raw (metadata `policyType: raw`, see
    /// <https://docs.kubewarden.io/howtos/raw-policies>): it sees every document as it is
    /// instead of AdmissionRequests for the objects in them.
    /// The module's metadata, if it has any.
    pub(crate) fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref()
    }

    pub(crate) fn is_raw(&self) -> bool {
        self.metadata
            .as_ref()
            .is_some_and(|m| m.policy_type == crate::policies::PolicyType::Raw)
    }

    /// The compiled policy, compiling it and validating its settings on the first call.
    /// `None` when either failed; the failure is pushed to `errors` once.
    pub(crate) fn compiled(
        &self,
        runtime: &PolicyRuntime,
        errors: &Mutex<Vec<Finding>>,
    ) -> Option<&CompiledPolicy> {
        self.compiled
            .get_or_init(|| {
                let result = self.compile(runtime);
                if let Err(finding) = &result
                    && let Ok(mut errors) = errors.lock()
                {
                    errors.push((**finding).clone());
                }
                result.ok()
            })
            .as_ref()
    }

    /// Whether the policy has been found unusable: it could not be compiled, its settings were
    /// refused, or it hung. Only meaningful after `compiled` was called.
    pub(crate) fn is_broken(&self) -> bool {
        matches!(self.compiled.get(), Some(None)) || self.is_hung()
    }

    /// Stop running the policy: a call ran past `limit`. A policy that hangs on one object
    /// tends to hang on every object like it, and waiting out its deadline on each would cost
    /// the deadline times the objects, stalling a CI job for hours. So its later evaluations
    /// are skipped, and the run leaves out everything it found (how much it found before the
    /// timeout depends on thread timing; the output must not) and reports one error instead.
    pub(crate) fn hang(&self, limit: String) {
        // Every call has the same deadline, so the first value is as good as any.
        let _ = self.hung.set(limit);
    }

    /// Whether a call of the policy timed out; see [`Policy::hang`].
    pub(crate) fn is_hung(&self) -> bool {
        self.hung.get().is_some()
    }

    /// The error that replaces everything a hung policy found, `None` if it did not hang.
    pub(crate) fn hung_error(&self) -> Option<Finding> {
        let limit = self.hung.get()?;
        Some(
            Finding::new(
                FindingKind::Error,
                self.id.clone(),
                format!(
                    "exceeded its {limit} time limit; admit stopped running this policy after its \
                     first timeout and left out everything it found in this run"
                ),
            )
            .with_help(
                "find the object it hangs on with `admit run` on single manifests, or raise \
                 --policy-timeout if it is only slow",
            ),
        )
    }

    fn compile(&self, runtime: &PolicyRuntime) -> Result<CompiledPolicy, Box<Finding>> {
        let policy = CompiledPolicy::from_bytes_with_mode(
            runtime,
            &self.bytes,
            self.origin.clone(),
            self.id.clone(),
            self.spec.settings.clone(),
            self.spec.execution_mode,
        )
        .map_err(|error| {
            let finding = Finding::new(
                FindingKind::Error,
                self.id.clone(),
                format!("cannot load policy: {error}"),
            );
            Box::new(match error {
                PolicyLoadError::ModeNeeded => self.how_to_give_the_mode(finding),
                _ => finding,
            })
        })?;
        self.validate_settings(&policy)?;
        Ok(policy)
    }

    /// `finding`, about a module that needs an execution mode, with how to give one where the
    /// policy was named.
    fn how_to_give_the_mode(&self, finding: Finding) -> Finding {
        match (self.spec.given_by, &self.spec.declared_at) {
            (GivenBy::Configuration, Some((file, span))) => finding
                .at(SourceRef {
                    file: file.clone(),
                    span: *span,
                    document: 0,
                    pointer: None,
                    label: "this policy".into(),
                    object: None,
                })
                .with_help(
                    "add `execution-mode: opa` (or `execution-mode: gatekeeper`) to its entry",
                ),
            (GivenBy::PolicyResource, _) => finding.with_help(
                "a policy resource cannot give it: write `executionMode: opa` (or `gatekeeper`) \
                 in the module's metadata with `admit annotate`",
            ),
            _ => finding.with_help(
                "give it after the --policy: `--execution-mode opa` (or `--execution-mode \
                 gatekeeper`)",
            ),
        }
    }

    /// Ask the policy about its settings once, before any evaluation.
    fn validate_settings(&self, policy: &CompiledPolicy) -> Result<(), Box<Finding>> {
        let answer = match policy.instantiate() {
            Ok(mut instance) => instance.validate_settings(),
            Err(error) => {
                let finding = Finding::new(
                    FindingKind::Error,
                    self.id.clone(),
                    format!("failed to start: {error}; this policy was skipped"),
                );
                return Err(Box::new(with_last_words(finding, &error)));
            }
        };
        match answer {
            Ok(answer) if answer.valid => Ok(()),
            Ok(answer) => {
                let message = answer.message.unwrap_or_else(|| "no reason given".into());
                let finding = Finding::new(
                    FindingKind::Error,
                    self.id.clone(),
                    format!("invalid settings: {message}"),
                );
                Err(Box::new(match &self.spec.declared_at {
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
                }))
            }
            Err(error) => {
                let finding = Finding::new(
                    FindingKind::Error,
                    self.id.clone(),
                    format!(
                        "failed while validating its settings: {error}; this policy was skipped"
                    ),
                );
                Err(Box::new(with_last_words(finding, &error)))
            }
        }
    }

    /// Everything about the policy that can change what it finds: its module, settings, id,
    /// severity, scope and execution mode. Part of the result cache's key.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        // Named one by one, so that a new field of the spec must be placed here or left out
        // on purpose. The module is `bytes`; where a file declared the policy only moves the
        // error about invalid settings, and a file with an error is never cached.
        let PolicySpec {
            source: _,
            settings,
            id: _,
            severity,
            scope,
            declared_at: _,
            execution_mode,
            given_by: _,
            allow_context_aware,
        } = self.spec;
        let mut hasher = Sha256::new();
        let settings = serde_json::to_vec(settings).unwrap_or_default();
        // A built-in's module is part of the admit build the key already names.
        let digest: [u8; 32] = match crate::policies::Builtin::of_module(&self.bytes) {
            Some(builtin) => Sha256::digest(builtin.id.as_bytes()).into(),
            None => Sha256::digest(&self.bytes).into(),
        };
        let described = format!("{severity:?}|{scope:?}|{execution_mode:?}|{allow_context_aware}");
        for part in [
            self.id.as_bytes(),
            self.origin.as_bytes(),
            &digest,
            &settings,
            described.as_bytes(),
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// What reports say about the policy.
    pub(crate) fn info(&self) -> PolicyInfo {
        let annotation = |key: &str| {
            self.metadata
                .as_ref()
                .and_then(|m| m.policy_annotation(key))
                .map(str::to_string)
        };
        let help = match &self.spec.source {
            PolicySource::Builtin(builtin) => Some(builtin.docs.to_string()),
            PolicySource::File(_) | PolicySource::Remote(_) => None,
        };
        PolicyInfo {
            id: self.id.clone(),
            origin: self.origin.clone(),
            description: annotation("description"),
            help,
            url: annotation("url"),
            severity: self.spec.severity.unwrap_or(Severity::Error),
            risk: self.metadata.as_ref().and_then(Metadata::risk),
        }
    }
}

/// `finding`, about a call that failed with `error`, with what the guest said before it
/// failed in its help, ahead of the help it has: a trap alone ("wasm `unreachable`") says
/// nothing of why, while a panicking guest has written its message to stderr.
pub(crate) fn with_last_words(finding: Finding, error: &CallError) -> Finding {
    let Some(words) = error.last_words() else {
        return finding;
    };
    let quoted: Vec<String> = words.lines().map(|line| format!("    {line}")).collect();
    let mut help = format!("the policy wrote, before it failed:\n{}", quoted.join("\n"));
    if let Some(then) = &finding.help {
        help.push('\n');
        help.push_str(then);
    }
    finding.with_help(help)
}

/// Read each policy's module and metadata; a policy that cannot even be read is reported and
/// left out.
pub(crate) fn load<'o>(specs: &'o [PolicySpec], errors: &mut Vec<Finding>) -> Vec<Policy<'o>> {
    specs
        .iter()
        .filter_map(|spec| match read(spec) {
            Ok(policy) => Some(policy),
            Err(error) => {
                let finding = Finding::new(
                    FindingKind::Error,
                    spec.id.clone().unwrap_or_else(|| spec.source.name()),
                    format!("cannot load policy: {error}"),
                );
                let finding = match &error {
                    PolicyLoadError::Unavailable {
                        help: Some(help), ..
                    } => finding.with_help(help.clone()),
                    _ => finding,
                };
                // A module named by reference in a file: the error points at the reference.
                let named_at = match &spec.source {
                    PolicySource::Remote(remote) => remote.named_at.as_ref(),
                    _ => None,
                };
                errors.push(match named_at {
                    Some((file, span)) => finding.at(SourceRef {
                        file: file.clone(),
                        span: *span,
                        document: 0,
                        pointer: None,
                        label: "this module".into(),
                        object: None,
                    }),
                    None => finding,
                });
                None
            }
        })
        .collect()
}

fn read(spec: &PolicySpec) -> Result<Policy<'_>, PolicyLoadError> {
    let (bytes, origin, fallback_id, metadata) = match &spec.source {
        PolicySource::Builtin(builtin) => (
            Cow::Borrowed(builtin.wasm),
            format!("builtin:{}", builtin.id),
            builtin.id.to_string(),
            Some(builtin.metadata().clone()),
        ),
        PolicySource::File(path) => {
            let bytes = std::fs::read(path).map_err(|source| PolicyLoadError::Read {
                path: path.clone(),
                source,
            })?;
            let metadata = read_metadata(&bytes).map_err(PolicyLoadError::Invalid)?;
            let stem = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            (
                Cow::Owned(bytes),
                path.display().to_string(),
                stem,
                metadata,
            )
        }
        PolicySource::Remote(remote) => {
            let module = match &remote.fetched {
                Some(Ok(module)) => module,
                Some(Err(error)) => {
                    return Err(PolicyLoadError::Unavailable {
                        message: error.message.clone(),
                        help: error.help.clone(),
                    });
                }
                None => {
                    return Err(PolicyLoadError::Unavailable {
                        message: "never fetched".to_string(),
                        help: None,
                    });
                }
            };
            let bytes = module.bytes.as_ref().clone();
            let metadata = read_metadata(&bytes).map_err(PolicyLoadError::Invalid)?;
            (
                Cow::Owned(bytes),
                remote.reference.written().to_string(),
                remote.reference.fallback_id(),
                metadata,
            )
        }
    };
    let title = metadata
        .as_ref()
        .and_then(Metadata::title)
        .map(str::to_string);
    let id = spec.id.clone().or(title).unwrap_or(fallback_id);
    Ok(Policy {
        spec,
        id,
        origin,
        bytes,
        metadata,
        compiled: OnceLock::new(),
        hung: OnceLock::new(),
    })
}
