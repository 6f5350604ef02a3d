//! The configuration of downloaded modules: `registry` and `verify`.
//!
//! ```yaml
//! registry:
//!   sources: sources.yaml     # kwctl's format: insecure_sources, source_authorities
//!   timeout: 30               # seconds one registry request may take
//! verify:                     # registry modules must carry a cosign signature by one key
//!   keys: [keys/cosign.pub]   # PEM public keys, relative to this file
//!   annotations: {env: prod}  # and these annotations in the signature (cosign sign -a)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::documents::Node;
use crate::registry::VerifyConfig;
use crate::registry::verify::read_key;

use super::reader::{self, Problem, ReadResult};

/// `registry:` as read.
#[derive(Debug, Clone, Default)]
pub(crate) struct RegistrySettings {
    /// kwctl's sources.yaml, resolved against the configuration's directory.
    pub(crate) sources: Option<PathBuf>,
    /// The limit of one request, in seconds.
    pub(crate) timeout: Option<f64>,
}

/// `registry: {sources, timeout}`.
pub(super) fn registry(node: &Node, directory: &Path) -> ReadResult<RegistrySettings> {
    reader::mapping(node, "registry", &["sources", "timeout"])?;
    let sources = node
        .get("sources")
        .map(|n| {
            let path = directory.join(reader::string(n, "registry.sources")?);
            if !path.is_file() {
                return Err(
                    Problem::new(n.span, format!("no sources file at {}", path.display())).help(
                        "paths are relative to this file; the format is kwctl's sources.yaml",
                    ),
                );
            }
            Ok(path)
        })
        .transpose()?;
    let timeout = node
        .get("timeout")
        .map(|n| reader::positive_number(n, "registry.timeout"))
        .transpose()?;
    Ok(RegistrySettings { sources, timeout })
}

/// `verify: {keys, annotations}`: each key read and parsed now, so a wrong file is reported at
/// its line rather than when a module is refused.
pub(super) fn verify(node: &Node, directory: &Path) -> ReadResult<VerifyConfig> {
    reader::mapping(node, "verify", &["keys", "annotations"])?;
    let keys_node = node.get("keys").ok_or_else(|| {
        Problem::new(
            node.span,
            "verify needs `keys`: the public keys modules are signed with",
        )
        .help("e.g. `keys: [cosign.pub]`, the file `cosign generate-key-pair` writes")
    })?;
    let mut keys = Vec::new();
    for (name, span) in reader::strings(keys_node, "verify.keys")? {
        let path = directory.join(&name);
        let pem = std::fs::read_to_string(&path).map_err(|e| {
            Problem::new(span, format!("cannot read key {}: {e}", path.display()))
                .help("key paths are relative to this file")
        })?;
        let key =
            read_key(&pem).map_err(|e| Problem::new(span, format!("{}: {e}", path.display())))?;
        keys.push((PathBuf::from(name), key));
    }
    if keys.is_empty() {
        return Err(Problem::new(keys_node.span, "verify.keys names no key"));
    }
    let mut annotations = BTreeMap::new();
    if let Some(node) = node.get("annotations") {
        for (key, value) in reader::json_object(node, "verify.annotations")? {
            let serde_json::Value::String(value) = value else {
                return Err(Problem::new(
                    node.span,
                    format!("verify.annotations.{key} must be a string"),
                ));
            };
            annotations.insert(key, value);
        }
    }
    Ok(VerifyConfig { keys, annotations })
}
