//! The waPC ABI: the nine `wapc` imports (as `crates/wasmtime-provider/src/callbacks.rs` of
//! <https://github.com/wapc/wapc-rs> serves them), WASI preview1 for `wasm32-wasip1` and
//! TinyGo guests, start-up, and one call.
//!
//! A [`WapcInstance`] is one Store and one instance. It is cheap to create from the policy's
//! `InstancePre`, reused across calls while it behaves, and thrown away after any failure,
//! because a guest that trapped or timed out may have left its memory inconsistent.

use std::sync::Arc;

use wasmtime::{Caller, InstancePre, Linker, Store, TypedFunc};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

use super::protocol::{SettingsValidationResponse, ValidationResponse, validation_payload_parts};
use super::runtime::guest::{Guest, PreparedGuest, link_module, parse_answer};
use super::runtime::host_capabilities::{self, GuestLogs, HostCall, HostContext};
use super::runtime::memory::{exported_memory, read, read_string};
use super::runtime::wasi_context::{OutputTail, library_context};
use super::runtime::{
    CallError, GuestLog, Limits, MemoryCap, PolicyLoadError, PolicyRuntime, classify,
};

/// The largest payload buffer an instance keeps for reuse between calls.
const KEPT_PAYLOAD: usize = 1024 * 1024;

/// The largest response admit accepts from a guest. A mutated object is at most a few MiB (the
/// API server stores objects of up to 1.5 MiB); anything bigger is a broken or hostile policy,
/// and copying it out of the guest would double the run's memory.
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Bytes kept of a guest's error message.
const MAX_GUEST_ERROR: usize = 64 * 1024;

/// The state of one guest instance, owned by its wasmtime `Store`.
struct GuestState {
    wasi: WasiP1Ctx,
    /// The end of what the guest wrote to stderr during the current call (or start-up).
    stderr: OutputTail,
    memory_cap: MemoryCap,
    operation: Vec<u8>,
    payload: Vec<u8>,
    guest_response: Option<Vec<u8>>,
    /// The length of a response larger than [`MAX_RESPONSE`], which was not copied.
    oversized_response: Option<usize>,
    guest_error: Option<String>,
    /// The last host call's answer or error text; empty when there is none, which the guest
    /// cannot tell apart from an empty answer (waPC only exposes lengths).
    host_response: Vec<u8>,
    host_error: Vec<u8>,
    logs: GuestLogs,
    /// What host calls are answered from.
    host: HostContext,
}

impl GuestState {
    fn new(limits: &Limits) -> Self {
        // waPC answers through its imports: what a guest prints is not an answer, but its
        // stderr says why it failed when it does.
        let (wasi, stderr) = library_context();
        GuestState {
            wasi,
            stderr,
            memory_cap: MemoryCap::new(limits.memory),
            operation: Vec::new(),
            payload: Vec::new(),
            guest_response: None,
            oversized_response: None,
            guest_error: None,
            host_response: Vec::new(),
            host_error: Vec::new(),
            logs: GuestLogs::default(),
            host: HostContext::default(),
        }
    }
}

/// The operations a module's handlers answer to: `validate` and `validate_settings` in a
/// policy's own module; `<id>/validate` and `<id>/validate_settings` in the bundle of built-ins
/// (`policies/builtins/src/lib.rs`), which holds every built-in's handlers.
#[derive(Debug, Clone)]
pub(crate) struct Operations {
    validate: Arc<str>,
    validate_settings: Arc<str>,
}

impl Operations {
    /// The operations of a policy's own module.
    pub(crate) fn own() -> Self {
        Operations {
            validate: "validate".into(),
            validate_settings: "validate_settings".into(),
        }
    }

    /// The operations of built-in `id` in the bundle.
    pub(crate) fn bundled(id: &str) -> Self {
        Operations {
            validate: format!("{id}/validate").into(),
            validate_settings: format!("{id}/validate_settings").into(),
        }
    }
}

/// Link a compiled waPC module: the nine waPC imports and WASI preview1.
pub(crate) fn prepare(
    module: &wasmtime::Module,
    operations: Operations,
) -> Result<Box<dyn PreparedGuest>, PolicyLoadError> {
    if super::policy::exports_opa(module) {
        return Err(PolicyLoadError::Invalid(
            "this is an OPA module: give it `executionMode: opa` or `gatekeeper` in its metadata"
                .into(),
        ));
    }
    let pre = link_module(module, link)?;
    Ok(Box::new(WapcModule { pre, operations }))
}

/// Ask a waPC module its protocol version (`protocol_version`, which `kwctl annotate` records
/// in the metadata): `v1` for every current SDK.
pub(crate) fn protocol_version(runtime: &PolicyRuntime, wasm: &[u8]) -> Result<String, CallError> {
    let module = runtime
        .compile(wasm)
        .map_err(|e| CallError::trap(format!("cannot compile: {e:#}")))?;
    let pre = link_module(&module, link).map_err(|e| CallError::trap(e.to_string()))?;
    let mut instance = WapcInstance::start(&pre, runtime.limits())?;
    let answer = instance.call("protocol_version", b"")?;
    parse_answer("protocol_version", &answer)
}

/// A linked waPC module.
struct WapcModule {
    pre: InstancePre<GuestState>,
    operations: Operations,
}

impl PreparedGuest for WapcModule {
    fn start(&self, limits: Limits) -> Result<Box<dyn Guest>, CallError> {
        let mut instance = WapcInstance::start(&self.pre, limits)?;
        instance.operations = self.operations.clone();
        Ok(Box::new(instance))
    }
}

impl Guest for WapcInstance {
    fn validate(
        &mut self,
        request_json: &[u8],
        settings_json: &[u8],
    ) -> Result<ValidationResponse, CallError> {
        let payload = validation_payload_parts(request_json, settings_json);
        let operation = Arc::clone(&self.operations.validate);
        parse_answer("validate", &self.call_parts(&operation, &payload)?)
    }

    fn validate_settings(
        &mut self,
        settings_json: &[u8],
    ) -> Result<SettingsValidationResponse, CallError> {
        let operation = Arc::clone(&self.operations.validate_settings);
        parse_answer("validate_settings", &self.call(&operation, settings_json)?)
    }

    fn take_logs(&mut self) -> Vec<GuestLog> {
        self.store.data_mut().logs.take()
    }

    fn set_host(&mut self, host: &HostContext) {
        self.store.data_mut().host = host.clone();
    }

    fn memory_size(&self) -> usize {
        self.store.data().memory_cap.size
    }
}

/// Add the waPC imports and WASI preview1 to `linker`.
fn link(linker: &mut Linker<GuestState>) -> wasmtime::Result<()> {
    p1::add_to_linker_sync(linker, |state| &mut state.wasi)?;

    linker.func_wrap(
        "wapc",
        "__guest_request",
        |mut caller: Caller<'_, GuestState>, op_ptr: i32, ptr: i32| {
            write_buffer(&mut caller, ptr, |state| &mut state.payload)?;
            write_buffer(&mut caller, op_ptr, |state| &mut state.operation)
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__guest_response",
        |mut caller: Caller<'_, GuestState>, ptr: i32, len: i32| {
            let size = len as u32 as usize;
            if size > MAX_RESPONSE {
                caller.data_mut().oversized_response = Some(size);
                return Ok(());
            }
            let bytes = read(&mut caller, ptr, len)?;
            caller.data_mut().guest_response = Some(bytes);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__guest_error",
        |mut caller: Caller<'_, GuestState>, ptr: i32, len: i32| {
            let len = (len as u32).min(MAX_GUEST_ERROR as u32) as i32;
            let message = read_string(&mut caller, ptr, len)?;
            caller.data_mut().guest_error = Some(message);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__host_call",
        |mut caller: Caller<'_, GuestState>,
         bd_ptr: i32,
         bd_len: i32,
         ns_ptr: i32,
         ns_len: i32,
         op_ptr: i32,
         op_len: i32,
         ptr: i32,
         len: i32|
         -> wasmtime::Result<i32> {
            let call = HostCall::read(
                &mut caller,
                [bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len],
            )?;
            let state = caller.data_mut();
            state.host_response.clear();
            state.host_error.clear();
            let answer = host_capabilities::dispatch(&call, &mut state.logs, &state.host);
            match answer {
                Ok(response) => {
                    state.host_response = response;
                    Ok(1)
                }
                Err(error) => {
                    state.host_error = error.into_bytes();
                    Ok(0)
                }
            }
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__host_response_len",
        |caller: Caller<'_, GuestState>| -> i32 {
            let len = caller.data().host_response.len();
            i32::try_from(len).unwrap_or(i32::MAX)
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__host_response",
        |mut caller: Caller<'_, GuestState>, ptr: i32| {
            write_buffer(&mut caller, ptr, |state| &mut state.host_response)
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__host_error_len",
        |caller: Caller<'_, GuestState>| -> i32 {
            let len = caller.data().host_error.len();
            i32::try_from(len).unwrap_or(i32::MAX)
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__host_error",
        |mut caller: Caller<'_, GuestState>, ptr: i32| {
            write_buffer(&mut caller, ptr, |state| &mut state.host_error)
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__console_log",
        |mut caller: Caller<'_, GuestState>, ptr: i32, len: i32| {
            let message = read_string(&mut caller, ptr, len)?;
            caller.data_mut().logs.push(GuestLog {
                level: "info".into(),
                message,
            });
            Ok(())
        },
    )?;
    Ok(())
}

/// Copy a buffer the guest state owns to `ptr` in guest memory. The buffer is taken out for
/// the copy, because writing to memory borrows the whole store, and put back afterwards: the
/// guest may ask for it again.
fn write_buffer(
    caller: &mut Caller<'_, GuestState>,
    ptr: i32,
    buffer: fn(&mut GuestState) -> &mut Vec<u8>,
) -> wasmtime::Result<()> {
    let memory = exported_memory(caller)?;
    let bytes = std::mem::take(buffer(caller.data_mut()));
    let written = memory.write(&mut *caller, ptr as u32 as usize, &bytes);
    *buffer(caller.data_mut()) = bytes;
    written.map_err(|_| wasmtime::Error::msg("the policy passed a pointer outside its memory"))
}

/// What a wasmtime error from a guest call means to the user, with what the guest wrote to
/// stderr and logged before it trapped.
fn failure(store: &Store<GuestState>, limits: &Limits, error: wasmtime::Error) -> CallError {
    let state = store.data();
    classify(&state.memory_cap, limits, error)
        .with_last_words(&state.stderr.contents(), state.logs.records())
}

/// One live guest: a Store, its instance, and the `__guest_call` entry point.
struct WapcInstance {
    store: Store<GuestState>,
    guest_call: TypedFunc<(i32, i32), i32>,
    limits: Limits,
    operations: Operations,
}

impl WapcInstance {
    /// Instantiate the policy and run its start-up: `_start` (an exit with code 0 is fine, as
    /// TinyGo ≥ 0.35 ends `main` that way), then `wapc_init`, each under the deadline.
    fn start(pre: &InstancePre<GuestState>, limits: Limits) -> Result<Self, CallError> {
        let mut store = limits.store(pre.module().engine(), GuestState::new(&limits), |state| {
            &mut state.memory_cap
        });
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| failure(&store, &limits, e))?;
        let guest_call = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "__guest_call")
            .map_err(|_| {
                CallError::trap("it does not export `__guest_call`, so it is not a waPC module")
            })?;
        for name in ["_start", "wapc_init"] {
            let Ok(func) = instance.get_typed_func::<(), ()>(&mut store, name) else {
                continue;
            };
            store.set_epoch_deadline(limits.deadline_ticks());
            if let Err(error) = func.call(&mut store, ()) {
                if error
                    .downcast_ref::<I32Exit>()
                    .is_some_and(|exit| exit.0 == 0)
                {
                    continue;
                }
                return Err(failure(&store, &limits, error));
            }
        }
        Ok(WapcInstance {
            store,
            guest_call,
            limits,
            operations: Operations::own(),
        })
    }

    /// Call `operation` with `payload` and return the guest's response bytes.
    fn call(&mut self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
        self.call_parts(operation, &[payload])
    }

    /// Call `operation` with the concatenation of `parts` as its payload.
    fn call_parts(&mut self, operation: &str, parts: &[&[u8]]) -> Result<Vec<u8>, CallError> {
        let state = self.store.data_mut();
        state.operation.clear();
        state.operation.extend_from_slice(operation.as_bytes());
        state.payload.clear();
        state
            .payload
            .reserve_exact(parts.iter().map(|part| part.len()).sum());
        for part in parts {
            state.payload.extend_from_slice(part);
        }
        let payload_len = state.payload.len();
        state.guest_response = None;
        state.oversized_response = None;
        state.guest_error = None;
        state.host_response.clear();
        state.host_error.clear();
        state.stderr.clear();
        let op_len = i32::try_from(operation.len())
            .map_err(|_| CallError::trap("operation name too long"))?;
        let msg_len =
            i32::try_from(payload_len).map_err(|_| CallError::trap("request larger than 2 GiB"))?;
        self.store.set_epoch_deadline(self.limits.deadline_ticks());
        let result = self
            .guest_call
            .call(&mut self.store, (op_len, msg_len))
            .map_err(|e| failure(&self.store, &self.limits, e));
        let state = self.store.data_mut();
        // The guest has its copy; an instance kept for the next object should not also keep
        // the buffer of a huge one.
        if state.payload.capacity() > KEPT_PAYLOAD {
            state.payload = Vec::new();
        }
        let result = result?;
        if result == 0 {
            return Err(CallError::Guest(state.guest_error.take().unwrap_or_else(
                || "the policy failed without an error message".into(),
            )));
        }
        if let Some(size) = state.oversized_response.take() {
            return Err(CallError::Guest(format!(
                "answered with {} MiB, more than the {} MiB admit accepts",
                size / (1024 * 1024),
                MAX_RESPONSE / (1024 * 1024)
            )));
        }
        match state.guest_response.take() {
            Some(response) => Ok(response),
            None => Err(CallError::Guest(state.guest_error.take().unwrap_or_else(
                || "the policy reported success but sent no response".into(),
            ))),
        }
    }
}
