//! `admit.lock`: every downloaded module pinned by digest, committed beside `admit.yaml`, so a
//! tag moved upstream changes nothing until someone runs `admit lock --update` on purpose,
//! as `Cargo.lock` pins crates.
//!
//! The file is YAML, written in one fixed order (sorted by reference) so that a change to it
//! is a one-entry diff, and read with admit's configuration reader so that a hand-edit mistake
//! is reported at its line.

use std::path::{Path, PathBuf};

use crate::config::FileError;
use crate::config::reader::{self, Problem};
use crate::documents::Value;
use crate::source::SourceFile;

/// The lockfile's name, beside the configuration.
pub const LOCKFILE_NAME: &str = "admit.lock";
const VERSION: u64 = 1;
const ENTRY_KEYS: [&str; 5] = ["reference", "digest", "module", "size", "locked"];

/// One pinned module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntry {
    /// The reference as the configuration writes it.
    pub reference: String,
    /// The manifest digest the reference resolved to (for an `https://` module, the module's).
    pub digest: String,
    /// The module's own digest: `sha256:` of its bytes.
    pub module: String,
    /// The module's size in bytes.
    pub size: u64,
    /// When it was locked, RFC 3339 UTC.
    pub locked: String,
}

/// The lockfile's entries, and where it lives.
#[derive(Debug, Clone, Default)]
pub struct Lockfile {
    /// Where it is (or will be) written.
    pub path: PathBuf,
    entries: Vec<LockEntry>,
}

impl Lockfile {
    /// The lockfile at `path`; empty when there is none yet.
    pub fn read(path: &Path) -> Result<Lockfile, FileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Lockfile {
                    path: path.to_path_buf(),
                    entries: Vec::new(),
                });
            }
            Err(e) => {
                return Err(FileError {
                    file: SourceFile::new(path.display().to_string(), ""),
                    span: Default::default(),
                    message: format!("cannot read {}: {e}", path.display()),
                    help: None,
                });
            }
        };
        let file = SourceFile::new(path.display().to_string(), text);
        let entries = parse(&file).map_err(|problem| problem.in_file(&file))?;
        Ok(Lockfile {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The entry for `reference`.
    pub fn get(&self, reference: &str) -> Option<&LockEntry> {
        self.entries.iter().find(|e| e.reference == reference)
    }

    /// Add or replace the entry for its reference; whether anything changed.
    pub fn insert(&mut self, entry: LockEntry) -> bool {
        match self
            .entries
            .iter_mut()
            .find(|e| e.reference == entry.reference)
        {
            Some(existing)
                if existing.digest == entry.digest && existing.module == entry.module =>
            {
                false
            }
            Some(existing) => {
                *existing = entry;
                true
            }
            None => {
                self.entries.push(entry);
                true
            }
        }
    }

    /// Drop the entries whose reference `keep` refuses; the references dropped.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| keep(&e.reference));
        self.entries = kept;
        dropped.into_iter().map(|e| e.reference).collect()
    }

    /// Every entry, in the file's order.
    pub fn entries(&self) -> &[LockEntry] {
        &self.entries
    }

    /// The file's text: a header, then the entries sorted by reference.
    pub fn render(&self) -> String {
        let mut entries = self.entries.clone();
        entries.sort_by(|a, b| a.reference.cmp(&b.reference));
        let mut text = String::from(
            "# admit.lock: the policy modules admit downloads, each pinned by digest.\n\
             # `admit lock` writes it and `admit lock --update [REF]` moves a tag on purpose;\n\
             # commit it beside admit.yaml. `admit check --locked` refuses a reference missing here.\n",
        );
        text.push_str(&format!("version: {VERSION}\n"));
        if entries.is_empty() {
            text.push_str("modules: []\n");
            return text;
        }
        text.push_str("modules:\n");
        for entry in &entries {
            // References hold `:` and `@`: written as JSON strings, which YAML reads as
            // double-quoted scalars.
            let quoted = serde_json::to_string(&entry.reference).unwrap_or_default();
            text.push_str(&format!(
                "  - reference: {quoted}\n    digest: {}\n    module: {}\n    size: {}\n    locked: {}\n",
                entry.digest, entry.module, entry.size, entry.locked
            ));
        }
        text
    }

    /// Write the file atomically.
    pub fn write(&self) -> std::io::Result<()> {
        crate::atomic_file::write(&self.path, self.render().as_bytes())
    }
}

/// Now, as the `locked` field writes it.
pub fn now() -> String {
    chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse(file: &SourceFile) -> Result<Vec<LockEntry>, Problem> {
    let documents = reader::load(file).map_err(|e| Problem::new(e.span, e.message))?;
    let Some(document) = documents.first() else {
        return Ok(Vec::new());
    };
    let root = &document.root;
    reader::mapping(root, "admit.lock", &["version", "modules"])?;
    if let Some(version) = root.get("version") {
        let text = scalar(&version.value);
        if text.trim() != VERSION.to_string() {
            return Err(Problem::new(
                version.span,
                format!("admit.lock version {} is not one this admit reads ({VERSION})", text.trim()),
            )
            .help("it was written by a newer admit: update admit, or run `admit lock --update` to rewrite it"));
        }
    }
    let Some(modules) = root.get("modules") else {
        return Ok(Vec::new());
    };
    let Value::Sequence(items) = &modules.value else {
        return Err(Problem::new(modules.span, "`modules` must be a list"));
    };
    let mut entries: Vec<LockEntry> = Vec::new();
    for item in items {
        reader::mapping(item, "a locked module", &ENTRY_KEYS)?;
        let field = |key: &str| -> Result<String, Problem> {
            let node = item.get(key).ok_or_else(|| {
                Problem::new(item.span, format!("a locked module needs `{key}`"))
                    .help("run `admit lock --update` to rewrite admit.lock")
            })?;
            Ok(scalar(&node.value))
        };
        let digest_field = |key: &str| -> Result<String, Problem> {
            let value = field(key)?;
            if !is_sha256(&value) {
                let span = item.get(key).map_or(item.span, |n| n.span);
                return Err(Problem::new(
                    span,
                    format!("`{key}` must be sha256: and 64 hexadecimal digits, not `{value}`"),
                ));
            }
            Ok(value)
        };
        let size_text = field("size")?;
        let size = size_text.parse::<u64>().map_err(|_| {
            Problem::new(
                item.get("size").map_or(item.span, |n| n.span),
                format!("`size` must be a number of bytes, not `{size_text}`"),
            )
        })?;
        let entry = LockEntry {
            reference: field("reference")?,
            digest: digest_field("digest")?,
            module: digest_field("module")?,
            size,
            locked: field("locked")?,
        };
        if entries.iter().any(|e| e.reference == entry.reference) {
            return Err(Problem::new(
                item.span,
                format!("{} is locked twice", entry.reference),
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// A scalar as its text (`size: 42` is read as a number).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        Value::Float(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Sequence(_) | Value::Mapping(_) => "a collection".to_string(),
    }
}

/// Whether `digest` is `sha256:` and 64 lower-case hexadecimal digits.
pub fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(reference: &str, n: char) -> LockEntry {
        LockEntry {
            reference: reference.to_string(),
            digest: format!("sha256:{}", n.to_string().repeat(64)),
            module: format!("sha256:{}", "0".repeat(64)),
            size: 42,
            locked: "2026-12-06T00:00:00Z".to_string(),
        }
    }

    #[test]
    fn a_written_lockfile_reads_back_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCKFILE_NAME);
        let mut lock = Lockfile::read(&path).unwrap();
        assert!(lock.insert(entry("registry://r.example/b:v1", 'b')));
        assert!(lock.insert(entry("registry://r.example/a@sha256:x", 'a')));
        assert!(!lock.insert(entry("registry://r.example/b:v1", 'b')));
        lock.write().unwrap();
        let again = Lockfile::read(&path).unwrap();
        let references: Vec<&str> = again
            .entries()
            .iter()
            .map(|e| e.reference.as_str())
            .collect();
        assert_eq!(
            references,
            [
                "registry://r.example/a@sha256:x",
                "registry://r.example/b:v1"
            ]
        );
        assert_eq!(
            again.get("registry://r.example/b:v1"),
            Some(&entry("registry://r.example/b:v1", 'b'))
        );
    }

    #[test]
    fn a_hand_edit_mistake_is_reported_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCKFILE_NAME);
        std::fs::write(
            &path,
            "version: 1\nmodules:\n  - reference: registry://r/x:v1\n    digest: sha256:abc\n    module: sha256:abc\n    size: 1\n    locked: now\n",
        )
        .unwrap();
        let error = Lockfile::read(&path).unwrap_err();
        assert!(
            error.message.contains("`digest` must be sha256:"),
            "{}",
            error.message
        );
        assert_eq!(
            error.span.start,
            "version: 1\nmodules:\n  - reference: registry://r/x:v1\n    digest: ".len()
        );
    }
}
