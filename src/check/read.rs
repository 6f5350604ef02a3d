//! Phase 1 of a check: read every file, and find the CustomResourceDefinitions among them.
//!
//! The catalog needs every CRD before any request is built, so the files that may define one
//! are parsed now; the others wait for their batch in phase 2 (see `evaluate`), so that a large
//! repository's trees are not all alive at once. A file the result cache knows gives its CRDs
//! from its entry. A file the cache knows unchanged by its size and time is not hashed, and not
//! even read when no report shows its text or its result points at nothing in it.

use std::borrow::Cow;

use rayon::prelude::*;

use super::result_cache::{CacheEntry, FileStat, ResultCache};
use crate::documents::{self, Loaded};
use crate::findings::{Finding, FindingKind};
use crate::inputs::{self, Input, InputError};
use crate::objects;
use crate::requests::ResourceCatalog;
use crate::source::SourceFile;

/// A file after phase 1: read (unless the result cache knows it unchanged and needs no text),
/// and parsed if it may define a CRD and the result cache does not know it.
pub(super) struct ReadFile<'c> {
    /// Where it comes from.
    pub(super) input: &'c Input,
    /// Its text; `None` when phase 1 had no need to read it.
    pub(super) file: Option<SourceFile>,
    /// Its documents, when phase 1 parsed them.
    pub(super) loaded: Option<Loaded>,
    /// What the result cache recorded for this content.
    pub(super) entry: Option<&'c CacheEntry>,
    /// SHA-256 of the text, when results are cached. Borrowed from the cache entry when there
    /// is one: a run that takes every file from the cache never needs its own copy.
    pub(super) content: Option<Cow<'c, str>>,
    /// Size and modification time before reading, when results are cached.
    pub(super) stat: Option<FileStat>,
    /// The CustomResourceDefinitions it defines, as JSON.
    pub(super) crds: Vec<serde_json::Value>,
}

/// Every file of the run after phase 1, in the inputs' order.
pub(super) struct ReadFiles<'c> {
    /// The files that could be read.
    pub(super) files: Vec<ReadFile<'c>>,
    /// Why the others could not.
    pub(super) errors: Vec<Finding>,
}

impl ReadFiles<'_> {
    /// The built-in kinds, and those the files' CRDs define.
    pub(super) fn catalog(&self) -> ResourceCatalog {
        let mut catalog = ResourceCatalog::builtin();
        for crd in self.files.iter().flat_map(|f| &f.crds) {
            catalog.add_crd(crd);
        }
        catalog
    }
}

/// Read `inputs` in parallel. `source_text`: whether a report will show the files' text.
pub(super) fn read_files<'c>(
    inputs: &'c [Input],
    result_cache: Option<&'c ResultCache>,
    source_text: bool,
) -> ReadFiles<'c> {
    let read: Vec<Result<ReadFile<'c>, Box<Finding>>> = inputs
        .par_iter()
        .map(|input| read_file(input, result_cache, source_text))
        .collect();
    let mut files = Vec::with_capacity(read.len());
    let mut errors = Vec::new();
    for result in read {
        match result {
            Ok(file) => files.push(file),
            Err(finding) => errors.push(*finding),
        }
    }
    ReadFiles { files, errors }
}

fn read_file<'c>(
    input: &'c Input,
    result_cache: Option<&'c ResultCache>,
    source_text: bool,
) -> Result<ReadFile<'c>, Box<Finding>> {
    let entry = result_cache.and_then(|cache| cache.entry(input));
    // Taken before reading: an edit after it makes the recorded stat stale, never the
    // recorded digest.
    let stat = result_cache.and_then(|_| FileStat::of(input));
    let unchanged = entry.filter(|entry| entry.unchanged(stat));
    if let Some(entry) = unchanged
        && !(source_text && entry.needs_text())
    {
        return Ok(ReadFile {
            input,
            file: None,
            loaded: None,
            entry: Some(entry),
            content: Some(Cow::Borrowed(entry.content())),
            stat,
            crds: entry.crds(),
        });
    }
    let file = read_input(input)?;
    let (entry, content) = match (result_cache, unchanged) {
        (_, Some(entry)) => (Some(entry), Some(Cow::Borrowed(entry.content()))),
        (Some(_), None) => {
            let content = ResultCache::digest(&file);
            (
                entry.filter(|e| e.content() == content),
                Some(Cow::Owned(content)),
            )
        }
        (None, None) => (None, None),
    };
    let (crds, loaded) = match entry {
        Some(entry) => (entry.crds(), None),
        None if !may_define_crd(file.text()) => (Vec::new(), None),
        None => {
            let loaded = documents::load(file.text());
            (crds_in(&loaded), Some(loaded))
        }
    };
    Ok(ReadFile {
        input,
        file: Some(file),
        loaded,
        entry,
        content,
        stat,
        crds,
    })
}

/// Read `input`, or the error finding that says why it cannot be.
pub(super) fn read_input(input: &Input) -> Result<SourceFile, Box<Finding>> {
    inputs::read(input).map_err(|error| Box::new(input_error(error)))
}

/// The error finding for a path that could not be walked or read: about that file, at the
/// line of the problem when it is known.
pub(super) fn input_error(error: InputError) -> Finding {
    Finding::new(FindingKind::Error, "input", error.message).in_file(error.name, error.line)
}

/// Whether `text` could define a CustomResourceDefinition, which the catalog needs before
/// any file is checked. A kind is written out in full unless escaped (`\u0044`, or a
/// double-quoted line break), and every escape needs a backslash.
fn may_define_crd(text: &str) -> bool {
    text.contains("CustomResourceDefinition") || text.contains('\\')
}

/// Every CustomResourceDefinition among a file's objects teaches the catalog its kind's plural
/// and scope, so custom resources get the same exact requests built-in kinds get.
fn crds_in(loaded: &Loaded) -> Vec<serde_json::Value> {
    loaded
        .documents
        .iter()
        .flat_map(|document| objects::extract(document, &[]).objects)
        .filter(|object| {
            object.node.get("kind").and_then(|k| k.as_str()) == Some("CustomResourceDefinition")
        })
        .map(|object| object.node.to_json())
        .collect()
}
