//! `selinux`: Pod Security Standards, baseline. SELinux options decide which label, and so which
//! rules, confine a container; a custom user or role, or a type other than the container types,
//! can lift that confinement. Checked on `securityContext.seLinuxOptions` of the pod and of
//! every container.

use admit_policy_kit::{NoSettings, Owner, Request, Violations, shown};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

/// The SELinux types the baseline level allows besides unset or `""`. `container_engine_t` is
/// allowed since Kubernetes 1.31.
const TYPES: [&str; 4] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for owner in spec.owners() {
        options(&owner, violations);
    }
}

/// Check the `securityContext.seLinuxOptions` of the pod spec or a container.
fn options(owner: &Owner<'_>, violations: &mut Violations) {
    // Unset and "" are allowed for all three fields.
    let set = |field: &str| {
        owner
            .get(field)
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
    };
    const TYPE: &str = "/securityContext/seLinuxOptions/type";
    if let Some(value) = set(TYPE)
        && !value.as_str().is_some_and(|t| TYPES.contains(&t))
    {
        violations.add(
            owner.pointer(TYPE),
            format!(
                "{} must not use SELinux type {}; use container_t, container_init_t, \
                 container_kvm_t or container_engine_t, or leave it unset",
                owner.label(),
                shown(value)
            ),
        );
    }
    for (field, relative) in [
        ("user", "/securityContext/seLinuxOptions/user"),
        ("role", "/securityContext/seLinuxOptions/role"),
    ] {
        if let Some(value) = set(relative) {
            violations.add(
                owner.pointer(relative),
                format!(
                    "{} must not set a custom SELinux {field} ({}); remove seLinuxOptions.{field}",
                    owner.label(),
                    shown(value)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn reports_types_users_and_roles() {
        let found = run(
            check,
            "Pod",
            json!({"spec": {
                "securityContext": {"seLinuxOptions": {
                    "user": "system_u", "role": "system_r", "level": "s0:c123,c456"
                }},
                "containers": [
                    {"name": "web", "securityContext": {"seLinuxOptions": {"type": "spc_t"}}},
                    {"name": "ok", "securityContext": {"seLinuxOptions": {"type": "container_t"}}}
                ],
                "ephemeralContainers": [
                    {"name": "debug", "securityContext": {"seLinuxOptions": {"role": "sysadm_r"}}}
                ]
            }}),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/securityContext/seLinuxOptions/user".into(),
                    "pod must not set a custom SELinux user (system_u); remove \
                     seLinuxOptions.user"
                        .into()
                ),
                (
                    "/spec/securityContext/seLinuxOptions/role".into(),
                    "pod must not set a custom SELinux role (system_r); remove \
                     seLinuxOptions.role"
                        .into()
                ),
                (
                    "/spec/containers/0/securityContext/seLinuxOptions/type".into(),
                    "container \"web\" must not use SELinux type spc_t; use container_t, \
                     container_init_t, container_kvm_t or container_engine_t, or leave it unset"
                        .into()
                ),
                (
                    "/spec/ephemeralContainers/0/securityContext/seLinuxOptions/role".into(),
                    "ephemeral container \"debug\" must not set a custom SELinux role \
                     (sysadm_r); remove seLinuxOptions.role"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn allowed_types_levels_and_empty_values_pass() {
        let object = json!({"spec": {"template": {"spec": {
            "securityContext": {"seLinuxOptions": {"level": "s0:c1,c2", "user": "", "role": ""}},
            "containers": TYPES.iter().map(|t| json!({
                "name": t, "securityContext": {"seLinuxOptions": {"type": t}}
            })).collect::<Vec<_>>(),
            "initContainers": [{"name": "i", "securityContext": {"seLinuxOptions": {"type": ""}}}]
        }}}});
        assert!(run(check, "StatefulSet", object).is_empty());
    }
}
