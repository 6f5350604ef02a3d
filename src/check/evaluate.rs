//! Phase 2 of a check: each batch of files is checked by one thread with its own policy
//! instances, or taken from the result cache.

use std::borrow::Cow;

use rayon::prelude::*;

use super::Progress;
use super::file_check::{self, Context, FileInput, FileResult};
use super::instances::InstancePool;
use super::read::{ReadFile, read_input};
use super::result_cache::{FileStat, ResultCache};
use crate::documents::{self, Loaded};
use crate::findings;
use crate::inputs::Input;
use crate::objects::{self, Extracted};
use crate::source::SourceFile;

/// How many files a thread checks together, each policy on all their objects in a row: small
/// enough to keep both cores busy, large enough for a policy to stay in the CPU's caches.
const BATCH_FILES: usize = 16;

/// A file of a batch that the result cache could not answer for: read and parsed, to be
/// checked.
struct ToCheck<'c> {
    /// Its position in the batch.
    index: usize,
    input: &'c Input,
    file: SourceFile,
    loaded: Loaded,
    /// What the result cache will record its result under (see [`ReadFile::content`]).
    content: Option<Cow<'c, str>>,
    stat: Option<FileStat>,
    crds: Vec<serde_json::Value>,
}

/// What phase 2 needs besides the files.
pub(super) struct Evaluation<'r, 'o> {
    /// The policies, runtime and catalog every file check shares.
    pub(super) context: &'r Context<'r, 'o>,
    /// Where results are taken from and recorded, if they are cached.
    pub(super) result_cache: Option<&'r ResultCache>,
    /// The run's fingerprint in the result cache.
    pub(super) run_key: &'r str,
    /// Told when each file is done.
    pub(super) progress: Option<&'r dyn Progress>,
}

/// Check every file, in batches of [`BATCH_FILES`]. Each batch's results are in the files'
/// order, their findings sorted.
pub(super) fn evaluate<'c>(
    evaluation: &Evaluation<'_, '_>,
    files: Vec<ReadFile<'c>>,
) -> Vec<Vec<FileResult>> {
    let pool = InstancePool::new(evaluation.context.policies.len());
    files
        .into_par_iter()
        .chunks(BATCH_FILES)
        .map(|batch| check_batch(evaluation, &pool, batch))
        .collect()
}

fn check_batch<'r, 'c>(
    evaluation: &Evaluation<'r, '_>,
    pool: &InstancePool<'r>,
    batch: Vec<ReadFile<'c>>,
) -> Vec<FileResult> {
    let policies = evaluation.context.policies.len();
    let mut done: Vec<Option<FileResult>> = batch.iter().map(|_| None).collect();
    let mut pending: Vec<ToCheck<'c>> = Vec::new();
    for (index, read) in batch.into_iter().enumerate() {
        if let Some(progress) = evaluation.progress {
            progress.advance();
        }
        if let Some(hit) = read
            .entry
            .and_then(|entry| entry.result(evaluation.run_key, read.file.as_ref(), policies))
        {
            done[index] = Some(hit);
            continue;
        }
        // Not read in phase 1 because the cache knew it, but the run changed.
        let file = match read.file {
            Some(file) => file,
            None => match read_input(read.input) {
                Ok(file) => file,
                Err(finding) => {
                    done[index] = Some(FileResult::failed(*finding));
                    continue;
                }
            },
        };
        let loaded = match read.loaded {
            Some(loaded) => loaded,
            None => documents::load(file.text()),
        };
        pending.push(ToCheck {
            index,
            input: read.input,
            file,
            loaded,
            content: read.content,
            stat: read.stat,
            crds: read.crds,
        });
    }
    let checked = {
        let extracted: Vec<Vec<Extracted<'_>>> = pending
            .iter()
            .map(|to_check| {
                to_check
                    .loaded
                    .documents
                    .iter()
                    .map(|document| objects::extract(document, evaluation.context.skip_kinds))
                    .collect()
            })
            .collect();
        let inputs: Vec<FileInput<'_>> = pending
            .iter()
            .zip(&extracted)
            .map(|(to_check, extracted)| FileInput {
                file: &to_check.file,
                loaded: &to_check.loaded,
                extracted,
            })
            .collect();
        let mut lease = pool.lease();
        file_check::check_files(evaluation.context, lease.instances(), &inputs)
    };
    for (to_check, result) in pending.into_iter().zip(checked) {
        if let (Some(cache), Some(content)) = (evaluation.result_cache, to_check.content) {
            cache.put(
                to_check.input,
                content.into_owned(),
                to_check.stat,
                &to_check.crds,
                evaluation.run_key,
                &result,
            );
        }
        done[to_check.index] = Some(result);
    }
    // Sorted here, in parallel: the final sort of the whole run then only merges sorted runs.
    done.into_iter()
        .flatten()
        .map(|mut result| {
            findings::sort(&mut result.findings);
            result
        })
        .collect()
}
