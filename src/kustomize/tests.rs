//! The stages together on a real Kustomize: render a tree, read the origins, map pointers
//! back. Needs `kubectl` (with its built-in Kustomize) or `kustomize` on PATH.

use std::path::{Path, PathBuf};

use super::*;
use crate::documents;

fn write(dir: &Path, files: &[(&str, &str)]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

const BASE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.25
        resources:
          limits: {memory: 128Mi}
";

const PATCH: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: busybox
      - name: app
        securityContext:
          privileged: true
";

const OVERLAY: &str = "resources:
- ../../base
namespace: default
namePrefix: prod-
images:
- name: nginx
  newTag: latest
replicas:
- name: web
  count: 3
patches:
- path: patch.yaml
- target: {kind: Deployment}
  patch: |-
    - op: add
      path: /spec/template/spec/hostNetwork
      value: true
configMapGenerator:
- name: cfg
  literals: [a=b]
";

/// Where `pointer` of the rendered object of `kind` maps: `file:line:col` and the text there.
fn mapped(kind: &str, pointer: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let files = write(
        dir.path(),
        &[
            ("base/kustomization.yaml", "resources: [deployment.yaml]\n"),
            ("base/deployment.yaml", BASE),
            ("overlays/prod/kustomization.yaml", OVERLAY),
            ("overlays/prod/patch.yaml", PATCH),
        ],
    );
    let tree = Tree::discover(&files);
    let root = &tree.roots[0];
    let renderer = Renderer::find(None)
        .expect("these tests need Kustomize: kubectl (which has it built in) or kustomize on PATH");
    let rendered = renderer.render(root, render::DEFAULT_TIMEOUT).unwrap();
    let sources = Sources::new(&tree);
    let loaded = documents::load(&rendered.yaml);
    for mut document in loaded.documents {
        if document.root.get("kind").and_then(documents::Node::as_str) != Some(kind) {
            continue;
        }
        let provenance = origin::take(&mut document.root, &rendered.wrapper);
        let mapped = sources.map(&document.root, pointer, &provenance).unwrap();
        let location = mapped.file.location(mapped.span.start);
        let name = mapped
            .file
            .name()
            .replace(&dir.path().display().to_string(), "");
        return format!(
            "{name}:{location} {} ({})",
            mapped.file.slice(mapped.span),
            mapped.via
        );
    }
    panic!("no {kind} rendered")
}

#[test]
fn a_value_a_patch_file_set_points_at_the_patch() {
    assert_eq!(
        mapped(
            "Deployment",
            "/spec/template/spec/containers/1/securityContext/privileged"
        ),
        "/overlays/prod/patch.yaml:13:23 true (patch)"
    );
}

#[test]
fn a_field_of_the_base_points_at_the_base_even_after_a_patch_added_a_container() {
    assert_eq!(
        mapped(
            "Deployment",
            "/spec/template/spec/containers/1/resources/limits/memory"
        ),
        "/base/deployment.yaml:17:28 128Mi (resource)"
    );
    assert_eq!(
        mapped("Deployment", "/spec/template/spec/containers/1"),
        "/base/deployment.yaml:14:9 name: app (resource)"
    );
}

#[test]
fn kustomization_fields_point_at_their_entries() {
    assert_eq!(
        mapped("Deployment", "/spec/template/spec/containers/1/image"),
        "/overlays/prod/kustomization.yaml:7:11 latest (images)"
    );
    assert_eq!(
        mapped("Deployment", "/metadata/namespace"),
        "/overlays/prod/kustomization.yaml:3:12 default (namespace)"
    );
    assert_eq!(
        mapped("Deployment", "/spec/replicas"),
        "/overlays/prod/kustomization.yaml:10:10 3 (replicas)"
    );
}

#[test]
fn an_inline_json6902_patch_points_inside_the_kustomization() {
    assert_eq!(
        mapped("Deployment", "/spec/template/spec/hostNetwork"),
        "/overlays/prod/kustomization.yaml:17:14 true (patch)"
    );
}

#[test]
fn a_container_a_patch_added_points_at_the_patch() {
    assert_eq!(
        mapped(
            "Deployment",
            "/spec/template/spec/containers/0/securityContext"
        ),
        "/overlays/prod/patch.yaml:9:9 name: sidecar (patch)"
    );
}

#[test]
fn a_generated_object_points_at_its_generator() {
    assert_eq!(
        mapped("ConfigMap", "/data/a"),
        "/overlays/prod/kustomization.yaml:19:9 cfg (generator)"
    );
}
