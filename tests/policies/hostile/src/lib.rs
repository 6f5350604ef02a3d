//! `hostile`: a test policy for admit's sandbox. Its `misbehave` setting picks what
//! `validate` does, for the behaviours that need real guest code rather than WAT:
//!
//! - `panic`: one record through the SDK's logging, then a Rust panic (with `panic = "abort"`,
//!   as Kubewarden policies are built), whose message std writes to stderr;
//! - `panic-in-settings`: a panic in `validate_settings`;
//! - `log-flood`: a million records through the SDK's logging (a slog drain over
//!   `kubewarden/tracing/log`);
//! - `read-passwd`: `std::fs::read("/etc/passwd")`, reporting what std answered;
//! - `stdout-flood`: 100 MB through `print!`;
//! - `none` (default): accept.

use kubewarden_policy_sdk::{
    accept_request, logging, protocol_version_guest, reject_request, request::ValidationRequest,
    settings::Validatable,
    validate_settings as sdk_validate_settings,
    wapc_guest::{CallResult, register_function},
};
use serde::Deserialize;
use serde_json::Value;
use slog::{Logger, info, o};

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] = *include_bytes!("../metadata.json");

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    misbehave: String,
}

impl Validatable for Settings {
    fn validate(&self) -> Result<(), String> {
        match self.misbehave.as_str() {
            "panic-in-settings" => panic!("hostile policy panics on its settings"),
            "" | "none" | "panic" | "log-flood" | "read-passwd" | "stdout-flood" => Ok(()),
            other => Err(format!("unknown misbehaviour {other:?}")),
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("validate", validate);
    register_function("validate_settings", sdk_validate_settings::<Settings>);
    register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> CallResult {
    let request: ValidationRequest<Settings> = ValidationRequest::new(payload)?;
    match request.settings.misbehave.as_str() {
        "panic" => {
            let object: Value = request.request.object;
            let logger = Logger::root(logging::KubewardenDrain::new(), o!("policy" => "hostile"));
            info!(logger, "about to panic"; "kind" => object["kind"].to_string());
            panic!("hostile policy panics on {}", object["kind"]);
        }
        "log-flood" => {
            let logger = Logger::root(logging::KubewardenDrain::new(), o!("policy" => "hostile"));
            for index in 0..1_000_000u32 {
                info!(logger, "flooding"; "index" => index);
            }
            accept_request()
        }
        "read-passwd" => match std::fs::read("/etc/passwd") {
            Ok(bytes) => reject_request(
                Some(format!("read {} bytes of /etc/passwd", bytes.len())),
                None,
                None,
                None,
            ),
            Err(error) => Err(format!("cannot read /etc/passwd: {error}").into()),
        },
        "stdout-flood" => {
            let chunk = "x".repeat(1024 * 1024);
            for _ in 0..100 {
                print!("{chunk}");
            }
            accept_request()
        }
        _ => accept_request(),
    }
}
