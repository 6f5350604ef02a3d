//! The repository as a cluster would hold it: every object of the run (checked files, rendered
//! Kustomize roots and Helm charts) and of the configuration's context files, indexed for the
//! `kubernetes/*` host calls. Built once before any evaluation and never changed, so every
//! thread sees the same complete set and answers do not depend on the order files are checked.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::requests::ResourceCatalog;

/// One object as stored.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// Which object of the run it is (see [`subject_id`]); context files' objects never match
    /// a subject.
    pub id: u64,
    /// `apiVersion` as written.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Its namespace: as written, `default` for a namespaced kind that names none, `None` for
    /// a cluster-scoped kind.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// The whole object.
    pub value: Value,
}

/// The identity of the object at byte `offset` of the file named `file`: how an evaluation
/// names its subject so that the repository can leave it out of its own answers.
pub fn subject_id(file: &str, offset: usize) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    file.hash(&mut hasher);
    offset.hash(&mut hasher);
    hasher.finish()
}

/// The objects, sorted by kind, namespace and name.
#[derive(Debug, Default)]
pub struct Repository {
    objects: Vec<StoredObject>,
    by_kind: BTreeMap<(String, String), Vec<usize>>,
    fingerprint: String,
}

/// Collects objects, then sorts and indexes them.
#[derive(Debug, Default)]
pub struct RepositoryBuilder {
    objects: Vec<StoredObject>,
}

impl RepositoryBuilder {
    /// Add the objects of context files (files, or directories walked as `check` walks
    /// them). They are never a subject: a context file is not checked. Returns what could
    /// not be read.
    pub fn add_files(
        &mut self,
        paths: &[std::path::PathBuf],
        catalog: &ResourceCatalog,
    ) -> Vec<crate::inputs::InputError> {
        if paths.is_empty() {
            return Vec::new();
        }
        let collected = crate::inputs::collect(paths, "<context>");
        let mut errors = collected.errors;
        for input in &collected.inputs {
            let file = match crate::inputs::read(input) {
                Ok(file) => file,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            let loaded = crate::documents::load(file.text());
            for document in &loaded.documents {
                for object in crate::objects::extract(document, &[]).objects {
                    let id =
                        subject_id(&format!("context:{}", file.name()), object.node.span.start);
                    self.add(id, object.node.to_json(), catalog);
                }
            }
        }
        errors
    }

    /// Add `value` (an object with apiVersion, kind and metadata.name) as object `id`.
    /// Anything that is not such an object is left out: a cluster would not hold it.
    pub fn add(&mut self, id: u64, value: Value, catalog: &ResourceCatalog) {
        let text = |v: &Value| v.as_str().map(str::to_string);
        let (Some(api_version), Some(kind), Some(name)) = (
            text(&value["apiVersion"]),
            text(&value["kind"]),
            text(&value["metadata"]["name"]),
        ) else {
            return;
        };
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let namespaced = catalog.resolve(group, &kind).namespaced;
        let namespace = namespaced.then(|| {
            text(&value["metadata"]["namespace"])
                .filter(|ns| !ns.is_empty())
                .unwrap_or_else(|| "default".to_string())
        });
        self.objects.push(StoredObject {
            id,
            api_version,
            kind,
            namespace,
            name,
            value,
        });
    }

    /// The repository, its objects in a fixed order whatever order they were added in.
    pub fn build(mut self) -> Repository {
        self.objects.sort_by(|a, b| {
            (&a.api_version, &a.kind, &a.namespace, &a.name, a.id).cmp(&(
                &b.api_version,
                &b.kind,
                &b.namespace,
                &b.name,
                b.id,
            ))
        });
        let mut by_kind: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        let mut hasher = Sha256::new();
        for (index, object) in self.objects.iter().enumerate() {
            by_kind
                .entry((object.api_version.clone(), object.kind.clone()))
                .or_default()
                .push(index);
            hasher.update(object.id.to_le_bytes());
            hasher.update(object.value.to_string().as_bytes());
            hasher.update([0]);
        }
        Repository {
            objects: self.objects,
            by_kind,
            fingerprint: crate::digest::hex(&hasher.finalize()),
        }
    }
}

impl Repository {
    /// A repository with `objects`.
    #[cfg(test)]
    pub fn of(objects: impl IntoIterator<Item = (u64, Value)>, catalog: &ResourceCatalog) -> Self {
        let mut builder = RepositoryBuilder::default();
        for (id, value) in objects {
            builder.add(id, value, catalog);
        }
        builder.build()
    }

    /// Every object of `api_version` and `kind`, in order.
    pub fn of_kind<'a>(
        &'a self,
        api_version: &str,
        kind: &str,
    ) -> impl Iterator<Item = &'a StoredObject> + 'a {
        self.by_kind
            .get(&(api_version.to_string(), kind.to_string()))
            .into_iter()
            .flatten()
            .map(|&index| &self.objects[index])
    }

    /// A digest of every object: what a context-aware result depends on.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}
