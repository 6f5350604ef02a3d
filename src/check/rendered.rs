//! Kustomize roots among the checked files, rendered before the check and mapped back after.
//!
//! Before: the kustomizations among the inputs are found; files that are not objects
//! (kustomization files, patches, configurations) leave the inputs; each root is rendered and
//! its objects join the inputs as one text, in place of the resource files they came from.
//! After: every finding in a rendered text is moved to the line a user wrote (see
//! `kustomize::mapping`), and one found through several roots is kept once, naming them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;

use super::file_check::FileResult;
use crate::documents::{self, Node};
use crate::findings::{Finding, FindingKind, SourceRef};
use crate::inputs::{Input, Origin};
use crate::kustomize::paths::normalize;
use crate::kustomize::{Provenance, RenderCache, RenderError, Renderer, Sources, Tree, render};
use crate::source::Span;

/// How Kustomize trees are checked.
#[derive(Debug, Clone)]
pub(crate) struct RenderOptions {
    /// Render roots (`--no-render` and `render: false` turn it off); patch files are never
    /// checked as objects either way.
    pub(crate) enabled: bool,
    /// The command that renders a directory, when configured.
    pub(crate) kustomize: Option<Vec<String>>,
    /// How long one root may take.
    pub(crate) timeout: Duration,
    /// admit's cache directory, where renderings are kept across runs; `None` keeps none.
    pub(crate) cache_dir: Option<PathBuf>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            enabled: true,
            kustomize: None,
            timeout: render::DEFAULT_TIMEOUT,
            cache_dir: None,
        }
    }
}

/// The rendered roots of a run, kept to map findings back.
#[derive(Debug)]
pub(super) struct Rendering {
    tree: Tree,
    /// By the name of the input that carries the rendering.
    roots: HashMap<String, RenderedRoot>,
}

#[derive(Debug)]
struct RenderedRoot {
    /// The root's directory as the user names it.
    root: String,
    /// Each rendered object without Kustomize's annotations, and where it came from, by its
    /// document index in the rendered text.
    objects: Vec<(Node, Provenance)>,
}

/// Find the Kustomize trees among `inputs`, take out what is not an object, and render the
/// roots into new inputs. `None` when there is no kustomization.
pub(super) fn prepare(
    options: &RenderOptions,
    inputs: &mut Vec<Input>,
    findings: &mut Vec<Finding>,
) -> Option<Rendering> {
    let files: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|input| match &input.origin {
            Origin::File(path) => Some(normalize(path)),
            _ => None,
        })
        .collect();
    let tree = Tree::discover(&files);
    if tree.kustomizations.is_empty() && tree.broken.is_empty() {
        return None;
    }
    for broken in &tree.broken {
        findings.push(
            Finding::new(
                FindingKind::Error,
                "kustomize",
                format!("cannot read this kustomization: {}", broken.error.message),
            )
            .at(at_start(&broken.source, broken.error.span)),
        );
    }
    let not_objects = tree.not_objects();
    inputs.retain(|input| !is_in(input, &not_objects));
    let mut rendering = Rendering {
        tree,
        roots: HashMap::new(),
    };
    if !options.enabled || rendering.tree.roots.is_empty() {
        return Some(rendering);
    }
    let Some(renderer) = Renderer::find(options.kustomize.as_deref()) else {
        findings.push(Finding::new(
            FindingKind::Warning,
            "kustomize",
            format!(
                "found {} Kustomize root(s) but neither `kustomize` nor `kubectl` on PATH: their files are checked one by one, as written, not as the cluster receives them",
                rendering.tree.roots.len()
            ),
        )
        .with_help("install kubectl (it has Kustomize built in) or kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/), set `kustomize: [COMMAND, ARGS...]` in admit.yaml, or pass --no-render"));
        return Some(rendering);
    };
    let rendered: Vec<_> = rendering
        .tree
        .roots
        .par_iter()
        .map(|root| (root, render_root(options, &rendering.tree, &renderer, root)))
        .collect();
    let mut covered = BTreeSet::new();
    for (root, result) in rendered {
        match result {
            Ok(output) => {
                covered.extend(
                    rendering
                        .tree
                        .closure(root)
                        .into_iter()
                        .flat_map(|k| rendering.tree.resource_files(k)),
                );
                let (input, rendered_root) = rendered_input(root, &output);
                rendering.roots.insert(input.name.clone(), rendered_root);
                inputs.push(input);
            }
            Err(error) => findings.push(render_error(&rendering.tree, root, &error)),
        }
    }
    inputs.retain(|input| !is_in(input, &covered));
    inputs.sort();
    Some(rendering)
}

/// Render `root`, or take its rendering from the cache when nothing it reads changed.
fn render_root(
    options: &RenderOptions,
    tree: &Tree,
    renderer: &Renderer,
    root: &Path,
) -> Result<render::Rendered, RenderError> {
    let cache = options.cache_dir.as_deref().map(RenderCache::new);
    let fingerprint = cache
        .as_ref()
        .and_then(|_| RenderCache::fingerprint(tree, root, renderer));
    if let (Some(cache), Some(fingerprint)) = (&cache, &fingerprint)
        && let Some(rendered) = cache.get(root, fingerprint)
    {
        return Ok(rendered);
    }
    let rendered = renderer.render(root, options.timeout)?;
    if let (Some(cache), Some(fingerprint)) = (&cache, &fingerprint) {
        cache.put(root, fingerprint, &rendered);
    }
    Ok(rendered)
}

fn is_in(input: &Input, files: &BTreeSet<PathBuf>) -> bool {
    matches!(&input.origin, Origin::File(path) if files.contains(&normalize(path)))
}

/// The input that carries a root's rendering: each object as one JSON document, without
/// Kustomize's annotations.
fn rendered_input(root: &Path, output: &render::Rendered) -> (Input, RenderedRoot) {
    let loaded = documents::load(&output.yaml);
    let mut text = String::with_capacity(output.yaml.len());
    let mut objects = Vec::with_capacity(loaded.documents.len());
    for mut document in loaded.documents {
        let provenance = crate::kustomize::origin::take(&mut document.root, &output.wrapper);
        if !objects.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(&document.root.to_json().to_string());
        text.push('\n');
        objects.push((document.root, provenance));
    }
    let root_name = root.display().to_string();
    let input = Input {
        name: format!("{root_name} (kustomize build)"),
        origin: Origin::Rendered {
            root: root.to_path_buf(),
            text: Arc::from(text),
        },
    };
    (
        input,
        RenderedRoot {
            root: root_name,
            objects,
        },
    )
}

fn render_error(tree: &Tree, root: &Path, error: &RenderError) -> Finding {
    let finding = Finding::new(
        FindingKind::Error,
        "kustomize",
        format!("cannot render {}: {error}", root.display()),
    )
    .with_help("the other roots and files are still checked; fix the kustomization, or check its files one by one with --no-render");
    match tree.kustomizations.get(root) {
        Some(kustomization) => finding.at(at_start(&kustomization.source, Span::new(0, 0))),
        None => finding,
    }
}

fn at_start(file: &crate::source::SourceFile, span: Span) -> SourceRef {
    SourceRef {
        file: file.clone(),
        span,
        document: 0,
        pointer: None,
        label: "here".into(),
        object: None,
    }
}

/// Move every finding of a rendered text to the line it comes from, and keep a finding found
/// through several roots once, naming them all.
pub(super) fn map_back(rendering: &Rendering, batches: &mut [Vec<FileResult>]) {
    let sources = Sources::new(&rendering.tree);
    let mut origins = Vec::new();
    for finding in batches
        .iter_mut()
        .flatten()
        .flat_map(|result| &mut result.findings)
    {
        let Some(root) = finding
            .location
            .as_ref()
            .and_then(|l| rendering.roots.get(l.file.name()))
        else {
            continue;
        };
        let origin = map_finding(&sources, root, finding);
        finding.roots = vec![root.root.clone()];
        origins.push(origin);
    }
    // The first of equal findings about the same object as written keeps every root; the
    // others go.
    type Key = (String, String, String, usize, usize, String);
    let mut origins = origins.into_iter();
    let mut first: HashMap<Key, (usize, usize, usize)> = HashMap::new();
    let mut extra_roots: HashMap<(usize, usize, usize), Vec<String>> = HashMap::new();
    let mut duplicates: BTreeSet<(usize, usize, usize)> = BTreeSet::new();
    for (b, batch) in batches.iter().enumerate() {
        for (r, result) in batch.iter().enumerate() {
            for (f, finding) in result.findings.iter().enumerate() {
                let (Some(location), [root]) = (&finding.location, finding.roots.as_slice()) else {
                    continue;
                };
                let key = (
                    finding.source.clone(),
                    finding.message.clone(),
                    location.file.name().to_string(),
                    location.span.start,
                    location.span.end,
                    origins.next().unwrap_or_default(),
                );
                match first.get(&key) {
                    Some(at) => {
                        extra_roots.entry(*at).or_default().push(root.clone());
                        duplicates.insert((b, r, f));
                    }
                    None => {
                        first.insert(key, (b, r, f));
                    }
                }
            }
        }
    }
    for (b, batch) in batches.iter_mut().enumerate() {
        for (r, result) in batch.iter_mut().enumerate() {
            let findings = std::mem::take(&mut result.findings);
            result.findings = findings
                .into_iter()
                .enumerate()
                .filter(|(f, _)| !duplicates.contains(&(b, r, *f)))
                .map(|(f, mut finding)| {
                    if let Some(roots) = extra_roots.remove(&(b, r, f)) {
                        for root in roots {
                            if !finding.roots.contains(&root) {
                                finding.roots.push(root);
                            }
                        }
                    }
                    finding
                })
                .collect();
        }
    }
}

/// Point `finding`, found in `root`'s rendering, at the line that caused it; the key of the
/// object it is about, as written.
fn map_finding(sources: &Sources<'_>, root: &RenderedRoot, finding: &mut Finding) -> String {
    let Some(location) = &mut finding.location else {
        return String::new();
    };
    let Some((object, provenance)) = root.objects.get(location.document) else {
        return String::new();
    };
    let pointer = location.pointer.as_deref().unwrap_or("/metadata/name");
    if let Some(mapped) = sources.map(object, pointer, provenance) {
        location.file = mapped.file;
        location.span = mapped.span;
        location.document = mapped.document;
    }
    sources.origin_key(object, provenance)
}
