//! Compiled modules kept on disk across runs, so that only the first run pays for compiling
//! each policy (tens of milliseconds per module; the whole built-in set is seconds).
//!
//! An entry is keyed by the module's bytes and the engine's compatibility hash (which covers
//! the wasmtime version and every setting that affects code generation), and carries a SHA-256
//! of its own contents. An entry that is truncated, corrupt or from another engine is ignored
//! and rebuilt, never loaded on trust. Writes go to a temporary file that is renamed into place,
//! so concurrent runs never see half an entry.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::digest::hex;
use wasmtime::{Engine, Module};

/// Bumped when the entry layout changes.
const FORMAT: &[u8] = b"admit-module-cache-v1";
const DIGEST_LEN: usize = 32;

/// A directory of compiled modules.
#[derive(Debug, Clone)]
pub struct ModuleCache {
    dir: PathBuf,
}

impl ModuleCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModuleCache { dir: dir.into() }
    }

    /// `$ADMIT_CACHE_DIR`, else `$XDG_CACHE_HOME/admit`, else `~/.cache/admit`.
    pub fn default_dir() -> Option<PathBuf> {
        let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = from_env("ADMIT_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = from_env("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("admit"));
        }
        from_env("HOME").map(|home| PathBuf::from(home).join(".cache").join("admit"))
    }

    /// The directory entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The compiled module for `wasm`: from the cache when a valid entry exists, else compiled
    /// and stored. Failing to store is not an error: the cache only saves time.
    pub fn load_or_compile(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Module> {
        let path = self.entry_path(engine, wasm);
        if let Some(module) = read_entry(engine, &path) {
            return Ok(module);
        }
        let module = Module::new(engine, wasm)?;
        if let Ok(serialized) = module.serialize() {
            let _ = write_entry(&path, &serialized);
        }
        Ok(module)
    }

    fn entry_path(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut hasher = DigestHasher(Sha256::new());
        hasher.0.update(FORMAT);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        hasher.0.update(wasm);
        let key = hex(&hasher.0.finalize());
        self.dir.join("modules").join(format!("{key}.cwasm"))
    }
}

/// Feeds `Hash` implementations into SHA-256, for a key that is stable across runs.
struct DigestHasher(Sha256);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        // Only the digest is used; `finish` exists to satisfy the trait.
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn read_entry(engine: &Engine, path: &Path) -> Option<Module> {
    let bytes = std::fs::read(path).ok()?;
    let split = bytes.len().checked_sub(DIGEST_LEN)?;
    let (body, digest) = bytes.split_at(split);
    if Sha256::digest(body).as_slice() != digest {
        return None;
    }
    // SAFETY: `body` was produced by `Module::serialize` for an engine with the same
    // compatibility hash (it is part of the file name) and is byte-for-byte what was written
    // (the digest above); wasmtime also checks the header and engine settings itself.
    unsafe { Module::deserialize(engine, body) }.ok()
}

fn write_entry(path: &Path, serialized: &[u8]) -> std::io::Result<()> {
    let mut entry = Vec::with_capacity(serialized.len() + DIGEST_LEN);
    entry.extend_from_slice(serialized);
    entry.extend_from_slice(&Sha256::digest(serialized));
    crate::atomic_file::write(path, &entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module_bytes() -> Vec<u8> {
        wat::parse_str("(module (func (export \"f\") (result i32) i32.const 7))").unwrap()
    }

    #[test]
    fn a_second_load_comes_from_the_cache_and_corruption_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModuleCache::new(dir.path());
        let engine = Engine::default();
        let wasm = module_bytes();
        cache.load_or_compile(&engine, &wasm).unwrap();
        let entry = cache.entry_path(&engine, &wasm);
        assert!(read_entry(&engine, &entry).is_some(), "the entry is valid");

        std::fs::write(
            &entry,
            b"not a module at all, but long enough to have a digest",
        )
        .unwrap();
        assert!(
            read_entry(&engine, &entry).is_none(),
            "corruption is detected"
        );
        cache.load_or_compile(&engine, &wasm).unwrap();
        assert!(
            read_entry(&engine, &entry).is_some(),
            "and the entry rebuilt"
        );
    }

    #[test]
    fn engine_settings_are_part_of_the_key() {
        // Enabling function references (for Go's wasip1 modules) must not load entries compiled
        // without them, and the other way round.
        let cache = ModuleCache::new("/nonexistent");
        let mut with = wasmtime::Config::new();
        with.wasm_function_references(true);
        let mut without = wasmtime::Config::new();
        without.wasm_function_references(false);
        without.wasm_gc(false);
        let wasm = module_bytes();
        assert_ne!(
            cache.entry_path(&Engine::new(&with).unwrap(), &wasm),
            cache.entry_path(&Engine::new(&without).unwrap(), &wasm)
        );
    }

    #[test]
    fn different_modules_have_different_entries() {
        let cache = ModuleCache::new("/nonexistent");
        let engine = Engine::default();
        let other = wat::parse_str("(module)").unwrap();
        assert_ne!(
            cache.entry_path(&engine, &module_bytes()),
            cache.entry_path(&engine, &other)
        );
    }
}
