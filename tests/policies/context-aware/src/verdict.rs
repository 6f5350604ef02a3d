//! What a check decides, and the `ValidationResponse` that carries it.

use kubewarden_policy_sdk::{accept_request, wapc_guest::CallResult};
use serde::Serialize;

/// One rejected field: an RFC 6901 pointer into the request's `object` (admit's `violations`
/// extension, see tests/policies/README.md).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// `violations` is empty when the rejection is about no field the object has written
    /// (a defaulted `serviceAccountName`, a permission).
    Reject {
        message: String,
        violations: Vec<Violation>,
    },
}

impl Verdict {
    pub fn reject(message: impl Into<String>, violation_at: Option<String>) -> Verdict {
        let message = message.into();
        let violations = violation_at
            .map(|pointer| Violation {
                pointer,
                message: message.clone(),
            })
            .into_iter()
            .collect();
        Verdict::Reject {
            message,
            violations,
        }
    }

    /// One rejection for several violations: their messages joined, in order.
    pub fn from_violations(violations: Vec<Violation>) -> Verdict {
        if violations.is_empty() {
            return Verdict::Accept;
        }
        let message = violations
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Verdict::Reject {
            message,
            violations,
        }
    }

    pub fn respond(self) -> CallResult {
        match self {
            Verdict::Accept => accept_request(),
            Verdict::Reject {
                message,
                violations,
            } => Ok(serde_json::to_vec(&Rejection {
                accepted: false,
                message: &message,
                violations,
            })?),
        }
    }
}

/// The SDK's `ValidationResponse` has no `violations`, so a rejection is serialized here.
#[derive(Serialize)]
struct Rejection<'a> {
    accepted: bool,
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    violations: Vec<Violation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(verdict: Verdict) -> String {
        String::from_utf8(verdict.respond().unwrap()).unwrap()
    }

    #[test]
    fn a_rejection_at_a_field_carries_one_violation() {
        assert_eq!(
            response(Verdict::reject("no", Some("/spec/x".into()))),
            r#"{"accepted":false,"message":"no","violations":[{"pointer":"/spec/x","message":"no"}]}"#
        );
    }

    #[test]
    fn a_rejection_at_no_field_has_no_violations_key() {
        assert_eq!(
            response(Verdict::reject("no", None)),
            r#"{"accepted":false,"message":"no"}"#
        );
    }

    #[test]
    fn several_violations_join_their_messages() {
        let v = |p: &str, m: &str| Violation {
            pointer: p.into(),
            message: m.into(),
        };
        let verdict = Verdict::from_violations(vec![v("/a", "one"), v("/b", "two")]);
        assert_eq!(
            response(verdict),
            r#"{"accepted":false,"message":"one; two","violations":[{"pointer":"/a","message":"one"},{"pointer":"/b","message":"two"}]}"#
        );
        assert_eq!(Verdict::from_violations(Vec::new()), Verdict::Accept);
    }

    #[test]
    fn acceptance_is_the_sdks() {
        assert!(response(Verdict::Accept).starts_with(r#"{"accepted":true"#));
    }
}
