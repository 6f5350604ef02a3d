//! From documents to Kubernetes objects: `kind: List` (and every `...List` kind with `items`)
//! expands into its items; documents that are not objects are set aside and counted; objects
//! that configure other tools (Kustomize, kubeconfig...) or whose kinds the configuration
//! skips are set apart unchecked; and a mapping that looks like an object but misspells its
//! `apiVersion` or `kind` is caught, so that a typo cannot keep an object from every check.

mod kinds;
mod other_tools;

pub use kinds::{InvalidKindPattern, KindPattern, any_matches};
pub use other_tools::tool_of;

use crate::documents::{Document, Entry, Node, Value};

/// One Kubernetes object inside a document.
#[derive(Debug, Clone)]
pub struct ObjectRef<'d> {
    /// The document the object was written in.
    pub document: &'d Document,
    /// The object's node.
    pub node: &'d Node,
    /// JSON Pointer from the document root to the object: `""`, or `/items/3` for a List item.
    pub pointer: String,
}

impl ObjectRef<'_> {
    /// `apiVersion kind`, as written (either may be empty).
    pub fn type_name(&self) -> String {
        let field = |name| self.node.get(name).and_then(Node::as_str).unwrap_or("");
        format!("{} {}", field("apiVersion"), field("kind"))
            .trim()
            .to_string()
    }
}

/// A node set aside because it is not a Kubernetes object.
#[derive(Debug, Clone)]
pub struct Skipped<'d> {
    /// The node.
    pub node: &'d Node,
    /// Its pointer from the document root.
    pub pointer: String,
    /// Why it was set aside.
    pub reason: &'static str,
}

/// What [`extract`] found in one document.
#[derive(Debug, Default)]
pub struct Extracted<'d> {
    /// The objects, in document order.
    pub objects: Vec<ObjectRef<'d>>,
    /// Nodes that should have been objects but are not.
    pub skipped: Vec<Skipped<'d>>,
    /// Configuration files of other tools (Kustomize, kubeconfig...), with the tool's name:
    /// written like objects, never sent to a cluster.
    pub other_tools: Vec<(ObjectRef<'d>, &'static str)>,
    /// Objects of the kinds the caller asked to skip.
    pub skipped_kinds: Vec<ObjectRef<'d>>,
    /// Mappings that look like objects but spell `apiVersion` or `kind` wrong, or lack them.
    pub misspelled: Vec<Misspelled<'d>>,
}

/// A mapping that looks like a Kubernetes object (it has `metadata` or `spec`, or a key that
/// is a slip of `apiVersion` or `kind`) without `apiVersion` and `kind` spelled exactly: an
/// object a typo would otherwise keep from every check.
#[derive(Debug, Clone)]
pub struct Misspelled<'d> {
    /// The mapping.
    pub node: &'d Node,
    /// Its pointer from the document root.
    pub pointer: String,
    /// What is missing, in the order `apiVersion`, `kind`.
    pub missing: Vec<MissingField<'d>>,
}

/// One envelope field a [`Misspelled`] mapping lacks.
#[derive(Debug, Clone)]
pub struct MissingField<'d> {
    /// `apiVersion` or `kind`.
    pub field: &'static str,
    /// The key that was probably meant as `field`, when one is close.
    pub key: Option<&'d Entry>,
}

/// Lists nest rarely, and never deeply; the bound keeps a hostile file from recursing far.
const MAX_LIST_NESTING: usize = 8;

/// Find the objects in `document`, setting apart those of the kinds in `skip`.
pub fn extract<'d>(document: &'d Document, skip: &[KindPattern]) -> Extracted<'d> {
    let mut extracted = Extracted::default();
    let visit = Visit { document, skip };
    visit.node(&document.root, String::new(), 0, &mut extracted);
    extracted
}

/// What every node of one document's walk shares.
struct Visit<'d, 's> {
    document: &'d Document,
    skip: &'s [KindPattern],
}

impl<'d> Visit<'d, '_> {
    fn node(&self, node: &'d Node, pointer: String, depth: usize, extracted: &mut Extracted<'d>) {
        let kind = text_of(node, "kind");
        let api_version = text_of(node, "apiVersion");
        if let (Some(kind), Some(items)) = (kind, node.get("items"))
            && kind.ends_with("List")
            && depth < MAX_LIST_NESTING
            && let Value::Sequence(items) = &items.value
        {
            for (index, item) in items.iter().enumerate() {
                self.node(
                    item,
                    format!("{pointer}/items/{index}"),
                    depth + 1,
                    extracted,
                );
            }
            return;
        }
        let object = ObjectRef {
            document: self.document,
            node,
            pointer,
        };
        let Value::Mapping(entries) = &node.value else {
            extracted.skipped.push(Skipped {
                node,
                pointer: object.pointer,
                reason: "not a mapping",
            });
            return;
        };
        if let Some(tool) = tool_of(api_version.unwrap_or(""), kind.unwrap_or("")) {
            extracted.other_tools.push((object, tool));
            return;
        }
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            match misspelling(node, entries) {
                Some(missing) => extracted.misspelled.push(Misspelled {
                    node,
                    pointer: object.pointer,
                    missing,
                }),
                None => extracted.skipped.push(Skipped {
                    node,
                    pointer: object.pointer,
                    reason: "no apiVersion and kind",
                }),
            }
            return;
        };
        if any_matches(self.skip, api_version, kind) {
            extracted.skipped_kinds.push(object);
        } else {
            extracted.objects.push(object);
        }
    }
}

/// The non-empty string at `key` of a mapping.
fn text_of<'d>(node: &'d Node, key: &str) -> Option<&'d str> {
    node.get(key)
        .and_then(Node::as_str)
        .filter(|text| !text.is_empty())
}

/// The two fields every object needs.
const FIELDS: [&str; 2] = ["apiVersion", "kind"];

/// What a mapping without exact `apiVersion` and `kind` lacks, when it looks like an object:
/// it has `metadata` or `spec`, or a field in another case (`Kind`), or one field exact and a
/// slip of the other (`apiVerison` beside `kind`). A `Chart.yaml` (`apiVersion`, `name`,
/// `version`), a values file or a list of `kinds:` does not look like one.
fn misspelling<'d>(node: &'d Node, entries: &'d [Entry]) -> Option<Vec<MissingField<'d>>> {
    let missing: Vec<MissingField<'d>> = FIELDS
        .into_iter()
        .filter(|field| text_of(node, field).is_none())
        .map(|field| MissingField {
            field,
            // The field itself when it is there but empty, else the key closest to it.
            key: node.entry(field).or_else(|| {
                entries
                    .iter()
                    .filter(|entry| !FIELDS.contains(&entry.key.as_str()))
                    .find(|entry| slip_of(&entry.key, field))
            }),
        })
        .collect();
    let has_body = entries
        .iter()
        .any(|entry| matches!(entry.key.as_str(), "metadata" | "spec"));
    let in_other_case = missing.iter().any(|missing| {
        missing
            .key
            .is_some_and(|entry| entry.key.eq_ignore_ascii_case(missing.field))
    });
    let one_slip = missing.len() == 1 && missing[0].key.is_some();
    (has_body || in_other_case || one_slip).then_some(missing)
}

/// Whether `key` is a slip of `field`: the same but for case, or one edit away (two for
/// `apiVersion`). Tighter than the did-you-mean of configuration keys (`suggest::closest`),
/// because every key of every YAML file is measured against these two short names: `id` is
/// two edits from `kind`.
fn slip_of(key: &str, field: &str) -> bool {
    key != field
        && (key.eq_ignore_ascii_case(field)
            || strsim::damerau_levenshtein(&key.to_ascii_lowercase(), &field.to_ascii_lowercase())
                <= if field.len() > 4 { 2 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::load;

    fn extracted(text: &str, test: impl FnOnce(&Extracted<'_>)) {
        let loaded = load(text);
        test(&extract(&loaded.documents[0], &[]));
    }

    #[test]
    fn lists_expand_into_items_with_their_pointers() {
        extracted(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- just: data\n",
            |extracted| {
                assert_eq!(extracted.objects.len(), 1);
                assert_eq!(extracted.objects[0].pointer, "/items/0");
                assert_eq!(extracted.skipped.len(), 1);
                assert_eq!(extracted.skipped[0].pointer, "/items/1");
            },
        );
    }

    #[test]
    fn documents_without_kind_are_skipped() {
        extracted("replicas: 3\n", |extracted| {
            assert!(extracted.objects.is_empty());
            assert_eq!(extracted.skipped[0].reason, "no apiVersion and kind");
        });
    }

    fn misspelled(text: &str) -> Vec<(&'static str, Option<String>)> {
        let loaded = load(text);
        let extracted = extract(&loaded.documents[0], &[]);
        extracted
            .misspelled
            .iter()
            .flat_map(|m| &m.missing)
            .map(|m| (m.field, m.key.map(|k| k.key.clone())))
            .collect()
    }

    #[test]
    fn a_misspelled_envelope_key_is_named() {
        assert_eq!(
            misspelled("apiVersion: v1\nKind: Pod\nmetadata: {name: a}\n"),
            [("kind", Some("Kind".to_string()))]
        );
        assert_eq!(
            misspelled("apiversion: v1\nkind: Pod\n"),
            [("apiVersion", Some("apiversion".to_string()))]
        );
        assert_eq!(
            misspelled("apiVerison: apps/v1\nkind: Deployment\n"),
            [("apiVersion", Some("apiVerison".to_string()))]
        );
        assert_eq!(
            misspelled("ApiVersion: v1\nKind: Pod\n"),
            [
                ("apiVersion", Some("ApiVersion".to_string())),
                ("kind", Some("Kind".to_string()))
            ]
        );
        assert_eq!(
            misspelled("metadata: {name: a}\nspec: {}\n"),
            [("apiVersion", None), ("kind", None)]
        );
        assert_eq!(
            misspelled("apiVersion: v1\nkind:\nmetadata: {name: a}\n"),
            [("kind", Some("kind".to_string()))]
        );
    }

    #[test]
    fn data_that_does_not_look_like_an_object_is_only_skipped() {
        assert!(misspelled("replicas: 3\nimage: {tag: latest}\n").is_empty());
        assert!(misspelled("kinds: [a]\n").is_empty());
        assert!(misspelled("id: 3\napiVersion: v2\n").is_empty());
        // A Helm chart's Chart.yaml.
        assert!(
            misspelled("apiVersion: v2\nname: shop\nversion: 1.0.0\nappVersion: 2.1\n").is_empty()
        );
    }

    #[test]
    fn other_tools_configurations_are_set_apart() {
        extracted(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n",
            |extracted| {
                assert!(extracted.objects.is_empty());
                assert_eq!(extracted.other_tools[0].1, "Kustomize");
            },
        );
        // Kustomize takes a kustomization without apiVersion.
        extracted("kind: Kustomization\nresources: [a.yaml]\n", |extracted| {
            assert_eq!(extracted.other_tools[0].1, "Kustomize");
            assert!(extracted.misspelled.is_empty());
        });
    }

    #[test]
    fn kinds_the_caller_skips_are_set_apart() {
        let loaded = load("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a}\n");
        let skip = [KindPattern::parse("example.com/*").unwrap()];
        let extracted = extract(&loaded.documents[0], &skip);
        assert!(extracted.objects.is_empty());
        assert_eq!(
            extracted.skipped_kinds[0].type_name(),
            "example.com/v1 Widget"
        );
    }
}
