//! Two things the binary needs from its build:
//!
//! - `ADMIT_SOURCE_HASH`, a hash of admit's own sources and the policy modules it embeds, so
//!   that results cached by one build are never trusted by another: the version number alone
//!   does not change between development builds.
//! - `$OUT_DIR/builtins.cwasm`: the bundle of built-in policies (`policies/builtins`),
//!   compiled ahead of time with the engine configuration admit runs with, so that no run
//!   compiles a built-in. It is compiled for the target's baseline CPU, not this machine's,
//!   so that a binary built on one machine loads it on any other of its architecture; admit
//!   falls back to compiling the bundle (and caching it) if its engine refuses the file, and
//!   the file is empty where Cranelift cannot compile for the target.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

#[path = "src/policies/runtime/engine_config.rs"]
mod engine_config;

/// The bundle, as `policies/build.sh` commits it.
const BUNDLE: &str = "policies/builtins/builtins.wasm";

fn main() -> Result<(), String> {
    stamp_source_hash();
    precompile_bundle()
}

fn stamp_source_hash() {
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.push(PathBuf::from("Cargo.lock"));
    // The built-ins' modules: the result cache keys a built-in by this hash and its id rather
    // than hashing its module on every run.
    collect_modules(Path::new("policies"), &mut files);
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        hasher.write(file.to_string_lossy().as_bytes());
        hasher.write(&std::fs::read(file).unwrap_or_default());
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rustc-env=ADMIT_SOURCE_HASH={:016x}", hasher.finish());
}

fn collect(directory: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// `policies/<id>/<id>.wasm` and `policies/builtins/builtins.wasm`.
fn collect_modules(policies: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(policies) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let module = entry.path().join(name).with_extension("wasm");
        if module.is_file() {
            files.push(module);
        }
    }
}

/// Fails only when the output cannot be written: without it the crate cannot build.
fn precompile_bundle() -> Result<(), String> {
    println!("cargo:rerun-if-changed={BUNDLE}");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let (out, stamp) = (out_dir.join("builtins.cwasm"), out_dir.join("builtins.key"));
    let compiled = match precompiler() {
        Ok((engine, wasm)) => {
            // The script reruns whenever a source file changes (for the hash above); the
            // bundle is compiled again only when it or the engine did.
            let mut key = DefaultHasher::new();
            key.write(&wasm);
            engine.precompile_compatibility_hash().hash(&mut key);
            let key = format!("{:016x}", key.finish());
            if out.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|k| k == key) {
                return Ok(());
            }
            let _ = std::fs::remove_file(&stamp);
            engine
                .precompile_module(&wasm)
                .map(|compiled| (compiled, Some(key)))
                .map_err(|e| format!("cannot compile {BUNDLE}: {e:#}"))
        }
        Err(reason) => Err(reason),
    };
    let (compiled, key) = compiled.unwrap_or_else(|reason| {
        println!(
            "cargo:warning=the built-in policies are not precompiled ({reason}); admit will compile them on first use"
        );
        (Vec::new(), None)
    });
    std::fs::write(&out, compiled).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    if let Some(key) = key {
        let _ = std::fs::write(&stamp, key);
    }
    Ok(())
}

/// The engine to compile the bundle with, for the target being built, and the bundle.
fn precompiler() -> Result<(wasmtime::Engine, Vec<u8>), String> {
    let wasm = std::fs::read(BUNDLE).map_err(|e| format!("cannot read {BUNDLE}: {e}"))?;
    let target = std::env::var("TARGET").map_err(|e| format!("no TARGET: {e}"))?;
    let mut config = engine_config::engine_config();
    // An explicit target means Cranelift's baseline for it, without this machine's extensions.
    config
        .target(&target)
        .map_err(|e| format!("Cranelift has no target {target}: {e}"))?;
    let engine = wasmtime::Engine::new(&config).map_err(|e| e.to_string())?;
    Ok((engine, wasm))
}
