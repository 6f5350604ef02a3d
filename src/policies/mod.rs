//! Kubewarden policies: reading their metadata, deciding which requests they apply to, and
//! evaluating requests with them inside a sandboxed wasmtime instance.
//!
//! [`CompiledPolicy`] is compiled once and shared; [`PolicyInstance`] is the cheap, per-use
//! state that calls into the guest.
//!
//! The modules form layers, and no module imports one above it:
//!
//! 1. Plain data, which runs no guest: `binary` (whether a file is a module at all),
//!    `metadata` (the `io.kubewarden.metadata` section and [`ExecutionMode`]), `rules`,
//!    `scope`, `protocol` (the JSON a guest is sent and answers), [`builtin`] (the embedded
//!    policies) and `selection` (what `--policy NAME` means).
//! 2. `runtime`, what every ABI stands on: the engine and the limits guests run under, the
//!    module cache, guest memory, the errors of loading and calling a guest, host
//!    capabilities, the sandboxed WASI context, and the `runtime::guest` traits each ABI
//!    implements.
//! 3. One module per ABI, as Kubewarden's policy-evaluator has one runtime per ABI: `wapc`,
//!    `wasi` and `opa` (which runs both the `opa` and the `gatekeeper` mode). An ABI
//!    imports the layers below and never another ABI.
//! 4. `policy`, which picks the ABI for a module's execution mode and hides it behind
//!    [`CompiledPolicy`] and [`PolicyInstance`].

mod binary;
pub mod builtin;
pub(crate) mod metadata;
mod protocol;
pub(crate) mod rules;
pub(crate) mod scope;
mod selection;

mod runtime;

mod opa;
pub(crate) mod wapc;
mod wasi;

mod policy;

pub(crate) use binary::not_a_module;
pub use builtin::Builtin;
pub use metadata::{ExecutionMode, UnknownExecutionMode};
pub(crate) use metadata::{Metadata, PolicyType, Risk, read_metadata};
pub use policy::{CompiledPolicy, PolicyInstance};
pub(crate) use policy::{is_rego, resolve_mode};
pub use protocol::{Settings, ValidationResponse};
pub(crate) use runtime::ModuleCache;
pub use runtime::{CallError, HostAnswers, HostContext, Limits, PolicyLoadError, PolicyRuntime};
pub(crate) use selection::{DEFAULT_PRESET, PolicySource, builtins_named, did_you_mean, select};
