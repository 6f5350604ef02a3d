//! Where downloaded modules live: a content-addressed store under admit's cache directory,
//! keyed by digest, so a module is downloaded once whatever references name it and a locked
//! run needs no network. kwctl's store is read too (by reference, as kwctl lays it out), so a
//! kwctl user pulls nothing twice.
//!
//! Nothing is trusted because it is on disk: every read hashes the bytes against the digest
//! that names them, and entries are written whole (a temporary file renamed into place), so an
//! interrupted download leaves nothing behind.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::reference::ModuleRef;

/// The store's directory under admit's cache directory.
const STORE_DIR: &str = "registry";

/// `sha256:HEX` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::digest::hex(&Sha256::digest(bytes)))
}

/// A stored entry whose bytes no longer hash to its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tampered {
    /// The file.
    pub path: PathBuf,
    /// What its bytes hash to.
    pub actual: String,
}

/// admit's module store.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store under `cache_dir`.
    pub fn new(cache_dir: &Path) -> Store {
        Store {
            dir: cache_dir.join(STORE_DIR),
        }
    }

    /// The directory, for messages.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, kind: &str, digest: &str, extension: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir
            .join(kind)
            .join("sha256")
            .join(format!("{hex}.{extension}"))
    }

    /// The module with `digest`, if stored; `Err` when the stored bytes hash to something else.
    pub fn module(&self, digest: &str) -> Result<Option<Vec<u8>>, Tampered> {
        read_verified(&self.path("modules", digest, "wasm"), digest)
    }

    /// Store `bytes`, which the caller has hashed to `digest`.
    pub fn put_module(&self, digest: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path("modules", digest, "wasm");
        write(&path, bytes)?;
        Ok(path)
    }

    /// The manifest with `digest`, if stored intact.
    pub fn manifest(&self, digest: &str) -> Option<Vec<u8>> {
        read_verified(&self.path("manifests", digest, "json"), digest)
            .ok()
            .flatten()
    }

    /// Store a manifest, which the caller has hashed to `digest`.
    pub fn put_manifest(&self, digest: &str, bytes: &[u8]) -> std::io::Result<()> {
        write(&self.path("manifests", digest, "json"), bytes)
    }

    /// The cosign signatures pulled for the manifest `digest`: JSON written by
    /// [`Store::put_signatures`]. They are verified on every use, so they need no digest.
    pub fn signatures(&self, digest: &str) -> Option<Vec<u8>> {
        std::fs::read(self.path("signatures", digest, "json")).ok()
    }

    /// Store the signatures pulled for the manifest `digest`.
    pub fn put_signatures(&self, digest: &str, bytes: &[u8]) -> std::io::Result<()> {
        write(&self.path("signatures", digest, "json"), bytes)
    }
}

fn read_verified(path: &Path, digest: &str) -> Result<Option<Vec<u8>>, Tampered> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(None);
    };
    let actual = sha256(&bytes);
    if actual != digest {
        return Err(Tampered {
            path: path.to_path_buf(),
            actual,
        });
    }
    Ok(Some(bytes))
}

fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::atomic_file::write(path, bytes)
}

/// kwctl's store: `$XDG_CACHE_HOME/kubewarden/store`, else `~/.cache/kubewarden/store`
/// (kwctl's `DEFAULT_ROOT`, laid out as `registry/HOST/REPOSITORY:TAG` and `https/HOST/PATH`).
pub fn kwctl_store() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(cache.join("kubewarden").join("store"))
}

/// Where kwctl keeps what `kwctl pull REFERENCE` fetched.
pub fn kwctl_path(reference: &ModuleRef) -> Option<PathBuf> {
    let (scheme, rest) = reference.written().split_once("://")?;
    Some(kwctl_store()?.join(scheme).join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_module_reads_back_and_a_changed_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let digest = sha256(b"\0asm module");
        assert_eq!(store.module(&digest), Ok(None));
        let path = store.put_module(&digest, b"\0asm module").unwrap();
        assert_eq!(store.module(&digest), Ok(Some(b"\0asm module".to_vec())));
        std::fs::write(&path, b"\0asm other").unwrap();
        let tampered = store.module(&digest).unwrap_err();
        assert_eq!(tampered.path, path);
        assert_eq!(tampered.actual, sha256(b"\0asm other"));
    }
}
