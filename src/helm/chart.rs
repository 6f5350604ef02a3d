//! The Helm charts among the checked paths. A directory holding `Chart.yaml` is a chart; a
//! chart inside another's `charts/` is a subchart, rendered as part of its parent, as Helm
//! renders it.

use std::path::{Path, PathBuf};

use crate::documents::{self, Node};

/// A chart directory and its name (`Chart.yaml`'s `name`, which `# Source:` lines start with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub dir: PathBuf,
    pub name: String,
}

/// Whether `path` is a chart's `Chart.yaml`.
pub fn is_chart_file(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "Chart.yaml")
}

/// The charts among `files` (paths as the walk found them): every directory with a
/// `Chart.yaml`, except subcharts (those under another chart's `charts/`).
pub fn discover(files: &[PathBuf]) -> Vec<Chart> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter(|file| is_chart_file(file))
        .filter_map(|file| file.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    let parents = dirs.clone();
    dirs.into_iter()
        .filter(|dir| {
            !parents
                .iter()
                .any(|parent| parent != dir && dir.starts_with(parent.join("charts")))
        })
        .filter_map(|dir| {
            let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
            let loaded = documents::load(&text);
            let name = loaded
                .documents
                .first()?
                .root
                .get("name")
                .and_then(Node::as_str)?
                .to_string();
            Some(Chart { dir, name })
        })
        .collect()
}

/// Whether `path` belongs to one of `charts` and is not a manifest: everything in a chart
/// directory is Helm's (templates, values, subcharts, `Chart.yaml`).
pub fn in_chart(path: &Path, charts: &[Chart]) -> bool {
    charts.iter().any(|chart| path.starts_with(&chart.dir))
}

/// The file a `# Source:` path names: `web/templates/x.yaml` in chart `web`, or
/// `web/charts/db/templates/y.yaml` for its subchart, under the chart's directory.
pub fn source_file(chart: &Chart, source: &str) -> Option<PathBuf> {
    let rest = source.strip_prefix(&chart.name)?.strip_prefix('/')?;
    Some(chart.dir.join(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcharts_render_with_their_parent() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        };
        let files = [
            write(
                "shop/Chart.yaml",
                "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
            ),
            write(
                "shop/charts/db/Chart.yaml",
                "apiVersion: v2\nname: db\nversion: 1.0.0\n",
            ),
        ];
        let charts = discover(&files);
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].name, "shop");
        assert_eq!(
            source_file(&charts[0], "shop/charts/db/templates/s.yaml").unwrap(),
            dir.path().join("shop/charts/db/templates/s.yaml")
        );
        assert!(in_chart(&dir.path().join("shop/templates/x.yaml"), &charts));
    }
}
