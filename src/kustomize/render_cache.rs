//! Renderings kept across runs. Starting Kustomize costs a fifth of a second per root (most of
//! it `kubectl` starting up), which a pre-commit hook on a tree of many overlays cannot pay on
//! every commit. A root's rendering is reused while nothing it could have read changed: every
//! entry of every directory it renders through (names, sizes, modification times), every file
//! it names outside them, and the command. A root with a remote resource is never reused,
//! since what it fetches can change without any file here changing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::kustomization::is_remote;
use super::paths::absolute;
use super::render::{Rendered, Renderer};
use super::tree::Tree;
use crate::digest::hex;

/// Where renderings are kept: `renders/` under admit's cache directory.
#[derive(Debug, Clone)]
pub struct RenderCache {
    dir: PathBuf,
}

impl RenderCache {
    /// The cache under `cache_dir`.
    pub fn new(cache_dir: &Path) -> Self {
        RenderCache {
            dir: cache_dir.join("renders"),
        }
    }

    /// What `root`'s rendering depends on, as a digest; `None` when it cannot be reused (a
    /// remote resource, or a file that cannot be examined).
    pub fn fingerprint(tree: &Tree, root: &Path, renderer: &Renderer) -> Option<String> {
        let closure = tree.closure(root);
        let remote = closure
            .iter()
            .flat_map(|k| k.resources.iter().chain(&k.components))
            .any(|reference| is_remote(&reference.text));
        if remote {
            return None;
        }
        let mut text = format!("{}\n", renderer.command());
        let mut dirs: Vec<PathBuf> = closure.iter().map(|k| absolute(&k.dir)).collect();
        dirs.sort();
        dirs.dedup();
        for dir in &dirs {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .ok()?
                .filter_map(Result::ok)
                .collect();
            entries.sort_by_key(|entry| entry.file_name());
            for entry in entries {
                stat_line(&mut text, &entry.path())?;
            }
        }
        for file in tree.files_of(root) {
            let file = absolute(&file);
            if !file
                .parent()
                .is_some_and(|dir| dirs.iter().any(|d| d == dir))
            {
                stat_line(&mut text, &file)?;
            }
        }
        Some(hex(&Sha256::digest(text.as_bytes())))
    }

    fn path(&self, root: &Path) -> PathBuf {
        let key = Sha256::digest(absolute(root).as_os_str().as_encoded_bytes());
        self.dir.join(format!("{}.yaml", hex(&key[..16])))
    }

    /// The rendering kept for `root` under `fingerprint`.
    pub fn get(&self, root: &Path, fingerprint: &str) -> Option<Rendered> {
        let text = std::fs::read_to_string(self.path(root)).ok()?;
        let (header, yaml) = text.split_once("\n---\n")?;
        let (kept, wrapper) = header.split_once('\n')?;
        (kept == fingerprint).then(|| Rendered {
            yaml: yaml.to_string(),
            wrapper: PathBuf::from(wrapper),
        })
    }

    /// Keep `rendered` for `root`. Failing to is not an error: the cache only saves time.
    pub fn put(&self, root: &Path, fingerprint: &str, rendered: &Rendered) {
        let text = format!(
            "{fingerprint}\n{}\n---\n{}",
            rendered.wrapper.display(),
            rendered.yaml
        );
        let _ = std::fs::create_dir_all(&self.dir);
        let _ = crate::atomic_file::write(&self.path(root), text.as_bytes());
    }
}

/// One line that changes when the file at `path` does: its name, size and modification time.
fn stat_line(text: &mut String, path: &Path) -> Option<()> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    writeln!(
        text,
        "{} {} {}",
        path.display(),
        meta.len(),
        modified.as_nanos()
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendering_is_reused_until_a_file_in_its_tree_changes() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("kustomization.yaml"), "resources: [a.yaml]\n").unwrap();
        std::fs::write(base.join("a.yaml"), "kind: Pod\n").unwrap();
        let tree = Tree::discover(&[base.join("kustomization.yaml")]);
        let renderer = Renderer {
            argv: vec!["kustomize".into(), "build".into()],
        };
        let before = RenderCache::fingerprint(&tree, &base, &renderer).unwrap();
        let cache = RenderCache::new(&dir.path().join("cache"));
        let rendered = Rendered {
            yaml: "kind: Pod\n".into(),
            wrapper: PathBuf::from("/tmp/w"),
        };
        cache.put(&base, &before, &rendered);
        assert_eq!(cache.get(&base, &before).unwrap().yaml, "kind: Pod\n");
        // A new file in the directory (a patch not yet named, say) is a change too.
        std::fs::write(base.join("b.yaml"), "kind: Pod\n").unwrap();
        let after = RenderCache::fingerprint(&tree, &base, &renderer).unwrap();
        assert_ne!(before, after);
        assert!(cache.get(&base, &after).is_none());
    }
}
