//! Kubernetes objects turned into the AdmissionRequest a cluster would build.
//!
//! [`ResourceCatalog`] knows each kind's resource name and scope without a cluster;
//! [`build_request`] uses it to turn one manifest object into an [`AdmissionRequest`].

mod admission;
mod catalog;
mod cluster_object;
mod quantity;

pub use admission::{
    AdmissionRequest, BuiltRequest, DEFAULT_GROUPS, DEFAULT_USERNAME, GroupVersionKind,
    GroupVersionResource, Operation, REQUEST_UID, REQUEST_WARNING, RequestError, RequestWarning,
    UNKNOWN_KIND, UserInfo, build_request, default_user_info, object_header,
};
pub use catalog::{Resolution, ResolutionSource, ResourceCatalog};
pub use cluster_object::ClusterObject;
