//! `admit inspect`: what a policy module says about itself and what it needs to run.

use std::io::Write;

use miette::{IntoDiagnostic, miette};
use serde::Serialize;
use serde_json::Value;

use super::source::PolicyModule;
use crate::policies::metadata::ContextAwareResource;
use crate::policies::rules::Rule;
use crate::policies::{
    ExecutionMode, Limits, Metadata, PolicyRuntime, PolicyType, read_metadata, wapc,
};

/// Everything `inspect` reports, also its `--format json` output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Inspection {
    /// The module path, or `builtin:<id>`.
    pub(crate) origin: String,
    /// Whether the module carries an `io.kubewarden.metadata` section.
    pub(crate) has_metadata: bool,
    /// How the module runs: the metadata's mode, else what kwctl would assume.
    pub(crate) execution_mode: Option<ExecutionMode>,
    /// Kubernetes requests or raw documents.
    pub(crate) policy_type: PolicyType,
    /// The protocol version the module reports (waPC: by calling `protocol_version`), or why
    /// it could not be asked.
    pub(crate) protocol_version: String,
    /// Whether it may mutate.
    pub(crate) mutating: bool,
    /// The requests it applies to.
    pub(crate) rules: Vec<Rule>,
    /// Its annotations.
    pub(crate) annotations: std::collections::BTreeMap<String, String>,
    /// The cluster resources it wants to read.
    pub(crate) context_aware_resources: Vec<ContextAwareResource>,
    /// `module.name` of every import: what the host must provide.
    pub(crate) imports: Vec<String>,
    /// The metadata as stored, for fields admit does not model.
    pub(crate) metadata: Option<Value>,
}

/// Inspect `policy` and print the result, as text or (`json`) one JSON document.
pub(crate) fn inspect(
    policy: &str,
    json: bool,
    registry: &crate::cli::RegistryArgs,
) -> miette::Result<()> {
    let module = PolicyModule::read(policy, registry)?;
    let inspection = examine(&module)?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &inspection).into_diagnostic()?;
        writeln!(out).into_diagnostic()?;
    } else {
        write!(out, "{}", human(&inspection)).into_diagnostic()?;
    }
    Ok(())
}

/// Read everything `inspect` reports from `module`.
pub(crate) fn examine(module: &PolicyModule) -> miette::Result<Inspection> {
    let metadata = read_metadata(&module.bytes).map_err(|e| miette!("{}: {e}", module.origin))?;
    let rego = crate::policies::is_rego(&module.bytes);
    let execution_mode = match &metadata {
        Some(metadata) => Some(metadata.execution_mode),
        // Without metadata kwctl runs a module as waPC, and needs `-e` for a Rego one.
        None if rego => None,
        None => Some(ExecutionMode::KubewardenWapc),
    };
    let protocol_version = if execution_mode == Some(ExecutionMode::KubewardenWapc) {
        let runtime = PolicyRuntime::new(Limits::default(), None)
            .map_err(|e| miette!("cannot start the WebAssembly runtime: {e}"))?;
        wapc::protocol_version(&runtime, &module.bytes)
            .unwrap_or_else(|e| format!("unknown (protocol_version failed: {e})"))
    } else {
        // kwctl records `Unknown` for every mode but waPC, which has no such call.
        "Unknown".to_string()
    };
    let stored = metadata
        .as_ref()
        .map(|_| raw_metadata(&module.bytes))
        .transpose()?
        .flatten();
    let Metadata {
        rules,
        mutating,
        annotations,
        policy_type,
        context_aware_resources,
        ..
    } = metadata.clone().unwrap_or_default();
    Ok(Inspection {
        origin: module.origin.clone(),
        has_metadata: metadata.is_some(),
        execution_mode,
        policy_type,
        protocol_version,
        mutating,
        rules,
        annotations,
        context_aware_resources,
        imports: imports(&module.bytes)?,
        metadata: stored,
    })
}

fn raw_metadata(wasm: &[u8]) -> miette::Result<Option<Value>> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(section)) = payload
            && section.name() == crate::policies::metadata::METADATA_SECTION
        {
            return serde_json::from_slice(section.data())
                .map(Some)
                .into_diagnostic();
        }
    }
    Ok(None)
}

fn imports(wasm: &[u8]) -> miette::Result<Vec<String>> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| miette!("not a valid WebAssembly module: {e}"))?;
        if let wasmparser::Payload::ImportSection(section) = payload {
            for import in section.into_imports() {
                let import = import.map_err(|e| miette!("invalid import section: {e}"))?;
                names.push(format!("{}.{}", import.module, import.name));
            }
        }
    }
    Ok(names)
}

fn human(i: &Inspection) -> String {
    let mut text = String::new();
    let mut line = |key: &str, value: &str| text.push_str(&format!("{key:<24}{value}\n"));
    line("policy", &i.origin);
    if let Some(title) = i.annotations.get("io.kubewarden.policy.title") {
        line("title", title);
    }
    line(
        "execution mode",
        &match i.execution_mode {
            Some(mode) if i.has_metadata => mode.to_string(),
            Some(mode) => format!("{mode} (no metadata: the default)"),
            None => "none: a Rego module without metadata needs -e opa or -e gatekeeper".into(),
        },
    );
    line(
        "policy type",
        match i.policy_type {
            PolicyType::Kubernetes => "kubernetes",
            PolicyType::Raw => "raw",
        },
    );
    line("protocol version", &i.protocol_version);
    line("mutating", if i.mutating { "yes" } else { "no" });
    if !i.has_metadata {
        line("metadata", "none (the policy applies to every request)");
    }
    for rule in &i.rules {
        line("rule", &serde_json::to_string(rule).unwrap_or_default());
    }
    for resource in &i.context_aware_resources {
        line(
            "context-aware resource",
            &format!("{} {}", resource.api_version, resource.kind),
        );
    }
    for (key, value) in &i.annotations {
        // A usage annotation is a whole README: its first line is enough here.
        let first = value.lines().next().unwrap_or_default();
        let shown = if value.lines().nth(1).is_some() {
            format!("{first} …")
        } else {
            first.to_string()
        };
        line("annotation", &format!("{key}: {shown}"));
    }
    for import in &i.imports {
        line("import", import);
    }
    text
}
