//! `service-account-exists`: the ServiceAccount a Deployment's or Pod's pods run as must exist
//! in their namespace.

use k8s_openapi::api::core::v1::ServiceAccount;
use kubewarden_policy_sdk::{
    Error,
    host_capabilities::kubernetes::{GetResourceRequest, get_resource},
};
use serde_json::Value;

use crate::{not_found::Wanted, subject::Subject, verdict::Verdict};

/// The pod's service account: its name, and the pointer of `serviceAccountName` when the
/// object writes it (none when the API server's default, `default`, applies).
#[derive(Debug, PartialEq, Eq)]
struct RunsAs {
    name: String,
    written_at: Option<String>,
}

pub fn validate(subject: &Subject) -> Result<Verdict, Error> {
    let Some(runs_as) = runs_as(subject) else {
        return Ok(Verdict::Accept);
    };
    let namespace = subject.namespace_or_default();
    let answer = get_resource::<ServiceAccount>(&request(namespace, &runs_as.name));
    judge(answer, namespace, runs_as)
}

/// One ServiceAccount, by name, in the object's namespace.
pub fn request(namespace: &str, name: &str) -> GetResourceRequest {
    GetResourceRequest {
        api_version: "v1".into(),
        kind: "ServiceAccount".into(),
        name: name.into(),
        namespace: Some(namespace.into()),
        disable_cache: false,
        field_masks: None,
    }
}

fn runs_as(subject: &Subject) -> Option<RunsAs> {
    let spec = if subject.is("", "v1", "Pod") {
        "/spec"
    } else if subject.is("apps", "v1", "Deployment") {
        "/spec/template/spec"
    } else {
        return None;
    };
    let pointer = format!("{spec}/serviceAccountName");
    Some(
        match subject.object.pointer(&pointer).and_then(Value::as_str) {
            Some(name) if !name.is_empty() => RunsAs {
                name: name.into(),
                written_at: Some(pointer),
            },
            _ => RunsAs {
                name: "default".into(),
                written_at: None,
            },
        },
    )
}

fn judge(
    answer: Result<ServiceAccount, Error>,
    namespace: &str,
    runs_as: RunsAs,
) -> Result<Verdict, Error> {
    let wanted = Wanted {
        api_version: "v1",
        kind: "ServiceAccount",
        plural: "serviceaccounts",
        name: &runs_as.name,
    };
    match answer {
        Ok(_) => Ok(Verdict::Accept),
        Err(e) if wanted.is_missing(&e) => Ok(Verdict::reject(
            format!("ServiceAccount {namespace}/{} does not exist", runs_as.name),
            runs_as.written_at,
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubewarden_policy_sdk::request::KubernetesAdmissionRequest;
    use serde_json::json;

    fn subject(object: Value) -> Subject {
        let request: KubernetesAdmissionRequest =
            serde_json::from_value(json!({ "namespace": "shop", "object": object })).unwrap();
        Subject::of(&request)
    }

    fn not_found(name: &str) -> Error {
        Error::HostCall {
            operation: "kubernetes.get_resource".into(),
            source: format!(
                "Host error: Cannot find v1/ServiceAccount named '{name}' inside of namespace 'Some(\"shop\")'"
            )
            .into(),
        }
    }

    #[test]
    fn the_name_comes_from_the_pod_spec_or_is_default() {
        let deployment = subject(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "spec": {"template": {"spec": {"serviceAccountName": "web"}}}
        }));
        assert_eq!(
            runs_as(&deployment),
            Some(RunsAs {
                name: "web".into(),
                written_at: Some("/spec/template/spec/serviceAccountName".into())
            })
        );
        let pod = subject(json!({"apiVersion": "v1", "kind": "Pod", "spec": {}}));
        assert_eq!(
            runs_as(&pod),
            Some(RunsAs {
                name: "default".into(),
                written_at: None
            })
        );
        let job = subject(json!({"apiVersion": "batch/v1", "kind": "Job"}));
        assert_eq!(runs_as(&job), None);
    }

    #[test]
    fn a_missing_service_account_is_rejected_at_the_field_that_names_it() {
        let runs_as = RunsAs {
            name: "web".into(),
            written_at: Some("/spec/serviceAccountName".into()),
        };
        let message = "ServiceAccount shop/web does not exist";
        assert_eq!(
            judge(Err(not_found("web")), "shop", runs_as).unwrap(),
            Verdict::reject(message, Some("/spec/serviceAccountName".into()))
        );
    }

    #[test]
    fn a_missing_default_service_account_is_rejected_without_a_field() {
        let runs_as = RunsAs {
            name: "default".into(),
            written_at: None,
        };
        assert_eq!(
            judge(Err(not_found("default")), "shop", runs_as).unwrap(),
            Verdict::reject("ServiceAccount shop/default does not exist", None)
        );
    }

    #[test]
    fn an_existing_service_account_is_accepted_and_other_errors_stay_errors() {
        let runs_as = || RunsAs {
            name: "web".into(),
            written_at: None,
        };
        assert_eq!(
            judge(Ok(ServiceAccount::default()), "shop", runs_as()).unwrap(),
            Verdict::Accept
        );
        let refused = Error::HostCall {
            operation: "kubernetes.get_resource".into(),
            source: "Host error: Policy has not been granted access to Kubernetes v1/ServiceAccount resources. The violation has been reported.".into(),
        };
        let error = judge(Err(refused), "shop", runs_as()).unwrap_err();
        assert!(error.to_string().contains("has not been granted access"));
    }

    #[test]
    fn the_request_names_the_account_in_the_objects_namespace() {
        assert_eq!(
            serde_json::to_string(&request("shop", "web")).unwrap(),
            r#"{"api_version":"v1","kind":"ServiceAccount","name":"web","namespace":"shop","disable_cache":false,"field_masks":null}"#
        );
    }
}
