//! Telling "the object does not exist" from any other failure of `get_resource`.
//!
//! The host answers a missing object with an error, not with an empty answer, and the SDK hands
//! the policy only that error's text (`Error::HostCall`, whose source displays as
//! `Host error: <text>`). Two texts mean "not found":
//!
//! - Kubewarden's (policy-evaluator's `get_resource`, all releases up to kubewarden-controller
//!   May 2026), also what kwctl records in a session and replays:
//!   `Cannot find v1/ServiceAccount named 'web' inside of namespace 'Some("shop")'`; a policy
//!   server in a cluster wraps it as `Callback evaluation failure: Cannot find ...`.
//! - The API server's own 404 message, for a host that passes the Status through:
//!   `serviceaccounts "web" not found`.
//!
//! Anything else (access not granted, no such kind, a replay mismatch, a network failure) is
//! not an answer about the object, so the check fails with the host's text instead of
//! rejecting.

use kubewarden_policy_sdk::Error;

/// The object a `get_resource` call asked for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    /// The resource's plural, as the API server's 404 message names it.
    pub plural: &'a str,
    pub name: &'a str,
}

impl Wanted<'_> {
    /// Whether `error`, a failed `get_resource` for this object, says that it does not exist.
    pub fn is_missing(&self, error: &Error) -> bool {
        match error {
            Error::HostCall { source, .. } => self.is_missing_text(&source.to_string()),
            _ => false,
        }
    }

    fn is_missing_text(&self, text: &str) -> bool {
        let Wanted {
            api_version,
            kind,
            plural,
            name,
        } = self;
        text.contains(&format!("Cannot find {api_version}/{kind} named '{name}'"))
            || text.contains(&format!("{plural} \"{name}\" not found"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: Wanted = Wanted {
        api_version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        name: "web",
    };

    fn host_error(text: &str) -> Error {
        Error::HostCall {
            operation: "kubernetes.get_resource".into(),
            source: format!("Host error: {text}").into(),
        }
    }

    #[test]
    fn kubewardens_and_the_api_servers_not_found_texts_mean_missing() {
        for text in [
            r#"Cannot find v1/ServiceAccount named 'web' inside of namespace 'Some("shop")'"#,
            r#"Callback evaluation failure: Cannot find v1/ServiceAccount named 'web' inside of namespace 'Some("shop")'"#,
            r#"ApiError: serviceaccounts "web" not found: NotFound"#,
        ] {
            assert!(WEB.is_missing(&host_error(text)), "{text}");
        }
    }

    #[test]
    fn other_failures_are_not_an_answer_about_the_object() {
        for text in [
            "Policy has not been granted access to Kubernetes v1/ServiceAccount resources. The violation has been reported.",
            "Cannot find v1/ServiceAccount named 'web-2' inside of namespace 'None'",
            "Cannot find resource v1/ServiceAccount",
            "Replay error: unexpected request",
            "the list of recorded responses is empty",
            r#"serviceaccounts "web" is forbidden"#,
        ] {
            assert!(!WEB.is_missing(&host_error(text)), "{text}");
        }
        let not_a_host_error = serde_json::from_str::<u8>("x").unwrap_err().into();
        assert!(!WEB.is_missing(&not_a_host_error));
    }
}
