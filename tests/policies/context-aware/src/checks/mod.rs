//! The checks, one module each: which objects it looks at, the host call it makes (the
//! request built by its `request` function), and how the answer becomes a verdict.

pub mod can_i;
pub mod namespace_label;
pub mod same_selector;
pub mod service_account_exists;
pub mod unique_ingress_host;

use kubewarden_policy_sdk::Error;

use crate::{settings::Check, subject::Subject, verdict::Verdict};

pub fn run(check: &Check, subject: &Subject) -> Result<Verdict, Error> {
    match check {
        Check::UniqueIngressHost => unique_ingress_host::validate(subject),
        Check::ServiceAccountExists => service_account_exists::validate(subject),
        Check::NamespaceLabel { label } => namespace_label::validate(subject, label),
        Check::SameSelector => same_selector::validate(subject),
        Check::CanI(access) => can_i::validate(subject, access),
    }
}
