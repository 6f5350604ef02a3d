//! What can go wrong loading a policy module and calling into it, whatever its ABI, and how a
//! wasmtime error becomes a message a user can act on.

use std::path::PathBuf;

use wasmtime::Trap;
use wasmtime_wasi::I32Exit;

use super::host_capabilities::GuestLog;
use super::limits::{Limits, MemoryCap};

/// Why a policy module could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The policy path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a module wasmtime can compile, or its metadata is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The execution mode asked for, the metadata's and the module's kind disagree, as kwctl
    /// refuses them.
    #[error("{0}")]
    ModeMismatch(String),
    /// A Rego module without metadata and no mode given: it could be an OPA or a Gatekeeper
    /// policy, which read their input differently. How to give the mode depends on where the
    /// policy was named, so the caller says it.
    #[error(
        "this is a Rego module without metadata, so admit cannot tell whether it is an OPA or a \
         Gatekeeper policy"
    )]
    ModeNeeded,
    /// A module named by reference could not be had: not downloadable, not locked, not
    /// verified. The message names the reference; the help says what to do.
    #[error("{message}")]
    Unavailable {
        /// What went wrong.
        message: String,
        /// What to do about it.
        help: Option<String>,
    },
}

/// Why a guest call did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The guest returned failure, with its own message.
    #[error("{0}")]
    Guest(String),
    /// The guest ran past its deadline.
    #[error("exceeded its {0} time limit")]
    Timeout(String),
    /// The guest tried to grow its memory past the cap.
    #[error("tried to grow memory past {0} MiB")]
    OutOfMemory(usize),
    /// The guest trapped or called `proc_exit` with a non-zero code.
    #[error("{reason}")]
    Trap {
        /// What happened, e.g. "trapped: wasm `unreachable` instruction executed".
        reason: String,
        /// What the guest wrote to stderr and logged before it trapped, which often says why:
        /// a Rust panic prints its message, then aborts with `unreachable`.
        last_words: Option<String>,
    },
}

/// Log records of a failed call shown with its last words: the ones just before the failure.
const LAST_LOG_RECORDS: usize = 5;

/// Characters kept of one log record in the last words.
const LAST_LOG_CHARS: usize = 500;

impl CallError {
    /// The guest ran past `limits`' deadline.
    pub(crate) fn timeout(limits: &Limits) -> Self {
        CallError::Timeout(format!("{} s", limits.timeout.as_secs_f64()))
    }

    /// A trap, for `reason`.
    pub(crate) fn trap(reason: impl Into<String>) -> Self {
        CallError::Trap {
            reason: reason.into(),
            last_words: None,
        }
    }

    /// This error with what the guest said before it, when it is a trap: the tail of its
    /// `stderr` and its last `logs`, one line each, marked with where they came from.
    pub(crate) fn with_last_words(self, stderr: &[u8], logs: &[GuestLog]) -> Self {
        let CallError::Trap { reason, .. } = self else {
            return self;
        };
        let mut lines: Vec<String> = logs
            .iter()
            .skip(logs.len().saturating_sub(LAST_LOG_RECORDS))
            .map(|log| {
                let message: String = log.message.chars().take(LAST_LOG_CHARS).collect();
                format!("log [{}] {message}", log.level)
            })
            .collect();
        let stderr = String::from_utf8_lossy(stderr);
        lines.extend(
            stderr
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(|line| format!("stderr: {}", line.trim_end())),
        );
        CallError::Trap {
            reason,
            last_words: (!lines.is_empty()).then(|| lines.join("\n")),
        }
    }

    /// What the guest said before it trapped, one line per record or line of stderr.
    pub fn last_words(&self) -> Option<&str> {
        match self {
            CallError::Trap { last_words, .. } => last_words.as_deref(),
            _ => None,
        }
    }
}

/// Turn a wasmtime error from a guest call into what a user should read; `memory_cap` is the
/// limiter of the guest's store, which knows whether the guest was refused more memory.
pub(crate) fn classify(
    memory_cap: &MemoryCap,
    limits: &Limits,
    error: wasmtime::Error,
) -> CallError {
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return CallError::trap(exited(exit));
    }
    if memory_cap.denied {
        return CallError::OutOfMemory(memory_cap.max_mib());
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => CallError::timeout(limits),
        Some(trap) => CallError::trap(trapped(trap)),
        None => CallError::trap(without_backtrace(&error)),
    }
}

/// "exited with code N", for a guest that called `proc_exit`.
pub(crate) fn exited(exit: &I32Exit) -> String {
    format!("exited with code {}", exit.0)
}

/// "trapped: <reason>", without wasmtime's "wasm trap: " prefix.
pub(crate) fn trapped(trap: &Trap) -> String {
    let text = trap.to_string();
    format!(
        "trapped: {}",
        text.strip_prefix("wasm trap: ").unwrap_or(&text)
    )
}

/// The causes of a host-side error, joined, without the guest backtrace wasmtime adds as their
/// context: the backtrace shows function indices a policy author can read in a debugger, not
/// anything a user of admit can act on.
fn without_backtrace(error: &wasmtime::Error) -> String {
    let backtrace = error.downcast_ref::<wasmtime::WasmBacktrace>().is_some();
    let causes: Vec<String> = error
        .chain()
        .skip(usize::from(backtrace))
        .map(|cause| cause.to_string())
        .collect();
    if causes.is_empty() {
        error.to_string()
    } else {
        causes.join(": ")
    }
}
