//! `deprecated-api-versions`: best practice. An object written in an API version that the
//! target Kubernetes release no longer serves cannot be applied at all; one in a deprecated
//! version breaks at a known future upgrade. The table follows the official Deprecated API
//! Migration Guide (https://kubernetes.io/docs/reference/using-api/deprecation-guide/).

use admit_policy_kit::{Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

/// The newest Kubernetes minor version the table below is known to be complete for.
const NEWEST: u32 = 34;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// The Kubernetes version the manifests are for, `1.N`.
    kubernetes_version: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            kubernetes_version: format!("1.{NEWEST}"),
        }
    }
}

impl admit_policy_kit::Settings for Settings {
    fn check(&self) -> Result<(), String> {
        minor(&self.kubernetes_version).map(|_| ()).ok_or_else(|| {
            format!(
                "kubernetes_version {:?} is not a Kubernetes minor version; write it as \"1.N\", \
                 such as \"1.{NEWEST}\"",
                self.kubernetes_version
            )
        })
    }
}

/// The minor number of `1.N`.
fn minor(version: &str) -> Option<u32> {
    let digits = version.strip_prefix("1.")?;
    let valid =
        !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| digits.parse().ok()).flatten()
}

/// One API version of one kind that is deprecated, with the minor versions of Kubernetes in
/// which it was deprecated and removed, and what replaces it from which minor version on.
struct Entry {
    group: &'static str,
    version: &'static str,
    kinds: &'static [&'static str],
    deprecated: u32,
    removed: u32,
    replacement: &'static str,
    available: u32,
}

const fn e(
    group: &'static str,
    version: &'static str,
    kinds: &'static [&'static str],
    deprecated: u32,
    removed: u32,
    replacement: &'static str,
    available: u32,
) -> Entry {
    Entry {
        group,
        version,
        kinds,
        deprecated,
        removed,
        replacement,
        available,
    }
}

const APPS: &[&str] = &["Deployment", "ReplicaSet", "StatefulSet"];
const APPS_V1BETA2: &[&str] = &["DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"];
const EXTENSIONS: &[&str] = &["DaemonSet", "Deployment", "ReplicaSet"];
const FLOW: &[&str] = &["FlowSchema", "PriorityLevelConfiguration"];
const FLOW_V1: &str = "flowcontrol.apiserver.k8s.io/v1";
const RBAC: &[&str] = &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];
const REVIEWS: &[&str] = &[
    "LocalSubjectAccessReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
];
const WEBHOOKS: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];
const PSA: &str = "Pod Security Admission";

/// Minor versions: deprecated in, removed in, replacement available from. Deprecation
/// versions are those kube-apiserver's deprecation warnings give ("deprecated in v1.21+,
/// unavailable in v1.25+"); the removals are the migration guide's.
#[rustfmt::skip]
static TABLE: &[Entry] = &[
    // Removed in 1.16.
    e("extensions", "v1beta1", EXTENSIONS, 9, 16, "apps/v1", 9),
    e("apps", "v1beta1", APPS, 9, 16, "apps/v1", 9),
    e("apps", "v1beta2", APPS_V1BETA2, 9, 16, "apps/v1", 9),
    e("extensions", "v1beta1", &["NetworkPolicy"], 9, 16, "networking.k8s.io/v1", 8),
    e("extensions", "v1beta1", &["PodSecurityPolicy"], 11, 16, PSA, 23),
    // Removed in 1.22.
    e("admissionregistration.k8s.io", "v1beta1", WEBHOOKS, 16, 22, "admissionregistration.k8s.io/v1", 16),
    e("apiextensions.k8s.io", "v1beta1", &["CustomResourceDefinition"], 16, 22, "apiextensions.k8s.io/v1", 16),
    e("apiregistration.k8s.io", "v1beta1", &["APIService"], 19, 22, "apiregistration.k8s.io/v1", 10),
    e("authentication.k8s.io", "v1beta1", &["TokenReview"], 19, 22, "authentication.k8s.io/v1", 6),
    e("authorization.k8s.io", "v1beta1", REVIEWS, 19, 22, "authorization.k8s.io/v1", 6),
    e("certificates.k8s.io", "v1beta1", &["CertificateSigningRequest"], 19, 22, "certificates.k8s.io/v1", 19),
    e("coordination.k8s.io", "v1beta1", &["Lease"], 19, 22, "coordination.k8s.io/v1", 14),
    e("extensions", "v1beta1", &["Ingress"], 14, 22, "networking.k8s.io/v1", 19),
    e("networking.k8s.io", "v1beta1", &["Ingress", "IngressClass"], 19, 22, "networking.k8s.io/v1", 19),
    e("rbac.authorization.k8s.io", "v1beta1", RBAC, 17, 22, "rbac.authorization.k8s.io/v1", 8),
    e("scheduling.k8s.io", "v1beta1", &["PriorityClass"], 14, 22, "scheduling.k8s.io/v1", 14),
    e("storage.k8s.io", "v1beta1", &["CSIDriver"], 19, 22, "storage.k8s.io/v1", 19),
    e("storage.k8s.io", "v1beta1", &["CSINode"], 17, 22, "storage.k8s.io/v1", 17),
    e("storage.k8s.io", "v1beta1", &["StorageClass", "VolumeAttachment"], 19, 22, "storage.k8s.io/v1", 13),
    // Removed in 1.25.
    e("batch", "v1beta1", &["CronJob"], 21, 25, "batch/v1", 21),
    e("discovery.k8s.io", "v1beta1", &["EndpointSlice"], 21, 25, "discovery.k8s.io/v1", 21),
    e("events.k8s.io", "v1beta1", &["Event"], 22, 25, "events.k8s.io/v1", 19),
    e("autoscaling", "v2beta1", &["HorizontalPodAutoscaler"], 22, 25, "autoscaling/v2", 23),
    e("policy", "v1beta1", &["PodDisruptionBudget"], 21, 25, "policy/v1", 21),
    e("policy", "v1beta1", &["PodSecurityPolicy"], 21, 25, PSA, 23),
    e("node.k8s.io", "v1beta1", &["RuntimeClass"], 22, 25, "node.k8s.io/v1", 20),
    // Removed in 1.26, 1.27, 1.29 and 1.32.
    e("flowcontrol.apiserver.k8s.io", "v1beta1", FLOW, 23, 26, FLOW_V1, 29),
    e("autoscaling", "v2beta2", &["HorizontalPodAutoscaler"], 23, 26, "autoscaling/v2", 23),
    e("storage.k8s.io", "v1beta1", &["CSIStorageCapacity"], 24, 27, "storage.k8s.io/v1", 24),
    e("flowcontrol.apiserver.k8s.io", "v1beta2", FLOW, 26, 29, FLOW_V1, 29),
    e("flowcontrol.apiserver.k8s.io", "v1beta3", FLOW, 29, 32, FLOW_V1, 29),
];

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    // Settings were validated; fall back to the newest version rather than panic.
    let target = minor(&request.settings.kubernetes_version).unwrap_or(NEWEST);
    let Some(entry) = TABLE.iter().find(|entry| {
        entry.group == request.group
            && entry.version == request.version
            && entry.kinds.contains(&request.kind)
    }) else {
        return;
    };
    if target < entry.deprecated {
        return;
    }
    let api = format!("{}/{} {}", entry.group, entry.version, request.kind);
    let status = if target >= entry.removed {
        format!("was removed in Kubernetes 1.{}", entry.removed)
    } else {
        format!(
            "is deprecated and will be removed in Kubernetes 1.{}",
            entry.removed
        )
    };
    let later = if target < entry.available {
        format!(" (available from Kubernetes 1.{})", entry.available)
    } else {
        String::new()
    };
    violations.add(
        "/apiVersion",
        format!("{api} {status}; use {}{later}", entry.replacement),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::{request, violations};
    use admit_policy_kit::{Settings as _, Violation};
    use serde_json::json;

    fn run(api_version: &str, kind: &str, target: &str) -> Vec<Violation> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let object = json!({"apiVersion": api_version, "kind": kind});
        let settings = Settings {
            kubernetes_version: target.into(),
        };
        let request = Request {
            group,
            version,
            ..request(kind, &object, &settings)
        };
        violations(check, &request)
    }

    fn one(pointer: &str, message: &str) -> Vec<Violation> {
        vec![Violation {
            pointer: pointer.into(),
            message: message.into(),
        }]
    }

    #[test]
    fn removed_versions_name_the_release_and_the_replacement() {
        assert_eq!(
            run("apps/v1beta1", "Deployment", "1.34"),
            one(
                "/apiVersion",
                "apps/v1beta1 Deployment was removed in Kubernetes 1.16; use apps/v1"
            )
        );
        assert_eq!(
            run("policy/v1beta1", "PodSecurityPolicy", "1.25"),
            one(
                "/apiVersion",
                "policy/v1beta1 PodSecurityPolicy was removed in Kubernetes 1.25; use Pod \
                 Security Admission"
            )
        );
    }

    #[test]
    fn deprecated_versions_still_served_say_when_they_go() {
        assert_eq!(
            run("batch/v1beta1", "CronJob", "1.24"),
            one(
                "/apiVersion",
                "batch/v1beta1 CronJob is deprecated and will be removed in Kubernetes 1.25; \
                 use batch/v1"
            )
        );
        assert!(run("batch/v1beta1", "CronJob", "1.20").is_empty());
    }

    #[test]
    fn a_replacement_newer_than_the_target_says_so() {
        assert_eq!(
            run("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", "1.27"),
            one(
                "/apiVersion",
                "flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema was removed in Kubernetes \
                 1.26; use flowcontrol.apiserver.k8s.io/v1 (available from Kubernetes 1.29)"
            )
        );
    }

    #[test]
    fn current_versions_and_unknown_kinds_pass() {
        assert!(run("apps/v1", "Deployment", "1.34").is_empty());
        assert!(run("v1", "Pod", "1.34").is_empty());
        assert!(run("networking.k8s.io/v1beta1", "NetworkPolicy", "1.34").is_empty());
        assert!(run("example.com/v1beta1", "Ingress", "1.34").is_empty());
    }

    #[test]
    fn the_table_is_consistent() {
        for entry in TABLE {
            assert!(entry.deprecated < entry.removed, "{}", entry.group);
            assert!(entry.removed <= NEWEST, "{}", entry.group);
        }
    }

    #[test]
    fn settings_want_a_minor_version() {
        assert_eq!(Settings::default().kubernetes_version, "1.34");
        assert!(Settings::default().check().is_ok());
        for good in ["1.16", "1.9", "1.40"] {
            let settings = Settings {
                kubernetes_version: good.into(),
            };
            assert!(settings.check().is_ok(), "{good}");
        }
        for bad in [
            "", "1", "1.", "v1.29", "1.29.3", "2.0", "1.x", "1.-1", "1.1000",
        ] {
            let settings = Settings {
                kubernetes_version: bad.into(),
            };
            assert!(settings.check().is_err(), "{bad}");
        }
        let settings = Settings {
            kubernetes_version: "v1.29".into(),
        };
        assert_eq!(
            settings.check(),
            Err(
                "kubernetes_version \"v1.29\" is not a Kubernetes minor version; write it as \
                 \"1.N\", such as \"1.34\""
                    .into()
            )
        );
    }
}
