//! The `io.kubewarden.metadata` custom section: what a policy says about itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rules::Rule;

/// Name of the custom section Kubewarden policies carry their metadata in.
pub const METADATA_SECTION: &str = "io.kubewarden.metadata";

/// Annotation holding a policy's human title, which admit uses as the policy id.
pub const TITLE_ANNOTATION: &str = "io.kubewarden.policy.title";

/// Policy metadata as `kwctl annotate` writes it (camelCase JSON).
///
/// Only the fields admit acts on are typed; unknown keys are accepted, as Kubewarden does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Protocol version reported by the policy (`v1`, or `Unknown` for non-waPC modes).
    #[serde(default)]
    pub protocol_version: Option<String>,
    /// Which admission requests the policy wants to see.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Whether the policy may answer with a mutated object.
    #[serde(default)]
    pub mutating: bool,
    /// Free-form annotations (title, description, severity, ...).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// How the module is run.
    #[serde(default)]
    pub execution_mode: ExecutionMode,
    /// Whether requests are Kubernetes admission requests or raw documents.
    #[serde(default)]
    pub policy_type: PolicyType,
    /// Kubernetes resources the policy asks to read through host capabilities.
    #[serde(default)]
    pub context_aware_resources: Vec<ContextAwareResource>,
}

impl Metadata {
    /// The resources `contextAwareResources` lists, as (apiVersion, kind): what a policy may
    /// read of the cluster when allowed.
    pub fn context_aware_kinds(&self) -> Vec<(String, String)> {
        self.context_aware_resources
            .iter()
            .map(|r| (r.api_version.clone(), r.kind.clone()))
            .collect()
    }

    /// The `io.kubewarden.policy.<key>` annotation (description, url, severity...), when it
    /// is there and not blank.
    pub fn policy_annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .get(&format!("io.kubewarden.policy.{key}"))
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    /// The policy's title annotation, when it has a non-empty one.
    pub fn title(&self) -> Option<&str> {
        self.annotations
            .get(TITLE_ANNOTATION)
            .map(String::as_str)
            .filter(|title| !title.trim().is_empty())
    }

    /// The risk its `io.kubewarden.policy.severity` annotation gives, when it names one.
    pub fn risk(&self) -> Option<Risk> {
        self.policy_annotation("severity").and_then(Risk::from_name)
    }
}

/// How much harm what a policy catches can do: Kubewarden's `io.kubewarden.policy.severity`
/// annotation. admit calls it risk, because the severity of a finding is something else:
/// whether it fails the run (`error`) or not (`warning`), which admit.yaml decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Risk {
    /// The risk an annotation value names, in any case.
    pub fn from_name(name: &str) -> Option<Risk> {
        match name.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Risk::Low),
            "medium" => Some(Risk::Medium),
            "high" => Some(Risk::High),
            "critical" => Some(Risk::Critical),
            _ => None,
        }
    }

    /// Its name, as the annotation spells it.
    pub fn name(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }

    /// The score GitHub code scanning ranks security alerts by (`security-severity`, 0.0 to
    /// 10.0), in the middle of the band GitHub shows as this risk: low below 4.0, medium below
    /// 7.0, high below 9.0, critical above.
    pub fn security_severity(self) -> &'static str {
        match self {
            Risk::Low => "2.0",
            Risk::Medium => "5.5",
            Risk::High => "8.0",
            Risk::Critical => "9.5",
        }
    }
}

/// The four ways Kubewarden runs a module: the waPC ABI, the WASI ABI, and the OPA ABI in two
/// modes (`opa` and `gatekeeper`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionMode {
    /// waPC calls (`validate`, `validate_settings`): the default.
    #[default]
    #[serde(rename = "kubewarden-wapc")]
    KubewardenWapc,
    /// A WASI command fed JSON on stdin.
    #[serde(rename = "wasi")]
    Wasi,
    /// An OPA module built with `opa build -t wasm`.
    #[serde(rename = "opa")]
    Opa,
    /// A Gatekeeper constraint template compiled to Wasm.
    #[serde(rename = "gatekeeper")]
    Gatekeeper,
}

impl ExecutionMode {
    /// Every mode, in the order messages list them.
    pub const ALL: [ExecutionMode; 4] = [
        ExecutionMode::KubewardenWapc,
        ExecutionMode::Wasi,
        ExecutionMode::Opa,
        ExecutionMode::Gatekeeper,
    ];

    /// The names of [`ExecutionMode::ALL`], as metadata and `--execution-mode` spell them.
    pub const NAMES: [&'static str; 4] = [
        Self::ALL[0].name(),
        Self::ALL[1].name(),
        Self::ALL[2].name(),
        Self::ALL[3].name(),
    ];

    /// The mode's `executionMode` value.
    pub const fn name(self) -> &'static str {
        match self {
            ExecutionMode::KubewardenWapc => "kubewarden-wapc",
            ExecutionMode::Wasi => "wasi",
            ExecutionMode::Opa => "opa",
            ExecutionMode::Gatekeeper => "gatekeeper",
        }
    }

    /// Whether the mode runs a Rego module (OPA ABI): `opa` and `gatekeeper`.
    pub const fn is_rego(self) -> bool {
        matches!(self, ExecutionMode::Opa | ExecutionMode::Gatekeeper)
    }
}

impl std::fmt::Display for ExecutionMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`ExecutionMode::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownExecutionMode {
    /// The name given.
    pub given: String,
}

impl std::fmt::Display for UnknownExecutionMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown execution mode `{}`; {}",
            self.given,
            self.help()
        )
    }
}

impl std::error::Error for UnknownExecutionMode {}

impl UnknownExecutionMode {
    /// The closest valid name to the one given, when one is close enough to be a typo.
    pub fn suggestion(&self) -> Option<&'static str> {
        crate::suggest::closest(&self.given, ExecutionMode::NAMES)
    }

    /// "did you mean `wasi`? choose one of kubewarden-wapc, wasi, opa, gatekeeper", without
    /// the question when no name is close.
    pub fn help(&self) -> String {
        let list = ExecutionMode::NAMES.join(", ");
        match self.suggestion() {
            Some(close) => format!("did you mean `{close}`? choose one of {list}"),
            None => format!("choose one of {list}"),
        }
    }
}

impl std::str::FromStr for ExecutionMode {
    type Err = UnknownExecutionMode;

    /// One of [`ExecutionMode::NAMES`]; also `kubewarden` and `wapc` for `kubewarden-wapc`,
    /// since kwctl's `--execution-mode` help lists `kubewarden`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "kubewarden" | "wapc" => Ok(ExecutionMode::KubewardenWapc),
            _ => ExecutionMode::ALL
                .into_iter()
                .find(|mode| mode.name() == name)
                .ok_or_else(|| UnknownExecutionMode {
                    given: name.to_string(),
                }),
        }
    }
}

/// What a policy's requests carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyType {
    /// Kubernetes AdmissionRequests.
    #[default]
    Kubernetes,
    /// The document itself, for policies over non-Kubernetes YAML and JSON.
    Raw,
}

/// A Kubernetes resource type a context-aware policy may read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextAwareResource {
    /// `group/version` or `v1`.
    pub api_version: String,
    /// The resource's kind.
    pub kind: String,
}

/// Read the metadata section of a Wasm module.
///
/// `Ok(None)` means the module has no metadata (it then applies to every object); an error
/// means the section exists but is not valid metadata, or the bytes are not a Wasm module.
pub fn read_metadata(wasm: &[u8]) -> Result<Option<Metadata>, String> {
    if let Some(why) = super::binary::not_a_module(wasm) {
        return Err(why);
    }
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("not a valid WebAssembly module: {e}"))?;
        if let wasmparser::Payload::CustomSection(section) = payload
            && section.name() == METADATA_SECTION
        {
            return serde_json::from_slice(section.data())
                .map(Some)
                .map_err(|e| format!("invalid {METADATA_SECTION} section: {e}"));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metadata_from_a_custom_section() {
        let wasm = wat::parse_str(
            r#"(module (@custom "io.kubewarden.metadata" "{\"rules\":[],\"mutating\":true,\"annotations\":{\"io.kubewarden.policy.title\":\"t\"}}"))"#,
        )
        .unwrap();
        let metadata = read_metadata(&wasm).unwrap().unwrap();
        assert!(metadata.mutating);
        assert_eq!(metadata.title(), Some("t"));
        assert_eq!(metadata.execution_mode, ExecutionMode::KubewardenWapc);
    }

    #[test]
    fn module_without_metadata_has_none() {
        let wasm = wat::parse_str("(module)").unwrap();
        assert_eq!(read_metadata(&wasm).unwrap(), None);
    }

    #[test]
    fn execution_modes_parse_from_their_names() {
        for mode in ExecutionMode::ALL {
            assert_eq!(mode.name().parse::<ExecutionMode>(), Ok(mode));
            assert_eq!(mode.to_string(), mode.name());
        }
        assert_eq!("kubewarden".parse(), Ok(ExecutionMode::KubewardenWapc));
        assert_eq!("wapc".parse(), Ok(ExecutionMode::KubewardenWapc));
    }

    #[test]
    fn an_unknown_execution_mode_lists_the_valid_ones() {
        let typo = "wais".parse::<ExecutionMode>().unwrap_err();
        assert_eq!(
            typo.to_string(),
            "unknown execution mode `wais`; did you mean `wasi`? \
             choose one of kubewarden-wapc, wasi, opa, gatekeeper"
        );
        let unrelated = "docker".parse::<ExecutionMode>().unwrap_err();
        assert_eq!(unrelated.suggestion(), None);
        assert_eq!(
            unrelated.to_string(),
            "unknown execution mode `docker`; choose one of kubewarden-wapc, wasi, opa, gatekeeper"
        );
    }

    #[test]
    fn garbage_is_not_a_module() {
        assert!(read_metadata(b"apiVersion: v1").is_err());
    }
}
