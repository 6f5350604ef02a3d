//! Kubernetes' label and field selectors, in the string form list calls carry them
//! (`app=web,tier in (front,back),!legacy`; `metadata.name=web,status.phase!=Running`), and
//! field masks, which prune an answer to the paths a policy asked for.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One label requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A parsed label selector; the empty selector selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

/// Split at commas outside parentheses.
fn terms(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (index, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(text[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

impl LabelSelector {
    /// Parse `text`; an error says which term is wrong.
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        for term in terms(text) {
            let set = |values: &str| -> Result<BTreeSet<String>, String> {
                let inner = values
                    .trim()
                    .strip_prefix('(')
                    .and_then(|v| v.strip_suffix(')'))
                    .ok_or_else(|| format!("invalid label selector term `{term}`"))?;
                Ok(inner
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect())
            };
            let requirement = if let Some((key, values)) = term.split_once(" notin ") {
                Requirement::NotIn(key.trim().into(), set(values)?)
            } else if let Some((key, values)) = term.split_once(" in ") {
                Requirement::In(key.trim().into(), set(values)?)
            } else if let Some((key, value)) = term.split_once("!=") {
                Requirement::NotEquals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = term.split_once("==") {
                Requirement::Equals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = term.split_once('=') {
                Requirement::Equals(key.trim().into(), value.trim().into())
            } else if let Some(key) = term.strip_prefix('!') {
                Requirement::DoesNotExist(key.trim().into())
            } else {
                Requirement::Exists(term.to_string())
            };
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    /// Whether an object with `labels` (its `metadata.labels`) is selected.
    pub fn matches(&self, labels: &Value) -> bool {
        let get = |key: &str| labels.get(key).and_then(Value::as_str);
        self.0.iter().all(|requirement| match requirement {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, set) => get(k).is_some_and(|v| set.contains(v)),
            Requirement::NotIn(k, set) => get(k).is_none_or(|v| !set.contains(v)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

/// A parsed field selector: `path=value`, `path==value` or `path!=value` terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parse `text`.
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut terms_parsed = Vec::new();
        for term in terms(text) {
            let (path, equal, value) = if let Some((p, v)) = term.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = term.split_once("==") {
                (p, true, v)
            } else if let Some((p, v)) = term.split_once('=') {
                (p, true, v)
            } else {
                return Err(format!("invalid field selector term `{term}`"));
            };
            terms_parsed.push((path.trim().to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector(terms_parsed))
    }

    /// Whether `object` is selected. A missing field reads as the empty string, as the API
    /// server reads it.
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(path, equal, value)| {
            let mut node = object;
            for part in path.split('.') {
                node = &node[part];
            }
            let actual = match node {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (actual == *value) == *equal
        })
    }
}

/// `object` pruned to `masks` (dot-paths that reach through arrays), keeping `apiVersion` and
/// `kind`, without which a typed client cannot decode it.
pub fn prune(object: &Value, masks: &[String]) -> Value {
    let mut paths: Vec<Vec<&str>> = masks.iter().map(|m| m.split('.').collect()).collect();
    paths.push(vec!["apiVersion"]);
    paths.push(vec!["kind"]);
    keep(object, &paths.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

fn keep(value: &Value, paths: &[&[&str]]) -> Value {
    if paths.iter().any(|p| p.is_empty()) {
        return value.clone();
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|item| keep(item, paths)).collect()),
        Value::Object(map) => {
            let mut kept = Map::new();
            for (key, child) in map {
                let below: Vec<&[&str]> = paths
                    .iter()
                    .filter(|p| p.first() == Some(&key.as_str()))
                    .map(|p| &p[1..])
                    .collect();
                if !below.is_empty() {
                    kept.insert(key.clone(), keep(child, &below));
                }
            }
            Value::Object(kept)
        }
        _ => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors_select_as_kubernetes_does() {
        let labels = json!({"app": "web", "tier": "front"});
        let yes = |s: &str| LabelSelector::parse(s).unwrap().matches(&labels);
        assert!(yes(""));
        assert!(yes("app=web"));
        assert!(yes("app==web,tier in (front, back)"));
        assert!(yes("app,!legacy"));
        assert!(yes("tier notin (back)"));
        assert!(!yes("app!=web"));
        assert!(!yes("tier in (back)"));
        assert!(!yes("legacy"));
        assert!(LabelSelector::parse("tier in front").is_err());
    }

    #[test]
    fn field_selectors_read_missing_fields_as_empty() {
        let object = json!({"metadata": {"name": "web"}, "status": {}});
        let yes = |s: &str| FieldSelector::parse(s).unwrap().matches(&object);
        assert!(yes("metadata.name=web"));
        assert!(yes("status.phase!=Running"));
        assert!(yes("status.phase="));
        assert!(!yes("metadata.name!=web"));
        assert!(FieldSelector::parse("metadata.name").is_err());
    }

    #[test]
    fn masks_keep_the_paths_asked_for_through_lists() {
        let object = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "labels": {"x": "y"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}});
        let pruned = prune(
            &object,
            &["metadata.name".into(), "spec.containers.image".into()],
        );
        assert_eq!(
            pruned,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": [{"image": "i"}]}})
        );
    }
}
