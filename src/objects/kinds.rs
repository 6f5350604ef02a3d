//! Kinds named in a configuration (`skip-kinds`, `known-kinds`): `GROUP/KIND`, `GROUP/*`,
//! `GROUP/VERSION/KIND` or a bare `KIND`.
//!
//! The group is what `apiVersion` says before its version: `example.com` for
//! `example.com/v1`, and the whole apiVersion when it has no `/` (`v1/Config` names a
//! kubeconfig), so a pattern reads like the manifests it matches.

use std::fmt;

/// One kind, or every kind of a group, as a configuration names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KindPattern {
    /// The group; `None` is any.
    group: Option<String>,
    /// The version; `None` is any.
    version: Option<String>,
    /// The kind; `None` is any.
    kind: Option<String>,
}

/// Why a text is not a [`KindPattern`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a kind: {reason}")]
pub struct InvalidKindPattern {
    text: String,
    reason: &'static str,
}

impl KindPattern {
    /// Read `GROUP/KIND`, `GROUP/*`, `GROUP/VERSION/KIND` or `KIND`; `*` stands for any.
    pub fn parse(text: &str) -> Result<KindPattern, InvalidKindPattern> {
        let invalid = |reason| InvalidKindPattern {
            text: text.to_string(),
            reason,
        };
        let parts: Vec<&str> = text.split('/').collect();
        if parts.iter().any(|part| part.is_empty()) {
            return Err(invalid("a part is empty"));
        }
        if parts
            .iter()
            .any(|part| part.chars().any(|c| c.is_whitespace()))
        {
            return Err(invalid("it contains a space"));
        }
        let any = |part: &str| (part != "*").then(|| part.to_string());
        let (group, version, kind) = match parts.as_slice() {
            [kind] => (None, None, any(kind)),
            [group, kind] => (any(group), None, any(kind)),
            [group, version, kind] => (any(group), any(version), any(kind)),
            _ => return Err(invalid("write GROUP/KIND, GROUP/* or GROUP/VERSION/KIND")),
        };
        if group.is_none() && kind.is_none() {
            return Err(invalid("it names every kind"));
        }
        Ok(KindPattern {
            group,
            version,
            kind,
        })
    }

    /// Whether an object of `api_version` and `kind` is named by this pattern.
    pub fn matches(&self, api_version: &str, kind: &str) -> bool {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((group, version)) => (group, Some(version)),
            None => (api_version, None),
        };
        let fits = |wanted: &Option<String>, value: Option<&str>| {
            wanted.as_deref().is_none_or(|wanted| Some(wanted) == value)
        };
        fits(&self.group, Some(group))
            && fits(&self.version, version)
            && fits(&self.kind, Some(kind))
    }
}

impl fmt::Display for KindPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |part: &Option<String>| part.clone().unwrap_or_else(|| "*".to_string());
        match (&self.group, &self.version) {
            (None, None) => write!(f, "{}", part(&self.kind)),
            (_, None) => write!(f, "{}/{}", part(&self.group), part(&self.kind)),
            (_, Some(version)) => {
                write!(f, "{}/{version}/{}", part(&self.group), part(&self.kind))
            }
        }
    }
}

/// Whether any of `patterns` names an object of `api_version` and `kind`.
pub fn any_matches(patterns: &[KindPattern], api_version: &str, kind: &str) -> bool {
    patterns
        .iter()
        .any(|pattern| pattern.matches(api_version, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, api_version: &str, kind: &str) -> bool {
        KindPattern::parse(pattern)
            .unwrap()
            .matches(api_version, kind)
    }

    #[test]
    fn a_pattern_names_a_kind_a_group_or_a_version() {
        assert!(matches("example.com/Widget", "example.com/v1", "Widget"));
        assert!(matches(
            "example.com/Widget",
            "example.com/v2beta1",
            "Widget"
        ));
        assert!(!matches("example.com/Widget", "other.com/v1", "Widget"));
        assert!(matches("example.com/*", "example.com/v1", "Gadget"));
        assert!(matches("example.com/v1/Widget", "example.com/v1", "Widget"));
        assert!(!matches(
            "example.com/v1/Widget",
            "example.com/v2",
            "Widget"
        ));
        assert!(matches("Widget", "anything.io/v1", "Widget"));
        assert!(matches("v1/Config", "v1", "Config"));
        assert!(!matches("v1/Config", "v1", "ConfigMap"));
    }

    #[test]
    fn malformed_patterns_say_why() {
        for text in ["", "a//b", "a/b/c/d", "*", "*/*", "a b/C"] {
            assert!(KindPattern::parse(text).is_err(), "{text}");
        }
        assert_eq!(
            KindPattern::parse("example.com/*").unwrap().to_string(),
            "example.com/*"
        );
    }
}
