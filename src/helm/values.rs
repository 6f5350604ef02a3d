//! Where a value came from: the last of the value files (the chart's `values.yaml`, then each
//! file the rendering names, in order) that sets the path.

use std::path::PathBuf;

use crate::documents::{self, Node, Value};
use crate::source::{SourceFile, Span};

/// The value files of one rendering, read, in the order Helm applies them.
#[derive(Debug, Clone, Default)]
pub struct ValueFiles {
    /// Each file with the keys its values sit under for the chart being rendered: a parent
    /// chart sets a subchart `db`'s values under `db:`.
    files: Vec<(SourceFile, Option<Node>, Vec<String>)>,
}

impl ValueFiles {
    /// Read `paths` (missing ones are skipped: Helm reports those itself), each with how
    /// reports name it and the keys its values for this chart sit under.
    pub fn read(paths: &[(PathBuf, String, Vec<String>)]) -> Self {
        let files = paths
            .iter()
            .filter_map(|(path, name, prefix)| {
                let text = std::fs::read_to_string(path).ok()?;
                let root = documents::load(&text)
                    .documents
                    .into_iter()
                    .next()
                    .map(|d| d.root);
                Some((SourceFile::new(name.clone(), text), root, prefix.clone()))
            })
            .collect();
        ValueFiles { files }
    }

    /// The node that sets `path` (or its nearest ancestor that a file sets, when `exact` is
    /// not required), in the last file that has it.
    pub fn locate(&self, path: &[String]) -> Option<(SourceFile, Span, bool)> {
        let mut best: Option<(SourceFile, Span, bool, usize)> = None;
        for (file, root, prefix) in self.files.iter().rev() {
            let Some(root) = root else { continue };
            let pointer: String = prefix
                .iter()
                .chain(path)
                .map(|token| format!("/{}", documents::escape_pointer_token(token)))
                .collect();
            let located = root.locate(&pointer);
            let depth = located.pointer.matches('/').count();
            if depth <= prefix.len() {
                continue;
            }
            let collection = matches!(located.node.value, Value::Mapping(_) | Value::Sequence(_));
            let span = match (collection, located.key_span) {
                (true, Some(key)) => key,
                _ => located.node.span,
            };
            if located.exact {
                return Some((file.clone(), span, true));
            }
            if best.as_ref().is_none_or(|b| depth > b.3) {
                best = Some((file.clone(), span, false, depth));
            }
        }
        best.map(|(file, span, exact, _)| (file, span, exact))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_file_that_sets_a_value_wins() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("values.yaml");
        let prod = dir.path().join("prod.yaml");
        std::fs::write(
            &chart,
            "image:\n  tag: \"1.0\"\nsecurityContext:\n  runAsNonRoot: true\n",
        )
        .unwrap();
        std::fs::write(&prod, "image:\n  tag: latest\n").unwrap();
        let files = ValueFiles::read(&[
            (chart, "chart/values.yaml".into(), vec![]),
            (prod, "prod.yaml".into(), vec![]),
        ]);
        let (file, span, exact) = files.locate(&["image".into(), "tag".into()]).unwrap();
        assert_eq!(
            (file.name(), file.slice(span), exact),
            ("prod.yaml", "latest", true)
        );
        let (file, span, exact) = files
            .locate(&["securityContext".into(), "privileged".into()])
            .unwrap();
        assert_eq!(
            (file.name(), file.slice(span), exact),
            ("chart/values.yaml", "securityContext", false)
        );
    }

    #[test]
    fn a_parent_chart_sets_a_subcharts_values_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub.yaml");
        let parent = dir.path().join("parent.yaml");
        std::fs::write(&sub, "hostPID: true\nimage: db:15\n").unwrap();
        std::fs::write(&parent, "db:\n  hostPID: false\n").unwrap();
        let files = ValueFiles::read(&[
            (sub, "sub.yaml".into(), vec![]),
            (parent, "parent.yaml".into(), vec!["db".into()]),
        ]);
        let at = |key: &str| {
            let (file, span, _) = files.locate(&[key.to_string()]).unwrap();
            format!("{} {}", file.name(), file.slice(span))
        };
        assert_eq!(at("hostPID"), "parent.yaml false");
        assert_eq!(at("image"), "sub.yaml db:15");
    }
}
