//! The checks, one module each. Each returns one message per problem it finds; the policy
//! rejects the object with all of them.

pub mod containers;
pub mod name_length;

use crate::{settings::Settings, typed_object::TypedObject};

/// Every problem the checks find in `object`, in a fixed order: the name, then the containers.
pub fn problems(object: &TypedObject, settings: &Settings) -> Vec<String> {
    let mut problems: Vec<String> = name_length::check(object.metadata(), settings.max_name_length)
        .into_iter()
        .collect();
    if let Some((at, spec)) = object.pod_spec() {
        problems.extend(containers::check(at, spec, settings));
    }
    problems
}
