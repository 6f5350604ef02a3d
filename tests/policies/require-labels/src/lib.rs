//! `require-labels`: rejects any object whose `metadata.labels` lacks one of
//! the labels named in the settings (`{"labels": ["team", ...]}`).
//!
//! The rejection is a plain SDK `reject_request` without admit's `violations`
//! extension, so admit has to fall back to its own location for the finding.
//! Each `validate` call sends one `kubewarden/tracing/log` host call through the
//! SDK's slog drain.

use kubewarden_policy_sdk::{
    accept_request, logging, protocol_version_guest, reject_request,
    request::ValidationRequest,
    settings::{SettingsValidationResponse, Validatable},
    validate_settings as sdk_validate_settings,
    wapc_guest::{CallResult, register_function},
};
use serde::{Deserialize, Deserializer, de::Error as _};
use serde_json::Value;
use slog::{Logger, info, o};

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] = *include_bytes!("../metadata.json");

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Label keys every object must carry, in the order they are reported.
    #[serde(deserialize_with = "label_names")]
    labels: Vec<String>,
}

fn label_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<String>::deserialize(d).map_err(|_| D::Error::custom("labels must be a list of label names"))
}

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        if self.labels.is_empty() {
            return Err("labels must list at least one label".to_string());
        }
        if self.labels.iter().any(|l| l.is_empty()) {
            return Err("labels must not contain an empty name".to_string());
        }
        Ok(())
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

/// Type and unknown-key errors become `{"valid":false,"message":<serde's message>}`
/// instead of a waPC error; everything else is the SDK's `validate_settings`.
fn validate_settings(payload: &[u8]) -> CallResult {
    let parsed = serde_json::from_slice::<Value>(payload)
        .and_then(|v| serde_json::from_value::<Settings>(v).map(|_| ()));
    match parsed {
        Ok(()) => sdk_validate_settings::<Settings>(payload),
        Err(e) => Ok(serde_json::to_vec(&SettingsValidationResponse {
            valid: false,
            message: Some(e.to_string()),
        })?),
    }
}

fn validate(payload: &[u8]) -> CallResult {
    let request = ValidationRequest::<Settings>::new(payload)?;
    let object = &request.request.object;
    if !object.is_object() {
        // No object (a DELETE): nothing carries labels.
        return accept_request();
    }
    let labels = object.pointer("/metadata/labels").and_then(Value::as_object);

    let missing: Vec<&str> = request
        .settings
        .labels
        .iter()
        .filter(|l| !labels.is_some_and(|m| m.contains_key(l.as_str())))
        .map(String::as_str)
        .collect();

    let log = Logger::root(logging::KubewardenDrain::new(), o!("policy" => "require-labels"));
    info!(log, "validating object";
        "kind" => request.request.kind.kind.as_str(),
        "name" => object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default(),
        "missing" => missing.len());

    if missing.is_empty() {
        accept_request()
    } else {
        reject_request(
            Some(format!("missing required labels: {}", missing.join(", "))),
            None,
            None,
            None,
        )
    }
}
