//! The host calls of a run answered: `kubernetes/*` from the repository (for a policy granted
//! context-aware access, only the resources its metadata lists, as kwctl gates them),
//! `crypto/v1/is_certificate_trusted` locally, anything from a replayed session when one is
//! given, and every answer kept when a session is recorded.

use std::sync::Arc;

use super::kubernetes;
use super::repository::Repository;
use super::session::{Recorder, Replay, typed};
use crate::policies::{HostAnswers, HostContext};
use crate::requests::ResourceCatalog;

/// What one policy may ask of the cluster.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    /// The policy's id, for messages.
    pub policy: String,
    /// `None`: context-aware access not allowed; else the resources (apiVersion, kind) its
    /// metadata's `contextAwareResources` lists.
    pub resources: Option<Vec<(String, String)>>,
}

/// A run's answers.
pub struct ContextAnswers {
    /// The repository's objects.
    pub repository: Arc<Repository>,
    /// Kinds, plurals and scopes.
    pub catalog: ResourceCatalog,
    /// Each policy's grant, by its index in the run.
    pub grants: Vec<Grant>,
    /// A session to answer from instead.
    pub replay: Option<Replay>,
    /// Where answers are kept for `--record-host-capabilities-interactions`.
    pub recorder: Option<Recorder>,
    /// Registries asked about images; `None` offline.
    pub images: Option<super::Images>,
}

impl ContextAnswers {
    /// The answers for one policy evaluating one request (`admit run`, a request case of
    /// `admit test`): no repository around it, so the objects of the context `files`; or the
    /// session `replay`. `resources`: the policy's grant (`None` when not allowed).
    pub fn for_one_policy(
        policy: &str,
        resources: Option<Vec<(String, String)>>,
        files: &[std::path::PathBuf],
        replay: Option<&std::path::Path>,
        record: bool,
        images: Option<super::Images>,
    ) -> Result<ContextAnswers, String> {
        let catalog = ResourceCatalog::builtin();
        let mut builder = super::RepositoryBuilder::default();
        if let Some(error) = builder.add_files(files, &catalog).into_iter().next() {
            return Err(format!("{}: {}", error.name, error.message));
        }
        let replay = replay.map(Replay::read).transpose()?;
        Ok(ContextAnswers {
            repository: Arc::new(builder.build()),
            catalog,
            grants: vec![Grant {
                policy: policy.to_string(),
                resources,
            }],
            replay,
            recorder: record.then(Recorder::default),
            images,
        })
    }
}

const HOW_TO_ALLOW: &str = "admit: allow it with --allow-context-aware, or `allow-context-aware: true` on the policy's admit.yaml entry";

impl ContextAnswers {
    fn gate(&self, grant: &Grant, operation: &str, payload: &[u8]) -> Result<(), String> {
        if operation == "can_i" {
            // Not gated by the resource list, as in kwctl; but answering it reads the
            // repository, which a policy reads only when allowed.
            return match grant.resources {
                Some(_) => Ok(()),
                None => Err(format!(
                    "Policy has not been granted access to the 'kubernetes/can_i' host capability. The violation has been reported. ({HOW_TO_ALLOW})"
                )),
            };
        }
        let (api_version, kind) = kubernetes::resource_of(operation, payload)
            .ok_or_else(|| format!("invalid kubernetes/{operation} request"))?;
        let listed = grant
            .resources
            .as_ref()
            .is_some_and(|list| list.iter().any(|(a, k)| *a == api_version && *k == kind));
        if listed {
            return Ok(());
        }
        let why = match grant.resources {
            None => HOW_TO_ALLOW.to_string(),
            Some(_) => format!(
                "admit: {}'s metadata does not list {api_version}/{kind} in contextAwareResources",
                grant.policy
            ),
        };
        Err(format!(
            "Policy has not been granted access to Kubernetes {api_version}/{kind} resources. The violation has been reported. ({why})"
        ))
    }
}

impl HostAnswers for ContextAnswers {
    fn answer(
        &self,
        namespace: &str,
        operation: &str,
        payload: &[u8],
        context: &HostContext,
    ) -> Result<Vec<u8>, String> {
        let no_grant = Grant::default();
        let grant = self.grants.get(context.policy).unwrap_or(&no_grant);
        if namespace == "kubernetes" {
            self.gate(grant, operation, payload)?;
        }
        let request = typed(namespace, operation, payload)?;
        if let Some(replay) = &self.replay {
            return replay.answer(&request);
        }
        let answer = match (namespace, operation) {
            ("kubernetes", _) => kubernetes::answer(
                operation,
                payload,
                &self.repository,
                &self.catalog,
                context.subject,
            ),
            ("crypto", "v1/is_certificate_trusted") => super::certificates::answer(payload),
            ("oci", "v1/manifest_digest" | "v1/oci_manifest" | "v1/oci_manifest_config") => {
                match &self.images {
                    Some(images) => images.answer(operation, payload),
                    None => Err(format!(
                        "host capability {namespace}/{operation} is not available offline"
                    )),
                }
            }
            _ => Err(format!(
                "host capability {namespace}/{operation} is not available offline"
            )),
        };
        if let Some(recorder) = &self.recorder {
            recorder.record(request, &answer);
        }
        answer
    }
}
