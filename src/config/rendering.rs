//! The configuration of rendering: `render`, `kustomize` and `helm`.
//!
//! ```yaml
//! render: true                       # false: check Kustomize files one by one, charts not at all
//! kustomize: [kustomize, build]      # the command; the root's directory is appended
//! helm:
//!   command: [helm]                  # `template ...` is appended
//!   charts:
//!     deploy/shop:                   # a chart directory, relative to this file
//!     - name: prod                   # names the rendering in reports
//!       values: [deploy/prod.yaml]   # value files, relative to this file, in order
//!       set: {image.tag: "1.2.3"}    # --set values
//!       release: shop                # the release name (default release-name)
//!       namespace: shop
//! ```

use std::path::{Path, PathBuf};

use crate::documents::{Node, Value};
use crate::helm::RenderSpec;

use super::reader::{self, Problem, ReadResult};

const HELM_KEYS: [&str; 2] = ["command", "charts"];
const RENDERING_KEYS: [&str; 5] = ["name", "values", "set", "release", "namespace"];

/// `render: true|false`.
pub(super) fn render(node: &Node) -> ReadResult<bool> {
    match node.value {
        Value::Bool(flag) => Ok(flag),
        _ => Err(Problem::new(
            node.span,
            format!(
                "render must be true or false, not {}",
                reader::type_name(node)
            ),
        )),
    }
}

/// A command: a list of words (or one word), never empty.
pub(super) fn command(node: &Node, what: &str) -> ReadResult<Vec<String>> {
    let words: Vec<String> = reader::strings(node, what)?
        .into_iter()
        .map(|(word, _)| word)
        .collect();
    if words.is_empty() {
        return Err(
            Problem::new(node.span, format!("{what} must name a command"))
                .help("e.g. `[kustomize, build]`; the directory is appended"),
        );
    }
    Ok(words)
}

/// Each chart directory with its renderings.
pub(super) type ChartRenderings = Vec<(PathBuf, Vec<RenderSpec>)>;

/// `helm:`: the command, and each chart's renderings with paths resolved against
/// `directory`.
pub(super) fn helm(
    node: &Node,
    directory: &Path,
) -> ReadResult<(Option<Vec<String>>, ChartRenderings)> {
    let mut command_words = None;
    let mut charts = Vec::new();
    for entry in reader::mapping(node, "helm", &HELM_KEYS)? {
        match entry.key.as_str() {
            "command" => command_words = Some(command(&entry.value, "helm.command")?),
            "charts" => {
                let Value::Mapping(chart_entries) = &entry.value.value else {
                    return Err(Problem::new(
                        entry.value.span,
                        "helm.charts maps a chart directory to its renderings",
                    )
                    .help("e.g. `deploy/shop: [{name: prod, values: [deploy/prod.yaml]}]`"));
                };
                for chart in chart_entries {
                    let renderings = match &chart.value.value {
                        Value::Sequence(items) => items
                            .iter()
                            .map(|item| rendering(item, directory))
                            .collect::<ReadResult<Vec<_>>>()?,
                        _ => vec![rendering(&chart.value, directory)?],
                    };
                    charts.push((directory.join(&chart.key), renderings));
                }
            }
            _ => {}
        }
    }
    Ok((command_words, charts))
}

fn rendering(node: &Node, directory: &Path) -> ReadResult<RenderSpec> {
    let mut spec = RenderSpec::default();
    for entry in reader::mapping(node, "a chart rendering", &RENDERING_KEYS)? {
        let value = &entry.value;
        match entry.key.as_str() {
            "name" => spec.name = reader::string(value, "name")?.to_string(),
            "release" => spec.release = Some(reader::string(value, "release")?.to_string()),
            "namespace" => spec.namespace = Some(reader::string(value, "namespace")?.to_string()),
            "values" => {
                spec.values = reader::strings(value, "values")?
                    .into_iter()
                    .map(|(path, _)| directory.join(path))
                    .collect();
            }
            "set" => {
                let Value::Mapping(pairs) = &value.value else {
                    return Err(Problem::new(value.span, "set maps keys to values")
                        .help("e.g. `set: {image.tag: \"1.2.3\"}`"));
                };
                for pair in pairs {
                    let text = match &pair.value.value {
                        Value::String(text) => text.clone(),
                        Value::Null => String::new(),
                        _ => pair.value.to_json().to_string(),
                    };
                    spec.set.push((pair.key.clone(), text));
                }
            }
            _ => {}
        }
    }
    Ok(spec)
}
