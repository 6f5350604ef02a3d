//! The seam between a policy and the way its module is executed.
//!
//! Kubewarden runs four kinds of module (spec §3.5): waPC, WASI commands, OPA and Gatekeeper.
//! Each execution mode lives in its own module and implements these two traits; everything
//! above them (settings, scoping, findings) is the same for all of them.

use super::host_capabilities::GuestLog;
use super::protocol::{SettingsValidationResponse, ValidationResponse};
use super::runtime::Limits;
use super::wapc::CallError;

/// A module compiled and linked for one execution mode, ready to start instances.
///
/// One per policy and run, shared by every thread (`Send + Sync`).
pub trait PreparedGuest: Send + Sync {
    /// Start a fresh instance under `limits`.
    fn start(&self, limits: Limits) -> Result<Box<dyn Guest>, CallError>;
}

/// One live instance. Reuse it while calls succeed; drop it after any failure, because a guest
/// that trapped or timed out may have left its state inconsistent.
pub trait Guest: Send {
    /// Answer `validate` for `request_json` (an AdmissionRequest, or the raw document of a raw
    /// policy) with `settings_json`, both serialized once by the caller.
    fn validate(
        &mut self,
        request_json: &[u8],
        settings_json: &[u8],
    ) -> Result<ValidationResponse, CallError>;

    /// Answer `validate_settings` for `settings_json`.
    fn validate_settings(
        &mut self,
        settings_json: &[u8],
    ) -> Result<SettingsValidationResponse, CallError>;

    /// Log records the guest produced since the last call of this method.
    fn take_logs(&mut self) -> Vec<GuestLog> {
        Vec::new()
    }

    /// The bytes of linear memory the instance holds between calls (0 for a mode that starts
    /// afresh on every call).
    fn memory_size(&self) -> usize {
        0
    }
}

/// Parse a guest's JSON answer to `operation`, or say that it was not one.
pub(crate) fn parse_answer<T: serde::de::DeserializeOwned>(
    operation: &str,
    bytes: &[u8],
) -> Result<T, CallError> {
    serde_json::from_slice(bytes).map_err(|e| {
        CallError::Guest(format!(
            "answered {operation} with an invalid response: {e}"
        ))
    })
}

/// Link `module` with the imports `link` adds: the part of loading every execution mode shares.
pub(crate) fn link_module<T: 'static>(
    runtime: &super::runtime::PolicyRuntime,
    module: &wasmtime::Module,
    link: fn(&mut wasmtime::Linker<T>) -> wasmtime::Result<()>,
) -> Result<wasmtime::InstancePre<T>, super::policy::LoadError> {
    let invalid = |e: wasmtime::Error| super::policy::LoadError::Invalid(format!("{e:#}"));
    let mut linker = wasmtime::Linker::new(runtime.engine());
    link(&mut linker).map_err(invalid)?;
    linker.instantiate_pre(module).map_err(invalid)
}

/// The guest's exported `memory`, which waPC and WASI host functions read and write.
pub(crate) fn exported_memory<T>(
    caller: &mut wasmtime::Caller<'_, T>,
) -> wasmtime::Result<wasmtime::Memory> {
    caller
        .get_export("memory")
        .and_then(wasmtime::Extern::into_memory)
        .ok_or_else(|| wasmtime::Error::msg("the policy does not export its `memory`"))
}

/// Copy `len` bytes at `ptr` out of the guest's memory. Pointers and lengths are unsigned
/// 32-bit values passed as `i32`.
pub(crate) fn read<T>(
    caller: &mut wasmtime::Caller<'_, T>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<Vec<u8>> {
    let memory = exported_memory(caller)?;
    let start = ptr as u32 as usize;
    let end = start + len as u32 as usize;
    memory
        .data(&*caller)
        .get(start..end)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| wasmtime::Error::msg("the policy passed a pointer outside its memory"))
}

/// [`read`], as text: lossy rather than a trap, since a garbled name is still worth showing.
fn read_string<T>(
    caller: &mut wasmtime::Caller<'_, T>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<String> {
    Ok(String::from_utf8_lossy(&read(caller, ptr, len)?).into_owned())
}

/// A host call's four buffers copied out of guest memory: waPC's `__host_call` and WASI's
/// `host.call` pass the same eight arguments, pointer and length of binding, namespace,
/// operation and payload.
pub(crate) struct HostCallArgs {
    binding: String,
    namespace: String,
    operation: String,
    payload: Vec<u8>,
}

impl HostCallArgs {
    /// Read the buffers the eight arguments point at.
    pub(crate) fn read<T>(
        caller: &mut wasmtime::Caller<'_, T>,
        [bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len]: [i32; 8],
    ) -> wasmtime::Result<Self> {
        Ok(HostCallArgs {
            binding: read_string(caller, bd_ptr, bd_len)?,
            namespace: read_string(caller, ns_ptr, ns_len)?,
            operation: read_string(caller, op_ptr, op_len)?,
            payload: read(caller, ptr, len)?,
        })
    }

    /// The call, for `host_capabilities::dispatch`.
    pub(crate) fn call(&self) -> super::host_capabilities::HostCall<'_> {
        super::host_capabilities::HostCall {
            binding: &self.binding,
            namespace: &self.namespace,
            operation: &self.operation,
            payload: &self.payload,
        }
    }
}
