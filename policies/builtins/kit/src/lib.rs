//! The kit the bundle (`policies/builtins`) compiles each policy's source against, under the
//! kit's own crate name: everything is the kit's, except the two entry macros.
//!
//! A policy's `src/lib.rs` says `admit_policy_kit::register!(Settings, check)`, which in its
//! own module defines `wapc_init`, and `admit_policy_kit::metadata!(...)`, which writes the
//! metadata section. Thirty of either would clash in one module. Here `register!` defines the
//! policy's two handlers as `VALIDATE` and `VALIDATE_SETTINGS`, the very functions the kit's
//! `register!` registers, for the bundle to register under the policy's id, and `metadata!`
//! writes nothing (admit reads each built-in's metadata from its own module).

pub use admit_policy_kit::*;

/// The policy's handlers, as the kit's `register!` registers them.
#[macro_export]
macro_rules! register {
    ($settings:ty, $check:path) => {
        pub const VALIDATE: $crate::Handler =
            |payload| $crate::validate::<$settings>(payload, $check);
        pub const VALIDATE_SETTINGS: $crate::Handler = $crate::validate_settings::<$settings>;
    };
}

/// Nothing: the bundle carries no policy's metadata.
#[macro_export]
macro_rules! metadata {
    ($bytes:expr) => {};
}

/// A waPC handler: the payload in, the answer out.
pub type Handler = fn(&[u8]) -> sdk::wapc_guest::CallResult;
