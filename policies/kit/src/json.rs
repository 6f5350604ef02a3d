//! A read-only view of one JSON document: [`Json`] holds it as a flat list of entries in
//! document order, [`Node`] is a copyable handle to one value in it.
//!
//! Why not `serde_json::Value`: building a `Value` allocates a `String` for every key and
//! string and a map for every object, which would be most of a built-in's time per
//! evaluation. Here serde_json still does all the parsing (so what is accepted, and every
//! number, is exactly what a `Value` would hold), but its visitor only appends to one `Vec`:
//! strings without escapes are borrowed from the request, and a container records where it
//! ends so that a lookup steps over a whole member at once.
//!
//! A [`Node`] answers like the `Value` it replaces: [`Node::get`] and [`Node::pointer`] find the
//! last of repeated keys, as a `Value` map keeps the last; [`Node::as_f64`] and the other
//! accessors follow `Value`'s; [`Node`]'s `Display` prints what `Value`'s does.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

mod scan;
pub(crate) use scan::{Scanned, scan};

/// One value of the flat list. A container is followed by its contents (an object by key and
/// value in turn) and records the position just past them.
///
/// Nothing here owns memory, so dropping the list is one deallocation rather than a walk over
/// every entry: a string with escapes, decoded, lives in [`Json::decoded`] instead.
#[derive(Debug, Clone)]
enum Entry<'t> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'t str),
    /// The index of the string in [`Json::decoded`].
    Decoded(usize),
    Array {
        end: usize,
    },
    Object {
        end: usize,
    },
}

/// A parsed JSON document, borrowing its strings from the text when it can.
#[derive(Debug, Clone)]
pub struct Json<'t> {
    entries: Vec<Entry<'t>>,
    /// The strings that had escapes, decoded.
    decoded: Vec<String>,
}

impl<'t> Json<'t> {
    /// Parse `text`, which must be one JSON value (surrounding whitespace allowed).
    pub fn parse(text: &'t str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The document's top-level value.
    pub fn root(&self) -> Node<'_> {
        Node {
            json: self,
            index: 0,
        }
    }
}

impl Default for Json<'_> {
    /// `null`: what a request without an object carries.
    fn default() -> Self {
        Json {
            entries: vec![Entry::Null],
            decoded: Vec::new(),
        }
    }
}

impl<'de: 't, 't> de::Deserialize<'de> for Json<'t> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A Deployment's object has about 160 keys and values (1.5 KB of JSON): room for that
        // saves copying the list as it grows.
        let mut json = Json {
            entries: Vec::with_capacity(256),
            decoded: Vec::new(),
        };
        Builder(&mut json).deserialize(deserializer)?;
        Ok(json)
    }
}

/// Appends the value it is given to the list (serde's visitor and seed in one).
struct Builder<'b, 't>(&'b mut Json<'t>);

impl<'t> Builder<'_, 't> {
    fn push(&mut self, entry: Entry<'t>) {
        self.0.entries.push(entry);
    }

    fn push_decoded(&mut self, decoded: String) {
        let index = self.0.decoded.len();
        self.0.decoded.push(decoded);
        self.push(Entry::Decoded(index));
    }
}

impl<'de: 't, 't> DeserializeSeed<'de> for Builder<'_, 't> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de: 't, 't> Visitor<'de> for Builder<'_, 't> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.push(Entry::Null);
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<(), E> {
        self.push(Entry::Bool(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<(), E> {
        self.push(Entry::Number(v.into()));
        Ok(())
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<(), E> {
        self.push(Entry::Number(v.into()));
        Ok(())
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<(), E> {
        // As `Value` does: a float JSON cannot hold becomes null.
        self.push(Number::from_f64(v).map_or(Entry::Null, Entry::Number));
        Ok(())
    }

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'de str) -> Result<(), E> {
        self.push(Entry::String(v));
        Ok(())
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        // Only a string with escapes arrives here: it had to be decoded into a buffer.
        self.push_decoded(v.to_string());
        Ok(())
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<(), E> {
        self.push_decoded(v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let entries = &mut self.0.entries;
        let at = entries.len();
        entries.push(Entry::Array { end: 0 });
        while seq.next_element_seed(Builder(self.0))?.is_some() {}
        let end = self.0.entries.len();
        self.0.entries[at] = Entry::Array { end };
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let entries = &mut self.0.entries;
        let at = entries.len();
        entries.push(Entry::Object { end: 0 });
        while map.next_key_seed(Key(self.0))?.is_some() {
            map.next_value_seed(Builder(self.0))?;
        }
        let end = self.0.entries.len();
        self.0.entries[at] = Entry::Object { end };
        Ok(())
    }
}

/// Appends an object's key: serde_json hands keys to a string visitor.
struct Key<'b, 't>(&'b mut Json<'t>);

impl<'de: 't, 't> DeserializeSeed<'de> for Key<'_, 't> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(Builder(self.0))
    }
}

/// One value of a [`Json`] document. Cheap to copy; everything it returns borrows the document.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    json: &'a Json<'a>,
    index: usize,
}

impl<'a> Node<'a> {
    #[inline]
    fn entry(&self) -> &'a Entry<'a> {
        &self.json.entries[self.index]
    }

    /// The position just past this value and everything in it.
    #[inline]
    fn end(&self) -> usize {
        match self.entry() {
            Entry::Array { end } | Entry::Object { end } => *end,
            _ => self.index + 1,
        }
    }

    /// Where this value is in its document's list.
    pub(crate) fn index(self) -> usize {
        self.index
    }

    #[inline]
    fn at(&self, index: usize) -> Node<'a> {
        Node {
            json: self.json,
            index,
        }
    }

    /// The member `key` of an object (the last one when the key is repeated); `None` for a
    /// missing key or a value that is not an object. As `Value::get` with a string index.
    pub fn get(self, key: &str) -> Option<Node<'a>> {
        // A plain loop rather than `as_object().filter().last()`: at opt-level "s" the adapters
        // stay calls, and the checks do dozens of lookups per request.
        let Entry::Object { end } = *self.entry() else {
            return None;
        };
        let mut found = None;
        let mut at = self.index + 1;
        while at < end {
            let value = self.at(at + 1);
            if self.at(at).as_str() == Some(key) {
                found = Some(value);
            }
            at = value.end();
        }
        found
    }

    /// The value at an RFC 6901 JSON Pointer from this one (`""` is this value), as
    /// `Value::pointer` finds it: `~1` and `~0` unescaped, array indexes without a sign or
    /// leading zeros.
    pub fn pointer(self, pointer: &str) -> Option<Node<'a>> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut node = self;
        for token in rest.split('/') {
            let token: Cow<'_, str> = if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            };
            node = match node.entry() {
                Entry::Object { .. } => node.get(&token)?,
                Entry::Array { .. } => node.as_array()?.nth(array_index(&token)?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Whether this is `null`.
    #[inline]
    pub fn is_null(self) -> bool {
        matches!(self.entry(), Entry::Null)
    }

    /// Whether this is an object.
    #[inline]
    pub fn is_object(self) -> bool {
        matches!(self.entry(), Entry::Object { .. })
    }

    /// Whether this is an array.
    #[inline]
    pub fn is_array(self) -> bool {
        matches!(self.entry(), Entry::Array { .. })
    }

    /// The string, unescaped; `None` for any other type.
    #[inline]
    pub fn as_str(self) -> Option<&'a str> {
        match *self.entry() {
            Entry::String(s) => Some(s),
            Entry::Decoded(index) => Some(&self.json.decoded[index]),
            _ => None,
        }
    }

    /// The boolean; `None` for any other type.
    #[inline]
    pub fn as_bool(self) -> Option<bool> {
        match self.entry() {
            Entry::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, when it is an integer that fits an `i64` (as `Value::as_i64`).
    pub fn as_i64(self) -> Option<i64> {
        self.number()?.as_i64()
    }

    /// The number, when it is an integer that fits a `u64` (as `Value::as_u64`).
    pub fn as_u64(self) -> Option<u64> {
        self.number()?.as_u64()
    }

    /// Any number as an `f64`, integers converted (as `Value::as_f64`).
    pub fn as_f64(self) -> Option<f64> {
        self.number()?.as_f64()
    }

    #[inline]
    fn number(self) -> Option<&'a Number> {
        match self.entry() {
            Entry::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The items of an array, in order; `None` for any other type.
    pub fn as_array(self) -> Option<Items<'a>> {
        match self.entry() {
            Entry::Array { end } => Some(Items {
                node: self.at(self.index + 1),
                end: *end,
            }),
            _ => None,
        }
    }

    /// The members of an object as `(key, value)`, in document order and with repeated keys
    /// repeated (a `Value` map would sort them and keep the last); `None` for any other type.
    pub fn as_object(self) -> Option<Members<'a>> {
        match self.entry() {
            Entry::Object { end } => Some(Members {
                node: self.at(self.index + 1),
                end: *end,
            }),
            _ => None,
        }
    }

    /// The members of an object as a `serde_json::Map` iterates them: sorted by key, a repeated
    /// key once with its last value. For checks that report member by member in key order,
    /// whatever order the manifest writes the members in.
    pub fn as_sorted_object(self) -> Option<Vec<(&'a str, Node<'a>)>> {
        let mut members: Vec<_> = self.as_object()?.collect();
        // Reversed, then a stable sort: of equal keys the last one written comes first and is
        // the one `dedup` keeps.
        members.reverse();
        members.sort_by_key(|&(key, _)| key);
        members.dedup_by_key(|&mut (key, _)| key);
        Some(members)
    }

    /// This value as a `serde_json::Value`, for the rare message that prints JSON.
    pub fn to_value(self) -> Value {
        match self.entry() {
            Entry::Null => Value::Null,
            Entry::Bool(b) => Value::Bool(*b),
            Entry::Number(n) => Value::Number(n.clone()),
            Entry::String(_) | Entry::Decoded(_) => {
                Value::String(self.as_str().unwrap_or_default().to_string())
            }
            Entry::Array { .. } => self
                .as_array()
                .into_iter()
                .flatten()
                .map(Node::to_value)
                .collect(),
            Entry::Object { .. } => self
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.to_string(), v.to_value()))
                .collect(),
        }
    }
}

/// Escape one JSON Pointer reference token (RFC 6901), the inverse of what [`Node::pointer`]
/// unescapes: `~` as `~0`, `/` as `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// What `Value::pointer` takes for an array index: digits only, no leading zeros.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

impl fmt::Display for Node<'_> {
    /// Compact JSON, exactly as `Value` prints it (object keys sorted, a repeated key once).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_value(), f)
    }
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The items of an array ([`Node::as_array`]).
#[derive(Clone)]
pub struct Items<'a> {
    node: Node<'a>,
    end: usize,
}

impl<'a> Iterator for Items<'a> {
    type Item = Node<'a>;

    #[inline]
    fn next(&mut self) -> Option<Node<'a>> {
        if self.node.index >= self.end {
            return None;
        }
        let item = self.node;
        self.node = item.at(item.end());
        Some(item)
    }
}

/// The members of an object ([`Node::as_object`]).
#[derive(Clone)]
pub struct Members<'a> {
    node: Node<'a>,
    end: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, Node<'a>);

    #[inline]
    fn next(&mut self) -> Option<(&'a str, Node<'a>)> {
        if self.node.index >= self.end {
            return None;
        }
        let key = self.node.as_str()?;
        let value = self.node.at(self.node.index + 1);
        self.node = value.at(value.end());
        Some((key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every accessor agrees with `Value`'s on the same text.
    fn agree(text: &str, pointers: &[&str]) {
        let value: Value = serde_json::from_str(text).unwrap();
        let json = Json::parse(text).unwrap();
        let root = json.root();
        assert_eq!(root.to_value(), value);
        assert_eq!(root.to_string(), value.to_string());
        for pointer in pointers {
            let ours = root.pointer(pointer);
            let theirs = value.pointer(pointer);
            assert_eq!(ours.map(Node::to_value).as_ref(), theirs, "{pointer}");
            let (Some(ours), Some(theirs)) = (ours, theirs) else {
                continue;
            };
            assert_eq!(ours.as_str(), theirs.as_str(), "{pointer}");
            assert_eq!(ours.as_bool(), theirs.as_bool(), "{pointer}");
            assert_eq!(ours.as_i64(), theirs.as_i64(), "{pointer}");
            assert_eq!(ours.as_u64(), theirs.as_u64(), "{pointer}");
            assert_eq!(ours.as_f64(), theirs.as_f64(), "{pointer}");
            assert_eq!(ours.is_null(), theirs.is_null(), "{pointer}");
            assert_eq!(ours.is_object(), theirs.is_object(), "{pointer}");
            assert_eq!(ours.is_array(), theirs.is_array(), "{pointer}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{pointer}");
        }
    }

    #[test]
    fn answers_as_value_does() {
        agree(
            r#"{"a": {"b": [1, -2, 3.5, "x\"y", true, null, {"c~d": 1, "e/f": 2}]},
                "n": 18446744073709551615, "m": -9223372036854775808, "f": 1e3, "z": 0.0,
                "esc\u0061ped": "\u00e9t\u00e9", "": "empty key"}"#,
            &[
                "",
                "/",
                "/a",
                "/a/b",
                "/a/b/0",
                "/a/b/1",
                "/a/b/2",
                "/a/b/3",
                "/a/b/4",
                "/a/b/5",
                "/a/b/6",
                "/a/b/6/c~0d",
                "/a/b/6/e~1f",
                "/a/b/7",
                "/a/b/01",
                "/a/b/+1",
                "/a/b/-1",
                "/a/x",
                "/n",
                "/m",
                "/f",
                "/z",
                "/escaped",
                "a",
                "/a/b/0/x",
                "/f/0",
            ],
        );
        agree("[]", &["", "/0"]);
        agree(" \"text\" ", &[""]);
    }

    #[test]
    fn repeated_keys_keep_the_last_and_iterate_in_document_order() {
        let json = Json::parse(r#"{"b": 1, "a": 2, "b": 3}"#).unwrap();
        let root = json.root();
        assert_eq!(root.get("b").and_then(Node::as_i64), Some(3));
        let keys: Vec<&str> = root.as_object().unwrap().map(|(k, _)| k).collect();
        assert_eq!(keys, ["b", "a", "b"]);
        let sorted: Vec<(&str, Option<i64>)> = root
            .as_sorted_object()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.as_i64()))
            .collect();
        assert_eq!(sorted, [("a", Some(2)), ("b", Some(3))]);
        assert_eq!(root.to_string(), r#"{"a":2,"b":3}"#);
    }

    #[test]
    fn steps_over_nested_values() {
        let text = json!({"x": [[1, [2]], {"y": {"z": []}}, 4], "w": {"v": [{}]}}).to_string();
        let json = Json::parse(&text).unwrap();
        let items: Vec<String> = json
            .root()
            .get("x")
            .unwrap()
            .as_array()
            .unwrap()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(items, ["[1,[2]]", r#"{"y":{"z":[]}}"#, "4"]);
        assert_eq!(json.root().pointer("/w/v/0").unwrap().to_string(), "{}");
        assert!(json.root().get("x").unwrap().get("y").is_none());
    }

    #[test]
    fn rejects_what_value_rejects() {
        for bad in [
            "",
            "{",
            r#"{"a" 1}"#,
            "[1,]",
            "1e400",
            "\"\\x\"",
            "nul",
            "{} x",
        ] {
            assert_eq!(
                Json::parse(bad).is_err(),
                serde_json::from_str::<Value>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
