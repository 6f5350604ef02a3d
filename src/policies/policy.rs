//! A policy compiled once and shared ([`CompiledPolicy`]), and the cheap per-use instance
//! that evaluates requests with it ([`PolicyInstance`]).

use std::path::{Path, PathBuf};

use super::guest::{Guest, PreparedGuest};
use super::metadata::{ExecutionMode, Metadata, PolicyType, read_metadata};
use super::opa;
use super::protocol::{Settings, SettingsValidationResponse, ValidationResponse};
use super::rules::any_rule_matches;
use super::runtime::{Limits, PolicyRuntime};
use super::wapc::{self, CallError};
use crate::requests::AdmissionRequest;

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The policy path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a module wasmtime can compile, or its metadata is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The execution mode asked for, the metadata's and the module's kind disagree (spec §5).
    #[error("{0}")]
    ModeMismatch(String),
}

/// A policy ready to evaluate: compiled, its imports resolved, its settings attached.
///
/// `Send + Sync`: one per run, shared by every thread that evaluates with it.
pub struct CompiledPolicy {
    id: String,
    origin: String,
    metadata: Option<Metadata>,
    settings: Settings,
    /// `settings` as JSON, serialized once for every call.
    settings_json: Vec<u8>,
    mode: ExecutionMode,
    guest: Box<dyn PreparedGuest>,
    limits: Limits,
}

impl std::fmt::Debug for CompiledPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPolicy")
            .field("id", &self.id)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl CompiledPolicy {
    /// Read, inspect and compile the module at `path`.
    pub fn load(
        runtime: &PolicyRuntime,
        path: &Path,
        settings: Settings,
    ) -> Result<Self, LoadError> {
        Self::load_with_mode(runtime, path, settings, None)
    }

    /// [`CompiledPolicy::load`], with the execution mode given by the user (`-e`), which must
    /// agree with the metadata's when the module has metadata.
    pub fn load_with_mode(
        runtime: &PolicyRuntime,
        path: &Path,
        settings: Settings,
        mode_override: Option<ExecutionMode>,
    ) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let fallback_id = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::from_bytes_with_mode(
            runtime,
            &bytes,
            path.display().to_string(),
            fallback_id,
            settings,
            mode_override,
        )
    }

    /// Compile `bytes` read from `origin`; `fallback_id` names the policy when its metadata
    /// has no title.
    pub fn from_bytes(
        runtime: &PolicyRuntime,
        bytes: &[u8],
        origin: String,
        fallback_id: String,
        settings: Settings,
    ) -> Result<Self, LoadError> {
        Self::from_bytes_with_mode(runtime, bytes, origin, fallback_id, settings, None)
    }

    /// [`CompiledPolicy::from_bytes`] with the user's execution mode, as
    /// [`CompiledPolicy::load_with_mode`].
    pub fn from_bytes_with_mode(
        runtime: &PolicyRuntime,
        bytes: &[u8],
        origin: String,
        fallback_id: String,
        settings: Settings,
        mode_override: Option<ExecutionMode>,
    ) -> Result<Self, LoadError> {
        let metadata = read_metadata(bytes).map_err(LoadError::Invalid)?;
        let mode = resolve_mode(
            metadata.as_ref().map(|m| m.execution_mode),
            mode_override,
            is_rego(bytes),
        )?;
        let module = runtime
            .compile(bytes)
            .map_err(|e| LoadError::Invalid(format!("cannot compile: {e:#}")))?;
        // One arm per execution mode; each mode module compiles nothing itself and only links.
        let guest: Box<dyn PreparedGuest> = match mode {
            ExecutionMode::KubewardenWapc => wapc::prepare(runtime, &module)?,
            ExecutionMode::Wasi => super::wasi::prepare(runtime, &module)?,
            ExecutionMode::Opa | ExecutionMode::Gatekeeper => {
                let flavor = if mode == ExecutionMode::Opa {
                    opa::Flavor::Opa
                } else {
                    opa::Flavor::Gatekeeper
                };
                let policy_type = metadata.as_ref().map(|m| m.policy_type).unwrap_or_default();
                opa::prepare(runtime, &module, flavor, policy_type)?
            }
        };
        let id = metadata
            .as_ref()
            .and_then(Metadata::title)
            .map(str::to_string)
            .unwrap_or(fallback_id);
        Ok(CompiledPolicy {
            id,
            origin,
            metadata,
            settings_json: serde_json::to_vec(&settings)
                .map_err(|e| LoadError::Invalid(format!("cannot serialize the settings: {e}")))?,
            settings,
            mode,
            guest,
            limits: runtime.limits(),
        })
    }

    /// The policy's id: its metadata title, else its file name without `.wasm`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the module came from: its path, or `builtin:<id>`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The module's metadata, when it has any.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_ref()
    }

    /// How the module is executed.
    pub fn execution_mode(&self) -> ExecutionMode {
        self.mode
    }

    /// Whether requests are Kubernetes admission requests or raw documents (metadata
    /// `policyType`; Kubernetes when the module has no metadata).
    pub fn policy_type(&self) -> PolicyType {
        self.metadata
            .as_ref()
            .map(|m| m.policy_type)
            .unwrap_or_default()
    }

    /// The settings every call receives.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether the policy wants to see `request`: one of its metadata rules matches, or it has
    /// no metadata at all.
    pub fn applies_to(&self, request: &AdmissionRequest) -> bool {
        self.metadata
            .as_ref()
            .is_none_or(|metadata| any_rule_matches(&metadata.rules, request))
    }

    /// A fresh instance, started up and ready for calls.
    pub fn instantiate(&self) -> Result<PolicyInstance<'_>, CallError> {
        Ok(PolicyInstance {
            policy: self,
            guest: self.guest.start(self.limits)?,
        })
    }
}

/// Whether `bytes` is a Rego module (OPA or Gatekeeper): it exports a name starting with
/// `opa_`, as kwctl decides. Unreadable modules count as not Rego; compiling reports them.
pub fn is_rego(bytes: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(bytes).any(|payload| {
        matches!(payload, Ok(wasmparser::Payload::ExportSection(exports))
            if exports.clone().into_iter().any(|e| e.is_ok_and(|e| e.name.starts_with("opa_"))))
    })
}

/// The mode to run a module in, from its metadata's mode, the user's and whether it is a Rego
/// module, refusing the combinations kwctl refuses (spec §5).
pub fn resolve_mode(
    metadata: Option<ExecutionMode>,
    user: Option<ExecutionMode>,
    rego: bool,
) -> Result<ExecutionMode, LoadError> {
    let mode = match (metadata, user) {
        (Some(metadata), Some(user)) if metadata != user => {
            return Err(LoadError::ModeMismatch(format!(
                "the execution mode given ({user}) is different from the \
                 one in the policy's metadata ({metadata})"
            )));
        }
        (_, Some(mode)) | (Some(mode), None) => mode,
        (None, None) if rego => {
            return Err(LoadError::ModeMismatch(
                "this is a Rego module without metadata: say which OPA runtime runs it with \
                 --execution-mode opa or --execution-mode gatekeeper"
                    .into(),
            ));
        }
        (None, None) => ExecutionMode::KubewardenWapc,
    };
    let rego_mode = matches!(mode, ExecutionMode::Opa | ExecutionMode::Gatekeeper);
    if rego && !rego_mode {
        return Err(LoadError::ModeMismatch(format!(
            "this is a Rego module (it exports `opa_*`), which cannot run in {mode} mode; \
             use opa or gatekeeper"
        )));
    }
    if rego_mode && !rego {
        return Err(LoadError::ModeMismatch(format!(
            "execution mode {mode} needs a Rego module (one that exports `opa_*`); this is not one"
        )));
    }
    Ok(mode)
}

/// One live instance of a [`CompiledPolicy`]. Reuse it while calls succeed; drop it after a
/// failure and instantiate again.
pub struct PolicyInstance<'p> {
    policy: &'p CompiledPolicy,
    guest: Box<dyn Guest>,
}

impl PolicyInstance<'_> {
    /// Ask the policy whether its settings are valid.
    pub fn validate_settings(&mut self) -> Result<SettingsValidationResponse, CallError> {
        self.guest.validate_settings(&self.policy.settings_json)
    }

    /// Evaluate one request, given as its JSON (an AdmissionRequest, or the raw document for raw
    /// policies), serialized once by the caller for every policy it goes to.
    pub fn validate(&mut self, request_json: &[u8]) -> Result<ValidationResponse, CallError> {
        self.guest
            .validate(request_json, &self.policy.settings_json)
    }

    /// Log records the guest produced since the last call.
    pub fn take_logs(&mut self) -> Vec<super::host_capabilities::GuestLog> {
        self.guest.take_logs()
    }

    /// The bytes of linear memory the instance keeps between calls.
    pub fn memory_size(&self) -> usize {
        self.guest.memory_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_resolve_as_kwctl_resolves_them() {
        use ExecutionMode::*;
        assert_eq!(resolve_mode(None, None, false).unwrap(), KubewardenWapc);
        assert_eq!(resolve_mode(Some(Wasi), None, false).unwrap(), Wasi);
        assert_eq!(resolve_mode(None, Some(Wasi), false).unwrap(), Wasi);
        assert_eq!(resolve_mode(Some(Wasi), Some(Wasi), false).unwrap(), Wasi);
        assert_eq!(resolve_mode(None, Some(Opa), true).unwrap(), Opa);
        let mismatch = resolve_mode(Some(Wasi), Some(KubewardenWapc), false).unwrap_err();
        assert!(
            mismatch.to_string().contains(
                "(kubewarden-wapc) is different from the one in the policy's metadata (wasi)"
            ),
            "{mismatch}"
        );
        let rego = resolve_mode(None, None, true).unwrap_err();
        assert!(rego.to_string().contains("--execution-mode opa"), "{rego}");
        assert!(resolve_mode(Some(KubewardenWapc), None, true).is_err());
        assert!(resolve_mode(None, Some(Gatekeeper), false).is_err());
    }

    #[test]
    fn rego_modules_are_recognised_by_their_exports() {
        let rego = wat::parse_str(r#"(module (func (export "opa_eval")))"#).unwrap();
        let wapc = wat::parse_str(r#"(module (func (export "__guest_call")))"#).unwrap();
        assert!(is_rego(&rego));
        assert!(!is_rego(&wapc));
    }
}
