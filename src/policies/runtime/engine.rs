//! The one wasmtime [`Engine`] of a run: its configuration, the thread that advances its
//! epoch, and compiling modules with it.

use std::sync::OnceLock;

use wasmtime::{Config, Engine, Module};

use super::cache::ModuleCache;
use super::limits::{EPOCH_TICK, Limits};

/// The most native stack a guest's wasm frames may use. Deep recursion traps with "call stack
/// exhausted" long before the thread's own stack (rayon's default is 2 MiB) is in danger; real
/// policies nest a few dozen frames.
const MAX_WASM_STACK: usize = 512 * 1024;

/// The compilation and execution environment shared by every policy of a run.
///
/// Expensive to create, cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct PolicyRuntime {
    engine: Engine,
    limits: Limits,
    cache: Option<ModuleCache>,
}

impl PolicyRuntime {
    /// A runtime whose guest calls are bounded by `limits`, keeping compiled modules in
    /// `cache` when given.
    pub fn new(limits: Limits, cache: Option<ModuleCache>) -> Result<Self, wasmtime::Error> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Go ≥ 1.26 `wasip1` modules (WASI mode) use typed function references. This is part of
        // the engine settings, so the module cache key (`precompile_compatibility_hash`)
        // changes with it.
        config.wasm_function_references(true);
        config.max_wasm_stack(MAX_WASM_STACK);
        // `ADMIT_PROFILE=perfmap` lets `perf` name guest functions; for profiling admit itself.
        if std::env::var_os("ADMIT_PROFILE").is_some_and(|v| v == "perfmap") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;
        start_epoch_ticker(&engine);
        Ok(PolicyRuntime {
            engine,
            limits,
            cache,
        })
    }

    /// Compile `wasm`, or load it from the cache.
    pub fn compile(&self, wasm: &[u8]) -> wasmtime::Result<Module> {
        match &self.cache {
            Some(cache) => cache.load_or_compile(&self.engine, wasm),
            None => Module::new(&self.engine, wasm),
        }
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits guest calls run under.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

/// Advance the epoch of every engine created in this process from one background thread.
///
/// The thread holds only weak references, so an engine that is dropped stops being ticked.
fn start_epoch_ticker(engine: &Engine) {
    static TICKER: OnceLock<std::sync::Mutex<Vec<wasmtime::EngineWeak>>> = OnceLock::new();
    let mut started = false;
    let engines = TICKER.get_or_init(|| {
        started = true;
        std::sync::Mutex::new(Vec::new())
    });
    if let Ok(mut list) = engines.lock() {
        list.push(engine.weak());
    }
    if started {
        std::thread::Builder::new()
            .name("admit-epoch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(EPOCH_TICK);
                    if let Ok(mut list) = engines.lock() {
                        list.retain(|weak| match weak.upgrade() {
                            Some(engine) => {
                                engine.increment_epoch();
                                true
                            }
                            None => false,
                        });
                    }
                }
            })
            .ok();
    }
}
