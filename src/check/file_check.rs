//! Checking one file: its syntax errors, its objects against every policy that wants them, and
//! its suppressions. Files are independent of each other (given the catalog), which is what
//! lets the run check them in parallel and cache each one's result.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::instances::PolicyInstances;
use super::misspelled;
use super::outcome::SetApart;
use super::policy_set::{Policy, with_last_words};
use crate::documents::Loaded;
use crate::findings::{self, ADMIT_WARNINGS, Finding, FindingKind, ObjectName, SourceRef};
use crate::objects::{Extracted, KindPattern, ObjectRef, any_matches};
use crate::policies::{Builtin, CallError, PolicyRuntime};
use crate::requests::{
    AdmissionRequest, RequestWarning, ResourceCatalog, UNKNOWN_KIND, build_request, object_header,
};
use crate::source::SourceFile;
use crate::suppressions;

/// What happens to a policy after a failed call, said with every such error: the instance is
/// never reused (a guest that trapped or was interrupted may have corrupt memory), and each
/// object still gets its own evaluation, so that the output does not depend on which thread
/// saw the failure first.
const FRESH_INSTANCE: &str =
    "admit discarded this instance of the policy; its next evaluation starts a fresh one";

/// What checking one file found, before the run merges it with the others.
#[derive(Debug, Default)]
pub(crate) struct FileResult {
    /// Findings about this file, suppressed ones marked.
    pub(crate) findings: Vec<Finding>,
    /// Guest log lines, in evaluation order, each with the index of its policy in the run.
    pub(crate) logs: Vec<(usize, String)>,
    /// Kubernetes objects found.
    pub(crate) objects: usize,
    /// Documents without apiVersion/kind.
    pub(crate) skipped_documents: usize,
    /// Objects set apart unchecked (other tools' configurations, `skip-kinds`).
    pub(crate) set_apart: Vec<SetApart>,
    /// What each policy did here, by its index in the run. Kept per policy so that the run can
    /// leave out a policy it stopped (see `Policy::is_hung`) from every count.
    pub(crate) tallies: Vec<Tally>,
    /// Whether this came from the result cache.
    pub(crate) cached: bool,
    /// Whether a policy that could not be used applied to one of the file's objects; such a
    /// result is not cached, so the policy's error is found again next time.
    pub(crate) applied_broken: bool,
}

/// One policy's evaluations in one file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Tally {
    /// Evaluations made.
    pub(crate) evaluations: usize,
    /// Evaluations that rejected their object.
    pub(crate) rejected: usize,
    /// Evaluations that would have changed their object.
    pub(crate) mutated: usize,
}

impl FileResult {
    /// The result of a file that could not be read: only the error.
    pub(crate) fn failed(error: Finding) -> Self {
        FileResult {
            findings: vec![error],
            ..FileResult::default()
        }
    }
}

/// Everything a file check reads and nothing it writes, shared by every thread.
pub(crate) struct Context<'r, 'o> {
    /// The run's policies.
    pub(crate) policies: &'r [Policy<'o>],
    /// The engine that compiles and runs them; `None` when it could not start (and then there
    /// are no policies).
    pub(crate) runtime: Option<&'r PolicyRuntime>,
    /// Kinds, plurals and scopes, including the inputs' CRDs.
    pub(crate) catalog: &'r ResourceCatalog,
    /// Whether suppressions in the source count.
    pub(crate) suppressions: bool,
    /// Policy-level errors (compilation, settings), each reported once.
    pub(crate) policy_errors: &'r Mutex<Vec<Finding>>,
    /// Kinds set apart unchecked (the configuration's `skip-kinds`).
    pub(crate) skip_kinds: &'r [KindPattern],
    /// Kinds known without a CustomResourceDefinition (`known-kinds`): no unknown-kind warning.
    pub(crate) known_kinds: &'r [KindPattern],
    /// What guests' host calls are answered from.
    pub(crate) host: Option<std::sync::Arc<dyn crate::policies::HostAnswers>>,
}

/// One file to check: its text, its documents and the objects found in them.
pub(crate) struct FileInput<'a> {
    /// The file.
    pub(crate) file: &'a SourceFile,
    /// Its documents.
    pub(crate) loaded: &'a Loaded,
    /// The objects of each document.
    pub(crate) extracted: &'a [Extracted<'a>],
}

/// One object of a batch, with its request and what the policies found.
struct ObjectWork<'a> {
    /// Index of its file in the batch.
    file: usize,
    object: &'a ObjectRef<'a>,
    name: Arc<ObjectName>,
    /// A whole document for raw policies (which get it as it is), not a Kubernetes object.
    raw: bool,
    /// The request, its `object` only apiVersion, kind and metadata (see
    /// [`AdmissionRequest::to_json_with_object`]). Built for one round of objects and
    /// dropped after it (see [`ROUND`]), like the payload below.
    request: Option<AdmissionRequest>,
    /// What the policies get, serialized once, when the first policy wants it.
    request_json: Option<Vec<u8>>,
    findings: Vec<Finding>,
}

impl ObjectWork<'_> {
    /// Drop what the policies needed and reports do not: a file of 100,000 documents (or one
    /// huge document) must not hold every object's request and payload at once.
    fn release(&mut self) {
        self.request = None;
        self.request_json = None;
    }
}

/// How many objects are evaluated together: each policy runs on all of them in a row (see
/// [`check_files`]), and only their requests and payloads are alive at once.
const ROUND: usize = 256;

/// Check a batch of files. Each policy is evaluated on every object of the batch in a row, not
/// each object on every policy: a policy's code and instance stay in the CPU's caches, which
/// makes its calls cheaper. The results do not depend on the batching.
pub(crate) fn check_files<'r>(
    context: &'r Context<'r, '_>,
    instances: &mut PolicyInstances<'r>,
    files: &[FileInput<'_>],
) -> Vec<FileResult> {
    let mut results: Vec<FileResult> = files
        .iter()
        .map(|_| FileResult {
            tallies: vec![Tally::default(); context.policies.len()],
            ..FileResult::default()
        })
        .collect();
    // Which policies saw an object of each file: their compile-or-settings verdict is known by
    // the end of the batch, whatever other threads do, so audits stay deterministic.
    let mut applied: Vec<HashSet<usize>> = files.iter().map(|_| HashSet::new()).collect();
    // Raw policies see every document whole, Kubernetes object or not, so their violation
    // pointers are pointers into the document.
    let raw_documents: Vec<(usize, ObjectRef<'_>)> = if context.policies.iter().any(Policy::is_raw)
    {
        files
            .iter()
            .enumerate()
            .flat_map(|(index, input)| {
                input.loaded.documents.iter().map(move |document| {
                    let whole = ObjectRef {
                        document,
                        node: &document.root,
                        pointer: String::new(),
                    };
                    (index, whole)
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut work: Vec<ObjectWork<'_>> = Vec::new();
    for (index, input) in files.iter().enumerate() {
        document_findings(input, &mut results[index]);
        for extracted in input.extracted {
            for object in &extracted.objects {
                work.push(ObjectWork::new(index, object, false));
            }
        }
    }
    for (index, document) in &raw_documents {
        work.push(ObjectWork::new(*index, document, true));
    }
    for round in work.chunks_mut(ROUND) {
        for item in round.iter_mut() {
            prepare(context, files[item.file].file, item);
        }
        for (index, policy) in context.policies.iter().enumerate() {
            for item in round.iter_mut() {
                let applies = if policy.is_raw() {
                    item.raw
                } else {
                    !item.raw
                        && item
                            .request
                            .as_ref()
                            .is_some_and(|request| policy.applies_to(request))
                };
                if applies {
                    applied[item.file].insert(index);
                    let result = &mut results[item.file];
                    evaluate(
                        context,
                        instances,
                        files[item.file].file,
                        index,
                        item,
                        result,
                    );
                }
            }
        }
        round.iter_mut().for_each(ObjectWork::release);
    }
    for item in work {
        let input = &files[item.file];
        let result = &mut results[item.file];
        let mut findings = item.findings;
        if item.raw {
            // Not an object: no annotations to read, and not counted as one.
            result.findings.extend(findings);
            continue;
        }
        if context.suppressions {
            if input
                .file
                .slice(item.object.node.span)
                .contains(suppressions::ANNOTATION)
            {
                findings.extend(suppressions::misplaced(input.file, item.object, &item.name));
            }
            let mut annotations = suppressions::from_annotation(input.file, item.object);
            if !annotations.is_empty() {
                suppressions::apply(&mut annotations, &mut findings);
                findings.extend(suppressions::audit(
                    &annotations,
                    input.file,
                    (item.object.document.index, Some(&item.name)),
                    &|id: &str| ran(context, &applied[item.file], id),
                    is_known_id,
                ));
            }
        }
        result.objects += 1;
        result.findings.extend(findings);
    }
    for ((input, result), applied) in files.iter().zip(&mut results).zip(&applied) {
        result.applied_broken = applied
            .iter()
            .any(|&index| context.policies[index].is_broken());
        if context.suppressions {
            comment_suppressions(context, input, applied, result);
        }
    }
    results
}

/// Syntax errors, and List items that are not objects.
fn document_findings(input: &FileInput<'_>, result: &mut FileResult) {
    let file = input.file;
    for error in &input.loaded.errors {
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
    for (document, extracted) in input.loaded.documents.iter().zip(input.extracted) {
        for misspelled in &extracted.misspelled {
            result
                .findings
                .extend(misspelled::findings(file, document.index, misspelled));
        }
        let set_apart = extracted
            .other_tools
            .iter()
            .map(|(object, tool)| (object, Some(tool.to_string())))
            .chain(extracted.skipped_kinds.iter().map(|object| (object, None)))
            .map(|(object, tool)| SetApart {
                file: file.name().to_string(),
                object: object.type_name(),
                tool,
            });
        result.set_apart.extend(set_apart);
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
    }
}

/// The id of errors about an object that cannot become an admission request.
pub(super) const INVALID_OBJECT: &str = "invalid-object";

/// `# admit:ignore` comments of a file, applied to its findings and audited.
fn comment_suppressions(
    context: &Context<'_, '_>,
    input: &FileInput<'_>,
    applied: &HashSet<usize>,
    result: &mut FileResult,
) {
    let mut comments = suppressions::from_comments(input.file, &input.loaded.documents);
    if comments.is_empty() {
        return;
    }
    suppressions::apply(&mut comments, &mut result.findings);
    let ran = |id: &str| ran(context, applied, id);
    for suppression in &comments {
        let document = document_at(input.loaded, suppression.span.start);
        result.findings.extend(suppressions::audit(
            std::slice::from_ref(suppression),
            input.file,
            (document, None),
            &ran,
            is_known_id,
        ));
    }
}

impl<'a> ObjectWork<'a> {
    /// An object (or raw document) to check, not yet prepared.
    fn new(file: usize, object: &'a ObjectRef<'a>, raw: bool) -> Self {
        ObjectWork {
            file,
            object,
            name: Arc::new(ObjectName::of(object.node)),
            raw,
            request: None,
            request_json: None,
            findings: Vec::new(),
        }
    }
}

/// Build an object's request (or say why there is none). Raw documents need nothing.
fn prepare(context: &Context<'_, '_>, file: &SourceFile, item: &mut ObjectWork<'_>) {
    if item.raw {
        return;
    }
    match build_request(object_header(item.object.node), context.catalog) {
        Ok(built) => {
            let kind = &built.request.kind;
            if let Some(meant) = context
                .catalog
                .builtin_kind_in_other_case(&kind.group, &kind.kind)
            {
                // No policy runs on a kind the API server would refuse.
                item.findings
                    .push(kind_in_other_case(file, item, &kind.kind, meant));
                return;
            }
            let api_version = item.name.api_version.as_str();
            for RequestWarning { id, message } in built.warnings {
                if id == UNKNOWN_KIND && any_matches(context.known_kinds, api_version, &kind.kind) {
                    continue;
                }
                let finding = Finding::new(FindingKind::Warning, id, message).at(at_object(
                    file,
                    item,
                    "this object",
                ));
                item.findings.push(finding);
            }
            item.request = Some(built.request);
        }
        Err(error) => {
            let finding = Finding::new(FindingKind::Error, INVALID_OBJECT, error.to_string())
                .at(at_object(file, item, "this object"));
            item.findings.push(finding);
        }
    }
}

/// The error for `kind: pod`: a built-in kind in another case, which the API server refuses
/// (kinds are case-sensitive), at the kind's value.
fn kind_in_other_case(
    file: &SourceFile,
    item: &ObjectWork<'_>,
    written: &str,
    meant: &str,
) -> Finding {
    let mut at = at_object(file, item, &format!("did you mean `{meant}`?"));
    if let Some(value) = item.object.node.get("kind") {
        at.span = value.span;
        at.pointer = Some("/kind".into());
    }
    Finding::new(
        FindingKind::Error,
        INVALID_OBJECT,
        format!(
            "unknown kind `{written}`: did you mean `{meant}`? Kinds are case-sensitive, and no \
             policy checks this object until it names its kind"
        ),
    )
    .at(at)
}

/// A reference to the object as a whole: its name, else its first line.
fn at_object(file: &SourceFile, item: &ObjectWork<'_>, label: &str) -> SourceRef {
    SourceRef {
        file: file.clone(),
        span: findings::object_span(file, item.object),
        document: item.object.document.index,
        pointer: None,
        label: label.into(),
        object: Some(item.name.clone()),
    }
}

/// Whether a suppression's `id` names something that can be silenced: a built-in policy or
/// one of admit's own warnings.
fn is_known_id(id: &str) -> bool {
    Builtin::find(id).is_some() || ADMIT_WARNINGS.contains(&id)
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

/// Evaluate `item` with policy `index`, which applies to it.
fn evaluate<'r>(
    context: &'r Context<'r, '_>,
    instances: &mut PolicyInstances<'r>,
    file: &SourceFile,
    index: usize,
    item: &mut ObjectWork<'_>,
    result: &mut FileResult,
) {
    let policy = &context.policies[index];
    if policy.is_hung() {
        // Left out of the run; a hung policy counts as broken, so this file's result is not
        // cached without it (see `check_files`).
        return;
    }
    let Some(runtime) = context.runtime else {
        return;
    };
    let Some(compiled) = policy.compiled(runtime, context.policy_errors) else {
        return;
    };
    if item.request_json.is_none() {
        // A raw policy's request is the document itself.
        let node = item.object.node;
        // JSON is about as long as the YAML it comes from; the request's other fields add
        // about half a kilobyte.
        let size_hint = node.span.end.saturating_sub(node.span.start) + 1024;
        let serialized = match (&mut item.request, item.raw) {
            (_, true) => serde_json::to_vec(node),
            (Some(request), false) => request.to_json_with_object(node, size_hint),
            (None, false) => return,
        };
        match serialized {
            Ok(json) => item.request_json = Some(json),
            Err(error) => {
                let finding = Finding::new(
                    FindingKind::Error,
                    INVALID_OBJECT,
                    format!("cannot serialize the request: {error}"),
                )
                .at(at_object(file, item, "this object"));
                item.findings.push(finding);
                item.request = None;
                return;
            }
        }
    }
    let Some(payload) = &item.request_json else {
        return;
    };
    let mut instance = match instances.take(index, compiled) {
        Ok(instance) => instance,
        Err(CallError::Timeout(limit)) => {
            policy.hang(limit);
            return;
        }
        Err(error) => {
            let finding = Finding::new(
                FindingKind::Error,
                policy.id.clone(),
                format!("failed to start: {error}"),
            )
            .at(at_object(file, item, "while evaluating this object"))
            .with_help(FRESH_INSTANCE);
            item.findings.push(with_last_words(finding, &error));
            return;
        }
    };
    let tally = &mut result.tallies[index];
    tally.evaluations += 1;
    let host = crate::policies::HostContext {
        answers: context.host.clone(),
        policy: index,
        subject: Some(crate::context::subject_id(
            file.name(),
            item.object.node.span.start,
        )),
    };
    let outcome = instance.validate_with(payload, &host);
    for log in instance.take_logs() {
        let location = file.location(item.object.node.span.start);
        let line = format!(
            "{}: [{}] {} ({}:{location})",
            policy.id,
            log.level,
            log.message,
            file.name()
        );
        result.logs.push((index, line));
    }
    match outcome {
        Ok(response) => {
            // A healthy instance is reused; a failed one is dropped, because a guest that
            // trapped may have left its memory inconsistent.
            instances.put_back(index, instance);
            let severity = policy.spec.severity;
            let produced =
                findings::from_response(&policy.id, file, item.object, &item.name, &response)
                    .into_iter()
                    .map(|f| match (f.kind, severity) {
                        (FindingKind::Rejection, Some(severity)) => f.with_severity(severity),
                        _ => f,
                    })
                    .collect::<Vec<_>>();
            if !response.accepted {
                tally.rejected += 1;
            } else if produced.iter().any(|f| f.kind == FindingKind::Mutation) {
                tally.mutated += 1;
            }
            item.findings.extend(produced);
        }
        Err(CallError::Timeout(limit)) => policy.hang(limit),
        Err(error) => {
            let finding = Finding::new(
                FindingKind::Error,
                policy.id.clone(),
                format!("policy failed: {error}"),
            )
            .at(at_object(file, item, "while evaluating this object"))
            .with_help(FRESH_INSTANCE);
            item.findings.push(with_last_words(finding, &error));
        }
    }
}
