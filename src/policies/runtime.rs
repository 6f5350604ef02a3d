//! The one wasmtime [`Engine`] of a run, and the limits every policy instance runs under.

use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::{Config, Engine, Module, ResourceLimiter};

use super::cache::ModuleCache;

/// How often the epoch advances. Deadlines are counted in these ticks, so this is the
/// granularity of `--policy-timeout`; a tick costs the guest nothing.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Limits every guest call runs under, so that a hostile or buggy policy cannot hang or
/// exhaust the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall time for one call (start-up, `validate_settings` or `validate`).
    pub timeout: Duration,
    /// Largest linear memory an instance may grow to, in bytes.
    pub memory: usize,
}

/// The most native stack a guest's wasm frames may use. Deep recursion traps with "call stack
/// exhausted" long before the thread's own stack (rayon's default is 2 MiB) is in danger; real
/// policies nest a few dozen frames.
pub(crate) const MAX_WASM_STACK: usize = 512 * 1024;

/// Tables a guest may grow to, in elements: far above what any compiled language emits
/// (function tables hold a few thousand entries), far below what would cost real memory.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(2),
            memory: 256 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The epoch deadline, in ticks, that corresponds to [`Limits::timeout`].
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let ticks = self.timeout.as_nanos() / EPOCH_TICK.as_nanos();
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

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

/// Caps an instance's memory, tables and instance count, and remembers when a guest hit the
/// memory cap, so that the resulting trap can be explained ("tried to grow memory past
/// 256 MiB") instead of surfacing as a bare `unreachable`. The cap also applies to the memory a
/// module declares as its initial size, so start-up cannot exceed it either.
#[derive(Debug)]
pub(crate) struct MemoryCap {
    max: usize,
    pub(crate) denied: bool,
    /// The largest linear memory granted so far, in bytes (wasm memories never shrink).
    pub(crate) size: usize,
}

impl MemoryCap {
    pub(crate) fn new(max: usize) -> Self {
        MemoryCap {
            max,
            denied: false,
            size: 0,
        }
    }

    /// The cap in MiB, for messages.
    pub(crate) fn max_mib(&self) -> usize {
        self.max / (1024 * 1024)
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max;
        self.denied |= !allowed;
        if allowed {
            self.size = self.size.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    // A waPC policy is one module with one memory and one or two tables; the defaults (10,000
    // of each) would let a hostile module reserve far more at start-up.
    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        8
    }

    fn memories(&self) -> usize {
        1
    }
}
