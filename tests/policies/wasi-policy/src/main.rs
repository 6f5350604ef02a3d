//! `wasi-policy`: a Kubewarden WASI-mode policy whose behaviour its settings choose,
//! so that one small module covers every path of admit's WASI host.
//!
//! argv[1] is `validate` or `validate-settings`; the payload is read from stdin and the answer
//! written to stdout. Settings (all optional):
//!
//! * `"invalid": "why"`: `validate-settings` answers invalid with that message;
//! * `"reject": "why"`: `validate` rejects with that message (and code 403);
//! * `"forbid": "/json/pointer"`: reject when the request's object (or the raw document of a raw
//!   policy) has that node, reporting it through admit's `violations` extension;
//! * `"trap": true`: write to stderr, then trap (`unreachable`);
//! * `"exit": N`: write to stderr, then exit with code N;
//! * `"label": "key"`: mutate: add `metadata.labels.<key>: "admit"` to the object;
//! * `"host_call": true`: log through `host.call`, then ask for an OCI digest, which an offline
//!   host refuses; reject with the refusal read back from stdin, proving both return codes;
//! * `"digest_of": "IMAGE"`: ask `oci/v1/manifest_digest` of IMAGE and reject with the answer
//!   (`digest: {...}`) or the refusal, so a test sees what the host answered.

use std::io::{Read, Write};

use serde_json::{Value, json};

/// Kubewarden metadata, read by hosts from the `io.kubewarden.metadata` custom section.
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata.json").len()] = *include_bytes!("../metadata.json");

#[link(wasm_import_module = "host")]
unsafe extern "C" {
    /// Kubewarden's WASI host call: 0 on success, 1 on failure; the answer is appended to stdin.
    #[link_name = "call"]
    fn host_call(
        bd_ptr: *const u8,
        bd_len: usize,
        ns_ptr: *const u8,
        ns_len: usize,
        op_ptr: *const u8,
        op_len: usize,
        ptr: *const u8,
        len: usize,
    ) -> u32;
}

/// Call the host and read its answer (or error text) back from stdin.
fn call_host(namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
    let binding = "kubewarden";
    // SAFETY: every pointer/length pair describes a live, immutable byte slice.
    let code = unsafe {
        host_call(
            binding.as_ptr(),
            binding.len(),
            namespace.as_ptr(),
            namespace.len(),
            operation.as_ptr(),
            operation.len(),
            payload.as_ptr(),
            payload.len(),
        )
    };
    let mut answer = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut answer);
    if code == 0 {
        Ok(answer)
    } else {
        Err(String::from_utf8_lossy(&answer).into_owned())
    }
}

fn main() {
    let operation = std::env::args().nth(1).unwrap_or_default();
    let mut input = Vec::new();
    if std::io::stdin().read_to_end(&mut input).is_err() {
        fail("cannot read stdin", 1);
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&input) else {
        fail("stdin is not JSON", 1);
    };
    let answer = match operation.as_str() {
        "validate-settings" => validate_settings(&payload),
        "validate" => validate(&payload),
        other => fail(&format!("unknown operation {other:?}"), 2),
    };
    let mut out = std::io::stdout();
    let _ = out.write_all(answer.to_string().as_bytes());
    let _ = out.flush();
}

/// Print `message` to stderr and exit with `code`.
fn fail(message: &str, code: i32) -> ! {
    eprintln!("{message}");
    std::process::exit(code)
}

fn validate_settings(settings: &Value) -> Value {
    match settings.get("invalid").and_then(Value::as_str) {
        Some(why) => json!({"valid": false, "message": why}),
        None => json!({"valid": true}),
    }
}

fn validate(payload: &Value) -> Value {
    let settings = &payload["settings"];
    let request = &payload["request"];
    if settings["trap"] == json!(true) {
        eprintln!("trapping on demand");
        std::process::abort();
    }
    if let Some(code) = settings["exit"].as_i64() {
        fail(&format!("exiting with code {code} on demand"), code as i32);
    }
    if settings["host_call"] == json!(true) {
        let logged = call_host(
            "tracing",
            "log",
            br#"{"level":"info","message":"wasi-policy was here"}"#,
        );
        if let Err(error) = logged {
            return json!({"accepted": false, "message": format!("log failed: {error}")});
        }
        return match call_host("oci", "v1/manifest_digest", br#""busybox""#) {
            Ok(_) => json!({"accepted": true}),
            Err(error) => json!({"accepted": false, "message": error}),
        };
    }
    if let Some(image) = settings["digest_of"].as_str() {
        let payload = json!(image).to_string();
        return match call_host("oci", "v1/manifest_digest", payload.as_bytes()) {
            Ok(answer) => json!({
                "accepted": false,
                "message": format!("digest: {}", String::from_utf8_lossy(&answer)),
            }),
            Err(error) => json!({"accepted": false, "message": error}),
        };
    }
    if let Some(why) = settings["reject"].as_str() {
        return json!({"accepted": false, "message": why, "code": 403});
    }
    // A Kubernetes request carries the object under `object`; a raw policy gets the document.
    let object = if request.get("uid").is_some() && request.get("object").is_some() {
        &request["object"]
    } else {
        request
    };
    if let Some(pointer) = settings["forbid"].as_str() {
        if object.pointer(pointer).is_some() {
            return json!({
                "accepted": false,
                "message": format!("{pointer} is forbidden"),
                "violations": [{"pointer": pointer}],
            });
        }
    }
    // What the policy received at a pointer, as JSON: lets tests see the request admit built.
    if let Some(pointer) = settings["show"].as_str() {
        let shown = object.pointer(pointer).map_or("absent".to_string(), Value::to_string);
        return json!({"accepted": false, "message": format!("{pointer} is {shown}")});
    }
    if let Some(key) = settings["label"].as_str() {
        let mut mutated = object.clone();
        if let Some(metadata) = mutated.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = metadata.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert(key.to_string(), json!("admit"));
            }
        }
        return json!({"accepted": true, "mutated_object": mutated});
    }
    json!({"accepted": true})
}
