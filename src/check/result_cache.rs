//! Per-file results kept on disk across runs, as ruff does: a file whose text, name, policies
//! (module bytes, settings, severity, scope, execution mode), limits (`--policy-memory`,
//! `--policy-timeout`), CRD catalog and admit build are all unchanged is not evaluated again;
//! its findings are read back and tied to the file as read now.
//!
//! What is never cached: a file with an error from a policy (one that timed out or trapped may
//! not do so next time), and a file that a broken policy applied to (so the policy's error is
//! reported again by compiling it). Syntax errors depend only on the text, and are cached.
//! Settings validation depends only on a module's bytes and settings, which are in the key, so
//! a cached file's policies were healthy and still are.
//!
//! Entries are packed into a fixed number of files ([`BUCKETS`]), each file's entry in the
//! bucket of its path, holding the latest entry of every file: a file per entry (or per input
//! directory) would cost an inode each, and creating thousands of them takes longer than
//! checking the files. A pre-commit run reads only the buckets of the files it names. A bucket
//! that cannot be read or parsed is ignored and rebuilt; buckets are replaced atomically, so
//! two concurrent runs can lose each other's entries but never corrupt one. Buckets are
//! postcard, not JSON: a second run on an unchanged tree spends its time reading them, and
//! postcard reads the same entries in much less time and space.
//!
//! A file is known unchanged without reading it when its size and modification time are those
//! recorded, as ruff and git do. Such a file is not read at all when its result points at
//! nothing in it, or when no report shows source text: a cached finding keeps its line and
//! column, and only the human format's snippets need the text. The time is trusted only for
//! files that were already two seconds old when recorded, so an edit within the clock's
//! granularity of the recording is still seen.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rayon::prelude::*;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::digest::hex;

use super::file_check::{FileResult, Tally};
use super::outcome::SetApart;
use super::policy_set::Policy;
use crate::findings::{
    Finding, FindingKind, ObjectName, Severity, SourceRef, Suppressed, SuppressionKind,
};
use crate::inputs::{Input, Origin};
use crate::objects::KindPattern;
use crate::policies::Limits;
use crate::requests::ResourceCatalog;
use crate::source::{Location, SourceFile, Span};

/// Error codes that depend only on the file's text: a file with only these is cached.
const DETERMINISTIC_ERRORS: [&str; 2] = ["invalid-yaml", "invalid-object"];

/// Bumped when the entry layout changes.
const FORMAT: &str = "admit-results-v7";

/// Identifies the admit build: a hash of its sources, set by build.rs, so that a rebuilt admit
/// never trusts what an older one found.
const BUILD: &str = env!("ADMIT_SOURCE_HASH");

/// Fingerprint of everything but the file that decides what checking a file finds: the admit
/// build, the policies, the limits they run under, the CRD catalog, the kinds skipped and
/// known (`skip-kinds`, `known-kinds`) and whether suppressions count.
pub(crate) fn run_fingerprint(
    policies: &[Policy<'_>],
    limits: &Limits,
    catalog: &ResourceCatalog,
    (skip_kinds, known_kinds): (&[KindPattern], &[KindPattern]),
    suppressions: bool,
) -> String {
    let mut hasher = Sha256::new();
    for part in [FORMAT, env!("CARGO_PKG_VERSION"), BUILD] {
        field(&mut hasher, part.as_bytes());
    }
    field(&mut hasher, &[u8::from(suppressions)]);
    // A result found under a generous limit is not the result under a tight one: there the
    // policy may fail to start, run out of memory or time out. Destructured, so that a new
    // limit cannot be left out of the key by accident.
    let Limits { timeout, memory } = *limits;
    field(&mut hasher, &timeout.as_nanos().to_le_bytes());
    field(&mut hasher, &(memory as u64).to_le_bytes());
    field(&mut hasher, catalog.fingerprint().as_bytes());
    for kinds in [skip_kinds, known_kinds] {
        let names: Vec<String> = kinds.iter().map(ToString::to_string).collect();
        field(&mut hasher, names.join("\n").as_bytes());
    }
    // Each hashes its module (tens to hundreds of kilobytes): on every core.
    let fingerprints: Vec<[u8; 32]> = policies.par_iter().map(Policy::fingerprint).collect();
    for fingerprint in fingerprints {
        field(&mut hasher, &fingerprint);
    }
    hex(&hasher.finalize())
}

/// What the cache knows about one file's content: the CRDs it defines (so the catalog can be
/// built without parsing it) and its result under one run fingerprint.
#[derive(Serialize, Deserialize)]
pub(crate) struct CacheEntry {
    /// The file's name in reports.
    name: String,
    /// SHA-256 of the file's text.
    content: String,
    /// Size and modification time when recorded, if old enough to be trusted.
    stat: Option<FileStat>,
    /// The CustomResourceDefinitions among the file's objects, as JSON text (postcard cannot
    /// carry a `serde_json::Value`).
    crds: Vec<String>,
    run: String,
    /// Whether some finding points into the file, whose text is then needed to show it.
    needs_text: bool,
    /// The [`CachedResult`], postcard-encoded: decoded only when the file is taken from the
    /// cache, and then moved into findings rather than copied. Entries are kept whole for
    /// rewriting their bucket, so decoding them eagerly would cost a second copy of every
    /// string.
    #[serde(with = "serde_bytes")]
    result: Vec<u8>,
}

impl CacheEntry {
    /// The cached result, when it was found under `run` and fits `file`. Without the file's
    /// text (`None`, for a file known unchanged by its stat), findings point into a file known
    /// only by its name and their recorded positions.
    pub(crate) fn result(
        &self,
        run: &str,
        file: Option<&SourceFile>,
        policies: usize,
    ) -> Option<FileResult> {
        if self.run != run {
            return None;
        }
        let cached = postcard::from_bytes::<CachedResult>(&self.result).ok()?;
        match file {
            Some(file) => cached.into_result(file, true, policies),
            None => {
                let positions = cached.positions();
                let file = SourceFile::without_text(self.name.clone(), positions);
                cached.into_result(&file, false, policies)
            }
        }
    }

    /// The CRDs the file defines.
    pub(crate) fn crds(&self) -> Vec<serde_json::Value> {
        self.crds
            .iter()
            .filter_map(|crd| serde_json::from_str(crd).ok())
            .collect()
    }

    /// The digest of the text the entry was made from.
    pub(crate) fn content(&self) -> &str {
        &self.content
    }

    /// Whether `stat`, taken now, says the file is the one recorded.
    pub(crate) fn unchanged(&self, stat: Option<FileStat>) -> bool {
        self.stat.is_some() && self.stat == stat
    }

    /// Whether the result needs the file's text: some finding points into it.
    pub(crate) fn needs_text(&self) -> bool {
        self.needs_text
    }
}

/// A file's size and modification time, which together stand in for its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileStat {
    size: u64,
    modified: Duration,
}

impl FileStat {
    /// The stat of the file behind `input`, following links as reading does.
    pub(crate) fn of(input: &Input) -> Option<FileStat> {
        let Origin::File(path) = &input.origin else {
            return None;
        };
        let metadata = std::fs::metadata(path).ok()?;
        Some(FileStat {
            size: metadata.len(),
            modified: metadata
                .modified()
                .ok()?
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()?,
        })
    }

    /// Whether the file was old enough when recorded for its time to tell edits apart: one
    /// saved twice within the clock's granularity keeps its time.
    fn settled(&self) -> bool {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .is_ok_and(|now| now.saturating_sub(self.modified) >= Duration::from_secs(2))
    }
}

/// How many files the cache is spread over.
const BUCKETS: u64 = 64;

/// The entries of the files whose paths fall in one bucket, by absolute path (as bytes: a path
/// need not be UTF-8).
#[derive(Default, Serialize, Deserialize)]
struct Pack {
    entries: HashMap<Vec<u8>, CacheEntry>,
}

/// The result cache of one run: the buckets its files fall in, and what it learned.
pub(crate) struct ResultCache {
    dir: PathBuf,
    /// The working directory, that relative input paths are under.
    cwd: PathBuf,
    packs: HashMap<u64, Pack>,
    learned: Mutex<Vec<(u64, PathBuf, CacheEntry)>>,
}

impl ResultCache {
    /// The cache under `dir/results`, with the buckets every input falls in.
    pub(crate) fn open(dir: &Path, inputs: &[Input]) -> Self {
        let dir = dir.join("results");
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut buckets: Vec<u64> = inputs
            .iter()
            .filter_map(|input| absolute_path(&cwd, input))
            .map(|path| bucket_of(&path))
            .collect();
        buckets.sort_unstable();
        buckets.dedup();
        let packs = buckets
            .into_par_iter()
            .filter_map(|bucket| {
                let bytes = std::fs::read(pack_path(&dir, bucket)).ok()?;
                let pack: Pack = postcard::from_bytes(&bytes).ok()?;
                Some((bucket, pack))
            })
            .collect();
        ResultCache {
            dir,
            cwd,
            packs,
            learned: Mutex::new(Vec::new()),
        }
    }

    /// The entry recorded for `input`, whatever its content.
    pub(crate) fn entry(&self, input: &Input) -> Option<&CacheEntry> {
        let path = absolute_path(&self.cwd, input)?;
        // Reports name the file as it was reached; a run from elsewhere names it otherwise.
        self.packs
            .get(&bucket_of(&path))
            .and_then(|pack| pack.entries.get(path.as_os_str().as_encoded_bytes()))
            .filter(|entry| entry.name == input.name)
    }

    /// The digest of `file`'s text.
    pub(crate) fn digest(file: &SourceFile) -> String {
        hex(&Sha256::digest(file.text().as_bytes()))
    }

    /// Remember `result` for `input` (whose text has digest `content`) under `run`, when it may
    /// be reused.
    pub(crate) fn put(
        &self,
        input: &Input,
        content: String,
        stat: Option<FileStat>,
        crds: &[serde_json::Value],
        run: &str,
        result: &FileResult,
    ) {
        // admit's own errors about the file come back the same; a policy's may not.
        let transient = |f: &Finding| {
            f.kind == FindingKind::Error && !DETERMINISTIC_ERRORS.contains(&f.source.as_str())
        };
        if result.applied_broken || result.findings.iter().any(transient) {
            return;
        }
        let Some(path) = absolute_path(&self.cwd, input) else {
            return;
        };
        let Ok(encoded) = postcard::to_stdvec(&CachedResult::from_result(result)) else {
            return;
        };
        let entry = CacheEntry {
            name: input.name.clone(),
            content,
            stat: stat.filter(FileStat::settled),
            crds: crds.iter().map(|crd| crd.to_string()).collect(),
            run: run.to_string(),
            needs_text: result.findings.iter().any(|f| f.location.is_some()),
            result: encoded,
        };
        if let Ok(mut learned) = self.learned.lock() {
            learned.push((bucket_of(&path), path, entry));
        }
    }

    /// Write every pack that learned something. Failing to store is not an error: the cache
    /// only saves time.
    pub(crate) fn save(self) {
        let ResultCache {
            dir,
            cwd: _,
            mut packs,
            learned,
        } = self;
        let learned = learned.into_inner().unwrap_or_default();
        let mut changed: Vec<u64> = Vec::new();
        for (bucket, path, entry) in learned {
            packs
                .entry(bucket)
                .or_default()
                .entries
                .insert(path.into_os_string().into_encoded_bytes(), entry);
            changed.push(bucket);
        }
        changed.sort_unstable();
        changed.dedup();
        if !changed.is_empty() && std::fs::create_dir_all(&dir).is_ok() {
            remove_other_builds(&dir);
            changed.into_par_iter().for_each(|bucket| {
                let Some(pack) = packs.get(&bucket) else {
                    return;
                };
                let Ok(bytes) = postcard::to_stdvec(pack) else {
                    return;
                };
                let _ = crate::atomic_file::write(&pack_path(&dir, bucket), &bytes);
            });
        }
        // Thousands of entries, freed one allocation at a time: off the run's path (the
        // process may end first, which frees them all at once).
        std::thread::spawn(move || drop(packs));
    }
}

/// The absolute path of an input file; standard input has none and is not cached.
fn absolute_path(cwd: &Path, input: &Input) -> Option<PathBuf> {
    match &input.origin {
        Origin::File(path) => Some(crate::inputs::normalize(&cwd.join(path))),
        Origin::Stdin | Origin::Piped(_) => None,
        // Keyed by its root; its content is the rendering, so any change to a file the root
        // reads that changes an object changes the digest. Locations are mapped after.
        Origin::Rendered { root, .. } => {
            Some(crate::inputs::normalize(&cwd.join(root)).join("(kustomize build)"))
        }
    }
}

/// The bucket of `path`: stable across runs and builds (a digest, not `Hash`).
fn bucket_of(path: &Path) -> u64 {
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first) % BUCKETS
}

/// The prefix of this build's bucket files.
fn build_prefix() -> String {
    let mut hasher = Sha256::new();
    for part in [FORMAT, env!("CARGO_PKG_VERSION"), BUILD] {
        field(&mut hasher, part.as_bytes());
    }
    hex(&hasher.finalize())[..16].to_string()
}

fn pack_path(dir: &Path, bucket: u64) -> PathBuf {
    dir.join(format!("{}-{bucket:02}.bin", build_prefix()))
}

/// Buckets written by other builds of admit can never be read by this one: remove them, so
/// the cache does not grow with every upgrade.
fn remove_other_builds(dir: &Path) {
    let prefix = build_prefix();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Only bucket files: a temporary file of a concurrent run is not ours to remove.
        let bucket_file = name.ends_with(".bin") || name.ends_with(".json");
        if bucket_file && !name.starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Length-prefixed, so that fields cannot run into each other.
fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

#[derive(Serialize, Deserialize)]
struct CachedResult {
    findings: Vec<CachedFinding>,
    /// The objects the findings are about, each once: a finding names its object by index.
    /// Written out per finding, the names would be most of an entry's strings, each decoded
    /// into an allocation of its own only to be merged with its object's other findings'.
    objects_named: Vec<CachedObject>,
    /// With the index of the policy in the run: the run key fixes the policies and their order.
    logs: Vec<(usize, String)>,
    objects: usize,
    skipped_documents: usize,
    /// Objects set apart: `apiVersion kind` and the tool, without the file's name (which
    /// depends on how the file was reached).
    set_apart: Vec<(String, Option<String>)>,
    /// Only the policies that evaluated something here, by index.
    tallies: Vec<(usize, Tally)>,
}

#[derive(Serialize, Deserialize)]
struct CachedFinding {
    kind: u8,
    severity: u8,
    source: String,
    message: String,
    code: Option<u16>,
    location: Option<CachedLocation>,
    help: Option<String>,
    suppressed: Option<(u8, Option<String>)>,
}

#[derive(Serialize, Deserialize)]
struct CachedLocation {
    start: usize,
    end: usize,
    /// The line and column of `start` and `end`, so that a run whose reports show no source
    /// text need not read the file to give them.
    start_at: (usize, usize),
    end_at: (usize, usize),
    document: usize,
    pointer: Option<String>,
    label: String,
    /// Index into [`CachedResult::objects_named`].
    object: Option<u32>,
}

fn line_column(location: Location) -> (usize, usize) {
    (location.line, location.column)
}

/// An object's apiVersion, kind, namespace and name.
type CachedObject = (String, String, Option<String>, Option<String>);

const KINDS: [FindingKind; 4] = [
    FindingKind::Error,
    FindingKind::Rejection,
    FindingKind::Mutation,
    FindingKind::Warning,
];
const SEVERITIES: [Severity; 3] = [Severity::Note, Severity::Warning, Severity::Error];
const SUPPRESSIONS: [SuppressionKind; 2] = [SuppressionKind::Annotation, SuppressionKind::Comment];

fn position<T: PartialEq>(all: &[T], value: &T) -> u8 {
    all.iter().position(|v| v == value).unwrap_or(0) as u8
}

impl CachedResult {
    fn from_result(result: &FileResult) -> Self {
        let mut objects_named = Vec::new();
        let mut indexes: HashMap<&ObjectName, u32> = HashMap::new();
        let named = result
            .findings
            .iter()
            .filter_map(|f| f.location.as_ref()?.object.as_deref());
        for object in named {
            indexes.entry(object).or_insert_with(|| {
                objects_named.push((
                    object.api_version.clone(),
                    object.kind.clone(),
                    object.namespace.clone(),
                    object.name.clone(),
                ));
                (objects_named.len() - 1) as u32
            });
        }
        let findings = result
            .findings
            .iter()
            .map(|f| CachedFinding {
                kind: position(&KINDS, &f.kind),
                severity: position(&SEVERITIES, &f.severity),
                source: f.source.clone(),
                message: f.message.clone(),
                code: f.code,
                location: f.location.as_ref().map(|l| CachedLocation {
                    start: l.span.start,
                    end: l.span.end,
                    start_at: line_column(l.file.location(l.span.start)),
                    end_at: line_column(l.file.location(l.span.end)),
                    document: l.document,
                    pointer: l.pointer.clone(),
                    label: l.label.clone(),
                    object: l.object.as_deref().and_then(|o| indexes.get(o).copied()),
                }),
                help: f.help.clone(),
                suppressed: f
                    .suppressed
                    .as_ref()
                    .map(|s| (position(&SUPPRESSIONS, &s.kind), s.reason.clone())),
            })
            .collect();
        CachedResult {
            findings,
            objects_named,
            logs: result.logs.clone(),
            objects: result.objects,
            skipped_documents: result.skipped_documents,
            set_apart: result
                .set_apart
                .iter()
                .map(|set_apart| (set_apart.object.clone(), set_apart.tool.clone()))
                .collect(),
            tallies: result
                .tallies
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, tally)| *tally != Tally::default())
                .collect(),
        }
    }

    /// Where the findings' spans start and end, for a file known without its text.
    fn positions(&self) -> Vec<(usize, Location)> {
        let at = |(line, column)| Location { line, column };
        self.findings
            .iter()
            .filter_map(|f| f.location.as_ref())
            .flat_map(|l| [(l.start, at(l.start_at)), (l.end, at(l.end_at))])
            .collect()
    }

    /// The result, with every finding tied to `file`; `None` if an entry does not fit it (when
    /// `check_spans`, a span beyond the file's text).
    /// Consumes the decoded entry: its strings move into the findings, none is copied.
    fn into_result(
        self,
        file: &SourceFile,
        check_spans: bool,
        policies: usize,
    ) -> Option<FileResult> {
        // Findings of one object share its name, as in a fresh run.
        let names: Vec<Arc<ObjectName>> = self
            .objects_named
            .into_iter()
            .map(|(api_version, kind, namespace, name)| {
                Arc::new(ObjectName {
                    api_version,
                    kind,
                    namespace,
                    name,
                })
            })
            .collect();
        let mut findings = Vec::with_capacity(self.findings.len());
        for cached in self.findings {
            let location = match cached.location {
                Some(l) => {
                    let fits = l.start <= l.end && l.end <= file.text().len();
                    if check_spans && !fits {
                        return None;
                    }
                    // An index beyond the table is a damaged entry.
                    let object = match l.object {
                        Some(index) => Some(names.get(usize::try_from(index).ok()?)?.clone()),
                        None => None,
                    };
                    Some(SourceRef {
                        file: file.clone(),
                        span: Span::new(l.start, l.end),
                        document: l.document,
                        pointer: l.pointer,
                        label: l.label,
                        object,
                    })
                }
                None => None,
            };
            findings.push(Finding {
                kind: *KINDS.get(usize::from(cached.kind))?,
                severity: *SEVERITIES.get(usize::from(cached.severity))?,
                source: cached.source,
                message: cached.message,
                code: cached.code,
                location,
                // Only a file that could not be read has such a finding, and its result is
                // never cached.
                file: None,
                help: cached.help,
                suppressed: match cached.suppressed {
                    Some((kind, reason)) => Some(Suppressed {
                        kind: *SUPPRESSIONS.get(usize::from(kind))?,
                        reason,
                    }),
                    None => None,
                },
                roots: Vec::new(),
                related: Vec::new(),
            });
        }
        let mut tallies = vec![Tally::default(); policies];
        for (index, tally) in self.tallies {
            // The run key matched, so the policies are the same; an index beyond them is a
            // damaged entry.
            *tallies.get_mut(index)? = tally;
        }
        Some(FileResult {
            findings,
            logs: self.logs,
            objects: self.objects,
            skipped_documents: self.skipped_documents,
            set_apart: self
                .set_apart
                .into_iter()
                .map(|(object, tool)| SetApart {
                    file: file.name().to_string(),
                    object,
                    tool,
                })
                .collect(),
            tallies,
            cached: true,
            applied_broken: false,
        })
    }
}
