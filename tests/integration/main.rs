//! admit's integration tests, one test binary with a module per area: each runs the built
//! `admit` on fixtures (a few call the library) and asserts what a user sees. One binary links
//! wasmtime once, where a binary per file linked it once each.
//!
//! `cargo test --release --test integration` runs them all; a module path filters, e.g.
//! `cargo test --release --test integration corpus:: -- --nocapture`.

// Tests state their assumptions with unwrap, expect and panic, helpers included (clippy.toml
// allows them only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod builtins;
mod check;
mod config;
mod context;
mod corpus;
mod first_contact;
mod formats;
mod helm;
mod hostile_inputs;
mod hostile_policies;
mod kustomize;
mod layout;
mod modes;
mod opa;
mod outputs;
mod pre_commit;
mod registry;
mod requests;
mod result_cache;
mod run;
mod suites;
mod support;
