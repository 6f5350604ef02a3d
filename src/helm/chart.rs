//! A Helm chart: its directory and name. The walk finds them (`inputs`); a chart inside
//! another's `charts/` is a subchart, rendered as part of its parent, as Helm renders it.

use std::path::{Path, PathBuf};

use crate::documents::{self, Node};

/// A chart directory and its name (`Chart.yaml`'s `name`, which `# Source:` lines start with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub dir: PathBuf,
    pub name: String,
}

impl Chart {
    /// The chart in `dir`, when its `Chart.yaml` has a name.
    pub fn read(dir: &Path) -> Option<Chart> {
        let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
        let loaded = documents::load(&text);
        let name = loaded
            .documents
            .first()?
            .root
            .get("name")
            .and_then(Node::as_str)?
            .to_string();
        Some(Chart {
            dir: dir.to_path_buf(),
            name,
        })
    }
}

/// The file a `# Source:` path names: `web/templates/x.yaml` in chart `web`, or
/// `web/charts/db/templates/y.yaml` for its subchart, under the chart's directory.
pub fn source_file(chart: &Chart, source: &str) -> Option<PathBuf> {
    let rest = source.strip_prefix(&chart.name)?.strip_prefix('/')?;
    Some(chart.dir.join(rest))
}

/// The subcharts a `# Source:` path passes through: `["db"]` for
/// `shop/charts/db/templates/x.yaml`.
pub fn subchart_chain(source: &str) -> Vec<String> {
    let parts: Vec<&str> = source.split('/').collect();
    parts
        .windows(2)
        .filter(|pair| pair[0] == "charts")
        .map(|pair| pair[1].to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_path_names_a_file_of_the_chart_or_of_its_subchart() {
        let dir = tempfile::tempdir().unwrap();
        let chart_dir = dir.path().join("shop");
        std::fs::create_dir_all(&chart_dir).unwrap();
        std::fs::write(
            chart_dir.join("Chart.yaml"),
            "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
        )
        .unwrap();
        let chart = Chart::read(&chart_dir).unwrap();
        assert_eq!(chart.name, "shop");
        assert_eq!(
            source_file(&chart, "shop/charts/db/templates/s.yaml").unwrap(),
            chart_dir.join("charts/db/templates/s.yaml")
        );
        assert!(source_file(&chart, "other/templates/x.yaml").is_none());
        assert_eq!(
            subchart_chain("shop/charts/db/charts/cache/templates/x.yaml"),
            ["db", "cache"]
        );
    }
}
