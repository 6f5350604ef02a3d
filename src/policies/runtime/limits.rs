//! The limits every guest runs under, and the Store that enforces them.

use std::time::Duration;

use wasmtime::{Engine, ResourceLimiter, Store};

/// How often the epoch advances. Deadlines are counted in these ticks, so this is the
/// granularity of `--policy-timeout`; a tick costs the guest nothing.
pub(super) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Tables a guest may grow to, in elements: far above what any compiled language emits
/// (function tables hold a few thousand entries), far below what would cost real memory.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Limits every guest call runs under, so that a hostile or buggy policy cannot hang or
/// exhaust the machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall time for one call (start-up, `validate_settings` or `validate`).
    pub timeout: Duration,
    /// Largest linear memory an instance may grow to, in bytes.
    pub memory: usize,
}

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

    /// A Store for one guest holding `state`, whose [`MemoryCap`] `cap` returns, with its
    /// deadline already set: a module's start function runs during instantiation.
    pub(crate) fn store<T: 'static>(
        &self,
        engine: &Engine,
        state: T,
        cap: fn(&mut T) -> &mut MemoryCap,
    ) -> Store<T> {
        let mut store = Store::new(engine, state);
        store.limiter(move |state| cap(state));
        store.set_epoch_deadline(self.deadline_ticks());
        store
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

    // A policy is one module with one memory and one or two tables; the defaults (10,000 of
    // each) would let a hostile module reserve far more at start-up.
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
