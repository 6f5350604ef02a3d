//! Which files are test files: `admit-test.yaml` (or `.yml`), or a name ending in
//! `.admit-test.yaml` (`privileged.admit-test.yaml`), found under the paths given the way
//! `admit check` walks them (honouring `.gitignore` and `.ignore`, skipping hidden entries). A
//! file named on the command line is a test file whatever its name.

use std::path::{Path, PathBuf};

use super::format::TEST_FILE_NAMES;

/// What [`discover`] found.
#[derive(Debug, Default)]
pub(crate) struct Discovered {
    /// Test files, sorted, each once, named as reports show them.
    pub(crate) files: Vec<PathBuf>,
    /// Paths given that do not exist, as they were given.
    pub(crate) missing: Vec<PathBuf>,
}

/// Whether `name` is a test file's name.
pub(crate) fn is_test_file_name(name: &str) -> bool {
    TEST_FILE_NAMES
        .iter()
        .any(|test| name == *test || name.ends_with(&format!(".{test}")))
}

/// The test files under `paths`.
pub(crate) fn discover(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found.files);
        } else if path.is_file() {
            found.files.push(shown(path));
        } else {
            found.missing.push(path.clone());
        }
    }
    found.files.sort();
    found.files.dedup();
    found
}

fn walk(root: &Path, files: &mut Vec<PathBuf>) {
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(true)
        // A checkout without `.git` should still honour `.gitignore`, as `admit check` does.
        .require_git(false)
        .build();
    for entry in walker.flatten() {
        let is_file = entry.file_type().is_some_and(|t| t.is_file());
        let named = entry.file_name().to_str().is_some_and(is_test_file_name);
        if is_file && named {
            files.push(shown(entry.path()));
        }
    }
}

/// `path` as reports show it: without a leading `./`.
fn shown(path: &Path) -> PathBuf {
    path.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_files_are_named_admit_test_or_end_so() {
        for name in [
            "admit-test.yaml",
            "admit-test.yml",
            "privileged.admit-test.yaml",
        ] {
            assert!(is_test_file_name(name), "{name}");
        }
        for name in ["admit.yaml", "my-admit-test.yaml", "admit-test.json"] {
            assert!(!is_test_file_name(name), "{name}");
        }
    }
}
