//! `privileged`: rejects any container (regular, init or ephemeral) whose
//! `securityContext.privileged` is `true`, in a Pod or in the pod template of a
//! Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or
//! ReplicationController.
//!
//! A rejection carries admit's `violations` extension: one RFC 6901 JSON
//! Pointer (into the request's `object`) per offending container. Kubewarden
//! ignores the unknown field, so the module still runs in a cluster.

use kubewarden_policy_sdk::{
    accept_request, protocol_version_guest, reject_request, request::ValidationRequest,
    settings::{SettingsValidationResponse, Validatable},
    validate_settings as sdk_validate_settings,
    wapc_guest::{CallResult, register_function},
};
use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use serde_json::Value;

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] = *include_bytes!("../metadata.json");

const MESSAGE: &str = "Privileged container is not allowed";
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

#[derive(Deserialize, Debug, Clone)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Names of containers that may be privileged.
    #[serde(deserialize_with = "container_names")]
    skip_containers: Vec<String>,
    /// `false`: reject with the message only, without `violations`.
    #[serde(deserialize_with = "boolean")]
    report_paths: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            skip_containers: Vec::new(),
            report_paths: true,
        }
    }
}

fn container_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::<String>::deserialize(d)
        .map_err(|_| D::Error::custom("skip_containers must be a list of container names"))
}

fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    bool::deserialize(d).map_err(|_| D::Error::custom("report_paths must be a boolean"))
}

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        if self.skip_containers.iter().any(|n| n.is_empty()) {
            return Err("skip_containers must not contain an empty name".to_string());
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Violation {
    pointer: String,
    message: String,
}

/// A `ValidationResponse` plus admit's `violations` extension.
#[derive(Serialize)]
struct Rejection<'a> {
    accepted: bool,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    violations: Vec<Violation>,
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

/// JSON Pointer of the pod spec inside an object of the given kind.
fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job"
        | "ReplicationController" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

fn validate(payload: &[u8]) -> CallResult {
    let request = ValidationRequest::<Settings>::new(payload)?;
    let settings = &request.settings;
    let object = &request.request.object;

    let kind = match request.request.kind.kind.as_str() {
        "" => object.get("kind").and_then(Value::as_str).unwrap_or_default(),
        k => k,
    };
    let Some(spec_ptr) = pod_spec_pointer(kind) else {
        return accept_request();
    };
    let Some(spec) = object.pointer(spec_ptr) else {
        return accept_request();
    };

    let mut violations = Vec::new();
    for list in CONTAINER_LISTS {
        let Some(containers) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, container) in containers.iter().enumerate() {
            let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
            if settings.skip_containers.iter().any(|s| s == name) {
                continue;
            }
            let privileged = container
                .pointer("/securityContext/privileged")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if privileged {
                violations.push(Violation {
                    pointer: format!("{spec_ptr}/{list}/{i}/securityContext/privileged"),
                    message: format!("container \"{name}\" must not be privileged"),
                });
            }
        }
    }

    if violations.is_empty() {
        accept_request()
    } else if !settings.report_paths {
        reject_request(Some(MESSAGE.to_string()), None, None, None)
    } else {
        Ok(serde_json::to_vec(&Rejection {
            accepted: false,
            message: MESSAGE,
            code: None,
            violations,
        })?)
    }
}
