//! `typed-workloads`: a Kubewarden policy written as real Rust policies are: it decodes the
//! request's object into the k8s-openapi type of its kind (`typed_object.rs`, 23 kinds) and
//! checks the typed value. Images must come from `allowedRegistries`, no container may use
//! `imagePullPolicy: Never`, and no `metadata.name` may be longer than `maxNameLength`
//! (`checks/`). Rejections are the SDK's `reject_request`, with no `violations`.
//!
//! admit's tests and benchmarks use it as the large module (over 1 MB, as Rust and TinyGo
//! policies are) whose compilation cost admit must keep down.

mod checks;
mod settings;
mod typed_object;

use kubewarden_policy_sdk::{
    accept_request, protocol_version_guest, reject_request,
    request::{KubernetesAdmissionRequest, ValidationRequest},
    settings::Validatable,
    validate_settings,
    wapc_guest::{CallResult, register_function},
};

use crate::{settings::Settings, typed_object::TypedObject};

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] =
    *include_bytes!("../metadata.json");

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", validate_settings::<Settings>);
    register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> CallResult {
    let request = ValidationRequest::<Settings>::new(payload)?;
    // A host that skipped validate_settings still gets a clear error, not a guess.
    request
        .settings
        .validate()
        .map_err(|message| format!("invalid settings: {message}"))?;
    let (api_version, kind) = api_version_and_kind(&request.request);
    let Some(decoded) = TypedObject::decode(&api_version, &kind, request.request.object) else {
        // Not a kind of the metadata's rules: a host that sends it anyway gets no opinion.
        return accept_request();
    };
    // An object that does not decode is not one the API server would have stored: an
    // evaluation error, not a verdict on it.
    let object = decoded.map_err(|e| format!("cannot decode the {kind}: {e}"))?;
    let problems = checks::problems(&object, &request.settings);
    if problems.is_empty() {
        accept_request()
    } else {
        reject_request(Some(problems.join("; ")), None, None, None)
    }
}

/// The request's `kind` is what a cluster sends; a hand-written request that leaves it out
/// falls back on the object's own `apiVersion` and `kind`.
fn api_version_and_kind(request: &KubernetesAdmissionRequest) -> (String, String) {
    let gvk = &request.kind;
    if gvk.kind.is_empty() {
        let field = |name: &str| {
            request.object[name]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        return (field("apiVersion"), field("kind"));
    }
    let api_version = match gvk.group.as_str() {
        "" => gvk.version.clone(),
        group => format!("{group}/{}", gvk.version),
    };
    (api_version, gvk.kind.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubewarden_policy_sdk::response::ValidationResponse;
    use serde_json::{Value, json};

    fn request(settings: Value, object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({"settings": settings, "request": {"object": object}})).unwrap()
    }

    fn response(settings: Value, object: Value) -> ValidationResponse {
        let bytes = validate(&request(settings, object)).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn deployment(name: &str, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{
                        "name": "app", "image": image,
                        "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}
                    }]}
                }
            }
        })
    }

    #[test]
    fn an_allowed_deployment_is_accepted() {
        let answer = response(
            json!({"allowedRegistries": ["ghcr.io/acme/"]}),
            deployment("web", "ghcr.io/acme/web:1"),
        );
        assert!(answer.accepted);
        assert_eq!(answer.message, None);
    }

    #[test]
    fn every_problem_is_in_one_rejection() {
        let name = "w".repeat(64);
        let answer = response(
            json!({"allowedRegistries": ["ghcr.io/acme/"]}),
            deployment(&name, "nginx"),
        );
        assert!(!answer.accepted);
        assert_eq!(answer.code, None);
        assert_eq!(
            answer.message.unwrap(),
            format!(
                "metadata.name \"{name}\" is 64 characters long; maxNameLength is 63; \
                 container \"app\" (spec.template.spec.containers[0]): image \"nginx\" is not from an allowed registry (ghcr.io/acme/)"
            )
        );
    }

    #[test]
    fn a_kind_without_pods_is_checked_for_its_name_only() {
        let configmap = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings-for-the-web-frontend"},
            "data": {"image": "nginx"}
        });
        let answer = response(json!({"maxNameLength": 10}), configmap);
        assert_eq!(
            answer.message.as_deref(),
            Some(
                "metadata.name \"settings-for-the-web-frontend\" is 29 characters long; maxNameLength is 10"
            )
        );
    }

    #[test]
    fn the_requests_kind_chooses_the_type() {
        let payload = serde_json::to_vec(&json!({
            "settings": {},
            "request": {
                "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "object": {"metadata": {"name": "web"}, "spec": {"template": {"spec": {
                    "containers": [{"name": "app", "image": "x", "imagePullPolicy": "Never"}]
                }}}}
            }
        }))
        .unwrap();
        let answer: ValidationResponse =
            serde_json::from_slice(&validate(&payload).unwrap()).unwrap();
        assert_eq!(
            answer.message.as_deref(),
            Some(
                "container \"app\" (spec.template.spec.containers[0]): imagePullPolicy Never is not allowed"
            )
        );
    }

    #[test]
    fn an_unknown_kind_is_accepted_unread() {
        let node =
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n".repeat(300)}});
        assert!(response(json!({}), node).accepted);
    }

    #[test]
    fn an_object_that_does_not_decode_is_an_error() {
        let mut object = deployment("web", "nginx");
        object["spec"]["replicas"] = json!("two");
        let error = validate(&request(json!({}), object)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot decode the Deployment: invalid type: string \"two\", expected i32"
        );
    }

    #[test]
    fn invalid_settings_are_an_error_of_validate_too() {
        let error = validate(&request(
            json!({"maxNameLength": 0}),
            deployment("web", "nginx"),
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid settings: maxNameLength must be between 1 and 253, not 0"
        );
    }
}
