//! A policy compiled once and shared ([`CompiledPolicy`]), and the cheap per-use instance
//! that evaluates requests with it ([`PolicyInstance`]): the one place that picks the ABI a
//! module runs under.

use super::builtin::Builtin;
use super::metadata::{ExecutionMode, Metadata, PolicyType, read_metadata};
use super::protocol::{Settings, SettingsValidationResponse, ValidationResponse};
use super::rules::any_rule_matches;
use super::runtime::guest::{Guest, PreparedGuest};
use super::runtime::{CallError, GuestLog, HostContext, Limits, PolicyLoadError, PolicyRuntime};
use super::{opa, wapc, wasi};
use crate::requests::AdmissionRequest;

/// A policy ready to evaluate: compiled, its imports resolved, its settings attached.
///
/// `Send + Sync`: one per run, shared by every thread that evaluates with it.
pub struct CompiledPolicy {
    id: String,
    origin: String,
    metadata: Option<Metadata>,
    /// The settings as JSON, serialized once for every call.
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
    /// Compile `bytes` read from `origin`; `fallback_id` names the policy when its metadata
    /// has no title.
    pub fn from_bytes(
        runtime: &PolicyRuntime,
        bytes: &[u8],
        origin: String,
        fallback_id: String,
        settings: Settings,
    ) -> Result<Self, PolicyLoadError> {
        Self::from_bytes_with_mode(runtime, bytes, origin, fallback_id, settings, None)
    }

    /// [`CompiledPolicy::from_bytes`] with the execution mode given by the user (`-e`), which
    /// must agree with the metadata's when the module has metadata.
    pub(crate) fn from_bytes_with_mode(
        runtime: &PolicyRuntime,
        bytes: &[u8],
        origin: String,
        fallback_id: String,
        settings: Settings,
        mode_override: Option<ExecutionMode>,
    ) -> Result<Self, PolicyLoadError> {
        let cannot_compile =
            |e: wasmtime::Error| PolicyLoadError::Invalid(format!("cannot compile: {e:#}"));
        // A built-in's own module runs as the same policy in the bundle of built-ins, which
        // build.rs compiled ahead of time; anything else is compiled (or loaded from the cache).
        let (metadata, module, operations) = match Builtin::of_module(bytes) {
            Some(builtin) => (
                Some(builtin.metadata().clone()),
                runtime.builtins_module().map_err(cannot_compile)?,
                wapc::Operations::bundled(builtin.id),
            ),
            None => (
                read_metadata(bytes).map_err(PolicyLoadError::Invalid)?,
                runtime.compile(bytes).map_err(cannot_compile)?,
                wapc::Operations::own(),
            ),
        };
        let mode = resolve_mode(
            metadata.as_ref().map(|m| m.execution_mode),
            mode_override,
            exports_opa(&module),
        )?;
        // One arm per ABI; each ABI compiles nothing itself and only links.
        let guest: Box<dyn PreparedGuest> = match mode {
            ExecutionMode::KubewardenWapc => wapc::prepare(&module, operations)?,
            ExecutionMode::Wasi => wasi::prepare(&module)?,
            ExecutionMode::Opa | ExecutionMode::Gatekeeper => {
                let policy_type = metadata.as_ref().map(|m| m.policy_type).unwrap_or_default();
                opa::prepare(runtime, &module, mode, policy_type)?
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
            settings_json: serde_json::to_vec(&settings).map_err(|e| {
                PolicyLoadError::Invalid(format!("cannot serialize the settings: {e}"))
            })?,
            mode,
            guest,
            limits: runtime.limits(),
        })
    }

    /// The resources the metadata's `contextAwareResources` lists, as (apiVersion, kind).
    pub(crate) fn context_aware_resources(&self) -> Vec<(String, String)> {
        self.metadata
            .as_ref()
            .map(Metadata::context_aware_kinds)
            .unwrap_or_default()
    }

    /// The policy's id: its metadata title, else its file name without `.wasm`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How the module is executed.
    pub(crate) fn execution_mode(&self) -> ExecutionMode {
        self.mode
    }

    /// Whether requests are Kubernetes admission requests or raw documents (metadata
    /// `policyType`; Kubernetes when the module has no metadata).
    pub(crate) fn policy_type(&self) -> PolicyType {
        self.metadata
            .as_ref()
            .map(|m| m.policy_type)
            .unwrap_or_default()
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
pub(crate) fn is_rego(bytes: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(bytes).any(|payload| {
        matches!(payload, Ok(wasmparser::Payload::ExportSection(exports))
            if exports.clone().into_iter().any(|e| e.is_ok_and(|e| e.name.starts_with("opa_"))))
    })
}

/// [`is_rego`] of a module compiled already, read from its exports rather than its bytes.
pub(crate) fn exports_opa(module: &wasmtime::Module) -> bool {
    module.exports().any(|e| e.name().starts_with("opa_"))
}

/// The mode to run a module in, from its metadata's mode, the user's and whether it is a Rego
/// module, refusing the combinations kwctl refuses (`determine_execution_mode` in
/// `src/run/policy_execution_mode.rs` of <https://github.com/kubewarden/kwctl>).
pub(crate) fn resolve_mode(
    metadata: Option<ExecutionMode>,
    user: Option<ExecutionMode>,
    rego: bool,
) -> Result<ExecutionMode, PolicyLoadError> {
    let mode = match (metadata, user) {
        (Some(metadata), Some(user)) if metadata != user => {
            return Err(PolicyLoadError::ModeMismatch(format!(
                "the execution mode given ({user}) is different from the \
                 one in the policy's metadata ({metadata})"
            )));
        }
        (_, Some(mode)) | (Some(mode), None) => mode,
        (None, None) if rego => return Err(PolicyLoadError::ModeNeeded),
        (None, None) => ExecutionMode::KubewardenWapc,
    };
    let rego_mode = mode.is_rego();
    if rego && !rego_mode {
        return Err(PolicyLoadError::ModeMismatch(format!(
            "this is a Rego module (it exports `opa_*`), which cannot run in {mode} mode; \
             use opa or gatekeeper"
        )));
    }
    if rego_mode && !rego {
        return Err(PolicyLoadError::ModeMismatch(format!(
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
    pub(crate) fn validate_settings(&mut self) -> Result<SettingsValidationResponse, CallError> {
        self.guest.validate_settings(&self.policy.settings_json)
    }

    /// Evaluate one request, given as its JSON (an AdmissionRequest, or the raw document for raw
    /// policies), serialized once by the caller for every policy it goes to.
    pub fn validate(&mut self, request_json: &[u8]) -> Result<ValidationResponse, CallError> {
        self.guest
            .validate(request_json, &self.policy.settings_json)
    }

    /// Evaluate one request whose host calls are answered from `host`.
    pub fn validate_with(
        &mut self,
        request_json: &[u8],
        host: &HostContext,
    ) -> Result<ValidationResponse, CallError> {
        self.guest.set_host(host);
        self.guest
            .validate(request_json, &self.policy.settings_json)
    }

    /// Log records the guest produced since the last call.
    pub(crate) fn take_logs(&mut self) -> Vec<GuestLog> {
        self.guest.take_logs()
    }

    /// The bytes of linear memory the instance keeps between calls.
    pub(crate) fn memory_size(&self) -> usize {
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
        assert!(matches!(
            resolve_mode(None, None, true),
            Err(PolicyLoadError::ModeNeeded)
        ));
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
