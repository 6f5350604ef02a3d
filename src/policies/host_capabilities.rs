//! Answers to a guest's host calls (`__host_call`, spec §4).
//!
//! admit runs offline, so only `kubewarden/tracing/log` is served today; every other
//! capability returns an error the guest sees (and usually reports). Context-aware policies
//! answered from the checked manifests will be served from here.

use serde::Deserialize;

/// One guest log record, from `kubewarden/tracing/log` or waPC's `__console_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestLog {
    /// `trace`, `debug`, `info`, `warning` or `error`.
    pub level: String,
    /// The message as the guest wrote it.
    pub message: String,
}

/// A host call as the guest made it.
#[derive(Debug)]
pub struct HostCall<'a> {
    /// Always `kubewarden` for Kubewarden policies.
    pub binding: &'a str,
    /// `tracing`, `kubernetes`, `oci`, `net` or `crypto`.
    pub namespace: &'a str,
    /// The operation inside the namespace, e.g. `log` or `v1/verify`.
    pub operation: &'a str,
    /// The JSON request.
    pub payload: &'a [u8],
}

#[derive(Deserialize)]
struct LogRequest {
    #[serde(default)]
    level: String,
    #[serde(default)]
    message: String,
}

/// Serve `call`, appending log records to `logs`. The error text is what the guest receives.
pub fn dispatch(call: &HostCall<'_>, logs: &mut Vec<GuestLog>) -> Result<Vec<u8>, String> {
    if call.binding != "kubewarden" {
        return Err(format!("unknown binding: {}", call.binding));
    }
    match (call.namespace, call.operation) {
        ("tracing", "log") => {
            // Never fails, as in Kubewarden: a malformed record is kept verbatim.
            let record =
                serde_json::from_slice::<LogRequest>(call.payload).unwrap_or_else(|_| LogRequest {
                    level: "info".into(),
                    message: String::from_utf8_lossy(call.payload).into_owned(),
                });
            logs.push(GuestLog {
                level: record.level.to_ascii_lowercase(),
                message: record.message,
            });
            Ok(Vec::new())
        }
        ("kubernetes" | "oci" | "net" | "crypto", operation) => Err(format!(
            "host capability {}/{operation} is not available offline",
            call.namespace
        )),
        (namespace, _) => Err(format!("unknown namespace: {namespace}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(namespace: &'a str, operation: &'a str, payload: &'a [u8]) -> HostCall<'a> {
        HostCall {
            binding: "kubewarden",
            namespace,
            operation,
            payload,
        }
    }

    #[test]
    fn log_records_are_kept() {
        let mut logs = Vec::new();
        let answer = dispatch(
            &call(
                "tracing",
                "log",
                br#"{"level":"INFO","message":"hi","line":3}"#,
            ),
            &mut logs,
        );
        assert_eq!(answer, Ok(Vec::new()));
        assert_eq!(logs[0].message, "hi");
        assert_eq!(logs[0].level, "info");
    }

    #[test]
    fn cluster_capabilities_are_refused_offline() {
        let answer = dispatch(
            &call("oci", "v1/manifest_digest", b"\"busybox\""),
            &mut Vec::new(),
        );
        assert_eq!(
            answer,
            Err("host capability oci/v1/manifest_digest is not available offline".into())
        );
    }
}
