//! Kustomize roots and Helm charts among the checked files, rendered before the check and
//! mapped back after.
//!
//! Before: the kustomizations and charts among the inputs are found; files that are not
//! objects (kustomization files, patches, configurations, everything in a chart) leave the
//! inputs; each root and each chart rendering is rendered and its objects join the inputs as
//! one text, in place of the files they came from.
//! After: every finding in a rendered text is moved to the line a user wrote (see
//! `kustomize::mapping` and `helm::template`), and one found through several roots is kept
//! once, naming them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;

use super::file_check::FileResult;
use crate::documents::{self, Node};
use crate::findings::{Finding, FindingKind, SourceRef};
use crate::helm::{self, Chart, HelmRenderer, RenderSpec, values::ValueFiles};
use crate::inputs::{Input, Origin, SkippedInput};
use crate::kustomize::paths::normalize;
use crate::kustomize::{Provenance, RenderCache, RenderError, Renderer, Sources, Tree, render};
use crate::source::{SourceFile, Span};

/// How Kustomize trees are checked.
#[derive(Debug, Clone)]
pub(crate) struct RenderOptions {
    /// Render roots (`--no-render` and `render: false` turn it off); patch files are never
    /// checked as objects either way.
    pub(crate) enabled: bool,
    /// The command that renders a directory, when configured.
    pub(crate) kustomize: Option<Vec<String>>,
    /// The command that runs Helm, when configured.
    pub(crate) helm: Option<Vec<String>>,
    /// How each chart is rendered, by its directory; a chart not named renders once with its
    /// own values.
    pub(crate) charts: Vec<(PathBuf, Vec<RenderSpec>)>,
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
            helm: None,
            charts: Vec::new(),
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
    /// Each rendered object (without Kustomize's annotations) and where it came from, by its
    /// document index in the rendered text.
    objects: Vec<(Node, Source)>,
}

/// Where a rendered object came from.
#[derive(Debug)]
enum Source {
    Kustomize(Provenance),
    /// Helm's output piped in, for a chart not found here: the rendered manifest itself,
    /// named by its `# Source:` path.
    Manifest(SourceFile),
    Helm {
        /// The template file, as reports name it.
        template: PathBuf,
        values: Arc<ValueFiles>,
    },
}

/// Find the Kustomize trees and Helm charts among `inputs`, take out what is not an object,
/// and render them into new inputs. `None` when there is neither.
pub(super) fn prepare(
    options: &RenderOptions,
    inputs: &mut Vec<Input>,
    skipped: &mut Vec<SkippedInput>,
    findings: &mut Vec<Finding>,
) -> Option<Rendering> {
    let files: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|input| match &input.origin {
            Origin::File(path) => Some(normalize(path)),
            _ => None,
        })
        .collect();
    let piped = take_piped_helm(inputs, findings);
    // The walk already left the charts' templates and values out, and noted each chart.
    let charts: Vec<Chart> = skipped
        .iter()
        .filter_map(|skipped| match skipped {
            SkippedInput::Chart { directory } => Chart::read(Path::new(directory)),
            _ => None,
        })
        .collect();
    let tree = Tree::discover(&files);
    if tree.kustomizations.is_empty()
        && tree.broken.is_empty()
        && charts.is_empty()
        && piped.is_none()
    {
        return None;
    }
    let mut rendering = Rendering {
        tree,
        roots: HashMap::new(),
    };
    if let Some((name, manifests)) = piped {
        let (input, root) = piped_input(&name, &manifests, findings);
        rendering.roots.insert(input.name.clone(), root);
        inputs.push(input);
    }
    prepare_kustomize(options, &mut rendering, inputs, findings);
    let rendered = prepare_helm(options, &charts, &mut rendering, inputs, findings);
    // A chart that was rendered (or failed to, which is an error of its own) needs no note.
    skipped.retain(|skipped| {
        !matches!(skipped, SkippedInput::Chart { directory } if rendered.contains(&PathBuf::from(directory)))
    });
    inputs.sort();
    Some(rendering)
}

/// Standard input, when it holds Helm's output (`# Source:` lines): taken out of the inputs,
/// with its name and manifests. Other standard input is kept, already read, as it was.
fn take_piped_helm(
    inputs: &mut Vec<Input>,
    findings: &mut Vec<Finding>,
) -> Option<(String, Vec<helm::Manifest>)> {
    let at = inputs
        .iter()
        .position(|input| matches!(input.origin, Origin::Stdin))?;
    let input = &mut inputs[at];
    let text = match crate::inputs::read(input) {
        Ok(file) => file.text().to_string(),
        Err(error) => {
            findings.push(super::read::input_error(error));
            input.origin = Origin::Piped(Arc::from(""));
            return None;
        }
    };
    if !text.lines().any(|line| line.starts_with("# Source: ")) {
        input.origin = Origin::Piped(Arc::from(text));
        return None;
    }
    let name = input.name.clone();
    inputs.remove(at);
    Some((name, helm::render::split(&text)))
}

/// Helm's output piped in: each manifest maps to its template when the chart (named by the
/// first part of its `# Source:` path) is under the current directory, else to the manifest
/// itself under its `# Source:` name.
fn piped_input(
    name: &str,
    manifests: &[helm::Manifest],
    findings: &mut Vec<Finding>,
) -> (Input, RenderedRoot) {
    let chart_name = manifests
        .first()
        .and_then(|m| m.source.split('/').next())
        .unwrap_or_default();
    if let Some(chart) = find_chart(chart_name) {
        let (mut input, root) =
            helm_input(&chart, &RenderSpec::default(), name, manifests, findings);
        input.origin = Origin::Piped(match input.origin {
            Origin::Rendered { text, .. } => text,
            _ => Arc::from(""),
        });
        return (input, root);
    }
    let mut objects = Vec::new();
    for manifest in manifests {
        let file = SourceFile::new(manifest.source.clone(), manifest.text.clone());
        for document in documents::load(&manifest.text).documents {
            objects.push((document.root, Source::Manifest(file.clone())));
        }
    }
    let input = Input {
        name: format!("{name} (helm template)"),
        origin: Origin::Piped(Arc::from(json_stream(&objects))),
    };
    (
        input,
        RenderedRoot {
            root: name.to_string(),
            objects,
        },
    )
}

/// The chart named `name` under the current directory (its `Chart.yaml` says so), looked for
/// a few levels down, honouring `.gitignore`.
fn find_chart(name: &str) -> Option<Chart> {
    if name.is_empty() {
        return None;
    }
    ignore::WalkBuilder::new(".")
        .max_depth(Some(6))
        .build()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() == "Chart.yaml")
        .filter_map(|entry| entry.path().parent().map(normalize))
        .filter_map(|dir| Chart::read(&dir))
        .find(|chart| chart.name == name)
}

/// Kustomize: leave out what is not an object, render every root.
fn prepare_kustomize(
    options: &RenderOptions,
    rendering: &mut Rendering,
    inputs: &mut Vec<Input>,
    findings: &mut Vec<Finding>,
) {
    let tree = &rendering.tree;
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
    if !options.enabled || rendering.tree.roots.is_empty() {
        return;
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
        return;
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
}

/// Helm: render every chart as each of its renderings; the charts rendered (or that failed
/// to). Without Helm the charts stay noted as not checked.
fn prepare_helm(
    options: &RenderOptions,
    charts: &[Chart],
    rendering: &mut Rendering,
    inputs: &mut Vec<Input>,
    findings: &mut Vec<Finding>,
) -> Vec<PathBuf> {
    let helm = HelmRenderer::find(options.helm.as_deref()).filter(|_| options.enabled);
    let Some(helm) = helm.filter(|_| !charts.is_empty()) else {
        return Vec::new();
    };
    let jobs: Vec<(&Chart, RenderSpec)> = charts
        .iter()
        .flat_map(|chart| {
            let specs = options
                .charts
                .iter()
                .find(|(dir, _)| normalize(dir) == chart.dir)
                .map(|(_, specs)| specs.clone())
                .filter(|specs| !specs.is_empty())
                .unwrap_or_else(|| vec![RenderSpec::default()]);
            specs.into_iter().map(move |spec| (chart, spec))
        })
        .collect();
    let rendered: Vec<_> = jobs
        .par_iter()
        .map(|(chart, spec)| (chart, spec, helm.render(chart, spec, options.timeout)))
        .collect();
    for (chart, spec, result) in rendered {
        let name = match spec.name.as_str() {
            "" => chart.dir.display().to_string(),
            named => format!("{} ({named})", chart.dir.display()),
        };
        match result {
            Ok(manifests) => {
                let (input, root) = helm_input(chart, spec, &name, &manifests, findings);
                rendering.roots.insert(input.name.clone(), root);
                inputs.push(input);
            }
            Err(error) => {
                let finding = Finding::new(
                    FindingKind::Error,
                    "helm",
                    format!("cannot render chart {name}: {error}"),
                )
                .with_help("the other charts and files are still checked");
                let chart_file = chart.dir.join("Chart.yaml");
                findings.push(match std::fs::read_to_string(&chart_file) {
                    Ok(text) => finding.at(at_start(
                        &SourceFile::new(chart_file.display().to_string(), text),
                        Span::new(0, 0),
                    )),
                    Err(_) => finding,
                });
            }
        }
    }
    charts.iter().map(|chart| chart.dir.clone()).collect()
}

/// The input that carries one chart rendering: each object as one JSON document.
fn helm_input(
    chart: &Chart,
    spec: &RenderSpec,
    name: &str,
    manifests: &[helm::Manifest],
    findings: &mut Vec<Finding>,
) -> (Input, RenderedRoot) {
    let shown = |path: &Path| normalize(path).display().to_string();
    // Value files by subchart chain (`["db"]` for `shop/charts/db/templates/...`), lowest
    // precedence first: the subchart's own values, then each parent's under its name, then
    // the rendering's files.
    let mut value_files: HashMap<Vec<String>, Arc<ValueFiles>> = HashMap::new();
    let mut values_for = |chain: &[String]| {
        value_files
            .entry(chain.to_vec())
            .or_insert_with(|| {
                let mut paths = Vec::new();
                for depth in (0..=chain.len()).rev() {
                    let mut dir = chart.dir.clone();
                    for sub in &chain[..depth] {
                        dir = dir.join("charts").join(sub);
                    }
                    let file = dir.join("values.yaml");
                    paths.push((file.clone(), shown(&file), chain[depth..].to_vec()));
                }
                paths.extend(
                    spec.values
                        .iter()
                        .map(|path| (path.clone(), shown(path), chain.to_vec())),
                );
                Arc::new(ValueFiles::read(&paths))
            })
            .clone()
    };
    let mut objects = Vec::new();
    for manifest in manifests {
        let template = helm::chart::source_file(chart, &manifest.source)
            .unwrap_or_else(|| PathBuf::from(&manifest.source));
        let values = values_for(&helm::chart::subchart_chain(&manifest.source));
        let loaded = documents::load(&manifest.text);
        // The API server would refuse what does not load (a key written twice, say): an error
        // at the template, quoting the rendered line.
        for error in &loaded.errors {
            let line = manifest.text[..error.span.start.min(manifest.text.len())]
                .matches('\n')
                .count();
            let rendered_line = manifest.text.lines().nth(line).unwrap_or_default().trim();
            let finding = Finding::new(
                FindingKind::Error,
                "invalid-yaml",
                format!(
                    "the chart rendered {name} into invalid YAML: {} (rendered line: `{rendered_line}`)",
                    error.message
                ),
            );
            findings.push(match std::fs::read_to_string(&template) {
                Ok(text) => finding.at(at_start(
                    &SourceFile::new(template.display().to_string(), text),
                    Span::new(0, 0),
                )),
                Err(_) => finding,
            });
        }
        for document in loaded.documents {
            objects.push((
                document.root,
                Source::Helm {
                    template: template.clone(),
                    values: values.clone(),
                },
            ));
        }
    }
    let input = Input {
        name: format!("{name} (helm template)"),
        origin: Origin::Rendered {
            root: chart.dir.join(format!("{}.helm", spec.name)),
            text: Arc::from(json_stream(&objects)),
        },
    };
    (
        input,
        RenderedRoot {
            root: name.to_string(),
            objects,
        },
    )
}

/// The text that carries rendered objects into the check: each object as one JSON document,
/// in order, so that a finding's document index is the object's index.
fn json_stream(objects: &[(Node, Source)]) -> String {
    let mut text = String::new();
    for (index, (object, _)) in objects.iter().enumerate() {
        if index > 0 {
            text.push_str("---\n");
        }
        text.push_str(&object.to_json().to_string());
        text.push('\n');
    }
    text
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
    let mut objects = Vec::with_capacity(loaded.documents.len());
    for mut document in loaded.documents {
        let provenance = crate::kustomize::origin::take(&mut document.root, &output.wrapper);
        objects.push((document.root, Source::Kustomize(provenance)));
    }
    let root_name = root.display().to_string();
    let input = Input {
        name: format!("{root_name} (kustomize build)"),
        origin: Origin::Rendered {
            root: root.to_path_buf(),
            text: Arc::from(json_stream(&objects)),
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

fn at_start(file: &SourceFile, span: Span) -> SourceRef {
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
pub(super) fn map_back(rendering: &Rendering, batches: &mut [Vec<FileResult>], suppressions: bool) {
    let sources = Sources::new(&rendering.tree);
    let mut templates = HashMap::new();
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
        let origin = map_finding(&sources, &mut templates, root, finding);
        finding.roots = vec![root.root.clone()];
        origins.push(origin);
    }
    if suppressions {
        apply_comments(batches);
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

/// `# admit:ignore` comments in the files that mapped findings now point into: a comment on a
/// patch's line silences what the patch caused, as in a plain file. (Those files are not
/// checked one by one, so their comments are not audited for use.)
fn apply_comments(batches: &mut [Vec<FileResult>]) {
    let mut by_file: HashMap<String, Vec<&mut Finding>> = HashMap::new();
    for finding in batches
        .iter_mut()
        .flatten()
        .flat_map(|result| &mut result.findings)
        .filter(|finding| !finding.roots.is_empty())
    {
        if let Some(location) = &finding.location {
            by_file
                .entry(location.file.name().to_string())
                .or_default()
                .push(finding);
        }
    }
    for findings in by_file.into_values() {
        let Some(file) = findings
            .first()
            .and_then(|f| f.location.as_ref())
            .map(|l| l.file.clone())
        else {
            continue;
        };
        let documents = documents::load(file.text()).documents;
        let mut comments = crate::suppressions::from_comments(&file, &documents);
        if comments.is_empty() {
            continue;
        }
        let mut owned: Vec<Finding> = findings.iter().map(|f| (**f).clone()).collect();
        crate::suppressions::apply(&mut comments, &mut owned);
        for (finding, updated) in findings.into_iter().zip(owned) {
            finding.suppressed = updated.suppressed;
        }
    }
}

/// Point `finding`, found in `root`'s rendering, at the line that caused it; the key of the
/// object it is about, as written.
fn map_finding(
    sources: &Sources<'_>,
    templates: &mut HashMap<PathBuf, Option<SourceFile>>,
    root: &RenderedRoot,
    finding: &mut Finding,
) -> String {
    let Some(location) = &mut finding.location else {
        return String::new();
    };
    let Some((object, source)) = root.objects.get(location.document) else {
        return String::new();
    };
    let pointer = location.pointer.as_deref().unwrap_or("/metadata/name");
    match source {
        Source::Manifest(file) => {
            // The object was loaded from this manifest's text: its spans index it.
            let located = object.locate(pointer);
            let collection = matches!(
                located.node.value,
                documents::Value::Mapping(_) | documents::Value::Sequence(_)
            );
            location.span = match (collection, located.key_span) {
                (true, Some(key)) => key,
                _ => located.node.span,
            };
            let key = format!("{}#{}", file.name(), location.document);
            location.file = file.clone();
            location.document = 0;
            key
        }
        Source::Kustomize(provenance) => {
            if let Some(mapped) = sources.map(object, pointer, provenance) {
                location.file = mapped.file;
                location.span = mapped.span;
                location.document = mapped.document;
            }
            sources.origin_key(object, provenance)
        }
        Source::Helm { template, values } => {
            let file = templates
                .entry(template.clone())
                .or_insert_with(|| {
                    let text = std::fs::read_to_string(template).ok()?;
                    Some(SourceFile::new(template.display().to_string(), text))
                })
                .clone();
            let key = format!("{}#{}", template.display(), location.document);
            let Some(file) = file else {
                return key;
            };
            // A pointer past the end of the object (a missing field) stands for its nearest
            // existing ancestor, as in plain files.
            let located = object.locate(pointer);
            let at = located.node;
            let tokens = documents::tokens(&located.pointer).unwrap_or_default();
            let Some(hit) = helm::template::locate(file.text(), object, &tokens) else {
                return key;
            };
            let template_ref = |label: &str| SourceRef {
                file: file.clone(),
                span: hit.span,
                document: 0,
                pointer: location.pointer.clone(),
                label: label.to_string(),
                object: location.object.clone(),
            };
            let found: Vec<_> = hit
                .values_paths
                .iter()
                .filter_map(|path| values.locate(path))
                .collect();
            if !hit.exact {
                // The template does not show the node; what Helm rendered does.
                let mut rendered = at.to_json().to_string();
                if rendered.len() > 200 {
                    let cut = (0..=200).rev().find(|&i| rendered.is_char_boundary(i));
                    rendered.truncate(cut.unwrap_or(0));
                    rendered.push('…');
                }
                let shown = format!(
                    "the template does not write this node out; Helm rendered {}: {rendered}",
                    location.pointer.as_deref().unwrap_or("it")
                );
                finding.help = Some(match finding.help.take() {
                    Some(help) => format!("{help}\n{shown}"),
                    None => shown,
                });
            }
            match found.first().cloned() {
                // The key was not written in the template (toYaml of a values block): the
                // values node is the place to fix, the template line is how it got there.
                Some((values_file, span, _)) if !hit.exact => {
                    finding.related.push(template_ref("rendered by this line"));
                    location.file = values_file;
                    location.span = span;
                    location.document = 0;
                }
                _ => {
                    for (values_file, span, _) in found.into_iter().filter(|found| found.2) {
                        finding.related.push(SourceRef {
                            file: values_file,
                            span,
                            document: 0,
                            pointer: None,
                            label: "a value this line uses is set here".into(),
                            object: None,
                        });
                    }
                    *location = template_ref(&location.label);
                }
            }
            key
        }
    }
}
