//! Checking one file: its syntax errors, its objects against every policy that wants them, and
//! its suppressions. Files are independent of each other (given the catalog), which is what
//! lets the run check them in parallel and cache each one's result.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::policy_set::{Policy, Workers};
use crate::documents::Loaded;
use crate::findings::{self, Finding, FindingKind, ObjectName, SourceRef};
use crate::objects::{Extracted, ObjectRef};
use crate::policies::{Builtin, PolicyRuntime};
use crate::requests::{ResourceCatalog, build_request};
use crate::source::SourceFile;
use crate::suppressions;

/// What checking one file found, before the run merges it with the others.
#[derive(Debug, Default)]
pub struct FileResult {
    /// Findings about this file, suppressed ones marked.
    pub findings: Vec<Finding>,
    /// Guest log lines, in evaluation order.
    pub logs: Vec<String>,
    /// Kubernetes objects found.
    pub objects: usize,
    /// Documents without apiVersion/kind.
    pub skipped_documents: usize,
    /// Policy evaluations.
    pub evaluations: usize,
    /// Evaluations that rejected their object.
    pub rejected: usize,
    /// Evaluations that would have changed their object.
    pub mutated: usize,
    /// Whether this came from the result cache.
    pub cached: bool,
    /// Whether a policy that could not be used applied to one of the file's objects; such a
    /// result is not cached, so the policy's error is found again next time.
    pub applied_broken: bool,
}

/// Everything a file check reads and nothing it writes, shared by every thread.
pub struct Context<'r, 'o> {
    /// The run's policies.
    pub policies: &'r [Policy<'o>],
    /// The engine that compiles and runs them; `None` when it could not start (and then there
    /// are no policies).
    pub runtime: Option<&'r PolicyRuntime>,
    /// Kinds, plurals and scopes, including the inputs' CRDs.
    pub catalog: &'r ResourceCatalog,
    /// Whether suppressions in the source count.
    pub suppressions: bool,
    /// Policy-level errors (compilation, settings), each reported once.
    pub policy_errors: &'r Mutex<Vec<Finding>>,
}

/// Check `file`, whose documents were `loaded` and whose objects were `extracted`.
pub fn check_file<'r>(
    context: &'r Context<'r, '_>,
    workers: &mut Workers<'r>,
    file: &SourceFile,
    loaded: &Loaded,
    extracted: &[Extracted<'_>],
) -> FileResult {
    let mut result = FileResult::default();
    for error in &loaded.errors {
        result.findings.push(
            Finding::new(FindingKind::Error, "invalid-yaml", error.message.clone()).at(SourceRef {
                file: file.clone(),
                span: error.span,
                document: error.document.unwrap_or(usize::MAX),
                pointer: None,
                label: "here".into(),
                object: None,
            }),
        );
    }
    // Which policies saw an object of this file: their compile-or-settings verdict is known
    // by the end of the file, whatever other threads do, so audits stay deterministic.
    let mut applied: HashSet<usize> = HashSet::new();
    for (document, extracted) in loaded.documents.iter().zip(extracted) {
        for skipped in &extracted.skipped {
            if skipped.pointer.is_empty() {
                result.skipped_documents += 1;
                continue;
            }
            let span = findings::first_line(file, skipped.node.span);
            result.findings.push(
                Finding::new(
                    FindingKind::Warning,
                    "not-an-object",
                    format!(
                        "List item is not a Kubernetes object ({}); skipped",
                        skipped.reason
                    ),
                )
                .at(SourceRef {
                    file: file.clone(),
                    span,
                    document: document.index,
                    pointer: Some(skipped.pointer.clone()),
                    label: "this item".into(),
                    object: None,
                }),
            );
        }
        for object in &extracted.objects {
            result.objects += 1;
            check_object(context, workers, file, object, &mut applied, &mut result);
        }
    }
    result.applied_broken = applied
        .iter()
        .any(|&index| context.policies[index].is_broken());
    if context.suppressions {
        let mut comments = suppressions::from_comments(file, &loaded.documents);
        if !comments.is_empty() {
            suppressions::apply(&mut comments, &mut result.findings, file);
            let ran = |id: &str| ran(context, &applied, id);
            for suppression in &comments {
                let document = document_at(loaded, suppression.span.start);
                result.findings.extend(suppressions::audit(
                    std::slice::from_ref(suppression),
                    file,
                    (document, None),
                    &ran,
                    |id| Builtin::find(id).is_some(),
                ));
            }
        }
    }
    result
}

/// Whether policy `id` ran in this file's check: it is part of the run, and unless it applied
/// to none of the file's objects, it was usable.
fn ran(context: &Context<'_, '_>, applied: &HashSet<usize>, id: &str) -> bool {
    context
        .policies
        .iter()
        .enumerate()
        .find(|(_, p)| p.id == id)
        .is_some_and(|(index, policy)| !(applied.contains(&index) && policy.is_broken()))
}

/// The index of the document at byte `offset`: the last one starting at or before it.
fn document_at(loaded: &Loaded, offset: usize) -> usize {
    loaded
        .documents
        .iter()
        .take_while(|d| d.span.start <= offset)
        .last()
        .map_or(0, |d| d.index)
}

fn check_object<'r>(
    context: &'r Context<'r, '_>,
    workers: &mut Workers<'r>,
    file: &SourceFile,
    object: &ObjectRef<'_>,
    applied: &mut HashSet<usize>,
    result: &mut FileResult,
) {
    let first = result.findings.len();
    let name = Arc::new(ObjectName::of(object.node));
    evaluate_object(context, workers, file, object, &name, applied, result);
    if !context.suppressions {
        return;
    }
    let mut annotations = suppressions::from_annotation(object);
    if annotations.is_empty() {
        return;
    }
    suppressions::apply(&mut annotations, &mut result.findings[first..], file);
    let audit = suppressions::audit(
        &annotations,
        file,
        (object.document.index, Some(&name)),
        &|id: &str| ran(context, applied, id),
        |id| Builtin::find(id).is_some(),
    );
    result.findings.extend(audit);
}

fn evaluate_object<'r>(
    context: &'r Context<'r, '_>,
    workers: &mut Workers<'r>,
    file: &SourceFile,
    object: &ObjectRef<'_>,
    name: &Arc<ObjectName>,
    applied: &mut HashSet<usize>,
    result: &mut FileResult,
) {
    let at_object = |label: &str| SourceRef {
        file: file.clone(),
        span: findings::object_span(file, object),
        document: object.document.index,
        pointer: None,
        label: label.into(),
        object: Some(name.clone()),
    };
    let json = object.node.to_json();
    let built = match build_request(&json, context.catalog) {
        Ok(built) => built,
        Err(error) => {
            result.findings.push(
                Finding::new(FindingKind::Error, "invalid-object", error.to_string())
                    .at(at_object("this object")),
            );
            return;
        }
    };
    for warning in built.warnings {
        result.findings.push(
            Finding::new(FindingKind::Warning, "request", warning).at(at_object("this object")),
        );
    }
    let request = built.request;
    let mut request_json: Option<Vec<u8>> = None;
    for (index, policy) in context.policies.iter().enumerate() {
        if !policy.applies_to(&request) {
            continue;
        }
        applied.insert(index);
        let Some(runtime) = context.runtime else {
            break;
        };
        let Some(compiled) = policy.compiled(runtime, context.policy_errors) else {
            continue;
        };
        // Serialized once per object, and only when some policy wants it.
        let payload = match &request_json {
            Some(json) => json,
            None => match serde_json::to_vec(&request) {
                Ok(json) => request_json.insert(json),
                Err(error) => {
                    result.findings.push(
                        Finding::new(
                            FindingKind::Error,
                            "invalid-object",
                            format!("cannot serialize the request: {error}"),
                        )
                        .at(at_object("this object")),
                    );
                    return;
                }
            },
        };
        let mut instance = match workers.take(index, compiled) {
            Ok(instance) => instance,
            Err(error) => {
                result.findings.push(
                    Finding::new(
                        FindingKind::Error,
                        policy.id.clone(),
                        format!("failed to start: {error}"),
                    )
                    .at(at_object("while evaluating this object")),
                );
                continue;
            }
        };
        result.evaluations += 1;
        let outcome = instance.validate(payload);
        for log in instance.take_logs() {
            let location = file.location(object.node.span.start);
            result.logs.push(format!(
                "{}: [{}] {} ({}:{location})",
                policy.id,
                log.level,
                log.message,
                file.name()
            ));
        }
        match outcome {
            Ok(response) => {
                // A healthy instance is reused; a failed one is dropped, because a guest that
                // trapped may have left its memory inconsistent.
                workers.put_back(index, instance);
                let severity = policy.spec.severity;
                let produced =
                    findings::from_response(&policy.id, file, object, name, &json, &response)
                        .into_iter()
                        .map(|f| match (f.kind, severity) {
                            (FindingKind::Rejection, Some(severity)) => f.with_severity(severity),
                            _ => f,
                        })
                        .collect::<Vec<_>>();
                if !response.accepted {
                    result.rejected += 1;
                } else if produced.iter().any(|f| f.kind == FindingKind::Mutation) {
                    result.mutated += 1;
                }
                result.findings.extend(produced);
            }
            Err(error) => {
                result.findings.push(
                    Finding::new(
                        FindingKind::Error,
                        policy.id.clone(),
                        format!("policy failed: {error}"),
                    )
                    .at(at_object("while evaluating this object")),
                );
            }
        }
    }
}
