//! The JSON that crosses the host/guest boundary: what admit sends a policy and what it reads
//! back (Kubewarden's `ValidationRequest`, `ValidationResponse` and settings validation).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Settings handed to a policy: always a JSON object, `{}` when none were given.
pub type Settings = Map<String, Value>;

/// The `validate` payload, `{"request": <request>, "settings": <settings>}`, from JSON that is
/// already serialized: one request goes to every policy and one policy's settings to every
/// request, so each is serialized once rather than once per evaluation.
///
/// `settings` is always present because the Rust SDK's `ValidationRequest` has no default for it.
pub fn validation_payload(request_json: &[u8], settings_json: &[u8]) -> Vec<u8> {
    validation_payload_parts(request_json, settings_json).concat()
}

/// The parts of [`validation_payload`], for a host that copies them straight to where the
/// guest reads them: a 100 MB request is then not copied once more.
pub fn validation_payload_parts<'a>(
    request_json: &'a [u8],
    settings_json: &'a [u8],
) -> [&'a [u8]; 5] {
    [
        b"{\"request\":",
        request_json,
        b",\"settings\":",
        settings_json,
        b"}",
    ]
}

/// A policy's answer to `validate`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ValidationResponse {
    /// Whether the request is admitted.
    pub accepted: bool,
    /// Why it was rejected.
    #[serde(default)]
    pub message: Option<String>,
    /// HTTP-like status code for the rejection.
    #[serde(default)]
    pub code: Option<u16>,
    /// The whole object as the policy would have it, for mutating policies.
    #[serde(default)]
    pub mutated_object: Option<Value>,
    /// Annotations the policy asks the API server to record.
    #[serde(default)]
    pub audit_annotations: Option<Map<String, Value>>,
    /// Warnings shown to the user even when accepted.
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
    /// admit's extension: the nodes that cause a rejection (see `docs/policy-protocol.md`).
    /// Kubewarden ignores unknown fields, so a policy that sends it still runs in a cluster.
    #[serde(default)]
    pub violations: Vec<Violation>,
}

/// One offending node reported by a policy through the `violations` extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// RFC 6901 JSON Pointer into the request's `object`.
    pub pointer: String,
    /// What is wrong with this node; the response's `message` when absent.
    #[serde(default)]
    pub message: Option<String>,
}

/// A policy's answer to `validate_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SettingsValidationResponse {
    /// Whether the settings are usable.
    pub valid: bool,
    /// Why they are not.
    #[serde(default)]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_optional_and_unknown_fields_ignored() {
        let plain: ValidationResponse =
            serde_json::from_str(r#"{"accepted":false,"message":"no","future_field":1}"#).unwrap();
        assert!(plain.violations.is_empty());
        let extended: ValidationResponse = serde_json::from_str(
            r#"{"accepted":false,"violations":[{"pointer":"/spec/x","message":"bad"},{"pointer":""}]}"#,
        )
        .unwrap();
        assert_eq!(extended.violations.len(), 2);
        assert_eq!(extended.violations[1].message, None);
    }

    #[test]
    fn validation_payload_always_has_settings() {
        let payload = validation_payload(br#"{"uid":"u"}"#, b"{}");
        assert_eq!(payload, br#"{"request":{"uid":"u"},"settings":{}}"#);
    }
}
