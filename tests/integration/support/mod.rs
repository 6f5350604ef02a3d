//! Helpers shared by the integration tests: run the built binary as a user would.

pub mod measured;
pub mod registry;
pub mod snapshots;

use std::path::{Path, PathBuf};

/// The repository root, where `fixtures/` and `tests/policies/` live.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The absolute path of a committed test policy module.
pub fn policy(id: &str) -> String {
    root()
        .join(format!("tests/policies/{id}.wasm"))
        .display()
        .to_string()
}

/// The text of a file under `fixtures/`.
pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(root().join("fixtures").join(path)).expect("fixture exists")
}

/// A scratch directory holding `files`, given as (name, text) pairs.
pub fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("scratch file written");
    }
    dir
}

/// The outcome of one `admit` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fail with the whole output when `needle` is not in stdout.
    #[track_caller]
    pub fn expect(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "expected {needle:?} in stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Fail with the whole output when `needle` is in stdout.
    #[track_caller]
    pub fn reject(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "did not expect {needle:?} in stdout:\n{}",
            self.stdout
        );
        self
    }

    /// Fail unless the exit code is `code`.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The summary: the last line of stdout that is not a note.
    pub fn summary(&self) -> &str {
        self.stdout
            .lines()
            .rev()
            .find(|line| !line.starts_with("note: "))
            .unwrap_or("")
    }
}

/// Run `admit ARGS...` from the repository root, without colour.
pub fn admit(args: &[&str]) -> Run {
    admit_in(&root(), args, None)
}

/// Run `admit ARGS...` in `dir`, feeding `stdin` when given.
pub fn admit_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    admit_env(dir, args, stdin, &[])
}

/// Run `admit ARGS...` in `dir` with `env` set on top of the tests' usual environment.
pub fn admit_env(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &Path)]) -> Run {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_admit"));
    command
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        // A cache of its own: the tests never touch the user's, and reuse it across runs.
        .env(
            "ADMIT_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("module-cache"),
        );
    for (key, value) in env {
        command.env(key, value);
    }
    if let Some(input) = stdin {
        command.write_stdin(input.to_string());
    }
    let output = command.output().expect("admit runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// One finding as `--format json` reports it, reduced to what tests compare.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// `file:line:col` of the start of the underlined node.
    pub at: String,
    /// The policy (or admit's own code) that reported it.
    pub policy: String,
    /// JSON Pointer from the object to the node, `""` when the finding is about no node.
    pub pointer: String,
    /// The message.
    pub message: String,
    /// `rejection`, `mutation`, `warning` or `error`.
    pub kind: String,
}

/// Run `admit check --format json ARGS...` from the repository root and return its findings
/// and exit code.
pub fn findings(args: &[&str]) -> (Vec<Found>, i32) {
    let mut full = vec!["check", "--format", "json"];
    full.extend_from_slice(args);
    let run = admit(&full);
    (findings_of(&run.stdout), run.code)
}

/// The findings of a `--format json` report.
pub fn findings_of(report: &str) -> Vec<Found> {
    let document: serde_json::Value = serde_json::from_str(report)
        .unwrap_or_else(|e| panic!("--format json printed invalid JSON ({e}):\n{report}"));
    let text = |value: &serde_json::Value, key: &str| {
        value
            .get(key)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .unwrap_or_default()
    };
    document["findings"]
        .as_array()
        .expect("a findings array")
        .iter()
        .map(|f| Found {
            at: format!(
                "{}:{}:{}",
                text(f, "file"),
                text(f, "line"),
                text(f, "column")
            ),
            policy: text(f, "policy"),
            pointer: text(f, "pointer"),
            message: text(f, "message"),
            kind: text(f, "kind"),
        })
        .collect()
}
