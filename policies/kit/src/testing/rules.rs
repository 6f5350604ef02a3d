//! A policy's metadata `rules` checked against every API version Kubernetes has served a
//! workload or RBAC kind in: a policy that sees a kind in one of them must see it in all.
//!
//! Manifests written for old clusters still use `extensions/v1beta1` DaemonSets or
//! `batch/v1beta1` CronJobs. Their pod spec has the same shape in every version, and the checks
//! walk it by kind, so only the rules can make a policy miss them; `deprecated-api-versions`
//! reports the version itself, the other policies must still report what the object does.

use serde_json::Value;

const RBAC: &str = "rbac.authorization.k8s.io";

/// Each resource served in more than one group/version, with all of them. Resources served in
/// one only (`pods`, `jobs`, `replicationcontrollers`, `services`, ...) cannot be missed this
/// way.
const SERVED: [(&str, &[(&str, &str)]); 9] = [
    (
        "deployments",
        &[
            ("apps", "v1"),
            ("apps", "v1beta2"),
            ("apps", "v1beta1"),
            ("extensions", "v1beta1"),
        ],
    ),
    (
        "daemonsets",
        &[
            ("apps", "v1"),
            ("apps", "v1beta2"),
            ("extensions", "v1beta1"),
        ],
    ),
    (
        "replicasets",
        &[
            ("apps", "v1"),
            ("apps", "v1beta2"),
            ("extensions", "v1beta1"),
        ],
    ),
    (
        "statefulsets",
        &[("apps", "v1"), ("apps", "v1beta2"), ("apps", "v1beta1")],
    ),
    (
        "cronjobs",
        &[("batch", "v1"), ("batch", "v1beta1"), ("batch", "v2alpha1")],
    ),
    (
        "roles",
        &[(RBAC, "v1"), (RBAC, "v1beta1"), (RBAC, "v1alpha1")],
    ),
    (
        "clusterroles",
        &[(RBAC, "v1"), (RBAC, "v1beta1"), (RBAC, "v1alpha1")],
    ),
    (
        "rolebindings",
        &[(RBAC, "v1"), (RBAC, "v1beta1"), (RBAC, "v1alpha1")],
    ),
    (
        "clusterrolebindings",
        &[(RBAC, "v1"), (RBAC, "v1beta1"), (RBAC, "v1alpha1")],
    ),
];

/// The operations a manifest check sends.
const OPERATIONS: [&str; 2] = ["CREATE", "UPDATE"];

/// Check the `rules` of `metadata` (the text of a policy's `metadata.json`); panic naming each
/// group/version a covered resource is missed in.
pub fn rules_cover_every_served_version(metadata: &str) {
    let metadata: Value = serde_json::from_str(metadata).expect("metadata.json is JSON");
    let rules = metadata["rules"].as_array().cloned().unwrap_or_default();
    let missed = missed(&rules);
    assert!(
        missed.is_empty(),
        "metadata.json rules see these resources in some of their API versions but not in: {}",
        missed.join(", ")
    );
}

/// `group/version resource (operation)` for each served version a resource is missed in while
/// another of its versions is matched.
fn missed(rules: &[Value]) -> Vec<String> {
    let mut missed = Vec::new();
    for (resource, versions) in SERVED {
        for operation in OPERATIONS {
            let seen = |&(group, version): &(&str, &str)| {
                rules
                    .iter()
                    .any(|rule| matches(rule, group, version, resource, operation))
            };
            if !versions.iter().any(seen) {
                continue;
            }
            for unseen in versions.iter().filter(|v| !seen(v)) {
                missed.push(format!(
                    "{}/{} {resource} ({operation})",
                    unseen.0, unseen.1
                ));
            }
        }
    }
    missed
}

/// Whether `rule` matches the request, as admit and kube-apiserver match webhook rules: each
/// field lists the value or `*` (subresources do not arise for a manifest).
fn matches(rule: &Value, group: &str, version: &str, resource: &str, operation: &str) -> bool {
    let lists = |field: &str, wanted: &str| {
        rule[field]
            .as_array()
            .into_iter()
            .flatten()
            .any(|item| item == "*" || item == wanted)
    };
    lists("apiGroups", group)
        && lists("apiVersions", version)
        && lists("resources", resource)
        && lists("operations", operation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn missed_by(rules: Value) -> Vec<String> {
        missed(rules.as_array().unwrap())
    }

    #[test]
    fn apps_v1_alone_misses_the_older_versions() {
        let rules = json!([{"apiGroups": ["", "apps", "batch"], "apiVersions": ["v1"],
            "resources": ["pods", "daemonsets", "cronjobs"], "operations": ["CREATE", "UPDATE"]}]);
        assert_eq!(
            missed_by(rules),
            [
                "apps/v1beta2 daemonsets (CREATE)",
                "extensions/v1beta1 daemonsets (CREATE)",
                "apps/v1beta2 daemonsets (UPDATE)",
                "extensions/v1beta1 daemonsets (UPDATE)",
                "batch/v1beta1 cronjobs (CREATE)",
                "batch/v2alpha1 cronjobs (CREATE)",
                "batch/v1beta1 cronjobs (UPDATE)",
                "batch/v2alpha1 cronjobs (UPDATE)",
            ]
        );
    }

    #[test]
    fn every_version_or_none_passes() {
        let workloads = json!([{"apiGroups": ["", "apps", "batch", "extensions"],
            "apiVersions": ["*"], "resources": ["pods", "deployments", "daemonsets", "cronjobs"],
            "operations": ["CREATE", "UPDATE"]}]);
        assert!(missed_by(workloads).is_empty());
        let listed = json!([{"apiGroups": ["rbac.authorization.k8s.io"],
            "apiVersions": ["v1", "v1beta1", "v1alpha1"], "resources": ["roles"],
            "operations": ["*"]}]);
        assert!(missed_by(listed).is_empty());
        let services = json!([{"apiGroups": [""], "apiVersions": ["v1"],
            "resources": ["services"], "operations": ["CREATE", "UPDATE"]}]);
        assert!(missed_by(services).is_empty());
        let everything = json!([{"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"],
            "operations": ["CREATE", "UPDATE"]}]);
        assert!(missed_by(everything).is_empty());
    }

    #[test]
    #[should_panic(expected = "rbac.authorization.k8s.io/v1beta1 roles (CREATE)")]
    fn a_missed_version_fails_the_test() {
        rules_cover_every_served_version(
            r#"{"rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "apiVersions": ["v1"],
                "resources": ["roles"], "operations": ["CREATE"]}]}"#,
        );
    }
}
