//! The one wasmtime [`Engine`] of a run: its configuration, the thread that advances its
//! epoch, and compiling modules with it.

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

/// The bundle of built-ins, as `policies/build.sh` builds it.
static BUNDLE: &[u8] = include_bytes!("../../../policies/builtins/builtins.wasm");

/// The bundle compiled by build.rs for this target (empty where Cranelift could not).
static PRECOMPILED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtins.cwasm"));

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
