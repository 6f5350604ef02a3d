//! The wasmtime configuration every module is compiled for: at run time by admit's engine, and
//! at build time by `build.rs`, which compiles the bundle of built-ins ahead of time with it.
//! A compiled module loads only into an engine with the same settings, so both read this one
//! file (build.rs includes it with `#[path]`); it may use nothing but wasmtime.

/// The most native stack a guest's wasm frames may use. Deep recursion traps with "call stack
/// exhausted" long before the thread's own stack (rayon's default is 2 MiB) is in danger; real
/// policies nest a few dozen frames.
const MAX_WASM_STACK: usize = 512 * 1024;

/// The settings that decide what code is generated, and so whether a compiled module loads.
pub fn engine_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    // `--policy-timeout`: generated code checks the epoch at every function and loop entry.
    config.epoch_interruption(true);
    // Go ≥ 1.26 `wasip1` modules (WASI mode) use typed function references. This is part of
    // the engine settings, so the module cache key (`precompile_compatibility_hash`) changes
    // with it.
    config.wasm_function_references(true);
    config.max_wasm_stack(MAX_WASM_STACK);
    config
}
