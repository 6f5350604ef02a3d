//! The request's object decoded into the k8s-openapi type of its kind, as a Rust policy that
//! reads typed objects does: `serde_json::from_value::<Deployment>(request.object)`.
//!
//! Each kind decoded here links its type's whole deserializer into the module; that, not the
//! checks, is what makes this policy as large as real Rust policies are.

use k8s_openapi::{
    Metadata, Resource,
    api::{
        apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet},
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::{CronJob, Job},
        core::v1::{
            ConfigMap, Namespace, PersistentVolumeClaim, Pod, PodSpec, PodTemplate,
            PodTemplateSpec, ReplicationController, Secret, Service, ServiceAccount,
        },
        networking::v1::{Ingress, NetworkPolicy},
        policy::v1::PodDisruptionBudget,
        rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use serde_json::Value;

/// Declares `TypedObject` with one variant per kind, each holding its k8s-openapi type, and
/// what every kind shares: decoding by apiVersion and kind, and `metadata`.
macro_rules! typed_objects {
    ($($kind:ident),* $(,)?) => {
        /// An object of a kind this policy knows, decoded.
        #[derive(Debug)]
        pub enum TypedObject {
            // Boxed: the types differ in size by kilobytes.
            $($kind(Box<$kind>),)*
        }

        impl TypedObject {
            /// Decodes `object` as the type of `api_version` and `kind`; `None` for a kind
            /// this policy does not know. k8s-openapi refuses an object whose own `apiVersion`
            /// or `kind` disagrees, or a field of the wrong type.
            pub fn decode(
                api_version: &str,
                kind: &str,
                object: Value,
            ) -> Option<Result<TypedObject, serde_json::Error>> {
                $(
                    if api_version == <$kind as Resource>::API_VERSION
                        && kind == <$kind as Resource>::KIND
                    {
                        return Some(
                            serde_json::from_value::<$kind>(object)
                                .map(|typed| TypedObject::$kind(Box::new(typed))),
                        );
                    }
                )*
                None
            }

            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(TypedObject::$kind(typed) => typed.metadata(),)*
                }
            }
        }
    };
}

typed_objects!(
    Pod,
    PodTemplate,
    ReplicationController,
    Service,
    ConfigMap,
    Secret,
    ServiceAccount,
    PersistentVolumeClaim,
    Namespace,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
    Ingress,
    NetworkPolicy,
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
    HorizontalPodAutoscaler,
    PodDisruptionBudget,
);

impl TypedObject {
    /// The pod spec of a Pod or of an object's pod template, with where it is in the object
    /// (for messages); `None` for kinds without one, or a template without a spec.
    pub fn pod_spec(&self) -> Option<(&'static str, &PodSpec)> {
        fn template(template: Option<&PodTemplateSpec>) -> Option<&PodSpec> {
            template.and_then(|t| t.spec.as_ref())
        }
        let (at, spec) = match self {
            TypedObject::Pod(pod) => ("spec", pod.spec.as_ref()),
            TypedObject::PodTemplate(pt) => ("template.spec", template(pt.template.as_ref())),
            TypedObject::Deployment(d) => (
                "spec.template.spec",
                template(d.spec.as_ref().map(|s| &s.template)),
            ),
            TypedObject::StatefulSet(s) => (
                "spec.template.spec",
                template(s.spec.as_ref().map(|s| &s.template)),
            ),
            TypedObject::DaemonSet(d) => (
                "spec.template.spec",
                template(d.spec.as_ref().map(|s| &s.template)),
            ),
            TypedObject::ReplicaSet(r) => (
                "spec.template.spec",
                template(r.spec.as_ref().and_then(|s| s.template.as_ref())),
            ),
            TypedObject::ReplicationController(r) => (
                "spec.template.spec",
                template(r.spec.as_ref().and_then(|s| s.template.as_ref())),
            ),
            TypedObject::Job(j) => (
                "spec.template.spec",
                template(j.spec.as_ref().map(|s| &s.template)),
            ),
            TypedObject::CronJob(c) => (
                "spec.jobTemplate.spec.template.spec",
                template(c.spec.job_template.spec.as_ref().map(|s| &s.template)),
            ),
            _ => return None,
        };
        spec.map(|spec| (at, spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(object: Value) -> TypedObject {
        let api_version = object["apiVersion"].as_str().unwrap().to_string();
        let kind = object["kind"].as_str().unwrap().to_string();
        TypedObject::decode(&api_version, &kind, object)
            .expect("a known kind")
            .unwrap()
    }

    fn with_pod_spec(api_version: &str, kind: &str, spec: Value) -> Value {
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": spec})
    }

    #[test]
    fn every_kind_with_a_pod_template_gives_its_pod_spec_and_where_it_is() {
        let pod = json!({"containers": [{"name": "c", "image": "i"}]});
        let template = json!({"template": {"spec": pod}});
        let cases = [
            (with_pod_spec("v1", "Pod", pod.clone()), "spec"),
            (
                json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "x"}, "template": {"spec": pod}}),
                "template.spec",
            ),
            (
                with_pod_spec("v1", "ReplicationController", template.clone()),
                "spec.template.spec",
            ),
            (
                with_pod_spec("apps/v1", "Deployment", template.clone()),
                "spec.template.spec",
            ),
            (
                with_pod_spec("apps/v1", "StatefulSet", template.clone()),
                "spec.template.spec",
            ),
            (
                with_pod_spec("apps/v1", "DaemonSet", template.clone()),
                "spec.template.spec",
            ),
            (
                with_pod_spec("apps/v1", "ReplicaSet", template.clone()),
                "spec.template.spec",
            ),
            (
                with_pod_spec("batch/v1", "Job", template.clone()),
                "spec.template.spec",
            ),
            (
                with_pod_spec(
                    "batch/v1",
                    "CronJob",
                    json!({"schedule": "* * * * *", "jobTemplate": {"spec": template}}),
                ),
                "spec.jobTemplate.spec.template.spec",
            ),
        ];
        for (object, at) in cases {
            let typed = decode(object.clone());
            let (found_at, spec) = typed.pod_spec().unwrap_or_else(|| panic!("{object}"));
            assert_eq!(found_at, at, "{object}");
            assert_eq!(spec.containers[0].image.as_deref(), Some("i"));
            assert_eq!(typed.metadata().name.as_deref(), Some("x"));
        }
    }

    #[test]
    fn kinds_without_a_pod_template_decode_with_their_metadata() {
        for (api_version, kind) in [
            ("v1", "Service"),
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("v1", "ServiceAccount"),
            ("v1", "PersistentVolumeClaim"),
            ("v1", "Namespace"),
            ("networking.k8s.io/v1", "Ingress"),
            ("networking.k8s.io/v1", "NetworkPolicy"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("policy/v1", "PodDisruptionBudget"),
        ] {
            let typed =
                decode(json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "n"}}));
            assert_eq!(typed.metadata().name.as_deref(), Some("n"), "{kind}");
            assert!(typed.pod_spec().is_none(), "{kind}");
        }
    }

    #[test]
    fn a_pod_template_without_a_spec_has_no_pod_spec() {
        let typed = decode(with_pod_spec(
            "apps/v1",
            "Deployment",
            json!({"template": {}}),
        ));
        assert!(typed.pod_spec().is_none());
    }

    #[test]
    fn an_unknown_kind_or_version_is_not_decoded() {
        assert!(TypedObject::decode("v1", "Node", json!({})).is_none());
        assert!(TypedObject::decode("batch/v1beta1", "CronJob", json!({})).is_none());
    }

    #[test]
    fn a_field_of_the_wrong_type_is_a_decoding_error() {
        let error = TypedObject::decode(
            "apps/v1",
            "Deployment",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": "three"}}),
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid type: string \"three\", expected i32"
        );
    }
}
