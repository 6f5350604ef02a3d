//! `oci/v1/manifest_digest`, `oci/v1/oci_manifest` and `oci/v1/oci_manifest_config`, asked of
//! the registry through admit's registry client (`crate::registry`), unless the run is
//! offline: the answers policy-evaluator's `callback_handler/oci.rs` gives from a registry.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use std::path::PathBuf;

use crate::registry::{Fetcher, RegistryRef, Sources};

/// A registry client made on the first image call.
pub struct Images {
    sources: Option<PathBuf>,
    timeout: Duration,
    fetcher: Mutex<Option<Fetcher>>,
}

impl Images {
    /// Images asked of registries as the sources.yaml at `sources` says (read on the first
    /// image call, so a run whose policies ask none reads nothing), each request within
    /// `timeout`.
    pub fn new(sources: Option<PathBuf>, timeout: Duration) -> Images {
        Images {
            sources,
            timeout,
            fetcher: Mutex::new(None),
        }
    }

    /// Answer `operation` with `payload` (a JSON string naming an image).
    pub fn answer(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, String> {
        let name: String = serde_json::from_slice(payload)
            .map_err(|e| format!("invalid oci/{operation} request: {e}"))?;
        let reference = RegistryRef::image(&name).map_err(|e| e.to_string())?;
        let mut guard = self
            .fetcher
            .lock()
            .map_err(|_| "the registry client failed".to_string())?;
        if guard.is_none() {
            let sources = match &self.sources {
                Some(path) => Sources::read(path).map_err(|e| e.message)?,
                None => Sources::default(),
            };
            *guard = Some(Fetcher::new(sources, self.timeout).map_err(|e| e.message)?);
        }
        let Some(fetcher) = guard.as_mut() else {
            return Err("no registry client".into());
        };
        let fail = |e: crate::registry::RegistryError| format!("{name}: {}", e.message);
        let answer = match operation {
            "v1/manifest_digest" => json!({"digest": fetcher.resolve(&reference).map_err(fail)?}),
            "v1/oci_manifest" => {
                let (bytes, _) = fetcher.manifest(&reference).map_err(fail)?;
                serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{name}: the manifest is not JSON: {e}"))?
            }
            "v1/oci_manifest_config" => {
                let (bytes, digest) = fetcher.manifest(&reference).map_err(fail)?;
                let manifest: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{name}: the manifest is not JSON: {e}"))?;
                let config = &manifest["config"];
                let (Some(config_digest), Some(media_type)) =
                    (config["digest"].as_str(), config["mediaType"].as_str())
                else {
                    return Err(format!(
                        "{name}: the manifest has no config (an image index?)"
                    ));
                };
                let size = config["size"].as_i64().unwrap_or(-1);
                let blob = fetcher
                    .blob(&reference, config_digest, media_type, size)
                    .map_err(fail)?;
                let config: Value = serde_json::from_slice(&blob)
                    .map_err(|e| format!("{name}: the image config is not JSON: {e}"))?;
                json!({"manifest": manifest, "digest": digest, "config": config})
            }
            _ => return Err(format!("unknown operation: {operation}")),
        };
        serde_json::to_vec(&answer).map_err(|e| format!("cannot serialize the answer: {e}"))
    }
}
