//! Subcommands that work on one policy module: `run`, `inspect` and `annotate`. `src/cli.rs`
//! parses their arguments and calls in here.

pub mod annotate;
pub mod inspect;
mod response;
pub mod run;
mod source;

pub use source::{PolicyModule, parse_execution_mode};
