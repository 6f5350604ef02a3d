//! The seam between a policy and the ABI its module speaks.
//!
//! Kubewarden runs four kinds of module: waPC, WASI commands, OPA and Gatekeeper (the
//! `PolicyExecutionMode` of policy-evaluator's `src/policy_evaluator.rs`,
//! <https://github.com/kubewarden/policy-evaluator>). Each ABI lives in its own module and
//! implements these two traits; everything above them (settings, scoping, findings) is the
//! same for all of them.

use wasmtime::{InstancePre, Linker, Module};

use super::error::{CallError, PolicyLoadError};
use super::host_capabilities::{GuestLog, HostContext};
use super::limits::Limits;
use crate::policies::protocol::{SettingsValidationResponse, ValidationResponse};

/// A module compiled and linked for one ABI, ready to start instances.
///
/// One per policy and run, shared by every thread (`Send + Sync`).
pub(crate) trait PreparedGuest: Send + Sync {
    /// Start a fresh instance under `limits`.
    fn start(&self, limits: Limits) -> Result<Box<dyn Guest>, CallError>;
}

/// One live instance. Reuse it while calls succeed; drop it after any failure, because a guest
/// that trapped or timed out may have left its state inconsistent.
pub(crate) trait Guest: Send {
    /// Answer `validate` for `request_json` (an AdmissionRequest, or the raw document of a raw
    /// policy) with `settings_json`, both serialized once by the caller.
    fn validate(
        &mut self,
        request_json: &[u8],
        settings_json: &[u8],
    ) -> Result<ValidationResponse, CallError>;

    /// Answer `validate_settings` for `settings_json`.
    fn validate_settings(
        &mut self,
        settings_json: &[u8],
    ) -> Result<SettingsValidationResponse, CallError>;

    /// Log records the guest produced since the last call of this method.
    fn take_logs(&mut self) -> Vec<GuestLog>;

    /// Answer the guest's host calls from `host` from now on (an ABI without host calls,
    /// OPA's, ignores it).
    fn set_host(&mut self, host: &HostContext) {
        let _ = host;
    }

    /// The bytes of linear memory the instance holds between calls (0 for an ABI that starts
    /// afresh on every call).
    fn memory_size(&self) -> usize {
        0
    }
}

/// Parse a guest's JSON answer to `operation`, or say that it was not one.
pub(crate) fn parse_answer<T: serde::de::DeserializeOwned>(
    operation: &str,
    bytes: &[u8],
) -> Result<T, CallError> {
    serde_json::from_slice(bytes).map_err(|e| {
        CallError::Guest(format!(
            "answered {operation} with an invalid response: {e}"
        ))
    })
}

/// Link `module` with the imports `link` adds, for the engine that compiled it: the part of
/// loading that waPC and WASI share.
pub(crate) fn link_module<T: 'static>(
    module: &Module,
    link: fn(&mut Linker<T>) -> wasmtime::Result<()>,
) -> Result<InstancePre<T>, PolicyLoadError> {
    let invalid = |e: wasmtime::Error| PolicyLoadError::Invalid(format!("{e:#}"));
    let mut linker = Linker::new(module.engine());
    link(&mut linker).map_err(invalid)?;
    linker.instantiate_pre(module).map_err(invalid)
}
