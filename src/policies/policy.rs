//! A policy compiled once and shared ([`CompiledPolicy`]), and the cheap per-use instance
//! that evaluates requests with it ([`PolicyInstance`]).

use std::path::{Path, PathBuf};

use super::guest::{Guest, PreparedGuest};
use super::metadata::{ExecutionMode, Metadata, read_metadata};
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
    /// The module needs an execution mode admit does not run yet.
    #[error(
        "execution mode `{0}` is not supported yet; kubewarden-wapc, opa and gatekeeper policies run"
    )]
    UnsupportedMode(ExecutionMode),
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
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let fallback_id = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::from_bytes(
            runtime,
            &bytes,
            path.display().to_string(),
            fallback_id,
            settings,
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
        let metadata = read_metadata(bytes).map_err(LoadError::Invalid)?;
        let mode = metadata
            .as_ref()
            .map(|m| m.execution_mode)
            .unwrap_or_default();
        let module = runtime
            .compile(bytes)
            .map_err(|e| LoadError::Invalid(format!("cannot compile: {e:#}")))?;
        // One arm per execution mode; each mode module compiles nothing itself and only links.
        let guest: Box<dyn PreparedGuest> = match mode {
            ExecutionMode::KubewardenWapc => wapc::prepare(runtime, &module)?,
            ExecutionMode::Opa | ExecutionMode::Gatekeeper => {
                let flavor = if mode == ExecutionMode::Opa {
                    opa::Flavor::Opa
                } else {
                    opa::Flavor::Gatekeeper
                };
                let policy_type = metadata.as_ref().map(|m| m.policy_type).unwrap_or_default();
                opa::prepare(runtime, &module, flavor, policy_type)?
            }
            other => return Err(LoadError::UnsupportedMode(other)),
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
}
