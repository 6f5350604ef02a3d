//! The seam between a policy and the way its module is executed.
//!
//! Kubewarden runs four kinds of module (spec §3.5): waPC, WASI commands, OPA and Gatekeeper.
//! Each execution mode lives in its own module and implements these two traits; everything
//! above them (settings, scoping, findings) is the same for all of them.

use super::host_capabilities::GuestLog;
use super::protocol::{SettingsValidationResponse, ValidationResponse};
use super::runtime::Limits;
use super::wapc::CallError;

/// A module compiled and linked for one execution mode, ready to start instances.
///
/// One per policy and run, shared by every thread (`Send + Sync`).
pub trait PreparedGuest: Send + Sync {
    /// Start a fresh instance under `limits`.
    fn start(&self, limits: Limits) -> Result<Box<dyn Guest>, CallError>;
}

/// One live instance. Reuse it while calls succeed; drop it after any failure, because a guest
/// that trapped or timed out may have left its state inconsistent.
pub trait Guest: Send {
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
    fn take_logs(&mut self) -> Vec<GuestLog> {
        Vec::new()
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
