//! The WASI ABI: the policy is a WASI preview1 command, run afresh for every call with argv
//! `validate` or `validate-settings`, the payload on stdin and its answer on stdout, as
//! policy-evaluator's WASI runtime runs it (`src/runtimes/wasi_cli/` of
//! <https://github.com/kubewarden/policy-evaluator>).
//!
//! Each call gets a new Store and instance, as Kubewarden does: a command's state ends with
//! `_start`. The sandbox is waPC's: argv only, no environment, no preopened directories, no
//! network, the epoch deadline set before instantiation, the memory cap, and bounded captured
//! stdout/stderr. `host.call` (and `kubewarden:javy/host.call` for Javy) serves the same host
//! capabilities as waPC's `__host_call`, with the return code inverted (0 = success) and the
//! reply appended to [`stdin`].

mod stdin;

use wasmtime::{Caller, InstancePre, Linker, Trap};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

use self::stdin::SharedStdin;
use super::protocol::{SettingsValidationResponse, ValidationResponse, validation_payload};
use super::runtime::guest::{Guest, PreparedGuest, link_module, parse_answer};
use super::runtime::host_capabilities::{self, GuestLogs, HostCall, HostContext};
use super::runtime::wasi_context::command_context;
use super::runtime::{CallError, GuestLog, Limits, MemoryCap, PolicyLoadError, exited, trapped};

/// argv[0], as Kubewarden passes it.
const PROGRAM: &str = "policy.wasm";

/// The state of one run of the command, owned by its Store.
struct WasiState {
    wasi: WasiP1Ctx,
    memory_cap: MemoryCap,
    stdin: SharedStdin,
    logs: GuestLogs,
    host: HostContext,
}

/// Link a compiled WASI command: WASI preview1 and the host-call import.
pub(crate) fn prepare(
    module: &wasmtime::Module,
) -> Result<Box<dyn PreparedGuest>, PolicyLoadError> {
    if module.get_export("_start").is_none() {
        return Err(PolicyLoadError::Invalid(
            "it does not export `_start`, so it is not a WASI command (executionMode: wasi)".into(),
        ));
    }
    let pre = link_module(module, link)?;
    Ok(Box::new(WasiModule { pre }))
}

fn link(linker: &mut Linker<WasiState>) -> wasmtime::Result<()> {
    p1::add_to_linker_sync(linker, |state| &mut state.wasi)?;
    // Go's SDK imports `host.call`; Javy's plugin `kubewarden:javy/host.call` (kwctl annotate
    // rewrites it to `host.call`, but a module that was not annotated still runs).
    for module in ["host", "kubewarden:javy/host"] {
        linker.func_wrap(module, "call", host_call)?;
    }
    Ok(())
}

/// `host.call(binding, namespace, operation, payload) -> 0 | 1`; the reply goes to stdin.
#[allow(clippy::too_many_arguments)] // the import's signature
fn host_call(
    mut caller: Caller<'_, WasiState>,
    bd_ptr: i32,
    bd_len: i32,
    ns_ptr: i32,
    ns_len: i32,
    op_ptr: i32,
    op_len: i32,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<i32> {
    let call = HostCall::read(
        &mut caller,
        [bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len],
    )?;
    let state = caller.data_mut();
    let (code, reply) = match host_capabilities::dispatch(&call, &mut state.logs, &state.host) {
        Ok(reply) => (0, reply),
        Err(error) => (1, error.into_bytes()),
    };
    state.stdin.append(&reply);
    Ok(code)
}

/// A linked WASI command.
struct WasiModule {
    pre: InstancePre<WasiState>,
}

impl PreparedGuest for WasiModule {
    fn start(&self, limits: Limits) -> Result<Box<dyn Guest>, CallError> {
        // Nothing to start: every call runs the command afresh.
        Ok(Box::new(WasiGuest {
            pre: self.pre.clone(),
            limits,
            logs: Vec::new(),
            host: HostContext::default(),
        }))
    }
}

/// A WASI policy ready for calls; each call is one run of the command.
struct WasiGuest {
    pre: InstancePre<WasiState>,
    limits: Limits,
    logs: Vec<GuestLog>,
    host: HostContext,
}

/// How one run of the command ended.
enum Run {
    /// `_start` returned or exited with 0: stdout holds the answer.
    Success(Vec<u8>),
    /// A non-zero exit or a trap: the trimmed stderr, else what happened.
    Failure(String),
}

impl WasiGuest {
    /// Run the command with `operation` as argv[1] and `input` on stdin.
    fn run(&mut self, operation: &str, input: &[u8]) -> Result<Run, CallError> {
        let stdin = SharedStdin::new(input);
        let (wasi, output) = command_context(&[PROGRAM, operation], stdin.clone());
        let state = WasiState {
            wasi,
            memory_cap: MemoryCap::new(self.limits.memory),
            stdin,
            logs: GuestLogs::default(),
            host: self.host.clone(),
        };
        let mut store = self
            .limits
            .store(self.pre.module().engine(), state, |state| {
                &mut state.memory_cap
            });
        let outcome = self.pre.instantiate(&mut store).and_then(|instance| {
            instance
                .get_typed_func::<(), ()>(&mut store, "_start")?
                .call(&mut store, ())
        });
        let error_text = String::from_utf8_lossy(&output.stderr()).trim().to_string();
        let error = match outcome {
            Ok(()) => None,
            Err(error) if error.downcast_ref::<I32Exit>().is_some_and(|e| e.0 == 0) => None,
            Err(error) => Some(error),
        };
        if error.is_none() && !error_text.is_empty() {
            // Kubewarden logs a successful command's stderr as a warning.
            store.data_mut().logs.push(GuestLog {
                level: "warning".into(),
                message: error_text.clone(),
            });
        }
        self.logs.extend(store.data_mut().logs.take());
        let Some(error) = error else {
            return Ok(Run::Success(output.stdout().to_vec()));
        };
        // A timeout or the memory cap is the host's verdict, whatever the guest printed.
        if store.data().memory_cap.denied {
            return Err(CallError::OutOfMemory(store.data().memory_cap.max_mib()));
        }
        if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
            return Err(CallError::timeout(&self.limits));
        }
        if !error_text.is_empty() {
            return Ok(Run::Failure(error_text));
        }
        Ok(Run::Failure(describe(&error)))
    }
}

/// What a failed run did, for a guest that printed nothing to stderr.
fn describe(error: &wasmtime::Error) -> String {
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return exited(exit);
    }
    match error.downcast_ref::<Trap>() {
        Some(trap) => trapped(trap),
        None => format!("{error:#}"),
    }
}

impl Guest for WasiGuest {
    fn validate(
        &mut self,
        request_json: &[u8],
        settings_json: &[u8],
    ) -> Result<ValidationResponse, CallError> {
        let payload = validation_payload(request_json, settings_json);
        match self.run("validate", &payload)? {
            Run::Success(stdout) => parse_answer("validate", &stdout),
            // Kubewarden answers a failed WASI `validate` with the guest's stderr as the message.
            Run::Failure(message) => Err(CallError::Guest(message)),
        }
    }

    fn validate_settings(
        &mut self,
        settings_json: &[u8],
    ) -> Result<SettingsValidationResponse, CallError> {
        match self.run("validate-settings", settings_json)? {
            Run::Success(stdout) => parse_answer("validate_settings", &stdout),
            // A failed run means invalid settings, with stderr as the reason, as Kubewarden
            // answers it.
            Run::Failure(message) => Ok(SettingsValidationResponse {
                valid: false,
                message: Some(message),
            }),
        }
    }

    fn take_logs(&mut self) -> Vec<GuestLog> {
        std::mem::take(&mut self.logs)
    }

    fn set_host(&mut self, host: &HostContext) {
        self.host = host.clone();
    }
}
