//! From documents to Kubernetes objects: `kind: List` (and every `...List` kind with `items`)
//! expands into its items; documents that are not objects are set aside and counted.

use crate::documents::{Document, Node, Value};

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
}

/// Lists nest rarely, and never deeply; the bound keeps a hostile file from recursing far.
const MAX_LIST_NESTING: usize = 8;

/// Find the objects in `document`.
pub fn extract(document: &Document) -> Extracted<'_> {
    let mut extracted = Extracted::default();
    visit(document, &document.root, String::new(), 0, &mut extracted);
    extracted
}

fn visit<'d>(
    document: &'d Document,
    node: &'d Node,
    pointer: String,
    depth: usize,
    extracted: &mut Extracted<'d>,
) {
    let kind = node.get("kind").and_then(Node::as_str);
    let api_version = node.get("apiVersion").and_then(Node::as_str);
    if let (Some(kind), Some(items)) = (kind, node.get("items"))
        && kind.ends_with("List")
        && depth < MAX_LIST_NESTING
        && let Value::Sequence(items) = &items.value
    {
        for (index, item) in items.iter().enumerate() {
            visit(
                document,
                item,
                format!("{pointer}/items/{index}"),
                depth + 1,
                extracted,
            );
        }
        return;
    }
    let reason = match (&node.value, api_version, kind) {
        (Value::Mapping(_), Some(v), Some(k)) if !v.is_empty() && !k.is_empty() => {
            extracted.objects.push(ObjectRef {
                document,
                node,
                pointer,
            });
            return;
        }
        (Value::Mapping(_), _, _) => "no apiVersion and kind",
        _ => "not a mapping",
    };
    extracted.skipped.push(Skipped {
        node,
        pointer,
        reason,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::load;

    #[test]
    fn lists_expand_into_items_with_their_pointers() {
        let loaded = load(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- just: data\n",
        );
        let extracted = extract(&loaded.documents[0]);
        assert_eq!(extracted.objects.len(), 1);
        assert_eq!(extracted.objects[0].pointer, "/items/0");
        assert_eq!(extracted.skipped.len(), 1);
        assert_eq!(extracted.skipped[0].pointer, "/items/1");
    }

    #[test]
    fn documents_without_kind_are_skipped() {
        let loaded = load("replicas: 3\n");
        let extracted = extract(&loaded.documents[0]);
        assert!(extracted.objects.is_empty());
        assert_eq!(extracted.skipped[0].reason, "no apiVersion and kind");
    }
}
