//! One kustomization file read for what admit needs: the files and directories it names, its
//! patches, and the fields whose values end up in the objects it renders, each with the node
//! that wrote it so a finding can point there.
//!
//! Field names and their meaning follow Kustomize's `types.Kustomization`
//! (sigs.k8s.io/kustomize/api/types/kustomization.go); deprecated fields (`bases`,
//! `patchesStrategicMerge`, `patchesJson6902`, `commonLabels`, `vars`) are still read, as
//! Kustomize v5 still applies them.

use std::path::{Path, PathBuf};

use crate::documents::{self, Node, Value};
use crate::source::{SourceFile, Span};

/// The file names Kustomize accepts for a kustomization, in the order it looks for them
/// (`konfig.RecognizedKustomizationFileNames`).
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A string a kustomization wrote, with where.
#[derive(Debug, Clone)]
pub struct Written {
    pub text: String,
    pub span: Span,
}

/// Which objects a patch applies to (`types.Selector`); an empty field matches anything.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    /// A regular expression, anchored as Kustomize anchors it.
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// Where a patch's text is: a file beside the kustomization, or inline in it.
#[derive(Debug, Clone)]
pub enum PatchText {
    /// A file, named relative to the kustomization's directory.
    File(Written),
    /// A YAML string inside the kustomization: the scalar node holding it.
    Inline(Node),
}

/// Which field declared a patch; Kustomize applies them at different points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    StrategicMerge,
    Patches,
    Json6902,
}

/// One patch, of any of the three spellings Kustomize accepts.
#[derive(Debug, Clone)]
pub struct Patch {
    pub spelling: Spelling,
    pub text: PatchText,
    pub target: Option<Target>,
    /// Where the patch is declared in the kustomization (its list item).
    pub declared: Span,
}

/// One `images:` entry.
#[derive(Debug, Clone)]
pub struct Image {
    pub name: String,
    pub new_name: Option<Written>,
    pub new_tag: Option<Written>,
    pub digest: Option<Written>,
    pub declared: Span,
}

/// One `replicas:` entry.
#[derive(Debug, Clone)]
pub struct Replicas {
    pub name: String,
    pub count: Option<(i64, Span)>,
}

/// A label or annotation a kustomization adds: `commonLabels`, `labels[].pairs`,
/// `commonAnnotations`.
#[derive(Debug, Clone)]
pub struct Pair {
    pub key: String,
    pub value: String,
    /// The value's node (the key's when the value is empty).
    pub span: Span,
    /// Whether the pair also reaches selectors and pod templates (`commonLabels` always;
    /// `labels` with `includeSelectors`/`includeTemplates`).
    pub selectors: bool,
    pub templates: bool,
}

/// One `configMapGenerator` or `secretGenerator` entry.
#[derive(Debug, Clone)]
pub struct Generator {
    pub kind: &'static str,
    pub name: Written,
    /// The files it reads (`files`, `envs`, `env`): used by the kustomization, never objects.
    pub files: Vec<Written>,
}

/// A kustomization, read.
#[derive(Debug, Clone)]
pub struct Kustomization {
    /// The directory it is in.
    pub dir: PathBuf,
    /// The file, as named to the user.
    pub source: SourceFile,
    /// `kind: Component` (components are only used through another's `components:`).
    pub is_component: bool,
    /// `resources` and `bases`: files, directories or remote URLs.
    pub resources: Vec<Written>,
    pub components: Vec<Written>,
    pub patches: Vec<Patch>,
    pub images: Vec<Image>,
    pub replicas: Vec<Replicas>,
    pub namespace: Option<Written>,
    pub name_prefix: Option<Written>,
    pub name_suffix: Option<Written>,
    pub labels: Vec<Pair>,
    pub annotations: Vec<Pair>,
    pub generators: Vec<Generator>,
    /// Files the kustomization reads that are not resources: patch files, transformer,
    /// generator and validator configurations, `configurations`, `crds`, `openapi`,
    /// `replacements` and generator inputs. None of them is an object to check.
    pub used_files: Vec<Written>,
}

/// Why a kustomization file could not be read.
#[derive(Debug, Clone)]
pub struct ReadError {
    pub message: String,
    pub span: Span,
}

impl Kustomization {
    /// Read the kustomization in `source`, which lives in `dir`.
    pub fn read(dir: &Path, source: SourceFile) -> Result<Self, ReadError> {
        let loaded = documents::load(source.text());
        if let Some(error) = loaded.errors.first() {
            return Err(ReadError {
                message: error.message.clone(),
                span: error.span,
            });
        }
        let root = match loaded.documents.first() {
            Some(document) => document.root.clone(),
            None => Node {
                value: Value::Mapping(Vec::new()),
                span: Span::new(0, 0),
            },
        };
        if !matches!(root.value, Value::Mapping(_)) {
            return Err(ReadError {
                message: "a kustomization must be a mapping".into(),
                span: root.span,
            });
        }
        let mut kustomization = Kustomization {
            dir: dir.to_path_buf(),
            source,
            is_component: root.get("kind").and_then(Node::as_str) == Some("Component"),
            resources: strings(root.get("resources"))
                .into_iter()
                .chain(strings(root.get("bases")))
                .collect(),
            components: strings(root.get("components")),
            patches: Vec::new(),
            images: images(root.get("images")),
            replicas: replicas(root.get("replicas")),
            namespace: written(root.get("namespace")),
            name_prefix: written(root.get("namePrefix")),
            name_suffix: written(root.get("nameSuffix")),
            labels: Vec::new(),
            annotations: pairs(root.get("commonAnnotations"), false, true),
            generators: Vec::new(),
            used_files: Vec::new(),
        };
        kustomization.read_patches(&root);
        kustomization.read_labels(&root);
        kustomization.read_generators(&root);
        for key in [
            "transformers",
            "generators",
            "validators",
            "configurations",
            "crds",
            "replacements",
        ] {
            kustomization
                .used_files
                .extend(strings(root.get(key)).into_iter().filter(is_path));
            // `replacements` entries are mappings with a `path`.
            for item in sequence(root.get(key)) {
                kustomization.used_files.extend(written(item.get("path")));
            }
        }
        if let Some(openapi) = root.get("openapi") {
            kustomization
                .used_files
                .extend(written(openapi.get("path")));
        }
        Ok(kustomization)
    }

    /// The kustomization's own file name (`kustomization.yaml`...).
    pub fn file_name(&self) -> &str {
        self.source.name()
    }

    fn read_patches(&mut self, root: &Node) {
        // `patches`: `{path | patch, target?}`; strategic merge or JSON 6902, told apart by
        // content when applied.
        for item in sequence(root.get("patches")) {
            let text = match (written(item.get("path")), item.get("patch")) {
                (Some(path), _) => PatchText::File(path),
                (None, Some(inline)) => PatchText::Inline(inline.clone()),
                (None, None) => continue,
            };
            self.push_patch(
                Spelling::Patches,
                text,
                item.get("target").map(target),
                item.span,
            );
        }
        // `patchesStrategicMerge`: each entry a file name or an inline patch.
        for item in sequence(root.get("patchesStrategicMerge")) {
            let Some(text) = item.as_str() else { continue };
            let patch = if text.contains('\n') {
                PatchText::Inline(item.clone())
            } else {
                PatchText::File(Written {
                    text: text.to_string(),
                    span: item.span,
                })
            };
            self.push_patch(Spelling::StrategicMerge, patch, None, item.span);
        }
        // `patchesJson6902`: `{target, path | patch}`.
        for item in sequence(root.get("patchesJson6902")) {
            let text = match (written(item.get("path")), item.get("patch")) {
                (Some(path), _) => PatchText::File(path),
                (None, Some(inline)) => PatchText::Inline(inline.clone()),
                (None, None) => continue,
            };
            self.push_patch(
                Spelling::Json6902,
                text,
                item.get("target").map(target),
                item.span,
            );
        }
    }

    fn push_patch(
        &mut self,
        spelling: Spelling,
        text: PatchText,
        target: Option<Target>,
        declared: Span,
    ) {
        if let PatchText::File(path) = &text {
            self.used_files.push(path.clone());
        }
        self.patches.push(Patch {
            spelling,
            text,
            target,
            declared,
        });
    }

    fn read_labels(&mut self, root: &Node) {
        self.labels = pairs(root.get("commonLabels"), true, true);
        for item in sequence(root.get("labels")) {
            let flag = |key| matches!(item.get(key).map(|n| &n.value), Some(Value::Bool(true)));
            let selectors = flag("includeSelectors");
            let templates = selectors || flag("includeTemplates");
            self.labels
                .extend(pairs(item.get("pairs"), selectors, templates));
        }
    }

    fn read_generators(&mut self, root: &Node) {
        for (key, kind) in [
            ("configMapGenerator", "ConfigMap"),
            ("secretGenerator", "Secret"),
        ] {
            for item in sequence(root.get(key)) {
                let Some(name) = written(item.get("name")) else {
                    continue;
                };
                let mut files = Vec::new();
                for field in ["files", "envs"] {
                    for file in strings(item.get(field)) {
                        // `files` entries may be `key=path`.
                        let path = match file.text.split_once('=') {
                            Some((_, path)) => path.to_string(),
                            None => file.text.clone(),
                        };
                        files.push(Written {
                            text: path,
                            span: file.span,
                        });
                    }
                }
                files.extend(written(item.get("env")));
                self.used_files.extend(files.iter().cloned());
                self.generators.push(Generator { kind, name, files });
            }
        }
    }
}

/// Whether a `transformers:`-style entry names a file rather than holding inline YAML.
fn is_path(written: &Written) -> bool {
    !written.text.contains('\n')
}

fn written(node: Option<&Node>) -> Option<Written> {
    let node = node?;
    let text = match &node.value {
        Value::String(text) => text.clone(),
        Value::Int(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    Some(Written {
        text,
        span: node.span,
    })
}

fn sequence(node: Option<&Node>) -> &[Node] {
    match node.map(|node| &node.value) {
        Some(Value::Sequence(items)) => items,
        _ => &[],
    }
}

fn strings(node: Option<&Node>) -> Vec<Written> {
    sequence(node)
        .iter()
        .filter_map(|item| written(Some(item)))
        .collect()
}

fn target(node: &Node) -> Target {
    let text = |key| node.get(key).and_then(Node::as_str).map(str::to_string);
    Target {
        group: text("group"),
        version: text("version"),
        kind: text("kind"),
        name: text("name"),
        namespace: text("namespace"),
        label_selector: text("labelSelector"),
        annotation_selector: text("annotationSelector"),
    }
}

fn images(node: Option<&Node>) -> Vec<Image> {
    sequence(node)
        .iter()
        .filter_map(|item| {
            Some(Image {
                name: item.get("name")?.as_str()?.to_string(),
                new_name: written(item.get("newName")),
                new_tag: written(item.get("newTag")),
                digest: written(item.get("digest")),
                declared: item.span,
            })
        })
        .collect()
}

fn replicas(node: Option<&Node>) -> Vec<Replicas> {
    sequence(node)
        .iter()
        .filter_map(|item| {
            let count = item.get("count").and_then(|count| match count.value {
                Value::Int(n) => Some((n, count.span)),
                _ => None,
            });
            Some(Replicas {
                name: item.get("name")?.as_str()?.to_string(),
                count,
            })
        })
        .collect()
}

fn pairs(node: Option<&Node>, selectors: bool, templates: bool) -> Vec<Pair> {
    let Some(Value::Mapping(entries)) = node.map(|node| &node.value) else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|entry| {
            let value = written(Some(&entry.value));
            Pair {
                key: entry.key.clone(),
                span: value
                    .as_ref()
                    .filter(|v| !v.span.is_empty())
                    .map_or(entry.key_span, |v| v.span),
                value: value.map(|v| v.text).unwrap_or_default(),
                selectors,
                templates,
            }
        })
        .collect()
}

/// Whether a `resources` entry names something remote (a Git repository or an HTTP URL),
/// which admit cannot read and Kustomize fetches.
pub fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("git@")
        || reference.starts_with("github.com/")
        || reference.starts_with("gitlab.com/")
        || reference.starts_with("bitbucket.org/")
        || reference.contains("?ref=")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Kustomization {
        Kustomization::read(
            Path::new("overlay"),
            SourceFile::new("overlay/kustomization.yaml", text),
        )
        .unwrap()
    }

    #[test]
    fn every_spelling_of_a_patch_is_read_and_patch_files_are_used_files() {
        let k = read(
            "resources: [../base]\npatches:\n- path: a.yaml\n- target: {kind: Deployment, name: web}\n  patch: |-\n    - op: add\n      path: /x\n      value: 1\npatchesStrategicMerge:\n- b.yaml\npatchesJson6902:\n- target: {kind: Service}\n  path: c.yaml\n",
        );
        assert_eq!(k.patches.len(), 4);
        let used: Vec<_> = k.used_files.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(used, ["a.yaml", "b.yaml", "c.yaml"]);
        assert!(matches!(k.patches[1].text, PatchText::Inline(_)));
        assert_eq!(
            k.patches[1].target.as_ref().unwrap().name.as_deref(),
            Some("web")
        );
    }

    #[test]
    fn fields_that_set_values_keep_their_nodes() {
        let text = "namespace: prod\nnamePrefix: p-\nimages:\n- name: nginx\n  newTag: latest\nreplicas:\n- name: web\n  count: 3\ncommonLabels: {team: a}\nlabels:\n- pairs: {tier: b}\n  includeTemplates: true\nconfigMapGenerator:\n- name: cfg\n  files: [k=app.properties]\n";
        let k = read(text);
        let at = |span: Span| &text[span.start..span.end];
        assert_eq!(at(k.namespace.unwrap().span), "prod");
        assert_eq!(at(k.images[0].new_tag.as_ref().unwrap().span), "latest");
        assert_eq!(at(k.replicas[0].count.unwrap().1), "3");
        assert!(k.labels[0].selectors && k.labels[0].templates);
        assert!(!k.labels[1].selectors && k.labels[1].templates);
        assert_eq!(at(k.labels[1].span), "b");
        assert_eq!(k.generators[0].name.text, "cfg");
        assert_eq!(k.used_files[0].text, "app.properties");
    }

    #[test]
    fn remote_resources_are_told_from_paths() {
        assert!(is_remote(
            "https://github.com/fluxcd/flux2/manifests/install?ref=v2.0.0"
        ));
        assert!(is_remote("github.com/org/repo//deploy?ref=main"));
        assert!(!is_remote("../base"));
        assert!(!is_remote("deployment.yaml"));
    }
}
