//! Rendering a chart with the user's Helm: `helm template RELEASE CHART` with the rendering's
//! namespace, value files and `--set` values, as a subprocess with a time limit; its output
//! split into manifests by the `# Source:` line Helm puts before each.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::subprocess::{self, RunError, on_path};

use super::chart::Chart;

/// How long one rendering may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The command that runs Helm: the configured one, else `helm` on PATH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmRenderer {
    pub argv: Vec<String>,
}

/// One way to render a chart (`admit.yaml` may give several, e.g. one per environment).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenderSpec {
    /// Names the rendering in reports; empty for the chart's defaults alone.
    pub name: String,
    /// The release name (`helm template NAME`).
    pub release: Option<String>,
    pub namespace: Option<String>,
    /// Value files, in order; each overrides the ones before and the chart's `values.yaml`.
    pub values: Vec<PathBuf>,
    /// `--set` values, in order.
    pub set: Vec<(String, String)>,
}

/// One rendered manifest: the template that produced it, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The `# Source:` path: `CHART/templates/FILE`.
    pub source: String,
    pub text: String,
}

impl HelmRenderer {
    /// The configured command, else `helm` when it is on PATH.
    pub fn find(configured: Option<&[String]>) -> Option<HelmRenderer> {
        if let Some(argv) = configured.filter(|argv| !argv.is_empty()) {
            return Some(HelmRenderer {
                argv: argv.to_vec(),
            });
        }
        on_path("helm").then(|| HelmRenderer {
            argv: vec!["helm".into()],
        })
    }

    /// The full command for `chart` rendered as `spec`.
    pub fn command(&self, chart: &Path, spec: &RenderSpec) -> Vec<String> {
        let mut argv = self.argv.clone();
        argv.push("template".into());
        argv.push(
            spec.release
                .clone()
                .unwrap_or_else(|| "release-name".into()),
        );
        argv.push(chart.display().to_string());
        if let Some(namespace) = &spec.namespace {
            argv.extend(["--namespace".into(), namespace.clone()]);
        }
        for file in &spec.values {
            argv.extend(["--values".into(), file.display().to_string()]);
        }
        for (key, value) in &spec.set {
            argv.extend(["--set".into(), format!("{key}={value}")]);
        }
        argv
    }

    /// Render `chart` as `spec`: its manifests, in Helm's order.
    pub fn render(
        &self,
        chart: &Chart,
        spec: &RenderSpec,
        timeout: Duration,
    ) -> Result<Vec<Manifest>, RunError> {
        let argv = self.command(&chart.dir, spec);
        let shown = argv.join(" ");
        let output = subprocess::run(&argv, &shown, timeout, |stderr| {
            stderr.trim().trim_start_matches("Error: ").to_string()
        })?;
        Ok(split(&output))
    }
}

/// Helm's output as manifests: each document after a `# Source: PATH` line belongs to PATH.
/// Documents before any `# Source:` line (none in Helm's output) are dropped.
pub fn split(output: &str) -> Vec<Manifest> {
    let mut manifests: Vec<Manifest> = Vec::new();
    let mut current: Option<Manifest> = None;
    for line in output.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" {
            manifests.extend(current.take());
            continue;
        }
        if let Some(source) = bare.strip_prefix("# Source: ")
            && current.as_ref().is_none_or(|m| m.text.trim().is_empty())
        {
            current = Some(Manifest {
                source: source.trim().to_string(),
                text: String::new(),
            });
            continue;
        }
        if let Some(manifest) = &mut current {
            manifest.text.push_str(line);
        }
    }
    manifests.extend(current);
    manifests.retain(|m| !m.text.trim().is_empty());
    manifests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_splits_at_each_source_line() {
        let output = "---\n# Source: web/templates/a.yaml\nkind: A\n---\n# Source: web/templates/b.yaml\nkind: B\nx: 1\n";
        let manifests = split(output);
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[1].source, "web/templates/b.yaml");
        assert_eq!(manifests[1].text, "kind: B\nx: 1\n");
    }

    #[test]
    fn the_command_carries_every_value_source_in_order() {
        let helm = HelmRenderer {
            argv: vec!["helm".into()],
        };
        let spec = RenderSpec {
            name: "prod".into(),
            release: Some("shop".into()),
            namespace: Some("shop".into()),
            values: vec![PathBuf::from("prod.yaml")],
            set: vec![("replicas".into(), "3".into())],
        };
        assert_eq!(
            helm.command(Path::new("chart"), &spec).join(" "),
            "helm template shop chart --namespace shop --values prod.yaml --set replicas=3"
        );
    }
}
