//! Answers to a guest's host calls: waPC's `__host_call` and WASI's `host.call`, which
//! policy-evaluator serves with one dispatcher (`host_callback` in `src/runtimes/callback.rs`
//! of <https://github.com/kubewarden/policy-evaluator>).
//!
//! `kubewarden/tracing/log` is served here. The other capabilities (`kubernetes`, `oci`, `net`,
//! `crypto`) are answered by whatever [`HostAnswers`] the evaluation carries: the repository's
//! own objects, a replayed session (`crate::context`). Without one they return an error the
//! guest sees (and usually reports), as a cluster-less kwctl does.

use std::sync::Arc;

use serde::Deserialize;
use wasmtime::Caller;

use super::memory::{read, read_string};

/// Answers to the host calls that reach beyond the guest. Called from many threads at once.
pub trait HostAnswers: Send + Sync {
    /// Answer `namespace/operation` with `payload`, for the evaluation `context` describes. The
    /// error text is what the guest receives.
    fn answer(
        &self,
        namespace: &str,
        operation: &str,
        payload: &[u8],
        context: &HostContext,
    ) -> Result<Vec<u8>, String>;
}

/// What the host calls of one evaluation are answered from.
#[derive(Clone, Default)]
pub struct HostContext {
    /// The answers; `None` refuses every call but logging, as unavailable offline.
    pub answers: Option<Arc<dyn HostAnswers>>,
    /// Which policy of the run is calling (its index), for its grants and in messages.
    pub policy: usize,
    /// The object under evaluation, left out of `kubernetes` answers: at its CREATE it does
    /// not exist yet.
    pub subject: Option<u64>,
}

impl std::fmt::Debug for HostContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostContext")
            .field("answers", &self.answers.is_some())
            .field("policy", &self.policy)
            .field("subject", &self.subject)
            .finish()
    }
}

/// One guest log record, from `kubewarden/tracing/log`, waPC's `__console_log` or OPA's
/// `opa_println`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestLog {
    /// `trace`, `debug`, `info`, `warning` or `error`.
    pub level: String,
    /// The message as the guest wrote it.
    pub message: String,
}

/// A host call as the guest made it, copied out of its memory.
#[derive(Debug)]
pub(crate) struct HostCall {
    /// Always `kubewarden` for Kubewarden policies.
    binding: String,
    /// `tracing`, `kubernetes`, `oci`, `net` or `crypto`.
    namespace: String,
    /// The operation inside the namespace, e.g. `log` or `v1/verify`.
    operation: String,
    /// The JSON request.
    payload: Vec<u8>,
}

impl HostCall {
    /// Read the call whose four buffers the eight arguments of waPC's `__host_call` and WASI's
    /// `host.call` point at: pointer and length of binding, namespace, operation and payload.
    pub(crate) fn read<T>(
        caller: &mut Caller<'_, T>,
        [bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len]: [i32; 8],
    ) -> wasmtime::Result<Self> {
        Ok(HostCall {
            binding: read_string(caller, bd_ptr, bd_len)?,
            namespace: read_string(caller, ns_ptr, ns_len)?,
            operation: read_string(caller, op_ptr, op_len)?,
            payload: read(caller, ptr, len)?,
        })
    }
}

/// Log records kept per guest call; a guest that logs in a loop must not grow admit's memory
/// without bound. Records past it are counted, not kept.
const MAX_LOG_RECORDS: usize = 1000;

/// Bytes kept of one log message; the rest is cut at a character boundary.
const MAX_LOG_MESSAGE: usize = 4096;

/// The log records of a guest, bounded as they are pushed: a guest that logs in a loop keeps
/// at most [`MAX_LOG_RECORDS`] records of [`MAX_LOG_MESSAGE`] bytes, and the rest are counted.
/// Every ABI keeps its guest's logs in one, so the bound holds for all of them.
#[derive(Debug, Default)]
pub(crate) struct GuestLogs {
    records: Vec<GuestLog>,
    dropped: usize,
}

impl GuestLogs {
    /// Keep `record`, within the bounds.
    pub(crate) fn push(&mut self, record: GuestLog) {
        self.records.push(record);
        cap_logs(&mut self.records, &mut self.dropped);
    }

    /// The records kept since the last [`GuestLogs::take`], without taking them.
    pub(crate) fn records(&self) -> &[GuestLog] {
        &self.records
    }

    /// The records kept since the last call, followed by one that counts those dropped.
    pub(crate) fn take(&mut self) -> Vec<GuestLog> {
        let mut records = std::mem::take(&mut self.records);
        records.extend(dropped_logs_record(std::mem::take(&mut self.dropped)));
        records
    }
}

/// Bound the records a guest logged: cut the last one's message to [`MAX_LOG_MESSAGE`] and drop
/// records past [`MAX_LOG_RECORDS`], adding them to `dropped`. Called after every push, so that
/// the work is constant per record.
fn cap_logs(logs: &mut Vec<GuestLog>, dropped: &mut usize) {
    if logs.len() > MAX_LOG_RECORDS {
        *dropped += logs.len() - MAX_LOG_RECORDS;
        logs.truncate(MAX_LOG_RECORDS);
    } else if let Some(last) = logs.last_mut()
        && last.message.len() > MAX_LOG_MESSAGE
    {
        let mut end = MAX_LOG_MESSAGE;
        while !last.message.is_char_boundary(end) {
            end -= 1;
        }
        last.message.truncate(end);
        last.message.push('…');
    }
}

/// The record that stands for `dropped` records [`cap_logs`] did not keep, if any.
fn dropped_logs_record(dropped: usize) -> Option<GuestLog> {
    (dropped > 0).then(|| GuestLog {
        level: "warning".into(),
        message: format!(
            "admit dropped {dropped} more log records of this call (it keeps {MAX_LOG_RECORDS})"
        ),
    })
}

#[derive(Deserialize)]
struct LogRequest {
    #[serde(default)]
    level: String,
    #[serde(default)]
    message: String,
}

/// Serve `call`, appending log records to `logs` and asking `host` the rest. The error text is
/// what the guest receives.
pub(crate) fn dispatch(
    call: &HostCall,
    logs: &mut GuestLogs,
    host: &HostContext,
) -> Result<Vec<u8>, String> {
    if call.binding != "kubewarden" {
        return Err(format!("unknown binding: {}", call.binding));
    }
    match (call.namespace.as_str(), call.operation.as_str()) {
        ("tracing", "log") => {
            // Never fails, as in Kubewarden: a malformed record is kept verbatim.
            let record = serde_json::from_slice::<LogRequest>(&call.payload).unwrap_or_else(|_| {
                LogRequest {
                    level: "info".into(),
                    message: String::from_utf8_lossy(&call.payload).into_owned(),
                }
            });
            logs.push(GuestLog {
                level: record.level.to_ascii_lowercase(),
                message: record.message,
            });
            Ok(Vec::new())
        }
        ("kubernetes" | "oci" | "net" | "crypto", operation) => match &host.answers {
            Some(answers) => answers.answer(&call.namespace, operation, &call.payload, host),
            None => Err(format!(
                "host capability {}/{operation} is not available offline",
                call.namespace
            )),
        },
        (namespace, _) => Err(format!("unknown namespace: {namespace}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(namespace: &str, operation: &str, payload: &[u8]) -> HostCall {
        HostCall {
            binding: "kubewarden".into(),
            namespace: namespace.into(),
            operation: operation.into(),
            payload: payload.into(),
        }
    }

    #[test]
    fn log_records_are_kept() {
        let mut logs = GuestLogs::default();
        let answer = dispatch(
            &call(
                "tracing",
                "log",
                br#"{"level":"INFO","message":"hi","line":3}"#,
            ),
            &mut logs,
            &HostContext::default(),
        );
        assert_eq!(answer, Ok(Vec::new()));
        let logs = logs.take();
        assert_eq!(logs[0].message, "hi");
        assert_eq!(logs[0].level, "info");
    }

    #[test]
    fn a_log_flood_is_capped_and_counted() {
        let mut logs = GuestLogs::default();
        for _ in 0..MAX_LOG_RECORDS + 5 {
            dispatch(
                &call("tracing", "log", br#"{"level":"info","message":"x"}"#),
                &mut logs,
                &HostContext::default(),
            )
            .unwrap();
        }
        assert_eq!(logs.records.len(), MAX_LOG_RECORDS);
        assert_eq!(logs.dropped, 5);
        assert_eq!(
            dropped_logs_record(logs.dropped).unwrap().message,
            "admit dropped 5 more log records of this call (it keeps 1000)"
        );
    }

    #[test]
    fn a_long_log_message_is_cut_at_a_character_boundary() {
        let mut logs = vec![GuestLog {
            level: "info".into(),
            message: "é".repeat(MAX_LOG_MESSAGE),
        }];
        cap_logs(&mut logs, &mut 0);
        assert!(logs[0].message.len() <= MAX_LOG_MESSAGE + "…".len());
        assert!(logs[0].message.ends_with('…'));
    }

    #[test]
    fn cluster_capabilities_are_refused_offline() {
        let answer = dispatch(
            &call("oci", "v1/manifest_digest", b"\"busybox\""),
            &mut GuestLogs::default(),
            &HostContext::default(),
        );
        assert_eq!(
            answer,
            Err("host capability oci/v1/manifest_digest is not available offline".into())
        );
    }
}
