//! What an OPA or Gatekeeper policy is given (input and data) and how its result set becomes a
//! [`ValidationResponse`], as `evaluate_opa` and `evaluate_gatekeeper` do in
//! `src/runtimes/rego/runtime.rs` of <https://github.com/kubewarden/policy-evaluator>.
//!
//! `mode` is [`ExecutionMode::Opa`] or [`ExecutionMode::Gatekeeper`]; [`super::prepare`]
//! refuses a module for any other.

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::policies::metadata::ExecutionMode;
use crate::policies::protocol::ValidationResponse;
use crate::policies::runtime::CallError;

/// The `(data, input)` JSON of one evaluation of `request_json` with `settings_json`.
///
/// - `opa`: `input.request` is the request and `data` the settings;
/// - `gatekeeper`: `input.review` is the request, `input.parameters` the settings, and `data`
///   is empty.
pub(super) fn data_and_input(
    mode: ExecutionMode,
    request_json: &[u8],
    settings_json: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    if mode == ExecutionMode::Gatekeeper {
        (
            b"{}".to_vec(),
            join(&[
                b"{\"parameters\":",
                settings_json,
                b",\"review\":",
                request_json,
                b"}",
            ]),
        )
    } else {
        (
            settings_json.to_vec(),
            join(&[b"{\"request\":", request_json, b"}"]),
        )
    }
}

/// Map the result set of entrypoint 0 to admit's response: an `opa` policy answers with an
/// AdmissionReview, a `gatekeeper` one with a list of violations. `request_json` is needed
/// only to apply an OPA policy's JSON Patch.
pub(super) fn response(
    mode: ExecutionMode,
    result_set: Value,
    request_json: &[u8],
) -> Result<ValidationResponse, CallError> {
    if mode == ExecutionMode::Gatekeeper {
        Ok(gatekeeper_response(result_set))
    } else {
        opa_response(result_set, request_json)
    }
}

fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The `response` of the AdmissionReview an OPA policy returns (camelCase, `uid` required, as
/// policy-evaluator deserializes it).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdmissionResponse {
    #[allow(dead_code)]
    uid: String,
    allowed: bool,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    patch_type: Option<String>,
    #[serde(default)]
    patch: Option<String>,
    #[serde(default)]
    audit_annotations: Option<Map<String, Value>>,
    #[serde(default)]
    warnings: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Status {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<u16>,
}

/// `result[0].result.response` is an AdmissionResponse.
fn opa_response(result_set: Value, request_json: &[u8]) -> Result<ValidationResponse, CallError> {
    let Some(response) = result_set
        .pointer("/0/result/response")
        .filter(|value| !value.is_null())
    else {
        return Err(CallError::Guest(format!(
            "cannot interpret OPA policy result: expected an AdmissionReview with a `response` \
             at result[0].result, got {}",
            brief(&result_set)
        )));
    };
    let response = AdmissionResponse::deserialize(response).map_err(|e| {
        CallError::Guest(format!(
            "answered with an AdmissionReview whose response is invalid: {e}"
        ))
    })?;
    let mutated_object = match &response.patch {
        Some(patch) => Some(apply_patch(
            response.patch_type.as_deref(),
            patch,
            request_json,
        )?),
        None => None,
    };
    let (message, code) = response
        .status
        .map_or((None, None), |status| (status.message, status.code));
    Ok(ValidationResponse {
        accepted: response.allowed,
        message,
        code,
        mutated_object,
        audit_annotations: response.audit_annotations,
        warnings: response.warnings,
        violations: Vec::new(),
    })
}

/// admit reports a mutation as the object the policy would have; an OPA policy gives a
/// base64 JSON Patch instead, so apply it to the request's object.
fn apply_patch(
    patch_type: Option<&str>,
    patch: &str,
    request_json: &[u8],
) -> Result<Value, CallError> {
    let invalid = |why: String| CallError::Guest(format!("answered with an invalid patch: {why}"));
    if patch_type.is_some_and(|t| t != "JSONPatch") {
        return Err(invalid(format!(
            "patchType is {patch_type:?}, only JSONPatch exists"
        )));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .map_err(|e| invalid(format!("not base64: {e}")))?;
    let patch: json_patch::Patch =
        serde_json::from_slice(&bytes).map_err(|e| invalid(format!("not a JSON Patch: {e}")))?;
    let request: Value = serde_json::from_slice(request_json)
        .map_err(|e| invalid(format!("the request is not JSON: {e}")))?;
    let mut object = request.get("object").cloned().unwrap_or(Value::Null);
    json_patch::patch(&mut object, &patch).map_err(|e| invalid(e.to_string()))?;
    Ok(object)
}

/// One violation of a Gatekeeper policy.
#[derive(Debug, Deserialize)]
struct GatekeeperViolation {
    #[serde(default)]
    msg: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GatekeeperResult {
    result: Vec<GatekeeperViolation>,
}

/// `result[0]` is `{"result": [{"msg": ...}, ...]}`. Anything else, an empty result set
/// included, means no violations, so the request is accepted: that is what Kubewarden does,
/// surprising as it is for a policy whose entrypoint 0 is not its `violation` rule.
fn gatekeeper_response(result_set: Value) -> ValidationResponse {
    let violations = result_set
        .get(0)
        .cloned()
        .and_then(|first| serde_json::from_value::<GatekeeperResult>(first).ok())
        .map(|r| r.result)
        .unwrap_or_default();
    if violations.is_empty() {
        return ValidationResponse {
            accepted: true,
            ..ValidationResponse::default()
        };
    }
    let message = violations
        .into_iter()
        .filter_map(|violation| violation.msg)
        .collect::<Vec<_>>()
        .join(", ");
    ValidationResponse {
        accepted: false,
        message: Some(message),
        ..ValidationResponse::default()
    }
}

/// `value` as compact JSON, shortened for an error message.
fn brief(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn opa_input_wraps_the_request_and_data_is_the_settings() {
        let (data, input) = data_and_input(ExecutionMode::Opa, br#"{"uid":"u"}"#, br#"{"a":1}"#);
        assert_eq!(data, br#"{"a":1}"#);
        assert_eq!(input, br#"{"request":{"uid":"u"}}"#);
    }

    #[test]
    fn gatekeeper_input_has_parameters_and_review() {
        let (data, input) =
            data_and_input(ExecutionMode::Gatekeeper, br#"{"uid":"u"}"#, br#"{"a":1}"#);
        assert_eq!(data, b"{}");
        assert_eq!(input, br#"{"parameters":{"a":1},"review":{"uid":"u"}}"#);
    }

    #[test]
    fn opa_rejection_maps_status() {
        let set = json!([{"result": {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "abc", "allowed": false,
                         "status": {"message": "you cannot use the default namespace", "code": 403}}}}]);
        let response = response(ExecutionMode::Opa, set, b"{}").unwrap();
        assert!(!response.accepted);
        assert_eq!(
            response.message.as_deref(),
            Some("you cannot use the default namespace")
        );
        assert_eq!(response.code, Some(403));
    }

    #[test]
    fn opa_result_without_response_is_an_error() {
        let error = response(ExecutionMode::Opa, json!([]), b"{}").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot interpret OPA policy result"),
            "{error}"
        );
        let error = response(
            ExecutionMode::Opa,
            json!([{"result": {"response": {"allowed": true}}}]),
            b"{}",
        )
        .unwrap_err();
        assert!(error.to_string().contains("missing field `uid`"), "{error}");
    }

    #[test]
    fn opa_patch_becomes_the_mutated_object() {
        let patch = base64::engine::general_purpose::STANDARD
            .encode(br#"[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]"#);
        let set = json!([{"result": {"response": {"uid": "", "allowed": true,
            "patchType": "JSONPatch", "patch": patch}}}]);
        let response = response(
            ExecutionMode::Opa,
            set,
            br#"{"object":{"metadata":{"name":"x"}}}"#,
        )
        .unwrap();
        assert_eq!(
            response.mutated_object,
            Some(json!({"metadata": {"name": "x", "labels": {"a": "b"}}}))
        );
    }

    #[test]
    fn gatekeeper_messages_are_joined() {
        let set = json!([{"result": [{"msg": "one"}, {"msg": "two"}]}]);
        let response = response(ExecutionMode::Gatekeeper, set, b"{}").unwrap();
        assert!(!response.accepted);
        assert_eq!(response.message.as_deref(), Some("one, two"));
        assert_eq!(response.code, None);
    }

    #[test]
    fn gatekeeper_accepts_empty_and_unreadable_results() {
        for set in [
            json!([]),
            json!([{"result": []}]),
            // Entrypoint 0 is the package, not its `violation` rule: Kubewarden accepts.
            json!([{"result": {"violation": [{"msg": "x"}]}}]),
        ] {
            let response = response(ExecutionMode::Gatekeeper, set.clone(), b"{}").unwrap();
            assert!(response.accepted, "{set}");
        }
    }
}
