//! Configuration files of other tools that are written like Kubernetes objects (an
//! `apiVersion` and a `kind`) but are never sent to a cluster: Kustomize's kustomizations and
//! transformer configurations, kubeconfig files, kind and k3d cluster configurations, skaffold
//! and kpt files, the control plane's own component configurations. They sit in most
//! repositories next to the manifests; checking them as objects only draws warnings that no
//! CustomResourceDefinition can answer.
//!
//! A kind a cluster does serve (Flux's `Kustomization` in `kustomize.toolkit.fluxcd.io`, a
//! Cluster API `Cluster`) is not here: those are custom resources, checked like any other.

/// One tool's configuration kinds: an API group (the part of `apiVersion` before `/`, or the
/// whole `apiVersion` when it has no `/`) and its kinds, every kind when empty.
struct ToolConfig {
    group: &'static str,
    kinds: &'static [&'static str],
    tool: &'static str,
}

const TOOL_CONFIGS: &[ToolConfig] = &[
    ToolConfig {
        group: "kustomize.config.k8s.io",
        kinds: &[],
        tool: "Kustomize",
    },
    // Kustomize's built-in transformer and generator configurations
    // (`apiVersion: builtin`, `kind: LabelTransformer`...).
    ToolConfig {
        group: "builtin",
        kinds: &[],
        tool: "Kustomize",
    },
    // KRM function configurations and function I/O (Kustomize, kpt).
    ToolConfig {
        group: "config.kubernetes.io",
        kinds: &[],
        tool: "Kustomize",
    },
    ToolConfig {
        group: "kpt.dev",
        kinds: &[],
        tool: "kpt",
    },
    ToolConfig {
        group: "fn.kpt.dev",
        kinds: &[],
        tool: "kpt",
    },
    // A kubeconfig file: `apiVersion: v1`, `kind: Config`.
    ToolConfig {
        group: "v1",
        kinds: &["Config"],
        tool: "kubeconfig",
    },
    // The scheduler's policy file before component configuration (`apiVersion: v1`,
    // `kind: Policy`), removed in Kubernetes 1.23.
    ToolConfig {
        group: "v1",
        kinds: &["Policy"],
        tool: "kube-scheduler",
    },
    ToolConfig {
        group: "kubectl.config.k8s.io",
        kinds: &[],
        tool: "kubectl",
    },
    ToolConfig {
        group: "client.authentication.k8s.io",
        kinds: &[],
        tool: "kubectl credential plugins",
    },
    ToolConfig {
        group: "kind.x-k8s.io",
        kinds: &[],
        tool: "kind",
    },
    ToolConfig {
        group: "k3d.io",
        kinds: &[],
        tool: "k3d",
    },
    ToolConfig {
        group: "ctlptl.dev",
        kinds: &[],
        tool: "ctlptl",
    },
    ToolConfig {
        group: "skaffold",
        kinds: &[],
        tool: "skaffold",
    },
    ToolConfig {
        group: "kubeadm.k8s.io",
        kinds: &[],
        tool: "kubeadm",
    },
    ToolConfig {
        group: "kubelet.config.k8s.io",
        kinds: &[],
        tool: "kubelet",
    },
    ToolConfig {
        group: "kubeproxy.config.k8s.io",
        kinds: &[],
        tool: "kube-proxy",
    },
    ToolConfig {
        group: "kubescheduler.config.k8s.io",
        kinds: &[],
        tool: "kube-scheduler",
    },
    ToolConfig {
        group: "kubecontrollermanager.config.k8s.io",
        kinds: &[],
        tool: "kube-controller-manager",
    },
    ToolConfig {
        group: "apiserver.config.k8s.io",
        kinds: &[],
        tool: "kube-apiserver",
    },
    ToolConfig {
        group: "apiserver.k8s.io",
        kinds: &["AdmissionConfiguration", "EgressSelectorConfiguration"],
        tool: "kube-apiserver",
    },
    ToolConfig {
        group: "audit.k8s.io",
        kinds: &["Policy"],
        tool: "kube-apiserver",
    },
    ToolConfig {
        group: "cli.kyverno.io",
        kinds: &[],
        tool: "Kyverno CLI",
    },
    ToolConfig {
        group: "kuttl.dev",
        kinds: &[],
        tool: "kuttl",
    },
    ToolConfig {
        group: "chainsaw.kyverno.io",
        kinds: &[],
        tool: "Chainsaw",
    },
    // operator-sdk's scorecard (`bundle/tests/scorecard/config.yaml`).
    ToolConfig {
        group: "scorecard.operatorframework.io",
        kinds: &[],
        tool: "operator-sdk",
    },
    // A controller-runtime manager's own configuration file, read at start-up.
    ToolConfig {
        group: "controller-runtime.sigs.k8s.io",
        kinds: &[],
        tool: "controller-runtime",
    },
    ToolConfig {
        group: "eksctl.io",
        kinds: &[],
        tool: "eksctl",
    },
    ToolConfig {
        group: "kops.k8s.io",
        kinds: &[],
        tool: "kops",
    },
    ToolConfig {
        group: "krew.googlecontainertools.github.com",
        kinds: &[],
        tool: "krew",
    },
    // Backstage's software catalog (`catalog-info.yaml`): `kind: Component` and friends.
    ToolConfig {
        group: "backstage.io",
        kinds: &[],
        tool: "Backstage",
    },
    ToolConfig {
        group: "garden.io",
        kinds: &[],
        tool: "Garden",
    },
];

/// Kinds that name their tool without an apiVersion: Kustomize reads a kustomization that
/// gives only `kind:`.
const KINDS_ALONE: &[(&str, &str)] = &[("Kustomization", "Kustomize"), ("Component", "Kustomize")];

/// The tool whose configuration an object of `api_version` and `kind` is, when it is one.
/// An empty `api_version` is a document that gives only its kind.
pub fn tool_of(api_version: &str, kind: &str) -> Option<&'static str> {
    if api_version.is_empty() {
        return KINDS_ALONE
            .iter()
            .find(|(alone, _)| *alone == kind)
            .map(|(_, tool)| *tool);
    }
    let group = api_version
        .split_once('/')
        .map_or(api_version, |(group, _)| group);
    TOOL_CONFIGS
        .iter()
        .find(|config| {
            config.group == group && (config.kinds.is_empty() || config.kinds.contains(&kind))
        })
        .map(|config| config.tool)
}

#[cfg(test)]
mod tests {
    use super::tool_of;

    #[test]
    fn other_tools_configurations_are_recognised() {
        assert_eq!(
            tool_of("kustomize.config.k8s.io/v1beta1", "Kustomization"),
            Some("Kustomize")
        );
        assert_eq!(
            tool_of("kustomize.config.k8s.io/v1alpha1", "Component"),
            Some("Kustomize")
        );
        assert_eq!(tool_of("builtin", "LabelTransformer"), Some("Kustomize"));
        assert_eq!(tool_of("v1", "Config"), Some("kubeconfig"));
        assert_eq!(tool_of("", "Kustomization"), Some("Kustomize"));
        assert_eq!(tool_of("kind.x-k8s.io/v1alpha4", "Cluster"), Some("kind"));
        assert_eq!(tool_of("skaffold/v4beta6", "Config"), Some("skaffold"));
    }

    #[test]
    fn kinds_a_cluster_serves_are_not() {
        assert_eq!(tool_of("v1", "ConfigMap"), None);
        assert_eq!(
            tool_of("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
            None
        );
        assert_eq!(tool_of("cluster.x-k8s.io/v1beta1", "Cluster"), None);
        assert_eq!(tool_of("audit.k8s.io/v1", "Event"), None);
        assert_eq!(tool_of("", "Deployment"), None);
        assert_eq!(tool_of("", ""), None);
    }
}
