//! `namespace-label`: the namespace an object is created in must carry a label (an owner, a
//! cost centre).

use k8s_openapi::api::core::v1::Namespace;
use kubewarden_policy_sdk::{
    Error,
    host_capabilities::kubernetes::{GetResourceRequest, get_resource},
};

use crate::{not_found::Wanted, subject::Subject, verdict::Verdict};

pub fn validate(subject: &Subject, label: &str) -> Result<Verdict, Error> {
    // A cluster-scoped object (a Namespace itself) is in no namespace.
    let Some(namespace) = subject.namespace.as_deref() else {
        return Ok(Verdict::Accept);
    };
    let answer = get_resource::<Namespace>(&request(namespace));
    judge(answer, namespace, label, written_at(subject))
}

/// The Namespace, a cluster-scoped object: no namespace in the request.
pub fn request(namespace: &str) -> GetResourceRequest {
    GetResourceRequest {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        name: namespace.into(),
        namespace: None,
        disable_cache: false,
        field_masks: None,
    }
}

/// The object's `metadata.namespace`, when it writes one: the field the rejection is about.
fn written_at(subject: &Subject) -> Option<String> {
    let pointer = "/metadata/namespace";
    subject.object.pointer(pointer).map(|_| pointer.to_string())
}

fn judge(
    answer: Result<Namespace, Error>,
    namespace: &str,
    label: &str,
    written_at: Option<String>,
) -> Result<Verdict, Error> {
    let wanted = Wanted {
        api_version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        name: namespace,
    };
    match answer {
        Ok(found) => {
            let labels = found.metadata.labels.unwrap_or_default();
            Ok(if labels.contains_key(label) {
                Verdict::Accept
            } else {
                Verdict::reject(
                    format!("Namespace {namespace} does not have the label \"{label}\""),
                    written_at,
                )
            })
        }
        Err(e) if wanted.is_missing(&e) => Ok(Verdict::reject(
            format!(
                "Namespace {namespace} does not exist, so it cannot have the label \"{label}\""
            ),
            written_at,
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubewarden_policy_sdk::request::KubernetesAdmissionRequest;
    use serde_json::json;

    fn namespace(labels: serde_json::Value) -> Namespace {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": labels}
        }))
        .unwrap()
    }

    #[test]
    fn a_namespace_with_the_label_is_accepted() {
        let answer = Ok(namespace(json!({"team": "payments"})));
        assert_eq!(
            judge(answer, "shop", "team", None).unwrap(),
            Verdict::Accept
        );
    }

    #[test]
    fn a_namespace_without_the_label_is_rejected_at_the_objects_namespace() {
        let answer = Ok(namespace(json!({"kubernetes.io/metadata.name": "shop"})));
        assert_eq!(
            judge(answer, "shop", "team", Some("/metadata/namespace".into())).unwrap(),
            Verdict::reject(
                "Namespace shop does not have the label \"team\"",
                Some("/metadata/namespace".into())
            )
        );
    }

    #[test]
    fn a_missing_namespace_is_rejected() {
        let missing = Error::HostCall {
            operation: "kubernetes.get_resource".into(),
            source: "Host error: Cannot find v1/Namespace named 'shop' inside of namespace 'None'"
                .into(),
        };
        assert_eq!(
            judge(Err(missing), "shop", "team", None).unwrap(),
            Verdict::reject(
                "Namespace shop does not exist, so it cannot have the label \"team\"",
                None
            )
        );
    }

    #[test]
    fn the_pointer_is_given_only_when_the_object_writes_its_namespace() {
        let subject = |object| {
            let request: KubernetesAdmissionRequest =
                serde_json::from_value(json!({"namespace": "shop", "object": object})).unwrap();
            Subject::of(&request)
        };
        assert_eq!(
            written_at(&subject(json!({"metadata": {"namespace": "shop"}}))),
            Some("/metadata/namespace".into())
        );
        assert_eq!(written_at(&subject(json!({"metadata": {}}))), None);
    }

    #[test]
    fn the_request_gets_a_cluster_scoped_namespace() {
        assert_eq!(
            serde_json::to_string(&request("shop")).unwrap(),
            r#"{"api_version":"v1","kind":"Namespace","name":"shop","namespace":null,"disable_cache":false,"field_masks":null}"#
        );
    }
}
