//! Reading a guest's exported linear memory from a host function, as waPC and WASI guests
//! pass their buffers: a pointer and a length, unsigned 32-bit values passed as `i32`.

use wasmtime::{Caller, Extern, Memory};

/// The guest's exported `memory`.
pub(crate) fn exported_memory<T>(caller: &mut Caller<'_, T>) -> wasmtime::Result<Memory> {
    caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| wasmtime::Error::msg("the policy does not export its `memory`"))
}

/// Copy `len` bytes at `ptr` out of the guest's memory.
pub(crate) fn read<T>(caller: &mut Caller<'_, T>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    let memory = exported_memory(caller)?;
    let start = ptr as u32 as usize;
    let end = start + len as u32 as usize;
    memory
        .data(&*caller)
        .get(start..end)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| wasmtime::Error::msg("the policy passed a pointer outside its memory"))
}

/// [`read`], as text: lossy rather than a trap, since a garbled name or message is still worth
/// showing.
pub(crate) fn read_string<T>(
    caller: &mut Caller<'_, T>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<String> {
    Ok(String::from_utf8_lossy(&read(caller, ptr, len)?).into_owned())
}
