//! From a node of a rendered object back to the line a user wrote: the patch that set it, the
//! kustomization field that set it, or the resource file it came from.
//!
//! Each source that could have written the node at a pointer is followed along the pointer as
//! far as it goes: the resource file the object came from, then every patch and field of the
//! kustomizations that transformed the object, in the order Kustomize applied them. The source
//! that reaches deepest wins; at equal depth a later source wins only when it set the value
//! there (a scalar equal to the rendered one), not when it merely passes through (a patch
//! names a container to patch one of its fields). Lists are followed by their merge keys
//! (`name`, `mountPath`, `containerPort`...) so a patch that added a container does not shift
//! the others.
//!
//! The order of Kustomize's built-in transformers inside one kustomization is the one in
//! `api/internal/target/kusttarget.go` (`configureBuiltinTransformers`): strategic-merge
//! patches, `patches`, namespace, prefix, suffix, labels, annotations, JSON 6902 patches,
//! replicas, images.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::documents::{self, Document, Node, Value, token_index};
use crate::source::{SourceFile, Span};

use super::kustomization::{Kustomization, Patch, PatchText, Spelling, Target, is_remote};
use super::origin::Provenance;
use super::paths::normalize;
use super::tree::Tree;

/// Where a rendered node was written.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub file: SourceFile,
    pub span: Span,
    /// The index of the document in `file`, for ordering.
    pub document: usize,
    /// What wrote it, for the reader: `patch`, `images`, `namespace`...
    pub via: &'static str,
}

/// A file read for mapping: its text and documents.
#[derive(Debug)]
struct Parsed {
    source: SourceFile,
    documents: Vec<Document>,
}

/// The files findings are mapped into, read once each, and the names users know them by.
#[derive(Debug)]
pub struct Sources<'t> {
    tree: &'t Tree,
    /// Each kustomization by its directory, canonical.
    by_dir: HashMap<PathBuf, &'t Kustomization>,
    files: Mutex<HashMap<PathBuf, Option<Arc<Parsed>>>>,
}

impl<'t> Sources<'t> {
    pub fn new(tree: &'t Tree) -> Self {
        let by_dir = tree
            .kustomizations
            .values()
            .map(|k| (canonical(&k.dir), k))
            .collect();
        Sources {
            tree,
            by_dir,
            files: Mutex::new(HashMap::new()),
        }
    }

    /// The kustomization whose file is `file` (canonical or not).
    fn kustomization(&self, file: &Path) -> Option<&'t Kustomization> {
        self.by_dir.get(&canonical(file.parent()?)).copied()
    }

    /// The name to show for `file`: under a kustomization's directory, named from it as the
    /// user named that directory; else as given.
    fn display(&self, file: &Path) -> String {
        let file = canonical(file);
        self.by_dir
            .iter()
            .filter_map(|(dir, k)| Some((dir, k, file.strip_prefix(dir).ok()?)))
            .max_by_key(|(dir, _, _)| dir.components().count())
            .map_or_else(
                || file.display().to_string(),
                |(_, k, rest)| normalize(&k.dir.join(rest)).display().to_string(),
            )
    }

    fn parsed(&self, file: &Path) -> Option<Arc<Parsed>> {
        let key = canonical(file);
        let mut files = self.files.lock().ok()?;
        files
            .entry(key.clone())
            .or_insert_with(|| {
                let text = std::fs::read_to_string(&key).ok()?;
                let documents = documents::load(&text).documents;
                Some(Arc::new(Parsed {
                    source: SourceFile::new(self.display(&key), text),
                    documents,
                }))
            })
            .clone()
    }

    /// What the rendered object was made from, as a key: its resource file and document, or
    /// its generator. The same key through two roots is the same object as written.
    pub fn origin_key(&self, rendered: &Node, provenance: &Provenance) -> String {
        if let Some(file) = &provenance.file
            && let Some(parsed) = self.parsed(file)
            && let Some(document) = matching_document(&parsed.documents, rendered)
        {
            return format!("{}#{}", parsed.source.name(), document.index);
        }
        match (&provenance.generator, &provenance.repo) {
            (Some((kind, file)), _) => format!(
                "{}#{kind}/{}",
                file.display(),
                str_at(rendered, "/metadata/name")
            ),
            (None, Some(repo)) => format!("{repo}#{}", str_at(rendered, "/metadata/name")),
            (None, None) => str_at(rendered, "/metadata/name").to_string(),
        }
    }

    /// Where the node at `pointer` of the rendered object `rendered` was written.
    pub fn map(&self, rendered: &Node, pointer: &str, provenance: &Provenance) -> Option<Mapped> {
        // A pointer past the end of the rendered object (a missing field) is mapped as its
        // nearest existing ancestor, as findings in plain files are.
        let tokens = documents::tokens(&rendered.locate(pointer).pointer).unwrap_or_default();
        let mut best = self.origin_claim(rendered, &tokens, provenance);
        for file in &provenance.transformed_by {
            let Some(kustomization) = self.kustomization(file) else {
                continue;
            };
            for claim in self.claims(kustomization, rendered, &tokens) {
                best = match best {
                    Some(current)
                        if claim.depth < current.depth
                            || (claim.depth == current.depth && !claim.sets) =>
                    {
                        Some(current)
                    }
                    _ => Some(claim),
                };
            }
        }
        best.map(|claim| claim.mapped)
    }

    /// The resource file's (or generator's) claim on the node.
    fn origin_claim(
        &self,
        rendered: &Node,
        tokens: &[String],
        provenance: &Provenance,
    ) -> Option<Claim> {
        if let Some(file) = &provenance.file {
            let parsed = self.parsed(file)?;
            let document = matching_document(&parsed.documents, rendered)?;
            let reached = follow(rendered, &document.root, tokens);
            return Some(Claim {
                depth: reached.depth,
                sets: true,
                mapped: Mapped {
                    file: parsed.source.clone(),
                    span: reached.span(parsed.source.text()),
                    document: document.index,
                    via: "resource",
                },
            });
        }
        if let Some((_, file)) = &provenance.generator {
            let kustomization = self.kustomization(file)?;
            let name = rendered.pointer("/metadata/name").and_then(Node::as_str)?;
            let generator = kustomization
                .generators
                .iter()
                .filter(|g| name.contains(&g.name.text))
                .max_by_key(|g| g.name.text.len())?;
            return Some(Claim {
                depth: 0,
                sets: true,
                mapped: Mapped {
                    file: kustomization.source.clone(),
                    span: generator.name.span,
                    document: 0,
                    via: "generator",
                },
            });
        }
        // A remote resource: the `resources` entry that fetched it.
        let repo = provenance.repo.as_deref().unwrap_or_default();
        let (kustomization, entry) = self
            .tree
            .kustomizations
            .values()
            .flat_map(|k| k.resources.iter().map(move |r| (k, r)))
            .filter(|(_, r)| is_remote(&r.text))
            .max_by_key(|(_, r)| common_prefix(&r.text, repo))?;
        Some(Claim {
            depth: 0,
            sets: true,
            mapped: Mapped {
                file: kustomization.source.clone(),
                span: entry.span,
                document: 0,
                via: "remote resource",
            },
        })
    }

    /// What `kustomization`'s patches and fields claim of the node, in application order.
    fn claims(&self, k: &'t Kustomization, rendered: &Node, tokens: &[String]) -> Vec<Claim> {
        let mut claims = Vec::new();
        let patches = |spelling: Spelling, json6902: bool| {
            k.patches
                .iter()
                .filter(move |p| p.spelling == spelling)
                .filter(move |_| json6902 || spelling != Spelling::Json6902)
        };
        for patch in
            patches(Spelling::StrategicMerge, false).chain(patches(Spelling::Patches, false))
        {
            claims.extend(self.patch_claim(k, patch, rendered, tokens));
        }
        let field = |span: Span, via: &'static str| Claim {
            depth: tokens.len(),
            sets: true,
            mapped: Mapped {
                file: k.source.clone(),
                span,
                document: 0,
                via,
            },
        };
        let leaf = leaf(rendered, tokens);
        let path: Vec<&str> = tokens.iter().map(String::as_str).collect();
        if let (Some(namespace), ["metadata", "namespace"]) = (&k.namespace, path.as_slice())
            && leaf == Some(namespace.text.as_str())
        {
            claims.push(field(namespace.span, "namespace"));
        }
        for pair in &k.labels {
            let reaches = match path.as_slice() {
                ["metadata", "labels", key] => *key == pair.key,
                ["spec", "template", "metadata", "labels", key] => {
                    pair.templates && *key == pair.key
                }
                ["spec", "selector", "matchLabels", key] | ["spec", "selector", key] => {
                    pair.selectors && *key == pair.key
                }
                _ => false,
            };
            if reaches && leaf == Some(pair.value.as_str()) {
                claims.push(field(pair.span, "labels"));
            }
        }
        for pair in &k.annotations {
            let reaches = matches!(path.as_slice(),
                ["metadata", "annotations", key] | ["spec", "template", "metadata", "annotations", key]
                    if *key == pair.key);
            if reaches && leaf == Some(pair.value.as_str()) {
                claims.push(field(pair.span, "commonAnnotations"));
            }
        }
        for patch in patches(Spelling::Json6902, true) {
            claims.extend(self.patch_claim(k, patch, rendered, tokens));
        }
        if path == ["spec", "replicas"] {
            let count = rendered
                .pointer("/spec/replicas")
                .and_then(|n| match n.value {
                    Value::Int(count) => Some(count),
                    _ => None,
                });
            let name = rendered.pointer("/metadata/name").and_then(Node::as_str);
            for entry in &k.replicas {
                if let Some((wanted, span)) = entry.count
                    && count == Some(wanted)
                    && name.is_some_and(|name| name.contains(&entry.name))
                {
                    claims.push(field(span, "replicas"));
                }
            }
        }
        if matches!(
            path.as_slice(),
            [
                ..,
                "containers" | "initContainers" | "ephemeralContainers",
                _,
                "image"
            ]
        ) && let Some(image) = leaf
        {
            let (name, tag, digest) = split_image(image);
            for entry in &k.images {
                let new_name = entry
                    .new_name
                    .as_ref()
                    .map_or(entry.name.as_str(), |n| &n.text);
                if new_name != name {
                    continue;
                }
                let span = [
                    entry
                        .digest
                        .as_ref()
                        .filter(|d| Some(d.text.as_str()) == digest),
                    entry
                        .new_tag
                        .as_ref()
                        .filter(|t| Some(t.text.as_str()) == tag),
                    entry.new_name.as_ref(),
                ]
                .into_iter()
                .flatten()
                .next()
                .map(|written| written.span);
                if let Some(span) = span {
                    claims.push(field(span, "images"));
                }
            }
        }
        claims
    }

    /// How far a patch reaches along `tokens` of the rendered object, when it applies to it.
    fn patch_claim(
        &self,
        k: &Kustomization,
        patch: &Patch,
        rendered: &Node,
        tokens: &[String],
    ) -> Vec<Claim> {
        let Some(text) = self.patch_text(k, patch) else {
            return Vec::new();
        };
        if patch
            .target
            .as_ref()
            .is_some_and(|target| !selects(target, rendered))
        {
            return Vec::new();
        }
        let mut claims = Vec::new();
        for document in &text.documents {
            if let Value::Sequence(operations) = &document.root.value {
                for operation in operations {
                    claims.extend(json6902_claim(operation, rendered, tokens, &text));
                }
                continue;
            }
            // A strategic-merge patch names the object it patches, unless a target does.
            if patch.target.is_none() && !names_object(&document.root, rendered) {
                continue;
            }
            let reached = follow(rendered, &document.root, tokens);
            let sets = reached.depth == tokens.len()
                && !identifying(tokens)
                && sets_rendered(reached.node, rendered, tokens);
            claims.push(Claim {
                depth: reached.depth,
                sets,
                mapped: text.mapped(reached.span(&text.text), document.index),
            });
        }
        claims
    }

    /// A patch's text, parsed, with the way back to the file it is written in.
    fn patch_text(&self, k: &Kustomization, patch: &Patch) -> Option<PatchSource> {
        match &patch.text {
            PatchText::File(path) => {
                let parsed = self.parsed(&k.dir.join(&path.text))?;
                Some(PatchSource {
                    source: parsed.source.clone(),
                    text: parsed.source.text().to_string(),
                    documents: parsed.documents.clone(),
                    placement: Placement::Same,
                })
            }
            PatchText::Inline(node) => {
                let text = node.as_str()?;
                let documents = documents::load(text).documents;
                let placement = Placement::of_block(k.source.text(), node.span, text)
                    .unwrap_or(Placement::Whole(node.span));
                Some(PatchSource {
                    source: k.source.clone(),
                    text: text.to_string(),
                    documents,
                    placement,
                })
            }
        }
    }
}

/// One source's reach along a pointer.
#[derive(Debug)]
struct Claim {
    /// How many reference tokens the source follows.
    depth: usize,
    /// Whether it set the value at `depth` (rather than passing through it).
    sets: bool,
    mapped: Mapped,
}

/// A patch's parsed text and how its spans translate into the file it is written in.
struct PatchSource {
    source: SourceFile,
    /// The patch's own text, which its documents' spans index.
    text: String,
    documents: Vec<Document>,
    placement: Placement,
}

impl PatchSource {
    fn mapped(&self, span: Span, document: usize) -> Mapped {
        Mapped {
            file: self.source.clone(),
            span: self.placement.translate(span),
            document,
            via: "patch",
        }
    }
}

/// How an inline patch's text sits in its kustomization file.
enum Placement {
    /// The text is the file.
    Same,
    /// A literal block scalar: line `i` of the text starts at `lines[i].0` in the text and at
    /// `lines[i].1` in the file, after the indentation.
    Block { lines: Vec<(usize, usize)> },
    /// Anything else (a quoted or folded string): the whole scalar.
    Whole(Span),
}

impl Placement {
    /// The placement of the literal block scalar at `span` in `file` whose value is `value`,
    /// when every line of the value is found, indented, on consecutive lines of the file.
    fn of_block(file: &str, span: Span, value: &str) -> Option<Placement> {
        let scalar = file.get(span.start..span.end)?;
        if !scalar.starts_with('|') {
            return None;
        }
        let first_line = span.start + scalar.find('\n')? + 1;
        let body = file.get(first_line..)?;
        let indent = body
            .lines()
            .find(|line| !line.trim().is_empty())?
            .chars()
            .take_while(|c| *c == ' ')
            .count();
        let mut lines = Vec::new();
        let (mut in_text, mut in_file) = (0, first_line);
        let mut file_lines = body.split('\n');
        for line in value.split('\n') {
            let file_line = file_lines.next()?;
            let matches = if line.is_empty() {
                file_line.trim().is_empty()
            } else {
                file_line.get(indent..) == Some(line)
            };
            if !matches {
                return None;
            }
            lines.push((in_text, in_file + indent.min(file_line.len())));
            in_text += line.len() + 1;
            in_file += file_line.len() + 1;
        }
        Some(Placement::Block { lines })
    }

    fn translate(&self, span: Span) -> Span {
        match self {
            Placement::Same => span,
            Placement::Whole(whole) => *whole,
            Placement::Block { lines } => {
                let at = |offset: usize| {
                    let line = lines.partition_point(|(start, _)| *start <= offset);
                    line.checked_sub(1)
                        .and_then(|i| lines.get(i))
                        .map_or(offset, |(text, file)| file + (offset - text))
                };
                Span::new(at(span.start), at(span.end))
            }
        }
    }
}

/// How far `source` follows `tokens` of `rendered`, and what it reached.
#[derive(Debug, Clone, Copy)]
struct Reached<'s> {
    depth: usize,
    node: &'s Node,
    key_span: Option<Span>,
}

impl Reached<'_> {
    /// The span a finding underlines, as in plain files: a scalar whole, a collection by its
    /// key when it has one, else its first line. `text` is what the spans index.
    fn span(&self, text: &str) -> Span {
        match (&self.node.value, self.key_span) {
            (Value::Mapping(_) | Value::Sequence(_), Some(key)) => key,
            (Value::Mapping(_) | Value::Sequence(_), None) => {
                let span = self.node.span;
                let end = text
                    .get(span.start..span.end)
                    .and_then(|slice| slice.find(['\n', '\r']))
                    .map_or(span.end, |at| span.start + at);
                Span::new(span.start, end)
            }
            _ => self.node.span,
        }
    }
}

/// The keys that identify a list item in strategic merge (`patchMergeKey` of the built-in
/// types), tried in this order.
const MERGE_KEYS: [&str; 6] = [
    "name",
    "mountPath",
    "containerPort",
    "devicePath",
    "ip",
    "topologyKey",
];

/// Follow `tokens` through `rendered` and `source` side by side: keys by name, list items by
/// merge key (else by position when both lists are as long).
fn follow<'s>(rendered: &Node, source: &'s Node, tokens: &[String]) -> Reached<'s> {
    let mut reached = Reached {
        depth: 0,
        node: source,
        key_span: None,
    };
    let mut rendered = rendered;
    for token in tokens {
        let step = match (&rendered.value, &reached.node.value) {
            (Value::Mapping(_), Value::Mapping(entries)) => rendered.get(token).and_then(|r| {
                let entry = entries.iter().find(|e| &e.key == token)?;
                Some((r, &entry.value, Some(entry.key_span)))
            }),
            (Value::Sequence(r_items), Value::Sequence(s_items)) => token_index(token)
                .and_then(|i| r_items.get(i).map(|r| (i, r)))
                .and_then(|(i, r)| {
                    let s = same_item(r, s_items)
                        .or_else(|| (r_items.len() == s_items.len()).then(|| &s_items[i]))?;
                    Some((r, s, None))
                }),
            _ => None,
        };
        let Some((r, s, key_span)) = step else {
            break;
        };
        rendered = r;
        reached = Reached {
            depth: reached.depth + 1,
            node: s,
            key_span,
        };
    }
    reached
}

/// The item of `items` with the same merge key as `item`, or equal to it for scalars.
fn same_item<'s>(item: &Node, items: &'s [Node]) -> Option<&'s Node> {
    if !matches!(item.value, Value::Mapping(_)) {
        return items.iter().find(|s| s.value == item.value);
    }
    MERGE_KEYS.iter().find_map(|key| {
        let wanted = &item.get(key)?.value;
        items
            .iter()
            .find(|s| s.get(key).is_some_and(|v| &v.value == wanted))
    })
}

/// Whether the pointer names a field that only identifies what a strategic-merge patch
/// patches: the object's `apiVersion`, `kind`, name and namespace, or a list item's merge key.
fn identifying(tokens: &[String]) -> bool {
    let path: Vec<&str> = tokens.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["apiVersion" | "kind"] | ["metadata", "name" | "namespace"] => true,
        [.., index, key] => token_index(index).is_some() && MERGE_KEYS.contains(key),
        _ => false,
    }
}

/// Whether `node` (a patch's) holds the scalar that the rendered object has at `tokens`.
fn sets_rendered(node: &Node, rendered: &Node, tokens: &[String]) -> bool {
    !matches!(node.value, Value::Mapping(_) | Value::Sequence(_))
        && rendered
            .pointer(&pointer_of(tokens))
            .is_some_and(|at| node.value == at.value)
}

/// The JSON Pointer of `tokens`.
fn pointer_of(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", documents::escape_pointer_token(t)))
        .collect()
}

/// The rendered string at `tokens`, when it is one.
fn leaf<'r>(rendered: &'r Node, tokens: &[String]) -> Option<&'r str> {
    rendered.pointer(&pointer_of(tokens)).and_then(Node::as_str)
}

/// A JSON 6902 operation's claim: an `add` or `replace` whose path leads to (or into) the
/// pointer, followed on into its value.
fn json6902_claim(
    operation: &Node,
    rendered: &Node,
    tokens: &[String],
    text: &PatchSource,
) -> Option<Claim> {
    let op = operation.get("op").and_then(Node::as_str)?;
    if !matches!(op, "add" | "replace") {
        return None;
    }
    let path = documents::tokens(operation.get("path").and_then(Node::as_str)?)?;
    let value = operation.entry("value")?;
    if path.len() > tokens.len()
        || !path
            .iter()
            .zip(tokens)
            .all(|(p, t)| p == t || (p == "-" && token_index(t).is_some()))
    {
        return None;
    }
    let at_path = pointer_of(&tokens[..path.len()]);
    let rendered_at = rendered.pointer(&at_path)?;
    let rest = &tokens[path.len()..];
    let reached = follow(rendered_at, &value.value, rest);
    let depth = path.len() + reached.depth;
    let key_span = if reached.depth == 0 {
        Some(value.key_span)
    } else {
        reached.key_span
    };
    let span = Reached {
        key_span,
        ..reached
    }
    .span(&text.text);
    Some(Claim {
        depth,
        sets: depth == tokens.len() && sets_rendered(reached.node, rendered, tokens),
        mapped: text.mapped(span, 0),
    })
}

/// Whether a strategic-merge patch document names the rendered object: same kind, and a name
/// that the rendered name contains (outer kustomizations may have added a prefix or suffix).
fn names_object(patch: &Node, rendered: &Node) -> bool {
    let text = |node: &Node, pointer| {
        node.pointer(pointer)
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let kind_matches =
        text(patch, "/kind").is_none_or(|kind| Some(kind) == text(rendered, "/kind"));
    let name_matches = match (
        text(patch, "/metadata/name"),
        text(rendered, "/metadata/name"),
    ) {
        (Some(patch), Some(rendered)) => rendered.contains(&patch),
        _ => true,
    };
    kind_matches && name_matches
}

/// Whether a patch `target` selects the rendered object (group, version, kind, name as an
/// anchored regular expression, namespace, and equality label selectors).
fn selects(target: &Target, rendered: &Node) -> bool {
    let text = |pointer: &str| str_at(rendered, pointer);
    let (group, version) = match text("/apiVersion").rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", text("/apiVersion")),
    };
    let name = text("/metadata/name");
    let name_matches = target.name.as_deref().is_none_or(|wanted| {
        name.contains(wanted)
            || regex::Regex::new(&format!("^(?:{wanted})$")).is_ok_and(|re| re.is_match(name))
    });
    let labels_match = target.label_selector.as_deref().is_none_or(|selector| {
        selector.split(',').all(|term| match term.split_once('=') {
            Some((key, value)) => {
                let key = key.trim().trim_end_matches('=').trim_end_matches('!');
                text(&format!(
                    "/metadata/labels/{}",
                    documents::escape_pointer_token(key)
                )) == value.trim_start_matches('=').trim()
            }
            // Set-based terms are not checked; the value comparison still guards the claim.
            None => true,
        })
    });
    target.group.as_deref().is_none_or(|g| g == group)
        && target.version.as_deref().is_none_or(|v| v == version)
        && target.kind.as_deref().is_none_or(|k| k == text("/kind"))
        && target
            .namespace
            .as_deref()
            .is_none_or(|n| n == text("/metadata/namespace"))
        && name_matches
        && labels_match
}

/// The document of a resource file that the rendered object came from: the only one, else the
/// one of the same kind whose name the rendered name contains most of.
fn matching_document<'d>(documents: &'d [Document], rendered: &Node) -> Option<&'d Document> {
    if let [only] = documents {
        return Some(only);
    }
    let text = str_at;
    documents
        .iter()
        .filter(|d| text(&d.root, "/kind") == text(rendered, "/kind"))
        .filter(|d| text(rendered, "/metadata/name").contains(text(&d.root, "/metadata/name")))
        .max_by_key(|d| text(&d.root, "/metadata/name").len())
}

/// `repository/name`, tag and digest of an image reference.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |at| at + 1);
    match rest[slash..].rfind(':') {
        Some(colon) => (
            &rest[..slash + colon],
            Some(&rest[slash + colon + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

/// The string at `pointer` in `node`, or `""`.
fn str_at<'n>(node: &'n Node, pointer: &str) -> &'n str {
    node.pointer(pointer)
        .and_then(Node::as_str)
        .unwrap_or_default()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|_| super::paths::absolute(path))
}
