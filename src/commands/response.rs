//! A policy's answer as the Kubernetes `AdmissionResponse` kwctl prints (policy-evaluator's
//! `src/admission_response.rs`,
//! <https://github.com/kubewarden/policy-evaluator/blob/main/src/admission_response.rs>).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::policies::{CallError, ValidationResponse};

/// What kwctl answers when a mutating policy meets a request without an object (DELETE).
const NULL_OBJECT_MUTATION: &str = "Incoming object is null, which happens only with DELETE operations, but the policy is attempting a mutation. This is not allowed";

/// kwctl's message for a call that ran past its deadline.
const TIMEOUT_MESSAGE: &str =
    "Policy execution interrupted because it exceeded the allowed execution time";

/// The AdmissionResponse for `response`, the answer to a request with `uid` about `original`
/// (the request's object, or the raw document; `None` for DELETE).
///
/// Keys in kwctl's order: `uid, allowed, patchType?, patch?, status?, auditAnnotations,
/// warnings`; the last two are `null` when absent, because kwctl serializes them that way.
pub(crate) fn admission_response(
    uid: &str,
    original: Option<&Value>,
    response: &ValidationResponse,
) -> Value {
    let mut out = Map::new();
    out.insert("uid".into(), json!(uid));
    if let Some(mutated) = &response.mutated_object {
        let Some(original) = original else {
            return failure(uid, NULL_OBJECT_MUTATION.to_string());
        };
        out.insert("allowed".into(), json!(response.accepted));
        let patch = json_patch::diff(original, mutated);
        if !patch.0.is_empty() {
            // Serializing a patch of JSON values cannot fail.
            let bytes = serde_json::to_vec(&patch).unwrap_or_default();
            out.insert("patchType".into(), json!("JSONPatch"));
            out.insert("patch".into(), json!(STANDARD.encode(bytes)));
        }
    } else {
        out.insert("allowed".into(), json!(response.accepted));
    }
    if response.message.is_some() || response.code.is_some() {
        let mut status = Map::new();
        if let Some(message) = &response.message {
            status.insert("message".into(), json!(message));
        }
        if let Some(code) = response.code {
            status.insert("code".into(), json!(code));
        }
        out.insert("status".into(), Value::Object(status));
    }
    out.insert(
        "auditAnnotations".into(),
        response
            .audit_annotations
            .clone()
            .map_or(Value::Null, Value::Object),
    );
    out.insert(
        "warnings".into(),
        response.warnings.clone().map_or(Value::Null, |w| json!(w)),
    );
    Value::Object(out)
}

/// The AdmissionResponse for a call that failed. `guest_message` is true for WASI mode, where
/// kwctl shows the guest's stderr as it is rather than as an internal server error.
pub(crate) fn error_response(uid: &str, error: &CallError, guest_message: bool) -> Value {
    let message = match error {
        CallError::Timeout(_) => TIMEOUT_MESSAGE.to_string(),
        CallError::Guest(message) if guest_message => message.clone(),
        other => format!("internal server error: {other}"),
    };
    failure(uid, message)
}

fn failure(uid: &str, message: String) -> Value {
    json!({
        "uid": uid,
        "allowed": false,
        "status": {"message": message, "code": 500},
        "auditAnnotations": null,
        "warnings": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_request_has_null_annotations_and_warnings() {
        let response = ValidationResponse {
            accepted: true,
            ..Default::default()
        };
        assert_eq!(
            admission_response("u", Some(&json!({})), &response).to_string(),
            r#"{"uid":"u","allowed":true,"auditAnnotations":null,"warnings":null}"#
        );
    }

    #[test]
    fn a_mutation_becomes_a_base64_json_patch() {
        let response = ValidationResponse {
            accepted: true,
            mutated_object: Some(json!({"a": 1, "b": 2})),
            ..Default::default()
        };
        let out = admission_response("u", Some(&json!({"a": 1})), &response);
        assert_eq!(out["patchType"], "JSONPatch");
        let patch = STANDARD.decode(out["patch"].as_str().unwrap()).unwrap();
        assert_eq!(patch, br#"[{"op":"add","path":"/b","value":2}]"#);
    }

    #[test]
    fn an_unchanged_mutated_object_has_no_patch() {
        let response = ValidationResponse {
            accepted: true,
            mutated_object: Some(json!({"a": 1})),
            ..Default::default()
        };
        let out = admission_response("u", Some(&json!({"a": 1})), &response);
        assert!(out.get("patch").is_none() && out.get("patchType").is_none());
    }

    #[test]
    fn mutating_a_delete_is_refused() {
        let response = ValidationResponse {
            accepted: true,
            mutated_object: Some(json!({})),
            ..Default::default()
        };
        let out = admission_response("u", None, &response);
        assert_eq!(out["allowed"], false);
        assert_eq!(out["status"]["message"], NULL_OBJECT_MUTATION);
    }

    #[test]
    fn errors_are_internal_server_errors_except_timeouts_and_wasi_stderr() {
        let trap = CallError::trap("trapped: unreachable");
        assert_eq!(
            error_response("u", &trap, false).to_string(),
            r#"{"uid":"u","allowed":false,"status":{"message":"internal server error: trapped: unreachable","code":500},"auditAnnotations":null,"warnings":null}"#
        );
        let timeout = CallError::Timeout("2 s".into());
        assert_eq!(
            error_response("u", &timeout, false)["status"]["message"],
            TIMEOUT_MESSAGE
        );
        let stderr = CallError::Guest("boom".into());
        assert_eq!(
            error_response("u", &stderr, true)["status"]["message"],
            "boom"
        );
    }
}
