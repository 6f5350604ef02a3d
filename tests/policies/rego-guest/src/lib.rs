//! A stand-in for a Rego policy compiled with `opa build -t wasm`, which cannot run here.
//!
//! It exports the OPA Wasm ABI as Kubewarden's burrego uses it (`builtins`, `entrypoints`,
//! `opa_malloc`, `opa_heap_ptr_get/set`, `opa_json_parse/dump`, `opa_eval_ctx_*`, `eval`),
//! imports `env.memory` and the `env.opa_*` host functions, and evaluates one hard-coded rule
//! instead of compiled Rego. Values are `serde_json::Value`s on a bump heap whose pointer is
//! the ABI's heap pointer, so `opa_heap_ptr_set` frees everything allocated after it, as in
//! OPA's own runtime.
//!
//! The rule, as Rego would say it (feature `opa`, entrypoint `policy/main`):
//!
//! ```rego
//! label := object.get(data, "required_label", "team")
//! response := {"uid": input.request.uid, "allowed": false,
//!              "status": {"message": sprintf("%s %q must have the label %q", [kind, name, label])}}
//!     { not input.request.object.metadata.labels[label] }
//! ```
//!
//! and (feature `gatekeeper`, entrypoint `policy/violation`), for each label in
//! `input.parameters.labels` (default `["team"]`):
//!
//! ```rego
//! violation[{"msg": sprintf("you must provide the label %q", [label])}] { not ...labels[label] }
//! ```
//!
//! Test hooks in the settings (`data` for OPA, `input.parameters` for Gatekeeper):
//! `"trap": true` executes `unreachable`; `"abort": "why"` calls `opa_abort("why")`;
//! `"sprintf_args": [...]` calls `sprintf` with that many arguments through `opa_builtinN`, so
//! a wrong arity shows how the host reports a failing builtin.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

#[cfg(all(feature = "opa", not(feature = "gatekeeper")))]
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata-opa.json").len()] =
    *include_bytes!("../metadata-opa.json");

#[cfg(all(feature = "gatekeeper", not(feature = "opa")))]
#[unsafe(link_section = "io.kubewarden.metadata")]
#[used]
static METADATA: [u8; include_bytes!("../metadata-gatekeeper.json").len()] =
    *include_bytes!("../metadata-gatekeeper.json");

#[cfg(feature = "opa")]
const ENTRYPOINTS: &str = r#"{"policy/main":0}"#;
#[cfg(feature = "gatekeeper")]
const ENTRYPOINTS: &str = r#"{"policy/violation":0}"#;

/// The builtins this module leaves to the host, by the id it calls them with.
const BUILTINS: &str = r#"{"sprintf":0}"#;
const SPRINTF: i32 = 0;

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    fn opa_abort(message: *const u8);
    fn opa_println(message: *const u8);
    fn opa_builtin0(id: i32, ctx: i32) -> i32;
    fn opa_builtin1(id: i32, ctx: i32, a: i32) -> i32;
    fn opa_builtin2(id: i32, ctx: i32, a: i32, b: i32) -> i32;
    fn opa_builtin3(id: i32, ctx: i32, a: i32, b: i32, c: i32) -> i32;
    fn opa_builtin4(id: i32, ctx: i32, a: i32, b: i32, c: i32, d: i32) -> i32;
}

// ---- The heap: a bump allocator whose pointer the host saves and restores. ----

unsafe extern "C" {
    /// Where the linker put the end of static data and the stack.
    static __heap_base: u8;
}

/// The next free byte; 0 until first used.
static HEAP: AtomicUsize = AtomicUsize::new(0);
const PAGE: usize = 65536;

fn heap_ptr() -> usize {
    match HEAP.load(Ordering::Relaxed) {
        0 => &raw const __heap_base as usize,
        ptr => ptr,
    }
}

struct Bump;

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let start = (heap_ptr() + layout.align() - 1) & !(layout.align() - 1);
        let end = start + layout.size();
        let have = core::arch::wasm32::memory_size(0) * PAGE;
        if end > have && core::arch::wasm32::memory_grow(0, (end - have).div_ceil(PAGE)) == usize::MAX
        {
            return std::ptr::null_mut();
        }
        HEAP.store(end, Ordering::Relaxed);
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Bump = Bump;

#[unsafe(no_mangle)]
pub extern "C" fn opa_malloc(size: usize) -> *mut u8 {
    match Layout::from_size_align(size, 8) {
        Ok(layout) => unsafe { ALLOCATOR.alloc(layout) },
        Err(_) => std::ptr::null_mut(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_free(_ptr: *mut u8) {}

#[unsafe(no_mangle)]
pub extern "C" fn opa_heap_ptr_get() -> usize {
    heap_ptr()
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_heap_ptr_set(ptr: usize) {
    HEAP.store(ptr, Ordering::Relaxed);
}

// ---- Values: a `Value` on the heap, addressed by its pointer. ----

fn store(value: Value) -> *const Value {
    Box::into_raw(Box::new(value))
}

fn value<'a>(addr: *const Value) -> &'a Value {
    static NULL: Value = Value::Null;
    if addr.is_null() {
        &NULL
    } else {
        unsafe { &*addr }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_json_parse(ptr: *const u8, len: usize) -> *const Value {
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    match serde_json::from_slice(bytes) {
        Ok(parsed) => store(parsed),
        Err(_) => std::ptr::null(),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_json_dump(addr: *const Value) -> *const u8 {
    c_string(&value(addr).to_string())
}

fn c_string(text: &str) -> *const u8 {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes.leak().as_ptr()
}

#[unsafe(no_mangle)]
pub extern "C" fn builtins() -> *const Value {
    store(serde_json::from_str(BUILTINS).unwrap_or_default())
}

#[unsafe(no_mangle)]
pub extern "C" fn entrypoints() -> *const Value {
    store(serde_json::from_str(ENTRYPOINTS).unwrap_or_default())
}

// ---- Evaluation contexts. ----

pub struct Context {
    input: *const Value,
    data: *const Value,
    entrypoint: i32,
    result: *const Value,
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_new() -> *mut Context {
    Box::into_raw(Box::new(Context {
        input: std::ptr::null(),
        data: std::ptr::null(),
        entrypoint: 0,
        result: std::ptr::null(),
    }))
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_set_input(ctx: *mut Context, input: *const Value) {
    unsafe { (*ctx).input = input }
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_set_data(ctx: *mut Context, data: *const Value) {
    unsafe { (*ctx).data = data }
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_set_entrypoint(ctx: *mut Context, entrypoint: i32) {
    unsafe { (*ctx).entrypoint = entrypoint }
}

#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_get_result(ctx: *mut Context) -> *const Value {
    unsafe { (*ctx).result }
}

/// Evaluate the context's entrypoint; 0 on success, as OPA's `eval`.
#[unsafe(no_mangle)]
pub extern "C" fn eval(ctx: *mut Context) -> i32 {
    let context = unsafe { &mut *ctx };
    if context.entrypoint != 0 {
        return 1;
    }
    let result = evaluate(value(context.input), value(context.data));
    context.result = store(result);
    0
}

// ---- The policy. ----

/// Call builtin `id` through `opa_builtinN`, N being the number of arguments.
fn call_builtin(id: i32, args: &[Value]) -> Value {
    let a: Vec<i32> = args.iter().map(|arg| store(arg.clone()) as i32).collect();
    let result = unsafe {
        match a.as_slice() {
            [] => opa_builtin0(id, 0),
            [x] => opa_builtin1(id, 0, *x),
            [x, y] => opa_builtin2(id, 0, *x, *y),
            [x, y, z] => opa_builtin3(id, 0, *x, *y, *z),
            [x, y, z, w, ..] => opa_builtin4(id, 0, *x, *y, *z, *w),
        }
    };
    value(result as *const Value).clone()
}

fn sprintf(format: &str, args: Value) -> String {
    match call_builtin(SPRINTF, &[json!(format), args]) {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// Run the test hooks of `settings`.
fn hooks(settings: &Value) {
    if let Some(message) = settings.get("abort").and_then(Value::as_str) {
        unsafe { opa_abort(c_string(message)) };
    }
    if settings.get("trap") == Some(&Value::Bool(true)) {
        core::arch::wasm32::unreachable();
    }
    if let Some(args) = settings.get("sprintf_args").and_then(Value::as_array) {
        call_builtin(SPRINTF, args);
    }
    if let Some(message) = settings.get("print").and_then(Value::as_str) {
        unsafe { opa_println(c_string(message)) };
    }
}

fn has_label(request: &Value, label: &str) -> bool {
    request
        .pointer("/object/metadata/labels")
        .and_then(|labels| labels.get(label))
        .is_some()
}

#[cfg(feature = "opa")]
fn evaluate(input: &Value, data: &Value) -> Value {
    hooks(data);
    let request = &input["request"];
    let label = data
        .get("required_label")
        .and_then(Value::as_str)
        .unwrap_or("team");
    let mut response = json!({"uid": request["uid"].clone(), "allowed": true});
    if !has_label(request, label) {
        let kind = request.pointer("/kind/kind").cloned().unwrap_or_default();
        let name = request
            .pointer("/object/metadata/name")
            .cloned()
            .unwrap_or_default();
        let message = sprintf("%s %q must have the label %q", json!([kind, name, label]));
        response["allowed"] = json!(false);
        response["status"] = json!({"message": message});
    }
    json!([{"result": {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                       "response": response}}])
}

#[cfg(feature = "gatekeeper")]
fn evaluate(input: &Value, _data: &Value) -> Value {
    let parameters = &input["parameters"];
    hooks(parameters);
    let request = &input["review"];
    let labels = match parameters.get("labels").and_then(Value::as_array) {
        Some(labels) => labels.clone(),
        None => vec![json!("team")],
    };
    let violations: Vec<Value> = labels
        .iter()
        .filter_map(Value::as_str)
        .filter(|label| !has_label(request, label))
        .map(|label| json!({"msg": sprintf("you must provide the label %q", json!([label]))}))
        .collect();
    json!([{"result": violations}])
}
