//! `noop`: accepts every request without reading it, and accepts any settings.
//!
//! A benchmark fixture, not a policy anyone should deploy: everything an evaluation with it
//! costs is the host's (instantiating, serializing the request, copying it in, the waPC call
//! and reading the answer), so it measures the floor the other policies are compared with.

use kubewarden_policy_sdk::{
    accept_request, protocol_version_guest,
    settings::SettingsValidationResponse,
    wapc_guest::{CallResult, register_function},
};

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] = *include_bytes!("../metadata.json");

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

/// Any settings are valid; the payload is not even parsed.
fn validate_settings(_payload: &[u8]) -> CallResult {
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: true,
        message: None,
    })?)
}

/// Accept without parsing the request: the guest does as little as a waPC guest can.
fn validate(_payload: &[u8]) -> CallResult {
    accept_request()
}
