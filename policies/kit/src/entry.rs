//! The waPC entry points of a policy: the macros that register its handlers and embed its
//! metadata, and the two handlers themselves, which read the host's payload, run the policy and
//! word the answer.

use serde::Serialize;
use serde::de::DeserializeOwned;

use kubewarden_policy_sdk::wapc_guest::CallResult;

use crate::payload::{self, Request, Unreadable};
use crate::violations::Violations;

/// Embed the policy's Kubewarden metadata as the `io.kubewarden.metadata` custom section:
/// `admit_policy_kit::metadata!(include_bytes!("../metadata.json"));`
#[macro_export]
macro_rules! metadata {
    ($bytes:expr) => {
        #[unsafe(link_section = "io.kubewarden.metadata")]
        #[used]
        static KUBEWARDEN_METADATA: [u8; $bytes.len()] = *$bytes;
    };
}

/// Define `wapc_init`, registering `validate`, `validate_settings` and `protocol_version`:
/// `admit_policy_kit::register!(Settings, check);` where `check` is
/// `fn(&Request<Settings>, &mut Violations)`.
///
/// In the policy's unit tests it also adds two tests: that the policy's `README.md` agrees with
/// its `metadata.json` and that its failing example fails (`testing::documentation`), and that
/// its metadata rules see each kind in every API version Kubernetes served it in
/// (`testing::rules_cover_every_served_version`). Every policy registers its handlers here, so
/// none goes without those tests. The policy's `[dev-dependencies]` must enable the kit's
/// `testing` feature.
#[macro_export]
macro_rules! register {
    ($settings:ty, $check:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn wapc_init() {
            $crate::sdk::wapc_guest::register_function("validate", |payload| {
                $crate::validate::<$settings>(payload, $check)
            });
            $crate::sdk::wapc_guest::register_function(
                "validate_settings",
                $crate::validate_settings::<$settings>,
            );
            $crate::sdk::wapc_guest::register_function(
                "protocol_version",
                $crate::sdk::protocol_version_guest,
            );
        }

        #[cfg(test)]
        #[test]
        fn readme_agrees_with_metadata_and_its_failing_example_fails() {
            $crate::testing::documentation::<$settings>(
                $check,
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")),
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/metadata.json")),
            );
        }

        #[cfg(test)]
        #[test]
        fn metadata_rules_cover_every_served_version() {
            $crate::testing::rules_cover_every_served_version(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/metadata.json"
            )));
        }
    };
}

/// A policy's settings: deserialized from the user's JSON object (use
/// `#[serde(default, deny_unknown_fields)]` so typos are caught), then checked for meaning.
pub trait Settings: DeserializeOwned + Default {
    /// Reject settings that parse but make no sense, with a message naming the setting.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Settings of a policy that takes none: any key is an error.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

impl Settings for NoSettings {}

/// A policy's check: look at the request, record what is wrong.
pub type Check<S> = fn(&Request<'_, S>, &mut Violations);

#[derive(Serialize)]
struct SettingsAnswer {
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// The `validate_settings` waPC handler.
pub fn validate_settings<S: Settings>(payload: &[u8]) -> CallResult {
    let message = match serde_json::from_slice::<S>(payload) {
        Ok(settings) => settings.check().err(),
        Err(error) => Some(serde_message(&error)),
    };
    Ok(serde_json::to_vec(&SettingsAnswer {
        valid: message.is_none(),
        message,
    })?)
}

/// The `validate` waPC handler: read the request, run `check`, answer.
pub fn validate<S: Settings>(payload: &[u8], check: Check<S>) -> CallResult {
    payload::read(payload, |request: &Request<'_, S>| {
        let mut violations = Violations::default();
        check(request, &mut violations);
        violations.respond()
    })
    .map_err(|unreadable| match unreadable {
        Unreadable::NotUtf8(error) => {
            format!("cannot read the request: it is not UTF-8 ({error})")
        }
        Unreadable::Invalid(error) => {
            format!("cannot read the request: {}", serde_message(&error))
        }
    })?
}

/// serde's message without its "at line 1 column 23" suffix, which points into JSON the user
/// never wrote (admit and Kubewarden serialize the settings themselves).
fn serde_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Node;

    #[test]
    fn settings_errors_lose_the_json_position() {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct S {
            #[allow(dead_code)]
            allowed: Vec<String>,
        }
        impl Settings for S {}
        let answer = validate_settings::<S>(br#"{"alowed": []}"#).unwrap();
        let text = String::from_utf8(answer).unwrap();
        assert_eq!(
            text,
            r#"{"valid":false,"message":"unknown field `alowed`, expected `allowed`"}"#
        );
    }

    /// `validate` on `payload` with a check that reports what it was given.
    fn validated(payload: &str) -> String {
        fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
            let name = request.object.pointer("/metadata/name");
            violations.add(
                format!("/{}", request.kind),
                format!(
                    "{}|{}|{}|{}|{}",
                    request.group,
                    request.version,
                    request.namespace,
                    name.and_then(Node::as_str).unwrap_or("-"),
                    request.object.is_null()
                ),
            );
        }
        match validate::<NoSettings>(payload.as_bytes(), check) {
            Ok(answer) => String::from_utf8(answer).unwrap(),
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn validate_reads_kind_namespace_and_object_and_skips_the_rest() {
        let payload = r#"{"settings": {}, "request": {"uid": "u", "userInfo": {"groups": [1, {}]},
            "kind": {"group": "ap\u0070s", "version": "v1", "kind": "Deployment", "x": null},
            "oldObject": {"metadata": {"name": "old"}}, "options": null, "dryRun": "odd",
            "object": {"metadata": {"name": "we\"b"}}, "namespace": "team"}}"#;
        assert_eq!(
            validated(payload),
            r#"{"accepted":false,"message":"apps|v1|team|we\"b|false","violations":[{"pointer":"/Deployment","message":"apps|v1|team|we\"b|false"}]}"#
        );
        // Every field of the request may be missing, as in Kubewarden's own type.
        assert_eq!(
            validated(r#"{"request": {}, "settings": {}}"#),
            r#"{"accepted":false,"message":"|||-|true","violations":[{"pointer":"/","message":"|||-|true"}]}"#
        );
    }

    #[test]
    fn a_malformed_request_is_an_error_answer() {
        for (payload, error) in [
            (r#"{"settings": {}}"#, "missing field `request`"),
            (
                r#"{"request": {"object": {"a": }}, "settings": {}}"#,
                "expected value",
            ),
            (
                r#"{"request": {"namespace": 3}, "settings": {}}"#,
                "invalid type: integer `3`, expected a string",
            ),
            (
                r#"{"request": {}, "settings": {"x": 1}}"#,
                "unknown field `x`, there are no fields",
            ),
            (
                r#"{"request": {}, "settings": {}} trailing"#,
                "trailing characters",
            ),
        ] {
            assert_eq!(
                validated(payload),
                format!("error: cannot read the request: {error}")
            );
        }
        let answer = validate::<NoSettings>(b"{\"request\": \"\xff\"}", |_, _| {});
        assert!(
            answer
                .unwrap_err()
                .to_string()
                .starts_with("cannot read the request: it is not UTF-8")
        );
    }
}
