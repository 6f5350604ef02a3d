//! What a check finds and how the policy answers with it: [`Violations`] become a rejection
//! with admit's `violations` extension, one JSON Pointer per offending node (see admit's
//! docs/policy-protocol.md). Kubewarden ignores the extension, and the `message` lists every
//! violation, so the answer reads well in a cluster too.

use serde::Serialize;

use kubewarden_policy_sdk::wapc_guest::CallResult;

use crate::json::Node;

/// The violations a check finds, in the order found.
#[derive(Debug, Default)]
pub struct Violations {
    items: Vec<Violation>,
}

/// One offending node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON Pointer into the object; may name a field that is missing.
    pub pointer: String,
    /// What is wrong, and for a missing field what to add where.
    pub message: String,
}

#[derive(Serialize)]
struct Rejection<'a> {
    accepted: bool,
    message: String,
    violations: &'a [Violation],
}

impl Violations {
    /// Record a violation at `pointer`.
    pub fn add(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.items.push(Violation {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// The violations recorded so far.
    pub fn items(&self) -> &[Violation] {
        &self.items
    }

    /// Accept when there is nothing, else reject with every violation.
    pub fn respond(self) -> CallResult {
        if self.items.is_empty() {
            return kubewarden_policy_sdk::accept_request();
        }
        let message = self
            .items
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Ok(serde_json::to_vec(&Rejection {
            accepted: false,
            message,
            violations: &self.items,
        })?)
    }
}

/// A value as the user wrote it, for messages: strings bare, anything else as JSON (so a
/// mistyped `true` or `0` still shows what is there).
pub fn shown(value: Node<'_>) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use serde_json::json;

    #[test]
    fn shown_leaves_strings_bare() {
        let shown = |value| shown(testing::document(&value));
        assert_eq!(shown(json!("Unconfined")), "Unconfined");
        assert_eq!(shown(json!(true)), "true");
        assert_eq!(shown(json!(["a"])), r#"["a"]"#);
    }

    #[test]
    fn a_rejection_lists_every_violation() {
        let mut violations = Violations::default();
        violations.add("/a", "first");
        violations.add("/b", "second");
        let text = String::from_utf8(violations.respond().unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{"accepted":false,"message":"first; second","violations":[{"pointer":"/a","message":"first"},{"pointer":"/b","message":"second"}]}"#
        );
    }
}
