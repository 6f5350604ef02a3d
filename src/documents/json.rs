//! The JSON kubectl would send for a node.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number};

use super::{Node, Value};

/// Below 2^63 every integral `f64` is an exact `i64`.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

impl Node {
    /// The value kubectl would send: Go's `encoding/json` prints an integral float such as `1.0`
    /// or `1e3` without a fraction (`1`, `1000`), so those become JSON integers here too.
    /// Non-finite floats have no JSON form and become `null`; [`load`](super::load) rejects
    /// the documents that contain them, so this only matters for hand-built nodes.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(int) => serde_json::Value::Number((*int).into()),
            Value::UInt(uint) => serde_json::Value::Number((*uint).into()),
            Value::Float(float) => float_to_json(*float),
            Value::String(text) => serde_json::Value::String(text.clone()),
            Value::Sequence(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Mapping(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|entry| (entry.key.clone(), entry.value.to_json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// Writes exactly what [`Node::to_json`] would hold, without building it: a request is
/// serialized straight from the document tree, so a large object never exists a third time in
/// memory (text, tree, JSON), and the copy costs nothing when no policy wants the object.
impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.value {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(flag) => serializer.serialize_bool(*flag),
            Value::Int(int) => serializer.serialize_i64(*int),
            Value::UInt(uint) => serializer.serialize_u64(*uint),
            Value::Float(float) => float_to_json(*float).serialize(serializer),
            Value::String(text) => serializer.serialize_str(text),
            Value::Sequence(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Mapping(entries) => {
                // `load` refuses duplicate keys, so no entry overrides another as it would in
                // a `Map`.
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for entry in entries {
                    map.serialize_entry(&entry.key, &entry.value)?;
                }
                map.end()
            }
        }
    }
}

fn float_to_json(float: f64) -> serde_json::Value {
    if float.fract() == 0.0 {
        if (-I64_BOUND..I64_BOUND).contains(&float) {
            return serde_json::Value::Number((float as i64).into());
        }
        if (0.0..2.0 * I64_BOUND).contains(&float) {
            return serde_json::Value::Number((float as u64).into());
        }
    }
    Number::from_f64(float).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::Span;

    fn node(value: Value) -> Node {
        Node {
            value,
            span: Span::default(),
        }
    }

    #[test]
    fn integral_floats_print_as_go_prints_them() {
        assert_eq!(node(Value::Float(1.0)).to_json(), json!(1));
        assert_eq!(node(Value::Float(-1e3)).to_json(), json!(-1000));
        assert_eq!(node(Value::Float(1.5)).to_json(), json!(1.5));
        assert_eq!(
            node(Value::Float(1e19)).to_json(),
            json!(10_000_000_000_000_000_000u64)
        );
        assert_eq!(node(Value::Float(1e21)).to_json(), json!(1e21));
        assert_eq!(node(Value::Float(f64::NAN)).to_json(), json!(null));
    }

    #[test]
    fn serializing_a_node_writes_its_json() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/manifests/web.yaml"
        ))
        .expect("fixture");
        let extra = "a: {yes: 1.0, 1: [~, 2e3, -7, 18446744073709551615, 'x']}\nb: &m {c: 1}\nd: {<<: *m, e: 2}\n";
        for text in [text.as_str(), extra] {
            let loaded = crate::documents::load(text);
            assert!(!loaded.documents.is_empty());
            for document in &loaded.documents {
                let direct = serde_json::to_string(&document.root).expect("serializes");
                let via_value = serde_json::to_string(&document.root.to_json()).expect("json");
                assert_eq!(direct, via_value);
            }
        }
    }
}
