//! Kubewarden policies: reading their metadata, deciding which requests they apply to, and
//! evaluating requests with them inside a sandboxed wasmtime instance.
//!
//! [`CompiledPolicy`] is compiled once and shared; [`PolicyInstance`] is the cheap, per-use
//! state that calls into the guest.

pub mod builtin;
pub mod cache;
pub mod guest;
pub mod host_capabilities;
pub mod metadata;
pub mod opa;
mod policy;
pub mod protocol;
pub mod rules;
mod runtime;
pub mod scope;
pub mod selection;
pub mod wapc;
mod wasi;
mod wasi_stdin;

pub use builtin::Builtin;
pub use cache::ModuleCache;
pub use metadata::{ExecutionMode, Metadata, PolicyType, read_metadata};
pub use policy::{CompiledPolicy, LoadError, PolicyInstance, is_rego, resolve_mode};
pub use protocol::{Settings, SettingsValidationResponse, ValidationResponse, Violation};
pub use runtime::{Limits, PolicyRuntime};
pub use selection::{DEFAULT_PRESET, PolicySource, select};
pub use wapc::CallError;
