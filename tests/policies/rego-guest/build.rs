//! OPA modules import their memory (`env.memory`) from the host, which creates it, and export
//! it too (ABI ≥ 1.1).
fn main() {
    println!("cargo:rustc-link-arg=--import-memory");
    println!("cargo:rustc-link-arg=--export-memory");
}
