//! Kustomize's build metadata on a rendered object: where it came from
//! (`config.kubernetes.io/origin`) and which kustomizations transformed it
//! (`alpha.config.kubernetes.io/transformations`), read and then removed, so the object a
//! policy sees is the object the cluster would get.
//!
//! The annotations' shapes are Kustomize's `resource.Origin` (api/resource/origin.go).

use std::path::{Path, PathBuf};

use crate::documents::{self, Node, Value};

use super::paths::normalize;

const ORIGIN: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

/// Where a rendered object came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provenance {
    /// The resource file it was read from, absolute.
    pub file: Option<PathBuf>,
    /// The remote repository it was read from, when it was.
    pub repo: Option<String>,
    /// The generator that made it: its kind (`ConfigMapGenerator`...) and the kustomization
    /// file that configured it, absolute.
    pub generator: Option<(String, PathBuf)>,
    /// The kustomization files whose transformers changed it, innermost first (the order
    /// Kustomize applied them), each once.
    pub transformed_by: Vec<PathBuf>,
}

/// Read the build metadata of the object at `node` and remove it, and remove
/// `metadata.annotations` too when nothing else is left in it. Paths in the annotations are
/// relative to `wrapper`, the directory of the kustomization that was rendered.
pub fn take(node: &mut Node, wrapper: &Path) -> Provenance {
    let mut provenance = Provenance::default();
    let Some(annotations) = annotations_mut(node) else {
        return provenance;
    };
    let mut origin = None;
    let mut transformations = None;
    annotations.retain(|entry| match entry.key.as_str() {
        ORIGIN => {
            origin = entry.value.as_str().map(str::to_string);
            false
        }
        TRANSFORMATIONS => {
            transformations = entry.value.as_str().map(str::to_string);
            false
        }
        _ => true,
    });
    let emptied = annotations.is_empty();
    if emptied && let Value::Mapping(entries) = &mut node.value {
        for entry in entries.iter_mut().filter(|e| e.key == "metadata") {
            if let Value::Mapping(metadata) = &mut entry.value.value {
                metadata.retain(|e| e.key != "annotations");
            }
        }
    }
    let resolve = |path: &str| normalize(&wrapper.join(path));
    if let Some(origin) = origin.as_deref().and_then(parse) {
        let text = |key| origin.get(key).and_then(Node::as_str);
        provenance.repo = text("repo").map(str::to_string);
        if provenance.repo.is_none() {
            provenance.file = text("path").map(resolve);
        }
        let by = origin.get("configuredBy").and_then(|by| by.get("kind"));
        if let (Some(kind), Some(file)) = (by.and_then(Node::as_str), text("configuredIn")) {
            provenance.generator = Some((kind.to_string(), resolve(file)));
        }
    }
    if let Some(Value::Sequence(items)) =
        transformations.as_deref().and_then(parse).map(|n| n.value)
    {
        for item in items {
            if let Some(file) = item.get("configuredIn").and_then(Node::as_str) {
                let file = resolve(file);
                if !provenance.transformed_by.contains(&file) {
                    provenance.transformed_by.push(file);
                }
            }
        }
    }
    provenance
}

fn annotations_mut(node: &mut Node) -> Option<&mut Vec<documents::Entry>> {
    let Value::Mapping(entries) = &mut node.value else {
        return None;
    };
    let metadata = entries.iter_mut().find(|e| e.key == "metadata")?;
    let Value::Mapping(metadata) = &mut metadata.value.value else {
        return None;
    };
    let annotations = metadata.iter_mut().find(|e| e.key == "annotations")?;
    match &mut annotations.value.value {
        Value::Mapping(entries) => Some(entries),
        _ => None,
    }
}

fn parse(text: &str) -> Option<Node> {
    documents::load(text)
        .documents
        .into_iter()
        .next()
        .map(|document| document.root)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RENDERED: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    alpha.config.kubernetes.io/transformations: |
      - configuredIn: ../repo/overlay/kustomization.yaml
        configuredBy:
          apiVersion: builtin
          kind: PatchTransformer
      - configuredIn: ../repo/overlay/kustomization.yaml
        configuredBy:
          apiVersion: builtin
          kind: ImageTagTransformer
    config.kubernetes.io/origin: |
      path: ../repo/base/deployment.yaml
  name: web
";

    #[test]
    fn the_origin_is_read_and_the_annotations_leave_the_object() {
        let mut node = documents::load(RENDERED).documents.remove(0).root;
        let provenance = take(&mut node, Path::new("/tmp/w"));
        assert_eq!(
            provenance.file.as_deref(),
            Some(Path::new("/tmp/repo/base/deployment.yaml"))
        );
        assert_eq!(
            provenance.transformed_by,
            [PathBuf::from("/tmp/repo/overlay/kustomization.yaml")]
        );
        let metadata = node.get("metadata").unwrap();
        assert!(metadata.get("annotations").is_none());
        assert_eq!(metadata.get("name").and_then(Node::as_str), Some("web"));
    }

    #[test]
    fn a_generated_object_names_its_generator_and_other_annotations_stay() {
        let mut node = documents::load(
            "kind: ConfigMap\nmetadata:\n  annotations:\n    team: a\n    config.kubernetes.io/origin: |\n      configuredIn: ../k/kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: ConfigMapGenerator\n",
        )
        .documents
        .remove(0)
        .root;
        let provenance = take(&mut node, Path::new("/w"));
        assert_eq!(
            provenance.generator,
            Some((
                "ConfigMapGenerator".to_string(),
                PathBuf::from("/k/kustomization.yaml")
            ))
        );
        let annotations = node.pointer("/metadata/annotations").unwrap();
        assert!(annotations.get("team").is_some());
        assert!(annotations.get(ORIGIN).is_none());
    }
}
