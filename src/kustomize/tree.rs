//! The kustomizations among the checked paths: which include which, which are roots (what a
//! user deploys), and which files each one uses, so that no file is checked twice or as
//! something it is not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::kustomization::{FILE_NAMES, Kustomization, ReadError, is_remote};
use super::paths::normalize;
use crate::source::SourceFile;

/// A kustomization that could not be read.
#[derive(Debug, Clone)]
pub struct Broken {
    pub source: SourceFile,
    pub error: ReadError,
}

/// Every kustomization reachable from the checked paths, keyed by its directory (normalized,
/// as the user names it).
#[derive(Debug, Default)]
pub struct Tree {
    pub kustomizations: BTreeMap<PathBuf, Kustomization>,
    /// Kustomizations among the checked paths that no other checked one includes, in path
    /// order.
    pub roots: Vec<PathBuf>,
    /// Kustomization files that do not parse: errors for their file.
    pub broken: Vec<Broken>,
}

/// The kustomization file in `dir`, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Whether `path` is named like a kustomization file.
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| FILE_NAMES.contains(&name))
}

impl Tree {
    /// The tree of the kustomization files among `files` (paths as the walk produced them),
    /// with every kustomization they include, checked or not.
    pub fn discover(files: &[PathBuf]) -> Tree {
        let mut tree = Tree::default();
        let checked: BTreeSet<PathBuf> = files
            .iter()
            .filter(|file| is_kustomization_file(file))
            .filter_map(|file| file.parent().map(normalize))
            .collect();
        let mut pending: Vec<PathBuf> = checked.iter().cloned().collect();
        while let Some(dir) = pending.pop() {
            if tree.kustomizations.contains_key(&dir) {
                continue;
            }
            let Some(file) = kustomization_file(&dir) else {
                continue;
            };
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let source = SourceFile::new(normalize(&file).display().to_string(), text);
            match Kustomization::read(&dir, source.clone()) {
                Ok(kustomization) => {
                    pending.extend(tree.included(&kustomization));
                    tree.kustomizations.insert(dir, kustomization);
                }
                Err(error) => tree.broken.push(Broken { source, error }),
            }
        }
        let included: BTreeSet<PathBuf> = checked
            .iter()
            .filter_map(|dir| tree.kustomizations.get(dir))
            .flat_map(|k| tree.included(k))
            .collect();
        tree.roots = checked
            .into_iter()
            .filter(|dir| !included.contains(dir))
            .filter(|dir| {
                tree.kustomizations
                    .get(dir)
                    .is_some_and(|k| !k.is_component)
            })
            .collect();
        tree
    }

    /// The directories `kustomization` includes through `resources` and `components` that
    /// hold a kustomization.
    fn included(&self, kustomization: &Kustomization) -> Vec<PathBuf> {
        kustomization
            .resources
            .iter()
            .chain(&kustomization.components)
            .filter(|reference| !is_remote(&reference.text))
            .map(|reference| normalize(&kustomization.dir.join(&reference.text)))
            .filter(|path| path.is_dir() && kustomization_file(path).is_some())
            .collect()
    }

    /// The kustomizations `root` renders through, itself first, each once.
    pub fn closure(&self, root: &Path) -> Vec<&Kustomization> {
        let mut seen = BTreeSet::new();
        let mut order = Vec::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            if let Some(kustomization) = self.kustomizations.get(&dir) {
                pending.extend(self.included(kustomization).into_iter().rev());
                order.push(kustomization);
            }
        }
        order
    }

    /// Every file `root`'s rendering reads: kustomization files, resource files, patches and
    /// configurations. A rendered root's cached result is valid while none of them changed.
    pub fn files_of(&self, root: &Path) -> BTreeSet<PathBuf> {
        let mut files = BTreeSet::new();
        for kustomization in self.closure(root) {
            files.insert(PathBuf::from(kustomization.source.name()));
            files.extend(self.resource_files(kustomization));
            files.extend(
                kustomization
                    .used_files
                    .iter()
                    .map(|used| normalize(&kustomization.dir.join(&used.text))),
            );
        }
        files
    }

    /// The files `kustomization` lists as resources (not directories, not remote).
    pub fn resource_files(&self, kustomization: &Kustomization) -> Vec<PathBuf> {
        kustomization
            .resources
            .iter()
            .filter(|reference| !is_remote(&reference.text))
            .map(|reference| normalize(&kustomization.dir.join(&reference.text)))
            .filter(|path| path.is_file())
            .collect()
    }

    /// Files that are not objects to check one by one: every kustomization file, and every
    /// patch, configuration or generator input a kustomization uses.
    pub fn not_objects(&self) -> BTreeSet<PathBuf> {
        let mut files = BTreeSet::new();
        for kustomization in self.kustomizations.values() {
            files.insert(PathBuf::from(kustomization.source.name()));
            files.extend(
                kustomization
                    .used_files
                    .iter()
                    .map(|used| normalize(&kustomization.dir.join(&used.text))),
            );
        }
        files
    }

    /// Files that reach a check through a rendered root: the resource files of every
    /// kustomization a root includes.
    pub fn rendered_files(&self) -> BTreeSet<PathBuf> {
        self.roots
            .iter()
            .flat_map(|root| self.closure(root))
            .flat_map(|kustomization| self.resource_files(kustomization))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, files: &[(&str, &str)]) -> Vec<PathBuf> {
        files
            .iter()
            .map(|(name, text)| {
                let path = dir.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect()
    }

    #[test]
    fn overlays_are_roots_and_the_base_they_share_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(
            dir.path(),
            &[
                ("base/kustomization.yaml", "resources: [deploy.yaml]\n"),
                ("base/deploy.yaml", "kind: Deployment\n"),
                (
                    "dev/kustomization.yaml",
                    "resources: [../base]\npatches: [{path: patch.yaml}]\n",
                ),
                ("dev/patch.yaml", "kind: Deployment\n"),
                (
                    "prod/kustomization.yaml",
                    "resources: [../base, https://example.com/x?ref=v1]\ncomponents: [../comp]\n",
                ),
                ("comp/kustomization.yaml", "kind: Component\n"),
                ("loose.yaml", "kind: Pod\n"),
            ],
        );
        let tree = Tree::discover(&files);
        let root = normalize(dir.path());
        assert_eq!(tree.roots, [root.join("dev"), root.join("prod")]);
        assert!(
            tree.rendered_files()
                .contains(&root.join("base/deploy.yaml"))
        );
        let not_objects = tree.not_objects();
        assert!(not_objects.contains(&root.join("dev/patch.yaml")));
        assert!(not_objects.contains(&root.join("comp/kustomization.yaml")));
        assert!(!not_objects.contains(&root.join("loose.yaml")));
        let files_of_dev = tree.files_of(&root.join("dev"));
        assert!(files_of_dev.contains(&root.join("base/deploy.yaml")));
        assert!(files_of_dev.contains(&root.join("dev/patch.yaml")));
        assert!(!files_of_dev.contains(&root.join("comp/kustomization.yaml")));
    }
}
