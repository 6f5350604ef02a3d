//! Paths as Kustomize names them: lexically, relative to a kustomization's directory, without
//! following symbolic links (the normalization is the one inputs use).

use std::path::{Path, PathBuf};

pub use crate::inputs::{absolute, normalize};

/// The path that leads from the directory `from` to `to`; both absolute and normalized.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for component in &to[common..] {
        out.push(component);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_components_cancel_lexically() {
        assert_eq!(
            normalize(Path::new("./overlays/prod/../../base")),
            Path::new("base")
        );
        assert_eq!(normalize(Path::new("../a/./b")), Path::new("../a/b"));
        assert_eq!(normalize(Path::new("a/..")), Path::new("."));
        assert_eq!(normalize(Path::new("/a/../../b")), Path::new("/b"));
    }

    #[test]
    fn relative_paths_climb_then_descend() {
        assert_eq!(
            relative(Path::new("/tmp/x"), Path::new("/repo/overlays/prod")),
            Path::new("../../repo/overlays/prod")
        );
        assert_eq!(
            relative(Path::new("/repo/a"), Path::new("/repo/a/b.yaml")),
            Path::new("b.yaml")
        );
    }
}
