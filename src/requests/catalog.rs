//! Which resource (plural) and scope each kind has, so a manifest can become the request a
//! cluster would build without asking a cluster.

use std::collections::HashMap;

use serde_json::Value;

use Scope::{Cluster, Namespaced};

/// Maps a `(group, kind)` to the resource name and scope an API server would use for it.
///
/// Built-in kinds come from a static table; custom resources are learned from the
/// CustomResourceDefinitions found among the checked files ([`ResourceCatalog::add_crd`]); any
/// other kind gets a guessed plural, which [`Resolution::source`] reports so the caller can warn.
/// Versions are not part of the key: a kind keeps its plural and scope across API versions.
#[derive(Debug, Clone, Default)]
pub struct ResourceCatalog {
    custom: HashMap<(String, String), CustomKind>,
}

#[derive(Debug, Clone)]
struct CustomKind {
    plural: String,
    namespaced: bool,
}

/// What the catalog knows about one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The plural resource name, as used in URLs, RBAC and webhook rules (`deployments`).
    pub plural: String,
    /// Whether objects of this kind live in a namespace.
    pub namespaced: bool,
    /// Where the answer came from, so callers can tell an exact answer from a guess.
    pub source: ResolutionSource,
}

/// Where a [`Resolution`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolutionSource {
    /// The built-in table of Kubernetes kinds.
    BuiltIn,
    /// A CustomResourceDefinition given to [`ResourceCatalog::add_crd`].
    CustomResourceDefinition,
    /// Nothing known: the plural follows English rules and the kind is assumed namespaced.
    Guessed,
}

impl ResourceCatalog {
    /// A catalog that knows every built-in Kubernetes kind and no custom resource.
    pub fn builtin() -> Self {
        Self::default()
    }

    /// Learns the kind a CustomResourceDefinition (`apiextensions.k8s.io/v1` or `v1beta1`)
    /// declares. Returns `false`, leaving the catalog unchanged, when `crd` is not a
    /// well-formed CustomResourceDefinition. A later definition of the same group and kind
    /// replaces an earlier one.
    pub fn add_crd(&mut self, crd: &Value) -> bool {
        match parse_crd(crd) {
            Some((group, kind, custom)) => {
                self.custom.insert((group, kind), custom);
                true
            }
            None => false,
        }
    }

    /// A stable text naming every custom kind the catalog learned, with its plural and scope:
    /// two catalogs with the same fingerprint build the same requests.
    pub fn fingerprint(&self) -> String {
        let mut kinds: Vec<String> = self
            .custom
            .iter()
            .map(|((group, kind), custom)| {
                format!("{group}/{kind}={}:{}", custom.plural, custom.namespaced)
            })
            .collect();
        kinds.sort();
        kinds.join("\n")
    }

    /// The resource name and scope of `kind` in API group `group` (`""` for the core group).
    pub fn resolve(&self, group: &str, kind: &str) -> Resolution {
        // Built-ins first: an API server never lets a CRD shadow one of its own resources.
        if let Some(builtin) = lookup_builtin(group, kind) {
            return Resolution {
                plural: builtin.plural.to_string(),
                namespaced: builtin.scope == Scope::Namespaced,
                source: ResolutionSource::BuiltIn,
            };
        }
        if let Some(custom) = self.custom.get(&(group.to_string(), kind.to_string())) {
            return Resolution {
                plural: custom.plural.clone(),
                namespaced: custom.namespaced,
                source: ResolutionSource::CustomResourceDefinition,
            };
        }
        Resolution {
            plural: guess_plural(kind),
            // Most custom resources are namespaced; guessing so also keeps `namespace` in the
            // request, which is what namespace-based policy exemptions look at.
            namespaced: true,
            source: ResolutionSource::Guessed,
        }
    }
}

impl ResourceCatalog {
    /// The built-in kind that `kind` spells in another case (`pod` for `Pod`), preferring one
    /// of `group`: a kind the API server would refuse, since kinds are case-sensitive, and
    /// that a user surely meant. `None` when `kind` is a kind the catalog knows as written.
    pub fn builtin_kind_in_other_case(&self, group: &str, kind: &str) -> Option<&'static str> {
        if self.resolve(group, kind).source != ResolutionSource::Guessed {
            return None;
        }
        let same = |row: &&BuiltinKind| row.kind.eq_ignore_ascii_case(kind);
        BUILTIN_KINDS
            .iter()
            .filter(same)
            .find(|row| row.group == group)
            .or_else(|| BUILTIN_KINDS.iter().find(same))
            .map(|row| row.kind)
    }
}

fn parse_crd(crd: &Value) -> Option<(String, String, CustomKind)> {
    let version = crd
        .get("apiVersion")?
        .as_str()?
        .strip_prefix("apiextensions.k8s.io/")?;
    if crd.get("kind")?.as_str()? != "CustomResourceDefinition" {
        return None;
    }
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let group = non_empty_str(spec.get("group"))?;
    let kind = non_empty_str(names.get("kind"))?;
    let plural = non_empty_str(names.get("plural"))?;
    let namespaced = match spec.get("scope").and_then(Value::as_str) {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        // v1beta1 defaulted a missing scope to Namespaced; v1 requires it.
        None if version == "v1beta1" => true,
        _ => return None,
    };
    Some((
        group.to_string(),
        kind.to_string(),
        CustomKind {
            plural: plural.to_string(),
            namespaced,
        },
    ))
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The plural a kind most likely has, by the English rules Kubernetes code generators
/// (`k8s.io/gengo` namer) and kubectl apply: `NetworkPolicy` → `networkpolicies`,
/// `Ingress` → `ingresses`, `Widget` → `widgets`.
fn guess_plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    let mut reversed = lower.chars().rev();
    let last = reversed.next();
    let before_last = reversed.next();
    match (before_last, last) {
        (_, Some('s' | 'x' | 'z')) | (Some('c' | 's'), Some('h')) => format!("{lower}es"),
        (Some(before), Some('y')) if !is_vowel(before) => {
            format!("{}ies", lower.strip_suffix('y').unwrap_or(&lower))
        }
        _ => format!("{lower}s"),
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Namespaced,
    Cluster,
}

/// One row of the built-in table.
#[derive(Debug)]
struct BuiltinKind {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    scope: Scope,
}

fn lookup_builtin(group: &str, kind: &str) -> Option<&'static BuiltinKind> {
    BUILTIN_KINDS
        .binary_search_by(|row| (row.group, row.kind).cmp(&(group, kind)))
        .ok()
        .map(|index| &BUILTIN_KINDS[index])
}

const fn k(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    scope: Scope,
) -> BuiltinKind {
    BuiltinKind {
        group,
        kind,
        plural,
        scope,
    }
}

/// Every kind kube-apiserver serves, current (v1.34/v1.35) and removed, sorted by
/// `(group, kind)` for binary search (a test keeps it sorted). Removed API versions stay
/// because manifests in repositories outlive them, and a policy should still see the request
/// the cluster of their time would have built. Subresource-only kinds (Scale, Eviction,
/// TokenRequest, Binding via pods/binding) are left out: no manifest creates them directly.
/// Source: kubernetes/kubernetes `api/discovery/*.json` and the removed-API migration guide.
#[rustfmt::skip]
static BUILTIN_KINDS: &[BuiltinKind] = &[
    // core, v1
    k("", "Binding", "bindings", Namespaced),
    k("", "ComponentStatus", "componentstatuses", Cluster),
    k("", "ConfigMap", "configmaps", Namespaced),
    k("", "Endpoints", "endpoints", Namespaced),
    k("", "Event", "events", Namespaced),
    k("", "LimitRange", "limitranges", Namespaced),
    k("", "Namespace", "namespaces", Cluster),
    k("", "Node", "nodes", Cluster),
    k("", "PersistentVolume", "persistentvolumes", Cluster),
    k("", "PersistentVolumeClaim", "persistentvolumeclaims", Namespaced),
    k("", "Pod", "pods", Namespaced),
    k("", "PodTemplate", "podtemplates", Namespaced),
    k("", "ReplicationController", "replicationcontrollers", Namespaced),
    k("", "ResourceQuota", "resourcequotas", Namespaced),
    k("", "Secret", "secrets", Namespaced),
    k("", "Service", "services", Namespaced),
    k("", "ServiceAccount", "serviceaccounts", Namespaced),
    // v1, v1beta1, v1alpha1
    k("admissionregistration.k8s.io", "MutatingAdmissionPolicy", "mutatingadmissionpolicies", Cluster),
    k("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding", "mutatingadmissionpolicybindings", Cluster),
    k("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", Cluster),
    k("admissionregistration.k8s.io", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", Cluster),
    k("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", Cluster),
    k("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", Cluster),
    // v1, v1beta1 (removed in 1.22)
    k("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", Cluster),
    // v1, v1beta1 (removed in 1.22)
    k("apiregistration.k8s.io", "APIService", "apiservices", Cluster),
    // v1, v1beta1 and v1beta2 (removed in 1.16)
    k("apps", "ControllerRevision", "controllerrevisions", Namespaced),
    k("apps", "DaemonSet", "daemonsets", Namespaced),
    k("apps", "Deployment", "deployments", Namespaced),
    k("apps", "ReplicaSet", "replicasets", Namespaced),
    k("apps", "StatefulSet", "statefulsets", Namespaced),
    // v1alpha1 (removed in 1.19)
    k("auditregistration.k8s.io", "AuditSink", "auditsinks", Cluster),
    // v1, v1beta1, v1alpha1
    k("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", Cluster),
    k("authentication.k8s.io", "TokenReview", "tokenreviews", Cluster),
    // v1, v1beta1 (removed in 1.22)
    k("authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews", Namespaced),
    k("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews", Cluster),
    k("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews", Cluster),
    k("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews", Cluster),
    // v1, v2, v2beta1 (removed in 1.25), v2beta2 (removed in 1.26)
    k("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers", Namespaced),
    // v1, v1beta1 (removed in 1.25), v2alpha1
    k("batch", "CronJob", "cronjobs", Namespaced),
    k("batch", "Job", "jobs", Namespaced),
    // v1, v1beta1 (removed in 1.22), v1alpha1
    k("certificates.k8s.io", "CertificateSigningRequest", "certificatesigningrequests", Cluster),
    k("certificates.k8s.io", "ClusterTrustBundle", "clustertrustbundles", Cluster),
    k("certificates.k8s.io", "PodCertificateRequest", "podcertificaterequests", Namespaced),
    // v1, v1beta1, v1alpha2
    k("coordination.k8s.io", "Lease", "leases", Namespaced),
    k("coordination.k8s.io", "LeaseCandidate", "leasecandidates", Namespaced),
    // v1, v1beta1 (removed in 1.25)
    k("discovery.k8s.io", "EndpointSlice", "endpointslices", Namespaced),
    // v1, v1beta1 (removed in 1.25)
    k("events.k8s.io", "Event", "events", Namespaced),
    // v1beta1, removed in 1.16 (workloads, PodSecurityPolicy) and 1.22 (Ingress)
    k("extensions", "DaemonSet", "daemonsets", Namespaced),
    k("extensions", "Deployment", "deployments", Namespaced),
    k("extensions", "Ingress", "ingresses", Namespaced),
    k("extensions", "NetworkPolicy", "networkpolicies", Namespaced),
    k("extensions", "PodSecurityPolicy", "podsecuritypolicies", Cluster),
    k("extensions", "ReplicaSet", "replicasets", Namespaced),
    // v1, v1beta1 to v1beta3, v1alpha1
    k("flowcontrol.apiserver.k8s.io", "FlowSchema", "flowschemas", Cluster),
    k("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", "prioritylevelconfigurations", Cluster),
    // v1alpha1
    k("internal.apiserver.k8s.io", "StorageVersion", "storageversions", Cluster),
    // v1, v1beta1 (Ingress and IngressClass removed in 1.22), v1alpha1
    k("networking.k8s.io", "ClusterCIDR", "clustercidrs", Cluster),
    k("networking.k8s.io", "IPAddress", "ipaddresses", Cluster),
    k("networking.k8s.io", "Ingress", "ingresses", Namespaced),
    k("networking.k8s.io", "IngressClass", "ingressclasses", Cluster),
    k("networking.k8s.io", "NetworkPolicy", "networkpolicies", Namespaced),
    k("networking.k8s.io", "ServiceCIDR", "servicecidrs", Cluster),
    // v1, v1beta1 (removed in 1.25), v1alpha1
    k("node.k8s.io", "RuntimeClass", "runtimeclasses", Cluster),
    // v1, v1beta1 (PodSecurityPolicy and v1beta1 PodDisruptionBudget removed in 1.25)
    k("policy", "PodDisruptionBudget", "poddisruptionbudgets", Namespaced),
    k("policy", "PodSecurityPolicy", "podsecuritypolicies", Cluster),
    // v1, v1beta1 (removed in 1.22), v1alpha1
    k("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", Cluster),
    k("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", Cluster),
    k("rbac.authorization.k8s.io", "Role", "roles", Namespaced),
    k("rbac.authorization.k8s.io", "RoleBinding", "rolebindings", Namespaced),
    // v1, v1beta1, v1beta2, v1alpha3; v1alpha2 kinds (ResourceClass, ...) removed in 1.31
    k("resource.k8s.io", "DeviceClass", "deviceclasses", Cluster),
    k("resource.k8s.io", "DeviceTaintRule", "devicetaintrules", Cluster),
    k("resource.k8s.io", "PodSchedulingContext", "podschedulingcontexts", Namespaced),
    k("resource.k8s.io", "ResourceClaim", "resourceclaims", Namespaced),
    k("resource.k8s.io", "ResourceClaimParameters", "resourceclaimparameters", Namespaced),
    k("resource.k8s.io", "ResourceClaimTemplate", "resourceclaimtemplates", Namespaced),
    k("resource.k8s.io", "ResourceClass", "resourceclasses", Cluster),
    k("resource.k8s.io", "ResourceClassParameters", "resourceclassparameters", Namespaced),
    k("resource.k8s.io", "ResourceSlice", "resourceslices", Cluster),
    // v1, v1beta1 (removed in 1.22), v1alpha1
    k("scheduling.k8s.io", "PriorityClass", "priorityclasses", Cluster),
    k("scheduling.k8s.io", "Workload", "workloads", Namespaced),
    // v1alpha1 (removed in 1.20)
    k("settings.k8s.io", "PodPreset", "podpresets", Namespaced),
    // v1, v1beta1, v1alpha1
    k("storage.k8s.io", "CSIDriver", "csidrivers", Cluster),
    k("storage.k8s.io", "CSINode", "csinodes", Cluster),
    k("storage.k8s.io", "CSIStorageCapacity", "csistoragecapacities", Namespaced),
    k("storage.k8s.io", "StorageClass", "storageclasses", Cluster),
    k("storage.k8s.io", "VolumeAttachment", "volumeattachments", Cluster),
    k("storage.k8s.io", "VolumeAttributesClass", "volumeattributesclasses", Cluster),
    // v1beta1, v1alpha1
    k("storagemigration.k8s.io", "StorageVersionMigration", "storageversionmigrations", Cluster),
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_builtin_kind_in_another_case_is_found() {
        let catalog = ResourceCatalog::builtin();
        assert_eq!(catalog.builtin_kind_in_other_case("", "pod"), Some("Pod"));
        assert_eq!(
            catalog.builtin_kind_in_other_case("", "deployment"),
            Some("Deployment")
        );
        assert_eq!(
            catalog.builtin_kind_in_other_case("apps", "DEPLOYMENT"),
            Some("Deployment")
        );
        assert_eq!(catalog.builtin_kind_in_other_case("", "Pod"), None);
        assert_eq!(
            catalog.builtin_kind_in_other_case("example.com", "Widget"),
            None
        );
    }

    #[test]
    fn builtin_table_is_sorted_and_unique() {
        for pair in BUILTIN_KINDS.windows(2) {
            assert!(
                (pair[0].group, pair[0].kind) < (pair[1].group, pair[1].kind),
                "{:?} must sort before {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn builtin_table_covers_every_kind_it_claims() {
        assert_eq!(BUILTIN_KINDS.len(), 88);
        for row in BUILTIN_KINDS {
            let resolution = ResourceCatalog::builtin().resolve(row.group, row.kind);
            assert_eq!(resolution.source, ResolutionSource::BuiltIn, "{row:?}");
            assert_eq!(resolution.plural, row.plural);
            assert!(!row.plural.is_empty() && row.plural == row.plural.to_lowercase());
        }
    }

    #[test]
    fn resolves_builtin_kinds_with_scope() {
        let catalog = ResourceCatalog::builtin();
        let cases = [
            ("", "Pod", "pods", true),
            ("", "Endpoints", "endpoints", true),
            ("", "Namespace", "namespaces", false),
            ("", "Node", "nodes", false),
            ("", "PersistentVolume", "persistentvolumes", false),
            ("apps", "Deployment", "deployments", true),
            ("extensions", "Ingress", "ingresses", true),
            (
                "networking.k8s.io",
                "NetworkPolicy",
                "networkpolicies",
                true,
            ),
            ("networking.k8s.io", "IngressClass", "ingressclasses", false),
            ("policy", "PodSecurityPolicy", "podsecuritypolicies", false),
            (
                "rbac.authorization.k8s.io",
                "ClusterRole",
                "clusterroles",
                false,
            ),
            (
                "rbac.authorization.k8s.io",
                "RoleBinding",
                "rolebindings",
                true,
            ),
            ("storage.k8s.io", "StorageClass", "storageclasses", false),
            (
                "scheduling.k8s.io",
                "PriorityClass",
                "priorityclasses",
                false,
            ),
            (
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                "customresourcedefinitions",
                false,
            ),
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
                "validatingwebhookconfigurations",
                false,
            ),
        ];
        for (group, kind, plural, namespaced) in cases {
            assert_eq!(
                catalog.resolve(group, kind),
                Resolution {
                    plural: plural.to_string(),
                    namespaced,
                    source: ResolutionSource::BuiltIn
                },
                "{group} {kind}"
            );
        }
    }

    #[test]
    fn kind_lookup_is_exact() {
        let catalog = ResourceCatalog::builtin();
        // A core kind under another group, or a kind in the wrong case, is not the built-in one.
        assert_eq!(
            catalog.resolve("apps", "Pod").source,
            ResolutionSource::Guessed
        );
        assert_eq!(catalog.resolve("", "pod").source, ResolutionSource::Guessed);
    }

    #[test]
    fn guesses_plurals_by_english_rules() {
        let cases = [
            ("Widget", "widgets"),
            ("Policy", "policies"),
            ("Gateway", "gateways"),
            ("Ingress", "ingresses"),
            ("Box", "boxes"),
            ("Quiz", "quizes"),
            ("Patch", "patches"),
            ("Mesh", "meshes"),
            ("Graph", "graphs"),
            ("Y", "ys"),
            ("HTTPRoute", "httproutes"),
        ];
        for (kind, plural) in cases {
            assert_eq!(guess_plural(kind), plural, "{kind}");
        }
        let guess = ResourceCatalog::builtin().resolve("example.com", "Widget");
        assert_eq!(guess.source, ResolutionSource::Guessed);
        assert!(guess.namespaced);
    }

    fn crd(api_version: &str, scope: Option<&str>) -> Value {
        let mut crd = json!({
            "apiVersion": api_version,
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "octopi.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"kind": "Octopus", "plural": "octopi", "singular": "octopus"},
            }
        });
        if let Some(scope) = scope {
            crd["spec"]["scope"] = json!(scope);
        }
        crd
    }

    #[test]
    fn learns_custom_resources_from_crds() {
        let mut catalog = ResourceCatalog::builtin();
        assert!(catalog.add_crd(&crd("apiextensions.k8s.io/v1", Some("Cluster"))));
        assert_eq!(
            catalog.resolve("example.com", "Octopus"),
            Resolution {
                plural: "octopi".to_string(),
                namespaced: false,
                source: ResolutionSource::CustomResourceDefinition
            }
        );

        assert!(catalog.add_crd(&crd("apiextensions.k8s.io/v1", Some("Namespaced"))));
        assert!(catalog.resolve("example.com", "Octopus").namespaced);
    }

    #[test]
    fn v1beta1_crds_default_to_namespaced() {
        let mut catalog = ResourceCatalog::builtin();
        assert!(catalog.add_crd(&crd("apiextensions.k8s.io/v1beta1", None)));
        assert!(catalog.resolve("example.com", "Octopus").namespaced);
    }

    #[test]
    fn rejects_malformed_crds() {
        let mut catalog = ResourceCatalog::builtin();
        let mut no_plural = crd("apiextensions.k8s.io/v1", Some("Cluster"));
        no_plural["spec"]["names"]
            .as_object_mut()
            .map(|names| names.remove("plural"));
        let mut empty_group = crd("apiextensions.k8s.io/v1", Some("Cluster"));
        empty_group["spec"]["group"] = json!("");
        let mut wrong_kind = crd("apiextensions.k8s.io/v1", Some("Cluster"));
        wrong_kind["kind"] = json!("Deployment");
        let rejected = [
            json!("not an object"),
            json!({}),
            crd("apiextensions.k8s.io/v1", None),
            crd("apiextensions.k8s.io/v1", Some("Global")),
            crd("example.com/v1", Some("Cluster")),
            no_plural,
            empty_group,
            wrong_kind,
        ];
        for crd in &rejected {
            assert!(!catalog.add_crd(crd), "{crd}");
        }
        assert_eq!(
            catalog.resolve("example.com", "Octopus").source,
            ResolutionSource::Guessed
        );
    }

    #[test]
    fn crds_do_not_shadow_builtins() {
        let mut catalog = ResourceCatalog::builtin();
        let shadow = json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"group": "apps", "scope": "Cluster",
                     "names": {"kind": "Deployment", "plural": "deploys"}}
        });
        assert!(catalog.add_crd(&shadow));
        assert_eq!(
            catalog.resolve("apps", "Deployment").source,
            ResolutionSource::BuiltIn
        );
    }
}
