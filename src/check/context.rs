//! The answers a run's host calls get (see `crate::context`): which policies may read the
//! repository, the repository itself (built from every file of the run, read and parsed
//! before any evaluation, and the context files), and a replayed or recorded session.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use super::policy_set::Policy;
use super::read::{ReadFile, read_input};
use crate::context::{
    ContextAnswers, Grant, Recorder, Replay, Repository, RepositoryBuilder, subject_id,
};
use crate::documents;
use crate::findings::{Finding, FindingKind};
use crate::objects::{self, KindPattern};
use crate::requests::ResourceCatalog;

/// How a run answers context-aware policies.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContextOptions {
    /// `--allow-context-aware`: every policy may read what its metadata lists.
    pub(crate) allow_all: bool,
    /// Files of cluster state (`kubectl get -o yaml`) that calls see but the check does not.
    pub(crate) files: Vec<PathBuf>,
    /// A kwctl session to answer from.
    pub(crate) replay: Option<PathBuf>,
    /// Where to write the session of this run's answers.
    pub(crate) record: Option<PathBuf>,
    /// How `oci/*` image calls reach registries; `None` offline.
    pub(crate) registry: Option<(Option<PathBuf>, std::time::Duration)>,
}

/// The run's answers, and what they depend on (folded into the result cache's key).
pub(crate) struct PreparedContext {
    pub(crate) answers: Arc<ContextAnswers>,
    /// `None` when no policy may read the repository: results then depend on nothing else.
    pub(crate) fingerprint: Option<String>,
}

/// Each policy's grant: access when the flag or its entry allows it, to what its metadata
/// lists.
fn grants(options: &ContextOptions, policies: &[Policy<'_>]) -> Vec<Grant> {
    policies
        .iter()
        .map(|policy| {
            let allowed = options.allow_all || policy.spec.allow_context_aware;
            Grant {
                policy: policy.id.clone(),
                resources: allowed.then(|| {
                    policy
                        .metadata()
                        .map(crate::policies::metadata::Metadata::context_aware_kinds)
                        .unwrap_or_default()
                }),
            }
        })
        .collect()
}

/// Prepare the answers. When a policy may read the repository, every file is read and parsed
/// now (the result cache would otherwise skip unchanged ones), so that each evaluation sees
/// every object of the run.
pub(crate) fn prepare(
    options: &ContextOptions,
    policies: &[Policy<'_>],
    files: &mut [ReadFile<'_>],
    catalog: &ResourceCatalog,
    skip_kinds: &[KindPattern],
    findings: &mut Vec<Finding>,
) -> PreparedContext {
    let grants = grants(options, policies);
    let replay = options
        .replay
        .as_ref()
        .and_then(|path| match Replay::read(path) {
            Ok(replay) => Some(replay),
            Err(message) => {
                findings.push(Finding::new(FindingKind::Error, "admit", message));
                None
            }
        });
    let reads_repository = grants.iter().any(|g| g.resources.is_some());
    let mut fingerprint = None;
    let repository = if reads_repository {
        let mut builder = RepositoryBuilder::default();
        files.par_iter_mut().for_each(|read| {
            if read.file.is_none()
                && let Ok(file) = read_input(read.input)
            {
                read.file = Some(file);
            }
            if read.loaded.is_none()
                && let Some(file) = &read.file
            {
                read.loaded = Some(documents::load(file.text()));
            }
        });
        for read in files.iter() {
            let (Some(file), Some(loaded)) = (&read.file, &read.loaded) else {
                continue;
            };
            for document in &loaded.documents {
                for object in objects::extract(document, skip_kinds).objects {
                    let id = subject_id(file.name(), object.node.span.start);
                    builder.add(id, object.node.to_json(), catalog);
                }
            }
        }
        let errors = builder.add_files(&options.files, catalog);
        findings.extend(errors.into_iter().map(super::read::input_error));
        let repository = builder.build();
        let mut key = repository.fingerprint().to_string();
        if let Some(path) = &options.replay {
            key.push_str(&std::fs::read_to_string(path).unwrap_or_default());
        }
        fingerprint = Some(crate::digest::hex(&<sha2::Sha256 as sha2::Digest>::digest(
            key.as_bytes(),
        )));
        repository
    } else {
        Repository::default()
    };
    PreparedContext {
        answers: Arc::new(ContextAnswers {
            repository: Arc::new(repository),
            catalog: catalog.clone(),
            grants,
            replay,
            recorder: options.record.as_ref().map(|_| Recorder::default()),
            images: options
                .registry
                .as_ref()
                .map(|(sources, timeout)| crate::context::Images::new(sources.clone(), *timeout)),
        }),
        fingerprint,
    }
}

/// Write the recorded session, if the run records one.
pub(crate) fn finish(
    options: &ContextOptions,
    prepared: &PreparedContext,
    findings: &mut Vec<Finding>,
) {
    let (Some(path), Some(recorder)) = (&options.record, &prepared.answers.recorder) else {
        return;
    };
    if let Err(error) = crate::atomic_file::write(path, recorder.render().as_bytes()) {
        findings.push(Finding::new(
            FindingKind::Error,
            "admit",
            format!("cannot write the session {}: {error}", path.display()),
        ));
    }
}
