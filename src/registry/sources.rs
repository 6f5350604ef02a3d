//! kwctl's `sources.yaml`: registries reached over plain HTTP (`insecure_sources`) and the
//! certificate authorities trusted for a registry (`source_authorities`), so one file serves
//! kwctl and admit (Kubewarden's policy-fetcher `sources.rs`; the file kwctl reads by default
//! is `~/.config/kubewarden/sources.yaml`).
//!
//! ```yaml
//! insecure_sources: ["localhost:5000"]
//! source_authorities:
//!   "registry.internal:5500":
//!     - type: Path
//!       path: /etc/pki/internal-ca.pem
//!     - type: Data
//!       data: |
//!         -----BEGIN CERTIFICATE-----
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::FileError;
use crate::config::reader::{self, Problem};
use crate::documents::{Node, Value};
use crate::source::SourceFile;

/// What sources.yaml says about registries.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    /// Registries (`HOST[:PORT]`) reached over plain HTTP.
    pub insecure: Vec<String>,
    /// PEM certificates trusted for a registry, beside the system's roots.
    pub authorities: BTreeMap<String, Vec<Vec<u8>>>,
}

impl Sources {
    /// kwctl's default file, when there is one: `$XDG_CONFIG_HOME/kubewarden/sources.yaml`,
    /// else `~/.config/kubewarden/sources.yaml`.
    pub fn default_path() -> Option<PathBuf> {
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(config.join("kubewarden").join("sources.yaml")).filter(|p| p.is_file())
    }

    /// Read the file at `path`.
    pub fn read(path: &Path) -> Result<Sources, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError {
            file: SourceFile::new(path.display().to_string(), ""),
            span: Default::default(),
            message: format!("cannot read registry sources {}: {e}", path.display()),
            help: None,
        })?;
        let file = SourceFile::new(path.display().to_string(), text);
        let directory = path.parent().unwrap_or(Path::new("."));
        let mut sources = parse(&file, directory).map_err(|p| p.in_file(&file))?;
        sources.path = Some(path.to_path_buf());
        Ok(sources)
    }

    /// Whether `registry` is reached over plain HTTP.
    pub fn is_insecure(&self, registry: &str) -> bool {
        self.insecure.iter().any(|host| host == registry)
    }
}

fn parse(file: &SourceFile, directory: &Path) -> Result<Sources, Problem> {
    let documents = reader::load(file).map_err(|e| Problem::new(e.span, e.message))?;
    let mut sources = Sources::default();
    let Some(document) = documents.first() else {
        return Ok(sources);
    };
    let root = &document.root;
    reader::mapping(
        root,
        "sources.yaml",
        &["insecure_sources", "source_authorities"],
    )?;
    if let Some(node) = root.get("insecure_sources") {
        sources.insecure = reader::strings(node, "insecure_sources")?
            .into_iter()
            .map(|(host, _)| host)
            .collect();
    }
    if let Some(node) = root.get("source_authorities") {
        let Value::Mapping(entries) = &node.value else {
            return Err(Problem::new(
                node.span,
                "source_authorities maps a registry to its certificates",
            ));
        };
        for entry in entries {
            let items: Vec<&Node> = match &entry.value.value {
                Value::Sequence(items) => items.iter().collect(),
                _ => vec![&entry.value],
            };
            let mut certificates = Vec::new();
            for item in items {
                certificates.push(certificate(item, directory)?);
            }
            sources.authorities.insert(entry.key.clone(), certificates);
        }
    }
    Ok(sources)
}

/// One authority: `{type: Path, path: FILE}`, `{type: Data, data: PEM}`, or a bare path.
fn certificate(item: &Node, directory: &Path) -> Result<Vec<u8>, Problem> {
    let read_path = |node: &Node| -> Result<Vec<u8>, Problem> {
        let path = directory.join(reader::string(node, "a certificate path")?);
        std::fs::read(&path).map_err(|e| {
            Problem::new(
                node.span,
                format!("cannot read certificate {}: {e}", path.display()),
            )
        })
    };
    if let Value::String(_) = item.value {
        return read_path(item);
    }
    reader::mapping(item, "a certificate", &["type", "path", "data"])?;
    let kind = item
        .get("type")
        .map(|n| reader::choice(n, "certificate type", &["Path", "Data"]))
        .transpose()?
        .unwrap_or(if item.get("data").is_some() {
            "Data"
        } else {
            "Path"
        });
    let field = item
        .get(if kind == "Data" { "data" } else { "path" })
        .ok_or_else(|| {
            Problem::new(
                item.span,
                format!(
                    "a certificate of type {kind} needs `{}`",
                    kind.to_lowercase()
                ),
            )
        })?;
    if kind == "Data" {
        Ok(reader::string(field, "certificate data")?
            .as_bytes()
            .to_vec())
    } else {
        read_path(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_registries_and_authorities_are_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "PEM FROM FILE").unwrap();
        let path = dir.path().join("sources.yaml");
        std::fs::write(
            &path,
            "insecure_sources: [\"localhost:5000\"]\nsource_authorities:\n  \"r.internal:5500\":\n    - type: Path\n      path: ca.pem\n    - type: Data\n      data: PEM INLINE\n",
        )
        .unwrap();
        let sources = Sources::read(&path).unwrap();
        assert!(sources.is_insecure("localhost:5000"));
        assert!(!sources.is_insecure("localhost:5001"));
        assert_eq!(
            sources.authorities["r.internal:5500"],
            vec![b"PEM FROM FILE".to_vec(), b"PEM INLINE".to_vec()]
        );
        std::fs::write(&path, "insecure_source: [x]\n").unwrap();
        let error = Sources::read(&path).unwrap_err();
        assert!(
            error.message.contains("insecure_source"),
            "{}",
            error.message
        );
    }
}
