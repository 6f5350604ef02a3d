//! Policy settings given on the command line: inline JSON, or a YAML or JSON file.

use std::path::Path;

use miette::miette;

use crate::documents;
use crate::policies::Settings;

/// `--settings` is inline JSON when it looks like an object, else a YAML or JSON file.
pub(super) fn parse_settings(value: &str) -> miette::Result<Settings> {
    let (name, text) = if value.trim_start().starts_with('{') {
        ("--settings".to_string(), value.to_string())
    } else {
        let text = std::fs::read_to_string(Path::new(value))
            .map_err(|e| miette!("cannot read settings file {value}: {e}"))?;
        (value.to_string(), text)
    };
    let loaded = documents::load(&text);
    if let Some(error) = loaded.errors.first() {
        return Err(miette!("invalid settings in {name}: {}", error.message));
    }
    match loaded.documents.as_slice() {
        [] => Ok(Settings::new()),
        [document] => match document.root.to_json() {
            serde_json::Value::Object(map) => Ok(map),
            serde_json::Value::Null => Ok(Settings::new()),
            other => Err(miette!(
                "settings in {name} must be a mapping, not {}",
                json_type(&other)
            )),
        },
        _ => Err(miette!("settings in {name} must be a single document")),
    }
}

/// A description of a JSON value's type for messages.
fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}
