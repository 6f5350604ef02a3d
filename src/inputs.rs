//! Which files a check reads, and reading them.
//!
//! Directories are walked recursively, honouring `.gitignore` and `.ignore` and skipping hidden
//! entries, and only `.yaml`, `.yml` and `.json` files are taken from them. A file named on the
//! command line is always read, whatever its name: that is how pre-commit passes files.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::source::SourceFile;

/// Which files a configuration wants checked: inside an `include` glob if there are any, and
/// outside every `exclude` glob, both relative to `base` (the configuration's directory).
///
/// It applies to files named on the command line too: pre-commit names every staged YAML file,
/// and a team's `exclude` must hold there as well.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The directory globs are relative to, absolute and normalized.
    pub base: PathBuf,
    /// Globs of files to check; `None` is every file.
    pub include: Option<globset::GlobSet>,
    /// Globs of files never to check.
    pub exclude: Option<globset::GlobSet>,
}

impl Selection {
    /// Every file under `base`.
    pub fn new(base: PathBuf) -> Self {
        Selection {
            base: absolute(&base),
            include: None,
            exclude: None,
        }
    }

    /// Whether `path` (as the walk found it) is to be checked. Paths outside `base` are matched
    /// as they are, absolute.
    pub fn selects(&self, path: &Path) -> bool {
        let relative = relative_to(path, &self.base);
        self.include
            .as_ref()
            .is_none_or(|include| include.is_match(&relative))
            && self
                .exclude
                .as_ref()
                .is_none_or(|exclude| !exclude.is_match(&relative))
    }
}

/// `path` relative to the absolute, normalized `base`; `path` itself (made absolute) when it
/// is not under `base`.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path = absolute(path);
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or(path)
}

/// `path` made absolute against the working directory, and normalized.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        normalize(path)
    } else {
        normalize(&std::env::current_dir().unwrap_or_default().join(path))
    }
}

/// Drop `.` and resolve `..` lexically, so `./deploy/../k8s/a.yaml` matches `k8s/**`.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Extensions read when walking a directory.
const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// One file to check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// The name reports use: the path as reached from the argument, without a leading `./`.
    pub name: String,
    /// Where to read it from.
    pub origin: Origin,
}

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// A file on disk.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// Text admit made: a Kustomize root's rendering, named after the root.
    Rendered {
        /// The kustomization's directory.
        root: PathBuf,
        /// The objects, one JSON document each.
        text: std::sync::Arc<str>,
    },
}

/// A path that could not be walked or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct InputError {
    /// The path as reports show it.
    pub name: String,
    /// What went wrong.
    pub message: String,
    /// One-based line of the problem, when it is inside the file (e.g. invalid UTF-8).
    pub line: Option<usize>,
}

/// Expand the command-line `paths` into the sorted, de-duplicated list of files to check.
/// `stdin_name` names standard input in reports.
pub fn collect(paths: &[PathBuf], stdin_name: &str) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input {
                name: stdin_name.to_string(),
                origin: Origin::Stdin,
            });
        } else if path.is_dir() {
            walk(path, &mut inputs, &mut errors);
        } else if path.exists() || path.is_symlink() {
            inputs.push(Input {
                name: display_name(path),
                origin: Origin::File(path.clone()),
            });
        } else {
            errors.push(InputError {
                name: display_name(path),
                message: "no such file or directory".into(),
                line: None,
            });
        }
    }
    inputs.sort();
    inputs.dedup_by(|a, b| a.name == b.name);
    (inputs, errors)
}

fn walk(root: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(true)
        // A checkout without `.git` (a tarball, a CI cache) should still honour `.gitignore`.
        .require_git(false)
        // A symbolic link to a manifest is checked like the manifest, not silently skipped; a
        // link that loops (to itself, or to a directory above it) is reported as an error.
        .follow_links(true)
        // On every core: a walk is mostly waiting on the file system (every directory is
        // listed and probed for ignore files), and a run that finds its results cached spent
        // a fifth of its time here. The caller sorts what is found.
        .build_parallel();
    let found = std::sync::Mutex::new((Vec::new(), Vec::new()));
    walker.run(|| {
        Box::new(|entry| {
            let (input, error) = match entry {
                Ok(entry) => (manifest(&entry), None),
                Err(error) => (None, Some(walk_error(root, error))),
            };
            if input.is_some() || error.is_some() {
                let mut found = found
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                found.0.extend(input);
                found.1.extend(error);
            }
            ignore::WalkState::Continue
        })
    });
    let (mut found_inputs, mut found_errors) = found
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Threads finish in any order; the report must not depend on it.
    found_errors.sort_by(|a: &InputError, b| (&a.name, &a.message).cmp(&(&b.name, &b.message)));
    inputs.append(&mut found_inputs);
    errors.append(&mut found_errors);
}

/// The input for a walked entry that is a manifest: a file with a manifest's extension.
fn manifest(entry: &ignore::DirEntry) -> Option<Input> {
    let is_file = entry.file_type().is_some_and(|t| t.is_file());
    let path = entry.path();
    let wanted = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e));
    (is_file && wanted).then(|| Input {
        name: display_name(path),
        origin: Origin::File(path.to_path_buf()),
    })
}

fn walk_error(root: &Path, error: ignore::Error) -> InputError {
    let path = error_path(&error).unwrap_or(root).to_path_buf();
    let message = match error.io_error() {
        Some(io) => io_message(io),
        None if matches!(innermost(&error), ignore::Error::Loop { .. }) => {
            "symbolic link loop".into()
        }
        None => error.to_string(),
    };
    InputError {
        name: display_name(&path),
        message,
        line: None,
    }
}

fn innermost(error: &ignore::Error) -> &ignore::Error {
    match error {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => innermost(err),
        other => other,
    }
}

fn error_path(error: &ignore::Error) -> Option<&Path> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

/// The path without a leading `./`, with `/` separators as written.
fn display_name(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut name: &str = &text;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest.trim_start_matches('/');
    }
    if name.is_empty() {
        ".".into()
    } else {
        name.to_string()
    }
}

/// Read `input` as UTF-8 text.
pub fn read(input: &Input) -> Result<SourceFile, InputError> {
    let error = |message: String, line: Option<usize>| InputError {
        name: input.name.clone(),
        message,
        line,
    };
    let bytes = match &input.origin {
        Origin::File(path) => std::fs::read(path).map_err(|e| error(io_message(&e), None))?,
        Origin::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| error(format!("cannot read standard input: {e}"), None))?;
            bytes
        }
        Origin::Rendered { text, .. } => return Ok(SourceFile::new(input.name.clone(), &**text)),
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(error(
            "the file is UTF-16; Kubernetes manifests must be UTF-8".into(),
            Some(1),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(input.name.clone(), text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..valid]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            Err(error(
                format!("not valid UTF-8 (byte {valid} on line {line})"),
                Some(line),
            ))
        }
    }
}

/// Linux's "too many levels of symbolic links" (`std::io::ErrorKind::FilesystemLoop` is not
/// stable yet).
const ELOOP: i32 = 40;

/// Whether `error`, or an I/O error it wraps (the walker wraps its own), is ELOOP.
fn is_link_loop(error: &std::io::Error) -> bool {
    if error.raw_os_error() == Some(ELOOP) {
        return true;
    }
    let mut cause = error
        .get_ref()
        .map(|inner| inner as &(dyn std::error::Error + 'static));
    while let Some(current) = cause {
        if current
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.raw_os_error() == Some(ELOOP))
        {
            return true;
        }
        cause = current.source();
    }
    false
}

fn io_message(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ if is_link_loop(error) => "symbolic link loop".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(inputs: &[Input]) -> Vec<&str> {
        inputs.iter().map(|i| i.name.as_str()).collect()
    }

    #[test]
    fn walks_manifests_sorted_and_skips_ignored_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "b.yaml",
            "a/x.yml",
            "a/y.json",
            "notes.txt",
            ".hidden/h.yaml",
            "build/out.yaml",
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "a: 1\n").unwrap();
        }
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        let (inputs, errors) = collect(&[root.to_path_buf()], "-");
        assert!(errors.is_empty(), "{errors:?}");
        let prefix = format!("{}/", root.display());
        let relative: Vec<_> = names(&inputs)
            .into_iter()
            .map(|n| n.trim_start_matches(&prefix).to_string())
            .collect();
        assert_eq!(relative, ["a/x.yml", "a/y.json", "b.yaml"]);
    }

    #[test]
    fn explicit_files_are_always_read() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("manifest.txt");
        std::fs::write(&odd, "a: 1\n").unwrap();
        let (inputs, errors) = collect(&[odd.clone(), odd], "-");
        assert!(errors.is_empty());
        assert_eq!(inputs.len(), 1);
    }

    #[test]
    fn missing_paths_and_bad_encodings_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (_, errors) = collect(&[dir.path().join("nope.yaml")], "-");
        assert_eq!(errors[0].message, "no such file or directory");

        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, b"a: 1\nb: \xff\n").unwrap();
        let input = Input {
            name: "bad.yaml".into(),
            origin: Origin::File(bad),
        };
        let error = read(&input).unwrap_err();
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn display_names_drop_the_leading_dot_slash() {
        assert_eq!(display_name(Path::new("./k8s/a.yaml")), "k8s/a.yaml");
        assert_eq!(display_name(Path::new(".")), ".");
    }
}
