//! Which files a check reads, and reading them.
//!
//! Directories are walked recursively, honouring `.gitignore` and `.ignore` and skipping hidden
//! entries, and only `.yaml`, `.yml` and `.json` files are taken from them. A file named on the
//! command line is read whatever its name: that is how pre-commit passes files.
//!
//! Some files are never manifests, wherever they are found, and are left out: admit's own
//! configuration, and the parts of a Helm chart (a directory with a `Chart.yaml`) that need
//! rendering first: its `templates/`, its values files and the `Chart.yaml` itself. Each chart
//! is reported once, so that a green run does not hide that it was not checked. A symbolic
//! link met in a walk that leads nowhere, or loops, is reported and passed over: a walk takes
//! what is there, while a path named on the command line must be read.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
            && !self.excludes_relative(&relative)
    }

    /// Whether an `exclude` glob names `path`, whatever `include` says.
    pub fn excludes(&self, path: &Path) -> bool {
        self.excludes_relative(&relative_to(path, &self.base))
    }

    fn excludes_relative(&self, relative: &Path) -> bool {
        self.exclude
            .as_ref()
            .is_some_and(|exclude| exclude.is_match(relative))
    }
}

/// The globs a pattern of `include` or `exclude` stands for: itself, and, for a pattern
/// without `*`, everything under it, as in `.gitignore` (`generated` excludes
/// `generated/a.yaml`). A leading `./` is dropped: globs are matched against relative paths.
pub fn pattern_globs(pattern: &str) -> Result<Vec<globset::Glob>, globset::Error> {
    let pattern = pattern.trim_start_matches("./");
    let mut globs = vec![globset::Glob::new(pattern)?];
    if !pattern.contains('*') {
        globs.push(globset::Glob::new(&format!(
            "{}/**",
            pattern.trim_end_matches('/')
        ))?);
    }
    Ok(globs)
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
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        normalize(path)
    } else {
        normalize(&std::env::current_dir().unwrap_or_default().join(path))
    }
}

/// Drop `.` and resolve `..` lexically, so `./deploy/../k8s/a.yaml` matches `k8s/**`, without
/// following symbolic links (Kustomize resolves `../base` the same way). A `..` with nothing
/// before it to take off stays in a relative path and is dropped at the root; `""` becomes
/// `.`.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Extensions read when walking a directory.
const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// The names admit's configuration file may have, in the order they are looked for: never a
/// manifest, even when pre-commit passes it with the other staged YAML files.
pub const CONFIG_FILE_NAMES: [&str; 2] = ["admit.yaml", ".admit.yaml"];

/// The file that makes a directory a Helm chart.
const CHART_FILE: &str = "Chart.yaml";

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
    /// Standard input already read: Helm's output piped in, kept as read.
    Piped(std::sync::Arc<str>),
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

/// A path left out of a check on purpose, and why; reports say so in their notes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkippedInput {
    /// A Helm chart: its templates are not manifests until `helm template` renders them.
    Chart {
        /// The chart's directory, as reports name it.
        directory: String,
    },
    /// A symbolic link met in a walk that leads nowhere or loops.
    BrokenLink {
        /// The link, as reports name it.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Standard input, whose `--stdin-filename` an `exclude` glob names.
    ExcludedStdin {
        /// The name standard input has.
        name: String,
    },
}

/// What [`collect`] found.
#[derive(Debug, Default)]
pub struct Collected {
    /// The files to check, sorted, each once.
    pub inputs: Vec<Input>,
    /// Paths that could not be walked or read.
    pub errors: Vec<InputError>,
    /// Paths left out on purpose (charts, broken links), sorted, each once.
    pub skipped: Vec<SkippedInput>,
}

/// Expand the command-line `paths` into the sorted, de-duplicated list of files to check.
/// `stdin_name` names standard input in reports.
pub fn collect(paths: &[PathBuf], stdin_name: &str) -> Collected {
    let mut collected = Collected::default();
    let mut charts = BTreeSet::new();
    for path in paths {
        if path.as_os_str() == "-" {
            collected.inputs.push(Input {
                name: stdin_name.to_string(),
                origin: Origin::Stdin,
            });
        } else if let Some(chart) = chart_of(path) {
            charts.insert(chart);
        } else if path.is_dir() {
            walk(path, &mut collected, &mut charts);
        } else if path.exists() || path.is_symlink() {
            if !is_config_file(path) {
                collected.inputs.push(Input {
                    name: display_name(path),
                    origin: Origin::File(path.clone()),
                });
            }
        } else {
            collected.errors.push(InputError {
                name: display_name(path),
                message: "no such file or directory".into(),
                line: None,
            });
        }
    }
    collected.inputs.sort();
    collected.inputs.dedup_by(|a, b| a.name == b.name);
    // A subchart is rendered with its parent: the parent's note covers it.
    let outermost = charts
        .iter()
        .filter(|chart| !chart.ancestors().skip(1).any(|a| charts.contains(a)))
        .map(|chart| SkippedInput::Chart {
            directory: display_name(chart),
        });
    collected.skipped.extend(outermost);
    collected.skipped.sort();
    collected.skipped.dedup();
    collected
}

/// Whether `path` is named like admit's configuration file.
fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| CONFIG_FILE_NAMES.contains(&name))
}

/// The chart `path` (a walk's entry, a directory when `is_dir`) belongs to, when it is a part
/// of the chart that is not a manifest: `templates/` and `ci/` (chart-testing's values files),
/// `Chart.yaml` and the values files beside it. Other files of a chart, such as the plain
/// CustomResourceDefinitions in `crds/`, are manifests and are checked.
fn chart_part(path: &Path, is_dir: bool) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent()?;
    let part = if is_dir {
        matches!(name, "templates" | "ci")
    } else {
        name == CHART_FILE
            || (name.starts_with("values")
                && MANIFEST_EXTENSIONS
                    .iter()
                    .any(|extension| name.ends_with(&format!(".{extension}"))))
    };
    (part && parent.join(CHART_FILE).is_file()).then(|| parent.to_path_buf())
}

/// The chart a path named on the command line belongs to, when it is (or is inside) a part of
/// a chart that is not a manifest: `chart/templates/deployment.yaml` as pre-commit passes it.
fn chart_of(path: &Path) -> Option<PathBuf> {
    chart_part(path, path.is_dir()).or_else(|| {
        path.ancestors()
            .skip(1)
            .find_map(|ancestor| chart_part(ancestor, true))
    })
}

fn walk(root: &Path, collected: &mut Collected, charts: &mut BTreeSet<PathBuf>) {
    let found_charts = Arc::new(Mutex::new(BTreeSet::new()));
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(true)
        // A checkout without `.git` (a tarball, a CI cache) should still honour `.gitignore`.
        .require_git(false)
        // A symbolic link to a manifest is checked like the manifest, not silently skipped; a
        // link that leads nowhere or loops is passed over with a note.
        .follow_links(true)
        .filter_entry({
            let found_charts = Arc::clone(&found_charts);
            move |entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                match chart_part(entry.path(), is_dir) {
                    Some(chart) => {
                        lock(&found_charts).insert(chart);
                        false
                    }
                    None => true,
                }
            }
        })
        // On every core: a walk is mostly waiting on the file system (every directory is
        // listed and probed for ignore files), and a run that finds its results cached spent
        // a fifth of its time here. The caller sorts what is found.
        .build_parallel();
    let found = Mutex::new(Collected::default());
    walker.run(|| {
        Box::new(|entry| {
            match entry {
                Ok(entry) => {
                    if let Some(input) = manifest(&entry) {
                        lock(&found).inputs.push(input);
                    }
                }
                Err(error) => match walk_error(root, error) {
                    Ok(skipped) => lock(&found).skipped.push(skipped),
                    Err(error) => lock(&found).errors.push(error),
                },
            }
            ignore::WalkState::Continue
        })
    });
    let mut found = found
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Threads finish in any order; the report must not depend on it.
    found
        .errors
        .sort_by(|a: &InputError, b| (&a.name, &a.message).cmp(&(&b.name, &b.message)));
    collected.inputs.append(&mut found.inputs);
    collected.errors.append(&mut found.errors);
    collected.skipped.append(&mut found.skipped);
    charts.append(&mut lock(&found_charts));
}

/// The value behind `mutex`, even if a thread panicked while holding it: what it holds is
/// only ever appended to.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The input for a walked entry that is a manifest: a file with a manifest's extension that is
/// not admit's configuration.
fn manifest(entry: &ignore::DirEntry) -> Option<Input> {
    let is_file = entry.file_type().is_some_and(|t| t.is_file());
    let path = entry.path();
    let wanted = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MANIFEST_EXTENSIONS.contains(&e));
    (is_file && wanted && !is_config_file(path)).then(|| Input {
        name: display_name(path),
        origin: Origin::File(path.to_path_buf()),
    })
}

/// What a walk error means: a broken symbolic link to pass over, or an error.
fn walk_error(root: &Path, error: ignore::Error) -> Result<SkippedInput, InputError> {
    let path = error_path(&error).unwrap_or(root).to_path_buf();
    let loops = matches!(innermost(&error), ignore::Error::Loop { .. })
        || error.io_error().is_some_and(is_link_loop);
    let dangling = path.is_symlink()
        && error
            .io_error()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound);
    if loops || dangling {
        let reason = if loops {
            "a symbolic link loop"
        } else {
            "a broken symbolic link: its target does not exist"
        };
        return Ok(SkippedInput::BrokenLink {
            name: display_name(&path),
            reason: reason.into(),
        });
    }
    let message = match error.io_error() {
        Some(io) => io_message(io),
        None => error.to_string(),
    };
    Err(InputError {
        name: display_name(&path),
        message,
        line: None,
    })
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
        Origin::Rendered { text, .. } | Origin::Piped(text) => {
            return Ok(SourceFile::new(input.name.clone(), &**text));
        }
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
        let Collected { inputs, errors, .. } = collect(&[root.to_path_buf()], "-");
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
        let Collected { inputs, errors, .. } = collect(&[odd.clone(), odd], "-");
        assert!(errors.is_empty());
        assert_eq!(inputs.len(), 1);
    }

    #[test]
    fn missing_paths_and_bad_encodings_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let errors = collect(&[dir.path().join("nope.yaml")], "-").errors;
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

    fn write(root: &Path, files: &[&str]) {
        for file in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "a: 1\n").unwrap();
        }
    }

    #[test]
    fn a_charts_templates_and_values_are_left_out_and_the_chart_noted_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            &[
                "app/Chart.yaml",
                "app/values.yaml",
                "app/values-prod.yaml",
                "app/templates/deployment.yaml",
                "app/ci/test-values.yaml",
                "app/crds/widget.yaml",
                "app/charts/db/Chart.yaml",
                "app/charts/db/templates/statefulset.yaml",
                "plain/pod.yaml",
                "plain/templates/pod.yaml",
                "admit.yaml",
            ],
        );
        let collected = collect(&[root.to_path_buf()], "-");
        let prefix = format!("{}/", root.display());
        let relative: Vec<_> = names(&collected.inputs)
            .into_iter()
            .map(|n| n.trim_start_matches(&prefix).to_string())
            .collect();
        assert_eq!(
            relative,
            [
                "app/crds/widget.yaml",
                "plain/pod.yaml",
                "plain/templates/pod.yaml"
            ]
        );
        assert_eq!(
            collected.skipped,
            [SkippedInput::Chart {
                directory: format!("{prefix}app")
            }]
        );

        // Named one by one, as pre-commit names staged files.
        let staged: Vec<PathBuf> = [
            "app/templates/deployment.yaml",
            "app/values.yaml",
            "admit.yaml",
        ]
        .iter()
        .map(|file| root.join(file))
        .collect();
        let collected = collect(&staged, "-");
        assert!(collected.inputs.is_empty(), "{:?}", collected.inputs);
        assert_eq!(collected.skipped.len(), 1, "{:?}", collected.skipped);
    }

    #[cfg(unix)]
    #[test]
    fn broken_links_in_a_walk_are_passed_over_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, &["ok.yaml"]);
        std::os::unix::fs::symlink(root.join("gone.yaml"), root.join("dangling.yaml")).unwrap();
        std::os::unix::fs::symlink(root.join("README"), root.join("README")).unwrap();
        std::os::unix::fs::symlink(root, root.join("loop")).unwrap();
        let collected = collect(&[root.to_path_buf()], "-");
        assert!(collected.errors.is_empty(), "{:?}", collected.errors);
        assert_eq!(collected.inputs.len(), 1);
        let prefix = format!("{}/", root.display());
        let broken: Vec<(String, &str)> = collected
            .skipped
            .iter()
            .filter_map(|skipped| match skipped {
                SkippedInput::BrokenLink { name, reason } => Some((
                    name.trim_start_matches(&prefix).to_string(),
                    reason.as_str(),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(
            broken,
            [
                ("README".to_string(), "a symbolic link loop"),
                (
                    "dangling.yaml".to_string(),
                    "a broken symbolic link: its target does not exist"
                ),
                ("loop".to_string(), "a symbolic link loop"),
            ]
        );

        // Named on the command line, a broken link is an error.
        let errors = collect(&[root.join("dangling.yaml")], "-").inputs;
        assert!(read(&errors[0]).is_err());
    }

    #[test]
    fn display_names_drop_the_leading_dot_slash() {
        assert_eq!(display_name(Path::new("./k8s/a.yaml")), "k8s/a.yaml");
        assert_eq!(display_name(Path::new(".")), ".");
    }
}
