//! The wasmtime engines of a run: the optimizing one (Cranelift), which the built-ins were
//! compiled for ahead of time, and the baseline one (Winch), which compiles outside modules
//! fast; the thread that advances their epochs; and compiling modules with them.

use std::sync::{Arc, OnceLock};

use wasmtime::{Engine, Module};

use super::cache::ModuleCache;
use super::engine_config::engine_config;
use super::limits::{EPOCH_TICK, Limits};

/// The compilation and execution environment shared by every policy of a run.
///
/// Expensive to create, cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct PolicyRuntime {
    engine: Engine,
    limits: Limits,
    cache: Option<ModuleCache>,
    /// The bundle of built-ins, loaded when a built-in first needs it.
    bundle: Arc<OnceLock<Result<Module, String>>>,
    /// The engine outside modules are compiled with first (see `compile`).
    baseline: Arc<OnceLock<Option<Engine>>>,
}

impl PolicyRuntime {
    /// A runtime whose guest calls are bounded by `limits`, keeping compiled modules in
    /// `cache` when given.
    pub fn new(limits: Limits, cache: Option<ModuleCache>) -> Result<Self, wasmtime::Error> {
        let mut config = engine_config();
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
            bundle: Arc::default(),
            baseline: Arc::default(),
        })
    }

    /// The bundle of built-in policies (`policies/builtins`): the module build.rs compiled
    /// ahead of time, or, when this engine refuses it (another CPU or wasmtime than the build
    /// had) or there is none, the bundle compiled here like any module, through the cache.
    pub(crate) fn builtins_module(&self) -> wasmtime::Result<Module> {
        self.bundle
            .get_or_init(|| {
                load_precompiled(&self.engine)
                    .map_or_else(|| self.compile(BUNDLE), Ok)
                    .map_err(|e| format!("{e:#}"))
            })
            .clone()
            .map_err(wasmtime::Error::msg)
    }

    /// The module for `wasm`, from the cache or compiled, by the baseline compiler (Winch)
    /// unless `ADMIT_COMPILER=cranelift` asks for the optimizing one or Winch cannot compile
    /// the module (Go's wasip1 modules use typed function references, which it lacks).
    ///
    /// Winch, not Cranelift, because of what each costs admit's users: a 1.5 MB policy
    /// compiles in 0.13 s and 154 MB instead of 3.2 s and 575 MB, and a check of 10,000
    /// objects with it takes 7% longer, as most of a check's time is admit's own (BENCHMARKS.md,
    /// "Outside modules"). Built-ins are Cranelift's, compiled when admit was built.
    pub fn compile(&self, wasm: &[u8]) -> wasmtime::Result<Module> {
        if let Some(baseline) = self.baseline()
            && let Ok(module) = self.compile_with(baseline, wasm)
        {
            return Ok(module);
        }
        self.compile_with(&self.engine, wasm)
    }

    fn compile_with(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Module> {
        match &self.cache {
            Some(cache) => cache.load_or_compile(engine, wasm),
            None => Module::new(engine, wasm),
        }
    }

    /// The Winch engine, made on first use; `None` where it is not wanted or not available.
    fn baseline(&self) -> Option<&Engine> {
        self.baseline
            .get_or_init(|| {
                let wanted = std::env::var_os("ADMIT_COMPILER").is_none_or(|v| v != "cranelift");
                wanted.then(baseline_engine).flatten()
            })
            .as_ref()
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

/// The bundle of built-ins, as `policies/build.sh` builds it.
static BUNDLE: &[u8] = include_bytes!("../../../policies/builtins/builtins.wasm");

/// The bundle compiled by build.rs for this target (empty where Cranelift could not).
static PRECOMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtins.cwasm"));

/// An engine with `engine_config()`'s settings and limits but Winch's code generation, without
/// the proposals Winch does not implement (typed function references, and GC, which needs
/// them). `None` where Winch does not support the CPU.
fn baseline_engine() -> Option<Engine> {
    let mut config = engine_config();
    config.strategy(wasmtime::Strategy::Winch);
    config.wasm_function_references(false);
    config.wasm_gc(false);
    let engine = Engine::new(&config).ok()?;
    start_epoch_ticker(&engine);
    Some(engine)
}

/// The precompiled bundle, when `engine` accepts it.
fn load_precompiled(engine: &Engine) -> Option<Module> {
    if PRECOMPILED.is_empty() {
        return None;
    }
    // SAFETY: the bytes are `Engine::precompile_module`'s output for the bundle, made by this
    // crate's build script with this wasmtime and `engine_config()`, and embedded in the
    // binary, so nothing but the build could have written them. wasmtime checks its version,
    // the engine settings and the CPU features the code needs, and refuses a mismatch.
    unsafe { Module::deserialize(engine, PRECOMPILED) }.ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_loads_the_bundle_build_rs_compiled() {
        // build.rs and the runtime must configure the engine alike (engine_config.rs); a
        // setting made on one side only would send every run to the fallback compile.
        assert!(!PRECOMPILED.is_empty(), "build.rs compiled the bundle");
        let runtime = PolicyRuntime::new(Limits::default(), None).unwrap();
        assert!(load_precompiled(runtime.engine()).is_some());
        let bundle = runtime.builtins_module().unwrap();
        assert!(bundle.get_export("__guest_call").is_some());
    }

    #[test]
    fn an_engine_with_other_settings_refuses_the_precompiled_bundle() {
        // What a binary on a CPU or wasmtime the build did not have meets: a refusal, after
        // which the bundle is compiled like any module, never code loaded on trust.
        let mut config = engine_config();
        config.epoch_interruption(false);
        let engine = Engine::new(&config).unwrap();
        assert!(load_precompiled(&engine).is_none());
        assert!(load_precompiled(&baseline_engine().unwrap()).is_none());
    }
}
