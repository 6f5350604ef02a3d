//! Live policy instances: each thread keeps one per policy for the whole run, because a fresh
//! instance costs more than a warm call. The compiled policies they come from are shared by
//! every thread (see `policy_set`).

use std::sync::{Mutex, MutexGuard, TryLockError};

use crate::policies::{CallError, CompiledPolicy, PolicyInstance};

/// The most linear memory an instance may hold and still be reused. Built-ins on ordinary
/// objects stay near 2 MiB; a fresh instance is cheap enough to pay for after a large object.
const KEPT_MEMORY: usize = 32 * 1024 * 1024;

/// One thread's live instances, one slot per policy: instantiated on first use, reused while
/// calls succeed, dropped after a failure (a guest that trapped may have corrupt memory) and
/// recreated on the next call.
pub(super) struct PolicyInstances<'p> {
    instances: Vec<Option<PolicyInstance<'p>>>,
}

impl<'p> PolicyInstances<'p> {
    /// Empty slots for `count` policies.
    pub(super) fn new(count: usize) -> Self {
        PolicyInstances {
            instances: (0..count).map(|_| None).collect(),
        }
    }

    /// Take the instance of policy `index`, creating one when the slot is empty.
    pub(super) fn take(
        &mut self,
        index: usize,
        policy: &'p CompiledPolicy,
    ) -> Result<PolicyInstance<'p>, CallError> {
        match self.instances[index].take() {
            Some(instance) => Ok(instance),
            None => policy.instantiate(),
        }
    }

    /// Return a healthy instance to its slot for the next call, unless its memory grew past
    /// [`KEPT_MEMORY`]: a wasm memory never shrinks, so an instance that once read a 100 MB
    /// object would hold that much for the rest of the run, once per policy and thread.
    pub(super) fn put_back(&mut self, index: usize, instance: PolicyInstance<'p>) {
        if instance.memory_size() <= KEPT_MEMORY {
            self.instances[index] = Some(instance);
        }
    }
}

/// One [`PolicyInstances`] per thread of the pool, kept for the whole run: rayon's `map_init`
/// would set one up per split of the work instead.
pub(super) struct InstancePool<'p> {
    slots: Vec<Mutex<PolicyInstances<'p>>>,
    policies: usize,
}

/// A thread's instances for one batch: its pool slot, or instances of its own.
pub(super) enum Lease<'s, 'p> {
    /// The thread's slot in the pool.
    Pooled(MutexGuard<'s, PolicyInstances<'p>>),
    /// Fresh instances, dropped after the batch.
    Own(PolicyInstances<'p>),
}

impl<'p> InstancePool<'p> {
    /// A slot for each of rayon's threads, for `policies` policies.
    pub(super) fn new(policies: usize) -> Self {
        InstancePool {
            slots: (0..rayon::current_num_threads().max(1))
                .map(|_| Mutex::new(PolicyInstances::new(policies)))
                .collect(),
            policies,
        }
    }

    /// The current thread's instances. Its slot is taken when the thread re-entered the batch
    /// loop while waiting inside wasmtime's parallel compilation (rayon runs other work in a
    /// join): then it gets instances of its own rather than deadlock. A poisoned slot is still
    /// usable: instances are only replaced whole.
    pub(super) fn lease(&self) -> Lease<'_, 'p> {
        let slot = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        match self.slots[slot].try_lock() {
            Ok(guard) => Lease::Pooled(guard),
            Err(TryLockError::Poisoned(poisoned)) => Lease::Pooled(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => Lease::Own(PolicyInstances::new(self.policies)),
        }
    }
}

impl<'p> Lease<'_, 'p> {
    /// The instances leased.
    pub(super) fn instances(&mut self) -> &mut PolicyInstances<'p> {
        match self {
            Lease::Pooled(guard) => guard,
            Lease::Own(own) => own,
        }
    }
}
