//! The host side of the OPA Wasm ABI (<https://www.openpolicyagent.org/docs/wasm>), as
//! Kubewarden's burrego drives it (`crates/burrego` of
//! <https://github.com/kubewarden/policy-evaluator>): the `env` imports, the exports read at
//! start-up, value push/pull through the guest's own JSON parser and printer, and one
//! evaluation with the heap-pointer reset that lets one instance serve many evaluations.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use wasmtime::{
    AsContext, AsContextMut, Caller, Extern, Instance, Linker, Memory, MemoryType, Module, Store,
    TypedFunc,
};

use super::builtins::RegoBuiltin;
use crate::policies::runtime::host_capabilities::GuestLogs;
use crate::policies::runtime::{CallError, GuestLog, Limits, MemoryCap, classify};

/// The smallest memory burrego gives a module (`MemoryType::new(5, None)`); modules ask for 2.
const MIN_PAGES: u32 = 5;

/// Builtins the module calls back into, by the id its `builtins` export gave them.
pub(super) type BuiltinTable = HashMap<i32, &'static RegoBuiltin>;

/// The state of one OPA instance, owned by its wasmtime `Store`.
pub(super) struct OpaState {
    memory_cap: MemoryCap,
    /// The memory the host created and the module imports as `env.memory`.
    memory: Option<Memory>,
    exports: Option<Exports>,
    builtins: Arc<BuiltinTable>,
    logs: GuestLogs,
}

/// A failure raised by a host function, with the text a user should read. It is carried
/// through the guest's trap so that [`OpaInstance`] can report it instead of a bare trap.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct HostFailure(String);

fn fail(text: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::new(HostFailure(text.into()))
}

/// The exports of the OPA ABI that the host calls, looked up once per instance.
#[derive(Clone)]
struct Exports {
    malloc: TypedFunc<i32, i32>,
    json_parse: TypedFunc<(i32, i32), i32>,
    json_dump: TypedFunc<i32, i32>,
    heap_ptr_get: TypedFunc<(), i32>,
    heap_ptr_set: TypedFunc<i32, ()>,
    eval_ctx_new: TypedFunc<(), i32>,
    eval_ctx_set_input: TypedFunc<(i32, i32), ()>,
    eval_ctx_set_data: TypedFunc<(i32, i32), ()>,
    eval_ctx_set_entrypoint: TypedFunc<(i32, i32), ()>,
    eval_ctx_get_result: TypedFunc<i32, i32>,
    eval: TypedFunc<i32, i32>,
    builtins: TypedFunc<(), i32>,
    entrypoints: TypedFunc<(), i32>,
}

impl Exports {
    fn find(instance: &Instance, store: &mut Store<OpaState>) -> Result<Self, CallError> {
        fn get<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
            instance: &Instance,
            store: &mut Store<OpaState>,
            name: &str,
        ) -> Result<TypedFunc<P, R>, CallError> {
            instance.get_typed_func(&mut *store, name).map_err(|_| {
                CallError::trap(format!(
                    "it does not export `{name}` with the OPA ABI's signature, so it is not an \
                     OPA module built with `opa build -t wasm`"
                ))
            })
        }
        Ok(Exports {
            malloc: get(instance, store, "opa_malloc")?,
            json_parse: get(instance, store, "opa_json_parse")?,
            json_dump: get(instance, store, "opa_json_dump")?,
            heap_ptr_get: get(instance, store, "opa_heap_ptr_get")?,
            heap_ptr_set: get(instance, store, "opa_heap_ptr_set")?,
            eval_ctx_new: get(instance, store, "opa_eval_ctx_new")?,
            eval_ctx_set_input: get(instance, store, "opa_eval_ctx_set_input")?,
            eval_ctx_set_data: get(instance, store, "opa_eval_ctx_set_data")?,
            eval_ctx_set_entrypoint: get(instance, store, "opa_eval_ctx_set_entrypoint")?,
            eval_ctx_get_result: get(instance, store, "opa_eval_ctx_get_result")?,
            eval: get(instance, store, "eval")?,
            builtins: get(instance, store, "builtins")?,
            entrypoints: get(instance, store, "entrypoints")?,
        })
    }
}

/// Add the `env` functions of the OPA ABI to `linker`. `env.memory` is per store and is
/// defined when an instance starts.
pub(super) fn link(linker: &mut Linker<OpaState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "env",
        "opa_abort",
        |caller: Caller<'_, OpaState>, addr: i32| -> wasmtime::Result<()> {
            // burrego only logs and returns, but OPA's runtime treats `opa_abort` as
            // non-returning: stopping here gives the user the module's own reason.
            let message = read_c_string(&caller, addr)?;
            Err(fail(format!("aborted: {message}")))
        },
    )?;
    linker.func_wrap(
        "env",
        "opa_println",
        |mut caller: Caller<'_, OpaState>, addr: i32| -> wasmtime::Result<()> {
            let message = read_c_string(&caller, addr)?;
            caller.data_mut().logs.push(GuestLog {
                level: "info".into(),
                message,
            });
            Ok(())
        },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin0",
        |mut caller: Caller<'_, OpaState>, id: i32, _ctx: i32| call_builtin(&mut caller, id, &[]),
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin1",
        |mut caller: Caller<'_, OpaState>, id: i32, _ctx: i32, a: i32| {
            call_builtin(&mut caller, id, &[a])
        },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin2",
        |mut caller: Caller<'_, OpaState>, id: i32, _ctx: i32, a: i32, b: i32| {
            call_builtin(&mut caller, id, &[a, b])
        },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin3",
        |mut caller: Caller<'_, OpaState>, id: i32, _ctx: i32, a: i32, b: i32, c: i32| {
            call_builtin(&mut caller, id, &[a, b, c])
        },
    )?;
    linker.func_wrap(
        "env",
        "opa_builtin4",
        |mut caller: Caller<'_, OpaState>, id: i32, _ctx: i32, a: i32, b: i32, c: i32, d: i32| {
            call_builtin(&mut caller, id, &[a, b, c, d])
        },
    )?;
    Ok(())
}

/// `opa_builtinN`: pull the arguments as JSON, run the host implementation, push the result.
fn call_builtin(caller: &mut Caller<'_, OpaState>, id: i32, args: &[i32]) -> wasmtime::Result<i32> {
    let builtin = caller.data().builtins.get(&id).copied().ok_or_else(|| {
        fail(format!(
            "called builtin id {id}, which its `builtins` export does not list"
        ))
    })?;
    let exports = exports(caller)?;
    let mut values = Vec::with_capacity(args.len());
    for &addr in args {
        values.push(pull(caller, &exports, addr)?);
    }
    let result = (builtin.eval)(&values)
        .map_err(|e| fail(format!("builtin `{}` failed: {e}", builtin.name)))?;
    let json = serde_json::to_vec(&result).map_err(|e| fail(format!("{e}")))?;
    push(caller, &exports, &json)
}

fn exports(ctx: &impl AsContext<Data = OpaState>) -> wasmtime::Result<Exports> {
    ctx.as_context()
        .data()
        .exports
        .clone()
        .ok_or_else(|| fail("called a builtin before its instance was ready"))
}

/// The bytes of the NUL-terminated string at `addr` in the module's memory.
fn read_c_string(ctx: &impl AsContext<Data = OpaState>, addr: i32) -> wasmtime::Result<String> {
    let ctx = ctx.as_context();
    let memory = ctx
        .data()
        .memory
        .ok_or_else(|| fail("the module has no memory"))?;
    let data = memory.data(&ctx);
    let start = addr as u32 as usize;
    let tail = data
        .get(start..)
        .ok_or_else(|| fail("the module passed a pointer outside its memory"))?;
    let len = tail
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| fail("the module passed a string without its terminating NUL"))?;
    Ok(String::from_utf8_lossy(&tail[..len]).into_owned())
}

/// Copy `json` into the module's heap and parse it there; the address of the parsed value.
fn push(
    ctx: &mut impl AsContextMut<Data = OpaState>,
    exports: &Exports,
    json: &[u8],
) -> wasmtime::Result<i32> {
    let len = i32::try_from(json.len()).map_err(|_| fail("a value larger than 2 GiB"))?;
    let addr = exports.malloc.call(&mut *ctx, len)?;
    if addr == 0 {
        // Writing there would overwrite the module's own low memory.
        return Err(fail(format!("opa_malloc could not allocate {len} bytes")));
    }
    let memory = ctx
        .as_context()
        .data()
        .memory
        .ok_or_else(|| fail("the module has no memory"))?;
    memory
        .write(&mut *ctx, addr as u32 as usize, json)
        .map_err(|_| fail("opa_malloc returned a pointer outside the module's memory"))?;
    let value = exports.json_parse.call(&mut *ctx, (addr, len))?;
    if value == 0 {
        return Err(fail("the module could not parse the JSON the host gave it"));
    }
    Ok(value)
}

/// The value at `addr`, printed by the module's `opa_json_dump` and parsed by the host.
fn pull(
    ctx: &mut impl AsContextMut<Data = OpaState>,
    exports: &Exports,
    addr: i32,
) -> wasmtime::Result<Value> {
    let text = exports.json_dump.call(&mut *ctx, addr)?;
    let json = read_c_string(&*ctx, text)?;
    serde_json::from_str(&json)
        .map_err(|e| fail(format!("the module printed a value that is not JSON: {e}")))
}

/// A linked OPA module: what every instance shares.
pub(super) struct OpaLinked {
    pub(super) module: Module,
    pub(super) linker: Linker<OpaState>,
    /// Pages of the `env.memory` the host creates.
    pub(super) memory_pages: u32,
}

impl OpaLinked {
    /// Link `module`: its `env` imports, and the size of the memory it asks for.
    pub(super) fn new(module: &Module) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(module.engine());
        link(&mut linker)?;
        let asked = module
            .imports()
            .find(|import| import.module() == "env" && import.name() == "memory")
            .and_then(|import| import.ty().memory().map(MemoryType::minimum))
            .unwrap_or(0);
        let asked = u32::try_from(asked).unwrap_or(u32::MAX);
        Ok(OpaLinked {
            module: module.clone(),
            linker,
            memory_pages: asked.max(MIN_PAGES),
        })
    }
}

/// One live OPA instance: a Store, its exports, and the heap pointer evaluations start from.
pub(super) struct OpaInstance {
    store: Store<OpaState>,
    exports: Exports,
    base_heap_ptr: i32,
    limits: Limits,
}

impl OpaInstance {
    /// Create the memory, instantiate (running the module's start function under the
    /// deadline), and push the initial `{}` data as burrego does.
    pub(super) fn start(
        linked: &OpaLinked,
        builtins: Arc<BuiltinTable>,
        limits: Limits,
    ) -> Result<Self, CallError> {
        let state = OpaState {
            memory_cap: MemoryCap::new(limits.memory),
            memory: None,
            exports: None,
            builtins,
            logs: GuestLogs::default(),
        };
        // The deadline is set before instantiation: OPA modules have a start function.
        let mut store = limits.store(linked.module.engine(), state, |state| &mut state.memory_cap);
        let memory = Memory::new(&mut store, MemoryType::new(linked.memory_pages, None))
            .map_err(|e| classify(&store.data().memory_cap, &limits, e))?;
        store.data_mut().memory = Some(memory);
        let mut linker = linked.linker.clone();
        linker
            .define(&store, "env", "memory", memory)
            .map_err(|e| CallError::trap(format!("{e:#}")))?;
        let instance = linker
            .instantiate(&mut store, &linked.module)
            .map_err(|e| error(&store, &limits, e))?;
        // ABI ≥ 1.1 modules also export the memory; it is the same one, but read through it.
        if let Some(exported) = instance
            .get_export(&mut store, "memory")
            .and_then(Extern::into_memory)
        {
            store.data_mut().memory = Some(exported);
        }
        let exports = Exports::find(&instance, &mut store)?;
        store.data_mut().exports = Some(exports.clone());
        let mut opa = OpaInstance {
            store,
            exports,
            base_heap_ptr: 0,
            limits,
        };
        opa.base_heap_ptr = opa.call(|store, e| {
            push(&mut *store, e, b"{}")?;
            e.heap_ptr_get.call(store, ())
        })?;
        Ok(opa)
    }

    /// The names of the builtins the module calls back into, with their ids.
    pub(super) fn builtin_ids(&mut self) -> Result<HashMap<String, i32>, CallError> {
        let addr = self.call(|store, e| e.builtins.call(store, ()))?;
        self.name_to_id_map("builtins", addr)
    }

    /// The module's entrypoints (`{"policy/main": 0}`), with their ids.
    pub(super) fn entrypoint_ids(&mut self) -> Result<HashMap<String, i32>, CallError> {
        let addr = self.call(|store, e| e.entrypoints.call(store, ()))?;
        self.name_to_id_map("entrypoints", addr)
    }

    /// Read the `{"name": id}` object at `addr`, which the export `export` returned.
    fn name_to_id_map(
        &mut self,
        export: &str,
        addr: i32,
    ) -> Result<HashMap<String, i32>, CallError> {
        let value = self.call(|store, e| pull(store, e, addr))?;
        let Value::Object(map) = value else {
            return Err(CallError::trap(format!(
                "its `{export}` export is not an object of ids: {value}"
            )));
        };
        map.into_iter()
            .map(|(name, id)| {
                id.as_i64()
                    .and_then(|id| i32::try_from(id).ok())
                    .map(|id| (name.clone(), id))
                    .ok_or_else(|| {
                        CallError::trap(format!("its `{export}` export gives `{name}` no id"))
                    })
            })
            .collect()
    }

    /// One evaluation of entrypoint 0 with `data` and `input` (JSON): the result set, `[]` or
    /// `[{"result": ...}]`.
    pub(super) fn evaluate(&mut self, data: &[u8], input: &[u8]) -> Result<Value, CallError> {
        let base = self.base_heap_ptr;
        self.call(|store, e| {
            // Every evaluation starts from the heap as it was after start-up, so values of
            // earlier evaluations are forgotten and the heap does not grow from call to call.
            e.heap_ptr_set.call(&mut *store, base)?;
            let data_addr = push(store, e, data)?;
            let input_addr = push(store, e, input)?;
            let ctx = e.eval_ctx_new.call(&mut *store, ())?;
            e.eval_ctx_set_input.call(&mut *store, (ctx, input_addr))?;
            e.eval_ctx_set_data.call(&mut *store, (ctx, data_addr))?;
            // Kubewarden always runs entrypoint 0: the first `-e` given to `opa build`.
            e.eval_ctx_set_entrypoint.call(&mut *store, (ctx, 0))?;
            let status = e.eval.call(&mut *store, ctx)?;
            if status != 0 {
                return Err(fail(format!(
                    "the evaluation failed (`eval` returned {status})"
                )));
            }
            let result = e.eval_ctx_get_result.call(&mut *store, ctx)?;
            pull(store, e, result)
        })
    }

    /// Log records the module printed since the last call of this method.
    pub(super) fn take_logs(&mut self) -> Vec<GuestLog> {
        self.store.data_mut().logs.take()
    }

    /// The bytes of `env.memory` granted so far.
    pub(super) fn memory_size(&self) -> usize {
        self.store.data().memory_cap.size
    }

    /// Run `f` against the guest under a fresh deadline (one per host operation, so one
    /// evaluation, pushes included, gets one time limit), turning failures into [`CallError`]s.
    fn call<R>(
        &mut self,
        f: impl FnOnce(&mut Store<OpaState>, &Exports) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        self.store.set_epoch_deadline(self.limits.deadline_ticks());
        let exports = self.exports.clone();
        f(&mut self.store, &exports).map_err(|e| error(&self.store, &self.limits, e))
    }
}

/// What a user should read about `e`: a host function's own reason, else the shared
/// classification (timeout, memory cap, trap).
fn error(store: &Store<OpaState>, limits: &Limits, e: wasmtime::Error) -> CallError {
    let cap = &store.data().memory_cap;
    match e.downcast_ref::<HostFailure>() {
        Some(failure) if !cap.denied => CallError::trap(failure.0.clone()),
        _ => classify(cap, limits, e),
    }
}
