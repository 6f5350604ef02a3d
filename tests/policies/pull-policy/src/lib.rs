//! `pull-policy` (mutating): every container, init container and ephemeral
//! container of a Pod, or of the pod template of a Deployment, ReplicaSet,
//! StatefulSet, DaemonSet, Job, CronJob or ReplicationController, whose
//! `imagePullPolicy` is not `Always` gets `imagePullPolicy: Always`.
//! The response is the SDK's `mutate_request(<whole mutated object>)`, or
//! `accept_request()` when nothing had to change. Takes no settings.

use kubewarden_policy_sdk::{
    accept_request, mutate_request, protocol_version_guest,
    request::ValidationRequest,
    settings::{SettingsValidationResponse, Validatable},
    validate_settings as sdk_validate_settings,
    wapc_guest::{CallResult, register_function},
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] = *include_bytes!("../metadata.json");

const NO_SETTINGS: &str = "pull-policy takes no settings";
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Any settings object; only the empty one is valid.
#[derive(Deserialize, Debug, Clone, Default)]
struct Settings(Map<String, Value>);

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        if self.0.is_empty() { Ok(()) } else { Err(NO_SETTINGS.to_string()) }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings);
    register_function("protocol_version", protocol_version_guest);
}

/// Settings that are not a JSON object get `{"valid":false}` rather than a
/// waPC error; objects go through the SDK's `validate_settings`.
fn validate_settings(payload: &[u8]) -> CallResult {
    if serde_json::from_slice::<Settings>(payload).is_err() {
        return Ok(serde_json::to_vec(&SettingsValidationResponse {
            valid: false,
            message: Some(NO_SETTINGS.to_string()),
        })?);
    }
    sdk_validate_settings::<Settings>(payload)
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
    let mut object = request.request.object;

    let kind = match request.request.kind.kind.as_str() {
        "" => object.get("kind").and_then(Value::as_str).unwrap_or_default().to_string(),
        k => k.to_string(),
    };
    let Some(spec_ptr) = pod_spec_pointer(&kind) else {
        return accept_request();
    };
    let Some(spec) = object.pointer_mut(spec_ptr) else {
        return accept_request();
    };

    let mut changed = false;
    for list in CONTAINER_LISTS {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            if container.get("imagePullPolicy").and_then(Value::as_str) != Some("Always") {
                container.insert("imagePullPolicy".to_string(), Value::from("Always"));
                changed = true;
            }
        }
    }

    if changed { mutate_request(object) } else { accept_request() }
}
