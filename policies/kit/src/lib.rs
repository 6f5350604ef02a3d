//! The common work of admit's built-in policies, so that each policy is only its check.
//!
//! A built-in policy is an ordinary Kubewarden waPC policy. This crate gives it, one module per
//! job:
//! - `entry`: [`register!`] and [`metadata!`], the waPC entry points and the
//!   `io.kubewarden.metadata` custom section; [`validate`] and [`validate_settings`], the two
//!   handlers; [`Settings`], parsed with serde and checked for meaning, errors turned into
//!   `{"valid": false}` with a message a user can act on;
//! - `payload`: the `validate` payload read into the [`Request`] a check receives, without
//!   building a `serde_json::Value`: only its kind, namespace, object and settings are read (the
//!   object into a [`Json`] document, its strings borrowed from the payload), the rest skipped;
//! - `json`: [`Json`] and [`Node`], a value of the object with the accessors of
//!   `serde_json::Value` (`get`, `pointer`, `as_str`, `as_bool`, numbers, `as_array`,
//!   `as_object`, `Display`) and the same answers;
//! - `violations`: [`Violations`], the rejection, with admit's `violations` extension (one JSON
//!   Pointer per offending node; see admit's docs/policy-protocol.md). Kubewarden ignores the
//!   extension, and the `message` lists every violation, so the policy reads well in a cluster
//!   too; [`shown`], how messages quote a value;
//! - `pod_spec`: the walks the Pod Security Standards controls share: [`PodSpec`] of every
//!   workload kind, each [`Container`] of its three lists and each [`Owner`] of a
//!   `securityContext`, with JSON Pointers to them;
//! - with the `testing` feature (enable it only under `[dev-dependencies]`), [`testing`]: run a
//!   check on an object in a unit test, check a policy's README against its metadata and its
//!   check, and its metadata rules against the API versions each kind was served in.
//!   [`register!`] adds those two tests to every policy's unit tests.

mod entry;
mod json;
mod payload;
mod pod_spec;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod violations;

pub use entry::{Check, NoSettings, Settings, validate, validate_settings};
pub use json::{Items, Json, Members, Node, escape};
pub use kubewarden_policy_sdk as sdk;
pub use payload::Request;
pub use pod_spec::{CONTAINER_LISTS, Container, Owner, PodSpec, pod_spec, pod_spec_pointer};
pub use violations::{Violation, Violations, shown};
