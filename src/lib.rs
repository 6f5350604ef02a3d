//! admit: check Kubernetes manifests against Kubewarden WebAssembly policies and report each
//! violation at the YAML node that causes it.
//!
//! Data flows one way, and the module tree shows it:
//! [`inputs`] -> [`documents`] -> [`objects`] -> [`requests`] -> [`policies`] -> [`findings`]
//! -> `reports`. `check` wires them together; [`cli`] parses the command line.

pub mod atomic_file;
pub(crate) mod check;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod context;
mod diagnostics;
pub mod digest;
pub mod documents;
pub mod findings;
pub mod helm;
pub mod inputs;
pub mod kustomize;
pub mod objects;
pub mod policies;
pub(crate) mod registry;
pub(crate) mod reports;
pub mod requests;
pub mod source;
pub mod subprocess;
mod suggest;
pub(crate) mod suite;
pub mod suppressions;
