//! What every ABI stands on: the one wasmtime engine of a run and the limits guests run
//! under, the compiled-module cache, reading guest memory, the errors of loading and calling a
//! guest, the host capabilities guests call back into, and the sandboxed WASI context.
//!
//! Nothing here knows one ABI from another; the ABIs (`wapc`, `wasi`, `opa`) import this
//! layer and never each other.

mod cache;
mod engine;
mod engine_config;
mod error;
pub(crate) mod guest;
pub(crate) mod host_capabilities;
mod limits;
pub(crate) mod memory;
pub(crate) mod wasi_context;

pub use cache::ModuleCache;
pub use engine::PolicyRuntime;
pub use error::{CallError, PolicyLoadError};
pub(crate) use error::{classify, exited, trapped};
pub use host_capabilities::{GuestLog, HostAnswers, HostContext};
pub use limits::Limits;
pub(crate) use limits::MemoryCap;
