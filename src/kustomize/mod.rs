//! Kustomize trees checked as the cluster receives them: the roots found among the checked
//! paths ([`tree`]), rendered with the user's Kustomize ([`render`]), each rendered object's
//! origin read from Kustomize's build metadata ([`origin`]), and every finding mapped back to
//! the line that caused it ([`mapping`]).

pub mod kustomization;
pub mod mapping;
pub mod origin;
pub mod paths;
pub mod render;
pub mod render_cache;
pub mod tree;

#[cfg(test)]
mod tests;

pub use mapping::{Mapped, Sources};
pub use origin::Provenance;
pub use render::{RenderError, Renderer};
pub use render_cache::RenderCache;
pub use tree::Tree;
