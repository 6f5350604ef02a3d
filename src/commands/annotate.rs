//! `admit annotate`: embed Kubewarden metadata in a module, as `kwctl annotate` does (kwctl's
//! `src/annotate.rs`, <https://github.com/kubewarden/kwctl/blob/main/src/annotate.rs>): the
//! metadata YAML, validated, with the protocol version the module reports and an optional
//! README as the usage annotation, written as the `io.kubewarden.metadata` custom section in
//! place of any existing one.

use std::path::Path;

use miette::{IntoDiagnostic, miette};
use serde_json::{Map, Value, json};
use wasm_encoder::{CustomSection, RawSection};

use crate::documents;
use crate::policies::metadata::METADATA_SECTION;
use crate::policies::{
    ExecutionMode, Limits, Metadata, PolicyRuntime, is_rego, not_a_module, wapc,
};

/// Annotation that carries the policy's README.
const USAGE_ANNOTATION: &str = "io.kubewarden.policy.usage";

/// The operations a rule may list.
const OPERATIONS: [&str; 5] = ["CREATE", "UPDATE", "DELETE", "CONNECT", "*"];

/// Write `input` with the metadata of `metadata_file` (and `usage_file` as its usage) to
/// `output`.
pub(crate) fn annotate(
    input: &Path,
    metadata_file: &Path,
    usage_file: Option<&Path>,
    output: &Path,
) -> miette::Result<()> {
    let wasm = std::fs::read(input).map_err(|e| miette!("cannot read {}: {e}", input.display()))?;
    if let Some(why) = not_a_module(&wasm) {
        return Err(miette!("cannot annotate {}: {why}", input.display()));
    }
    let text = std::fs::read_to_string(metadata_file)
        .map_err(|e| miette!("cannot read {}: {e}", metadata_file.display()))?;
    let (metadata, mut fields) = parse_metadata(&text)
        .map_err(|e| miette!("invalid metadata in {}: {e}", metadata_file.display()))?;
    if let Some(usage_file) = usage_file {
        let usage = std::fs::read_to_string(usage_file)
            .map_err(|e| miette!("cannot read {}: {e}", usage_file.display()))?;
        let annotations = fields
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(annotations) = annotations {
            annotations.insert(USAGE_ANNOTATION.into(), Value::String(usage));
        }
    }
    let version = protocol_version(&wasm, metadata.execution_mode)?;
    fields.insert("protocolVersion".into(), Value::String(version));
    // kwctl writes every defaulted field, so readers need not know the defaults.
    let defaults = [
        ("executionMode", json!(metadata.execution_mode)),
        ("policyType", json!(metadata.policy_type)),
        ("backgroundAudit", json!(true)),
        ("contextAwareResources", json!([])),
    ];
    for (key, value) in defaults {
        fields.entry(key).or_insert(value);
    }
    let section = serde_json::to_vec(&fields).into_diagnostic()?;
    let annotated = with_metadata(&wasm, &section)
        .map_err(|e| miette!("{} is not a WebAssembly module: {e}", input.display()))?;
    crate::atomic_file::write(output, &annotated)
        .map_err(|e| miette!("cannot write {}: {e}", output.display()))
}

/// Parse and validate metadata YAML as kwctl does: `rules` and `mutating` must be given, every
/// rule list must have an entry, `*` must stand alone, operations must be known ones. Returns
/// the typed metadata and every field as written, unknown ones included.
pub(crate) fn parse_metadata(text: &str) -> Result<(Metadata, Map<String, Value>), String> {
    let loaded = documents::load(text);
    if let Some(error) = loaded.errors.first() {
        return Err(error.message.clone());
    }
    let [document] = loaded.documents.as_slice() else {
        return Err("expected exactly one YAML document".into());
    };
    let value = document.root.to_json();
    let Value::Object(fields) = &value else {
        return Err("the metadata must be a mapping".into());
    };
    for key in ["rules", "mutating"] {
        if !fields.contains_key(key) {
            return Err(format!("missing field `{key}`"));
        }
    }
    let fields = fields.clone();
    let metadata: Metadata = serde_json::from_value(value).map_err(|e| e.to_string())?;
    for (index, rule) in metadata.rules.iter().enumerate() {
        let lists = [
            ("apiGroups", &rule.api_groups),
            ("apiVersions", &rule.api_versions),
            ("resources", &rule.resources),
            ("operations", &rule.operations),
        ];
        for (name, list) in lists {
            if list.is_empty() {
                return Err(format!("rule {}: {name} must not be empty", index + 1));
            }
            if list.len() > 1 && list.iter().any(|entry| entry == "*") {
                return Err(format!(
                    "rule {}: `*` in {name} must be its only entry",
                    index + 1
                ));
            }
        }
        if let Some(bad) = rule
            .operations
            .iter()
            .find(|op| !OPERATIONS.contains(&op.as_str()))
        {
            return Err(format!(
                "rule {}: unknown operation `{bad}`; use CREATE, UPDATE, DELETE, CONNECT or *",
                index + 1
            ));
        }
    }
    Ok((metadata, fields))
}

/// `v1` from a waPC module's own `protocol_version`; `Unknown` for the other modes, as kwctl
/// records. A mode that does not fit the module is refused.
fn protocol_version(wasm: &[u8], mode: ExecutionMode) -> miette::Result<String> {
    crate::policies::resolve_mode(Some(mode), None, is_rego(wasm)).map_err(|e| miette!("{e}"))?;
    if mode != ExecutionMode::KubewardenWapc {
        return Ok("Unknown".into());
    }
    let runtime = PolicyRuntime::new(Limits::default(), None)
        .map_err(|e| miette!("cannot start the WebAssembly runtime: {e}"))?;
    let version = wapc::protocol_version(&runtime, wasm).map_err(|e| {
        miette!("the module did not answer protocol_version, so it is not a waPC policy: {e}")
    })?;
    if version != "v1" {
        return Err(miette!(
            "the module reports protocol version {version:?}; only v1 is valid for waPC"
        ));
    }
    Ok(version)
}

/// `wasm` with every `io.kubewarden.metadata` section dropped and `metadata` appended as a new
/// one; every other section is copied byte for byte.
pub(crate) fn with_metadata(
    wasm: &[u8],
    metadata: &[u8],
) -> Result<Vec<u8>, wasmparser::BinaryReaderError> {
    let mut module = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if let wasmparser::Payload::CustomSection(section) = &payload {
            if section.name() != METADATA_SECTION {
                module.section(&CustomSection {
                    name: section.name().into(),
                    data: section.data().into(),
                });
            }
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            module.section(&RawSection {
                id,
                data: &wasm[range],
            });
        }
    }
    module.section(&CustomSection {
        name: METADATA_SECTION.into(),
        data: metadata.into(),
    });
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::read_metadata;

    #[test]
    fn an_existing_section_is_replaced_and_the_module_still_parses() {
        let wasm = wat::parse_str(
            r#"(module (@custom "io.kubewarden.metadata" "{\"rules\":[],\"mutating\":false}") (func (export "f")))"#,
        )
        .unwrap();
        let out = with_metadata(&wasm, br#"{"rules":[],"mutating":true}"#).unwrap();
        wasmparser::Validator::new().validate_all(&out).unwrap();
        assert!(read_metadata(&out).unwrap().unwrap().mutating);
        let sections = wasmparser::Parser::new(0)
            .parse_all(&out)
            .filter(|p| matches!(p, Ok(wasmparser::Payload::CustomSection(s)) if s.name() == METADATA_SECTION))
            .count();
        assert_eq!(sections, 1);
    }

    #[test]
    fn metadata_is_validated_as_kwctl_validates_it() {
        let rule = "rules:\n- apiGroups: ['']\n  apiVersions: [v1]\n  resources: [pods]\n  operations: [CREATE]\n";
        assert!(parse_metadata(&format!("{rule}mutating: false\n")).is_ok());
        assert_eq!(
            parse_metadata(rule).map(|_| ()).unwrap_err(),
            "missing field `mutating`"
        );
        let star = "rules:\n- apiGroups: ['*', apps]\n  apiVersions: [v1]\n  resources: [pods]\n  operations: [CREATE]\nmutating: false\n";
        assert!(
            parse_metadata(star)
                .map(|_| ())
                .unwrap_err()
                .contains("must be its only entry")
        );
        let empty = "rules:\n- apiGroups: []\n  apiVersions: [v1]\n  resources: [pods]\n  operations: [CREATE]\nmutating: false\n";
        assert!(
            parse_metadata(empty)
                .map(|_| ())
                .unwrap_err()
                .contains("must not be empty")
        );
        let op = "rules:\n- apiGroups: ['']\n  apiVersions: [v1]\n  resources: [pods]\n  operations: [PATCH]\nmutating: false\n";
        assert!(
            parse_metadata(op)
                .map(|_| ())
                .unwrap_err()
                .contains("unknown operation `PATCH`")
        );
    }
}
