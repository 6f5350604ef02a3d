//! `context-aware`: Kubewarden policies that ask the cluster about other objects through the
//! SDK's `host_capabilities::kubernetes` calls, one check per run chosen by the settings
//! (`{"check": "..."}`; see `settings.rs` and tests/policies/README.md). admit's tests run it
//! to prove that its host answers those calls from the repository's objects, in the shapes the
//! SDK decodes.
//!
//! A rejection about one field carries admit's `violations` extension (an RFC 6901 pointer into
//! the request's `object`). A host call that fails for any reason but "not found"
//! (`not_found.rs`) fails the evaluation with the SDK's error text rather than rejecting.

mod checks;
mod not_found;
mod settings;
mod subject;
mod verdict;

use kubewarden_policy_sdk::{
    protocol_version_guest,
    request::ValidationRequest,
    settings::{SettingsValidationResponse, Validatable},
    wapc_guest::{CallResult, register_function},
};

use crate::{settings::Settings, subject::Subject};

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] =
    *include_bytes!("../metadata.json");

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        self.check().map(|_| ())
    }
}

fn validate_settings(payload: &[u8]) -> CallResult {
    let verdict = Settings::parse(payload).and_then(|s| s.validate());
    Ok(serde_json::to_vec(&SettingsValidationResponse {
        valid: verdict.is_ok(),
        message: verdict.err(),
    })?)
}

fn validate(payload: &[u8]) -> CallResult {
    let request = ValidationRequest::<Settings>::new(payload)?;
    // A host that skipped validate_settings still gets a clear error, not a guess.
    let check = request
        .settings
        .check()
        .map_err(|message| format!("invalid settings: {message}"))?;
    let subject = Subject::of(&request.request);
    checks::run(&check, &subject)?.respond()
}
