//! `apparmor`: Pod Security Standards, baseline. The container runtime's default AppArmor
//! profile confines every container; a pod must not disable it or swap in a profile other than
//! one loaded on the node. Checked in both places a profile can be set: the
//! `securityContext.appArmorProfile.type` field (pod and containers) and the older
//! `container.apparmor.security.beta.kubernetes.io/<container>` pod annotation.

use admit_policy_kit::{
    NoSettings, Node, Owner, Request, Violations, escape, pod_spec_pointer, shown,
};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// The profile type field, from the pod spec and from each container.
const TYPE: &str = "/securityContext/appArmorProfile/type";
/// The annotation naming a container's profile, followed by the container's name.
const ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    annotations(request, violations);
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for owner in spec.owners() {
        profile_type(&owner, violations);
    }
}

/// Check `securityContext.appArmorProfile.type` of the pod spec or a container.
fn profile_type(owner: &Owner<'_>, violations: &mut Violations) {
    let Some(value) = owner.get(TYPE).filter(|v| !v.is_null()) else {
        return;
    };
    if !matches!(value.as_str(), Some("RuntimeDefault" | "Localhost")) {
        violations.add(
            owner.pointer(TYPE),
            format!(
                "{} must not use AppArmor profile type {}; use RuntimeDefault or Localhost",
                owner.label(),
                shown(value)
            ),
        );
    }
}

/// The annotations sit in the pod's metadata, next to its spec (`/metadata` of a Pod,
/// `/spec/template/metadata` of a Deployment), and count even when the spec is missing.
fn annotations(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(pod) = pod_spec_pointer(request.kind).and_then(|p| p.strip_suffix("/spec")) else {
        return;
    };
    let base = format!("{pod}/metadata/annotations");
    // In key order, so that the violations' order does not depend on how the manifest orders
    // the annotations.
    let Some(annotations) = request
        .object
        .pointer(&base)
        .and_then(Node::as_sorted_object)
    else {
        return;
    };
    let spec = request.pod_spec();
    for (key, value) in annotations {
        let Some(name) = key.strip_prefix(ANNOTATION) else {
            continue;
        };
        // Empty counts as unset, as in Pod Security Admission; `localhost/<profile>` names a
        // profile loaded on the node.
        let profile = value.as_str();
        if matches!(profile, Some("" | "runtime/default"))
            || profile.is_some_and(|p| p.starts_with("localhost/"))
        {
            continue;
        }
        // Name the container as the rest of admit does, when the spec has it.
        let label = spec
            .and_then(|s| s.containers().find(|c| c.name == name))
            .map_or_else(|| format!("container \"{name}\""), |c| c.label());
        violations.add(
            format!("{base}/{}", escape(key)),
            format!(
                "{label} must not run with AppArmor profile {}; use runtime/default or \
                 localhost/<profile>",
                shown(value)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn reports_unconfined_types_at_pod_and_container_level() {
        let found = run(
            check,
            "Deployment",
            json!({"spec": {"template": {"spec": {
                "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                "containers": [
                    {"name": "web", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}},
                    {"name": "side", "securityContext": {"appArmorProfile": {
                        "type": "Localhost", "localhostProfile": "k8s-side"}}}
                ],
                "initContainers": [
                    {"name": "setup", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}
                ]
            }}}}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/template/spec/securityContext/appArmorProfile/type".into(),
                    "pod must not use AppArmor profile type Unconfined; use RuntimeDefault or \
                     Localhost"
                        .into()
                ),
                (
                    "/spec/template/spec/initContainers/0/securityContext/appArmorProfile/type"
                        .into(),
                    "init container \"setup\" must not use AppArmor profile type Unconfined; use \
                     RuntimeDefault or Localhost"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn reports_annotations_with_other_profiles() {
        let found = run(
            check,
            "Pod",
            json!({
                "metadata": {"annotations": {
                    "container.apparmor.security.beta.kubernetes.io/web": "unconfined",
                    "container.apparmor.security.beta.kubernetes.io/setup": "runtime/default",
                    "container.apparmor.security.beta.kubernetes.io/side": "localhost/k8s-side",
                    "container.apparmor.security.beta.kubernetes.io/gone": "unconfined",
                    "container.apparmor.security.beta.kubernetes.io/empty": "",
                    "example.com/unrelated": "unconfined"
                }},
                "spec": {"containers": [{"name": "web"}, {"name": "side"}],
                         "initContainers": [{"name": "setup"}]}
            }),
        );
        assert_eq!(
            found,
            [
                (
                    "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1gone"
                        .into(),
                    "container \"gone\" must not run with AppArmor profile unconfined; use \
                     runtime/default or localhost/<profile>"
                        .into()
                ),
                (
                    "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1web"
                        .into(),
                    "container \"web\" must not run with AppArmor profile unconfined; use \
                     runtime/default or localhost/<profile>"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn finds_template_annotations_and_labels_init_containers() {
        let found = run(
            check,
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": {
                "metadata": {"annotations": {
                    "container.apparmor.security.beta.kubernetes.io/setup": "docker-default"
                }},
                "spec": {"initContainers": [{"name": "setup"}], "containers": [{"name": "a"}]}
            }}}}}),
        );
        assert_eq!(
            found,
            [(
                "/spec/jobTemplate/spec/template/metadata/annotations/\
                 container.apparmor.security.beta.kubernetes.io~1setup"
                    .into(),
                "init container \"setup\" must not run with AppArmor profile docker-default; use \
                 runtime/default or localhost/<profile>"
                    .into()
            )]
        );
    }

    #[test]
    fn unset_profiles_pass() {
        assert!(
            run(
                check,
                "Pod",
                json!({"spec": {"containers": [{"name": "a"}]}})
            )
            .is_empty()
        );
        assert!(
            run(
                check,
                "Pod",
                json!({"metadata": {"annotations": {}}, "spec": {}})
            )
            .is_empty()
        );
    }
}
