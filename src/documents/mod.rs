//! YAML and JSON documents with a source span for every node.
//!
//! [`load`] turns a YAML stream (or a JSON file, which is read by the same YAML parser so that it
//! gets spans too) into [`Document`]s whose scalars carry the values kubectl would send: kubectl
//! converts manifests with `sigs.k8s.io/yaml`, which decodes them with go-yaml v2 (YAML 1.1
//! scalars: `yes`, `on`, `0644`, ...) and then encodes JSON. Reproducing that conversion here is
//! what lets a policy see the same object the API server would, while findings still point at the
//! exact YAML node.
//!
//! Span conventions (byte offsets into the original text, BOM included):
//! - plain scalars cover their text as written (a multi-line plain scalar spans its lines);
//!   quoted scalars include their quotes; an implicit null (`key:`) has an empty span where the
//!   parser saw it (the end of the key);
//! - block scalars (`|`, `>`) run from the indicator through the end of the last non-blank
//!   content line (the header alone when there is no content), so trailing blank lines and the
//!   final line break are excluded;
//! - flow collections run from `[`/`{` through `]`/`}`; block collections run from their first
//!   `-` or key to the end of their last value (or key, when that value is an implicit null);
//!   anchors and tags before a node are not part of its span;
//! - an alias node's span is the `*name` text; nodes inside the copy keep the anchor's spans;
//! - a document runs from its `---` (or its first token) to the end of its root node, or to the
//!   end of its `...` marker when it has one.

mod json;
mod load;
mod pointer;
mod resolve;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod scalar_proptests;
#[cfg(test)]
mod tests;

pub use crate::source::Span;
pub use load::load;
pub use pointer::{Located, escape_pointer_token, token_index, tokens};

/// The value of a node, as go-yaml v2 resolves it for `sigs.k8s.io/yaml`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, an empty value, or a `!!null` scalar.
    Null,
    /// A YAML 1.1 boolean (`true`, `yes`, `on`, ...).
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// An integer above `i64::MAX` that fits in `u64`.
    UInt(u64),
    /// A float; NaN and infinities only appear in documents that were rejected.
    Float(f64),
    /// Any other scalar, including every quoted or block scalar.
    String(String),
    /// A sequence, in source order.
    Sequence(Vec<Node>),
    /// A mapping with string keys, in source order, merge keys (`<<`) already applied.
    Mapping(Vec<Entry>),
}

/// A value and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The resolved value.
    pub value: Value,
    /// Where the node is written (see the module documentation for the conventions).
    pub span: Span,
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as JSON sees it (`yes:` becomes `"true"`, `1:` becomes `"1"`).
    pub key: String,
    /// Where the key is written.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// One document of a stream that loaded without error and is not empty.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Zero-based position in the stream, counting empty and broken documents too.
    pub index: usize,
    /// The root node.
    pub root: Node,
    /// The whole document text, from its first token (or `---`) to its end.
    pub span: Span,
}

/// A problem that keeps a document from being loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    /// What went wrong.
    pub message: String,
    /// Where: the offending node, or the parser's error position (zero or one character).
    pub span: Span,
    /// The zero-based index of the document that was dropped because of this error.
    pub document: Option<usize>,
}

/// Everything [`load`] found in one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// Documents that loaded without error and are not empty, in stream order.
    pub documents: Vec<Document>,
    /// Errors, in the order they were found; each drops the document it occurred in.
    pub errors: Vec<LoadError>,
    /// Documents with nothing in them (only comments or markers, or a null root); kubectl
    /// skips these too.
    pub empty_documents: usize,
}

impl Node {
    /// The value of `key` when this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|entry| &entry.value)
    }

    /// The entry for `key` when this node is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Mapping(entries) => entries.iter().find(|entry| entry.key == key),
            _ => None,
        }
    }

    /// The string when this node is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }
}
