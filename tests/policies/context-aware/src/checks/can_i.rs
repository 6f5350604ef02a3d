//! `can-i`: a SubjectAccessReview built from the settings must be allowed (a stand-in for
//! policies that ask "may this user do that?", not tied to the object's fields).

use k8s_openapi::api::authorization::v1::SubjectAccessReviewStatus;
use kubewarden_policy_sdk::{
    Error,
    host_capabilities::kubernetes::{CanIRequest, ResourceAttributes, SubjectAccessReview, can_i},
};

use crate::{settings::Access, subject::Subject, verdict::Verdict};

pub fn validate(subject: &Subject, access: &Access) -> Result<Verdict, Error> {
    let namespace = access.namespace.clone().or(subject.namespace.clone());
    let status = can_i(request(access, namespace.clone()))?;
    Ok(judge(access, namespace.as_deref(), &status))
}

/// The review: no user groups, no resource name, subresource or version.
pub fn request(access: &Access, namespace: Option<String>) -> CanIRequest {
    CanIRequest {
        subject_access_review: SubjectAccessReview {
            groups: None,
            resource_attributes: ResourceAttributes {
                group: access.group.clone(),
                name: None,
                namespace,
                resource: access.resource.clone(),
                subresource: None,
                verb: access.verb.clone(),
                version: None,
            },
            user: access.user.clone(),
        },
        disable_cache: false,
    }
}

fn judge(access: &Access, namespace: Option<&str>, status: &SubjectAccessReviewStatus) -> Verdict {
    if status.allowed {
        return Verdict::Accept;
    }
    let Access {
        user,
        verb,
        resource,
        group,
        ..
    } = access;
    // kubectl's way of naming a resource of a group: deployments.apps.
    let resource = match group.as_deref() {
        Some(group) => format!("{resource}.{group}"),
        None => resource.clone(),
    };
    let scope = namespace
        .map(|ns| format!(" in namespace \"{ns}\""))
        .unwrap_or_default();
    let reason = status
        .reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    Verdict::reject(
        format!("user \"{user}\" may not {verb} {resource}{scope}{reason}"),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alice(group: Option<&str>) -> Access {
        Access {
            user: "alice".into(),
            verb: "create".into(),
            resource: "deployments".into(),
            group: group.map(Into::into),
            namespace: None,
        }
    }

    fn status(json: serde_json::Value) -> SubjectAccessReviewStatus {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_denial_echoes_the_reason() {
        let denied = status(json!({"allowed": false, "reason": "no RBAC rule allows it"}));
        assert_eq!(
            judge(&alice(Some("apps")), Some("shop"), &denied),
            Verdict::reject(
                "user \"alice\" may not create deployments.apps in namespace \"shop\": no RBAC rule allows it",
                None
            )
        );
        let silent = status(json!({"allowed": false, "denied": true}));
        assert_eq!(
            judge(&alice(None), None, &silent),
            Verdict::reject("user \"alice\" may not create deployments", None)
        );
    }

    #[test]
    fn an_allowed_review_is_accepted() {
        let allowed =
            status(json!({"allowed": true, "reason": "RBAC: allowed by ClusterRoleBinding"}));
        assert_eq!(judge(&alice(None), Some("shop"), &allowed), Verdict::Accept);
    }

    #[test]
    fn the_request_is_the_sdks_subject_access_review() {
        assert_eq!(
            serde_json::to_string(&request(&alice(Some("apps")), Some("shop".into()))).unwrap(),
            r#"{"subject_access_review":{"groups":null,"resource_attributes":{"group":"apps","name":null,"namespace":"shop","resource":"deployments","subresource":null,"verb":"create","version":null},"user":"alice"},"disable_cache":false}"#
        );
    }
}
