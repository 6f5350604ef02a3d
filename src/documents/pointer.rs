//! RFC 6901 JSON Pointers over the node tree, so that a policy's finding (a pointer into the
//! JSON it was sent) maps back to the YAML node it came from.

use std::borrow::Cow;

use super::{Node, Span, Value};

/// Where a pointer leads: the node it names, or the nearest existing ancestor.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<'a> {
    /// The deepest node along the pointer that exists.
    pub node: &'a Node,
    /// The key's span when `node` is the value of a mapping entry.
    pub key_span: Option<Span>,
    /// The part of the pointer that exists (tokens as the caller spelled them).
    pub pointer: String,
    /// True when the whole pointer exists.
    pub exact: bool,
}

/// Escape one reference token: `~` becomes `~0` and `/` becomes `~1`.
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Undo [`escape_pointer_token`]; `None` for a `~` not followed by `0` or `1`.
fn unescape(token: &str) -> Option<Cow<'_, str>> {
    if !token.contains('~') {
        return Some(Cow::Borrowed(token));
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(Cow::Owned(out))
}

/// An array index as RFC 6901 spells it: `0` or digits without a leading zero.
fn index(token: &str) -> Option<usize> {
    let canonical = token == "0"
        || (!token.starts_with('0')
            && !token.is_empty()
            && token.bytes().all(|b| b.is_ascii_digit()));
    canonical.then(|| token.parse().ok()).flatten()
}

/// The reference tokens of `pointer`, unescaped; `None` when it is malformed.
pub fn tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .map(|raw| unescape(raw).map(Cow::into_owned))
        .collect()
}

/// The array index a reference token names, if it is one (RFC 6901: no leading zeros).
pub fn token_index(token: &str) -> Option<usize> {
    index(token)
}

impl Node {
    /// The node `pointer` names (RFC 6901; `""` is this node), if it exists.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        let located = self.locate(pointer);
        located.exact.then_some(located.node)
    }

    /// The node `pointer` names or, when it does not exist (or is malformed), its nearest
    /// existing ancestor with `exact: false`.
    pub fn locate(&self, pointer: &str) -> Located<'_> {
        let mut located = Located {
            node: self,
            key_span: None,
            pointer: String::new(),
            exact: true,
        };
        if pointer.is_empty() {
            return located;
        }
        let Some(rest) = pointer.strip_prefix('/') else {
            located.exact = false;
            return located;
        };
        for raw in rest.split('/') {
            let step = unescape(raw).and_then(|token| match &located.node.value {
                Value::Mapping(entries) => entries
                    .iter()
                    .find(|entry| entry.key == token)
                    .map(|entry| (&entry.value, Some(entry.key_span))),
                Value::Sequence(items) => index(&token)
                    .and_then(|i| items.get(i))
                    .map(|item| (item, None)),
                _ => None,
            });
            let Some((node, key_span)) = step else {
                located.exact = false;
                return located;
            };
            located.node = node;
            located.key_span = key_span;
            located.pointer.push('/');
            located.pointer.push_str(raw);
        }
        located
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::Entry;

    fn scalar(text: &str, start: usize) -> Node {
        Node {
            value: Value::String(text.into()),
            span: Span::new(start, start + text.len()),
        }
    }

    fn tree() -> Node {
        let items = Node {
            value: Value::Sequence(vec![scalar("x", 20), scalar("y", 30)]),
            span: Span::new(18, 31),
        };
        Node {
            value: Value::Mapping(vec![
                Entry {
                    key: "a/b".into(),
                    key_span: Span::new(0, 3),
                    value: scalar("v", 5),
                },
                Entry {
                    key: "m~".into(),
                    key_span: Span::new(7, 9),
                    value: scalar("w", 11),
                },
                Entry {
                    key: "list".into(),
                    key_span: Span::new(13, 17),
                    value: items,
                },
            ]),
            span: Span::new(0, 31),
        }
    }

    #[test]
    fn pointers_follow_rfc_6901() {
        let root = tree();
        assert_eq!(root.pointer(""), Some(&root));
        assert_eq!(root.pointer("/a~1b").and_then(Node::as_str), Some("v"));
        assert_eq!(root.pointer("/m~0").and_then(Node::as_str), Some("w"));
        assert_eq!(root.pointer("/list/1").and_then(Node::as_str), Some("y"));
        for missing in [
            "/list/01", "/list/-", "/list/2", "/a~2b", "/nope", "list", "/a~1b/x",
        ] {
            assert_eq!(root.pointer(missing), None, "{missing}");
        }
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
        assert_eq!(unescape("~01").as_deref(), Some("~1"));
    }

    #[test]
    fn locate_returns_the_nearest_ancestor_and_its_key_span() {
        let root = tree();
        let exact = root.locate("/list/0");
        assert!(exact.exact);
        assert_eq!(exact.key_span, None);
        assert_eq!(exact.node.span, Span::new(20, 21));
        let entry = root.locate("/a~1b");
        assert_eq!(entry.key_span, Some(Span::new(0, 3)));
        let partial = root.locate("/list/7/name");
        assert!(!partial.exact);
        assert_eq!(partial.pointer, "/list");
        assert_eq!(partial.key_span, Some(Span::new(13, 17)));
        assert_eq!(partial.node.span, Span::new(18, 31));
        let nothing = root.locate("/zzz");
        assert!(!nothing.exact);
        assert_eq!(nothing.pointer, "");
        assert_eq!(nothing.node, &root);
    }
}
