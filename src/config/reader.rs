//! Typed reading of YAML nodes, with every mistake reported at the node that makes it.
//!
//! serde would tell us *what* is wrong but not *where* in the user's file; reading our own
//! spanned [`Node`]s keeps the line and column, and lets each error list the valid choices.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::documents::{self, Entry, Node, Value};
use crate::source::{SourceFile, Span};

/// A mistake in a configuration or policy file, at the node that makes it.
#[derive(Debug, Clone)]
pub(crate) struct FileError {
    /// The file.
    pub(crate) file: SourceFile,
    /// The offending node.
    pub(crate) span: Span,
    /// What is wrong.
    pub(crate) message: String,
    /// How to put it right: often the valid choices.
    pub(crate) help: Option<String>,
}

impl fmt::Display for FileError {
    // The file and line are in the diagnostic's header, next to the snippet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FileError {}

impl Diagnostic for FileError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("invalid-config"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.file)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some("here".into()), self.span),
        )))
    }
}

/// A mistake found while reading, before it is tied to its file.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// The offending node.
    pub(crate) span: Span,
    /// What is wrong.
    pub(crate) message: String,
    /// How to put it right.
    pub(crate) help: Option<String>,
}

impl Problem {
    /// A problem at `span`.
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Self {
        Problem {
            span,
            message: message.into(),
            help: None,
        }
    }

    /// The same problem, with advice.
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The problem as a diagnostic on `file`.
    pub(crate) fn in_file(self, file: &SourceFile) -> FileError {
        FileError {
            file: file.clone(),
            span: self.span,
            message: self.message,
            help: self.help,
        }
    }
}

/// What reading returns.
pub(crate) type ReadResult<T> = Result<T, Problem>;

/// Load `file` as YAML documents, turning the first syntax error into a [`FileError`].
pub(crate) fn load(file: &SourceFile) -> Result<Vec<documents::Document>, FileError> {
    let loaded = documents::load(file.text());
    if let Some(error) = loaded.errors.first() {
        return Err(Problem::new(error.span, error.message.clone()).in_file(file));
    }
    Ok(loaded.documents)
}

/// A description of a node's type for messages.
pub(crate) fn type_name(node: &Node) -> &'static str {
    match node.value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::UInt(_) | Value::Float(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
    }
}

/// The entries of a mapping, checking that every key is one of `keys`.
pub(crate) fn mapping<'n>(node: &'n Node, what: &str, keys: &[&str]) -> ReadResult<&'n [Entry]> {
    let Value::Mapping(entries) = &node.value else {
        return Err(Problem::new(
            node.span,
            format!("{what} must be a mapping, not {}", type_name(node)),
        ));
    };
    for entry in entries {
        if !keys.contains(&entry.key.as_str()) {
            return Err(Problem::new(
                entry.key_span,
                format!("unknown key `{}` in {what}", entry.key),
            )
            .help(choices("valid keys", keys, &entry.key)));
        }
    }
    Ok(entries)
}

/// "valid keys: a, b, c", with a suggestion when `given` is close to one of them.
pub(crate) fn choices(label: &str, valid: &[&str], given: &str) -> String {
    let close = crate::suggest::closest(given, valid.iter().copied());
    let list = valid.join(", ");
    match close {
        Some(close) => format!("did you mean `{close}`? {label}: {list}"),
        None => format!("{label}: {list}"),
    }
}

/// A string scalar.
pub(crate) fn string<'n>(node: &'n Node, what: &str) -> ReadResult<&'n str> {
    node.as_str().ok_or_else(|| {
        Problem::new(
            node.span,
            format!("{what} must be a string, not {}", type_name(node)),
        )
    })
}

/// One of `valid`.
pub(crate) fn choice<'n>(node: &'n Node, what: &str, valid: &[&str]) -> ReadResult<&'n str> {
    let text = string(node, what)?;
    if valid.contains(&text) {
        Ok(text)
    } else {
        Err(
            Problem::new(node.span, format!("`{text}` is not a valid {what}")).help(choices(
                "choose one of",
                valid,
                text,
            )),
        )
    }
}

/// A list of strings with their spans; a single string counts as a list of one.
pub(crate) fn strings(node: &Node, what: &str) -> ReadResult<Vec<(String, Span)>> {
    match &node.value {
        Value::String(text) => Ok(vec![(text.clone(), node.span)]),
        Value::Sequence(items) => items
            .iter()
            .map(|item| {
                string(item, &format!("each item of {what}")).map(|s| (s.to_string(), item.span))
            })
            .collect(),
        _ => Err(Problem::new(
            node.span,
            format!("{what} must be a list of strings, not {}", type_name(node)),
        )),
    }
}

/// The strings under `key` of mapping `node`, without their spans; none when it is absent.
pub(crate) fn string_list(node: &Node, key: &str) -> ReadResult<Vec<String>> {
    Ok(node
        .get(key)
        .map(|n| strings(n, key))
        .transpose()?
        .unwrap_or_default()
        .into_iter()
        .map(|(s, _)| s)
        .collect())
}

/// A positive number.
pub(crate) fn positive_number(node: &Node, what: &str) -> ReadResult<f64> {
    let number = match node.value {
        Value::Int(n) => n as f64,
        Value::UInt(n) => n as f64,
        Value::Float(n) => n,
        _ => f64::NAN,
    };
    if number.is_finite() && number > 0.0 {
        Ok(number)
    } else {
        Err(Problem::new(
            node.span,
            format!("{what} must be a positive number"),
        ))
    }
}

/// A mapping's value as a JSON object (policy settings); null is an empty object.
pub(crate) fn json_object(
    node: &Node,
    what: &str,
) -> ReadResult<serde_json::Map<String, serde_json::Value>> {
    match node.to_json() {
        serde_json::Value::Object(map) => Ok(map),
        serde_json::Value::Null => Ok(serde_json::Map::new()),
        _ => Err(Problem::new(
            node.span,
            format!("{what} must be a mapping, not {}", type_name(node)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_closest_choice() {
        let help = choices("valid keys", &["include", "exclude", "policies"], "polcies");
        assert!(help.starts_with("did you mean `policies`?"), "{help}");
        let help = choices("valid keys", &["include", "exclude"], "zzz");
        assert_eq!(help, "valid keys: include, exclude");
    }
}
