//! Rendering a kustomization with the user's own Kustomize, as a subprocess with a time limit.
//!
//! admit asks Kustomize where every object came from: it renders a throwaway kustomization,
//! in a temporary directory outside the user's tree, that names the root as its one resource
//! and turns on `buildMetadata: [originAnnotations, transformerAnnotations]`. Kustomize then
//! annotates each object with the file (or generator) it came from and the kustomizations
//! whose transformers changed it; [`super::origin`] reads and removes those annotations
//! before any policy sees the object. Rendering never writes into the user's tree.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::paths::{absolute, relative};
use crate::subprocess::{self, on_path};

/// How long one root may take to render. Kustomize renders a large tree in well under a
/// second; a remote base on a slow network is what this stops.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The command that renders a directory: `kustomize build`, `kubectl kustomize`, or the one
/// configured. The directory is appended as the last argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renderer {
    pub argv: Vec<String>,
}

/// A rendering that did not produce objects.
pub type RenderError = subprocess::RunError;

/// What a rendering produced, and where the throwaway kustomization was, since the origin
/// annotations name files relative to it.
#[derive(Debug)]
pub struct Rendered {
    pub yaml: String,
    /// The throwaway kustomization's directory (already removed), absolute.
    pub wrapper: PathBuf,
}

impl Renderer {
    /// The configured command, else `kustomize build`, else `kubectl kustomize`, whichever is
    /// on `PATH` first; `None` when neither is.
    pub fn find(configured: Option<&[String]>) -> Option<Renderer> {
        if let Some(argv) = configured.filter(|argv| !argv.is_empty()) {
            return Some(Renderer {
                argv: argv.to_vec(),
            });
        }
        if on_path("kustomize") {
            return Some(Renderer {
                argv: vec!["kustomize".into(), "build".into()],
            });
        }
        on_path("kubectl").then(|| Renderer {
            argv: vec!["kubectl".into(), "kustomize".into()],
        })
    }

    /// The command as a user would type it.
    pub fn command(&self) -> String {
        self.argv.join(" ")
    }

    /// Render the kustomization in `root`.
    pub fn render(&self, root: &Path, timeout: Duration) -> Result<Rendered, RenderError> {
        let prepare = |error: std::io::Error| RenderError::Prepare {
            command: self.command(),
            message: error.to_string(),
        };
        let wrapper = tempfile::Builder::new()
            .prefix("admit-kustomize-")
            .tempdir()
            .map_err(prepare)?;
        let wrapper_dir = wrapper.path().canonicalize().map_err(prepare)?;
        let root_dir = root.canonicalize().unwrap_or_else(|_| absolute(root));
        let resource = relative(&wrapper_dir, &root_dir);
        let kustomization = format!(
            "# Written by admit to learn where each object comes from; removed after.\n\
             apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             resources:\n- {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
            serde_json::Value::String(resource.display().to_string())
        );
        std::fs::write(wrapper_dir.join("kustomization.yaml"), kustomization).map_err(prepare)?;
        let command = format!("{} {}", self.command(), root.display());
        let mut argv = self.argv.clone();
        argv.push(wrapper_dir.display().to_string());
        let yaml = subprocess::run(&argv, &command, timeout, |stderr| {
            tidy_stderr(stderr, &root_dir)
        })?;
        Ok(Rendered {
            yaml,
            wrapper: wrapper_dir,
        })
    }
}

/// Kustomize's message as a user can read it: without kubectl's log framing (`E1205 ...
/// "command failed" err=<` ... `>`), without the throwaway kustomization's own layer of
/// "accumulating resources" around the root's, and with paths relative to the working
/// directory.
fn tidy_stderr(stderr: &str, root_dir: &Path) -> String {
    let mut message = match stderr.split_once("err=<") {
        Some((_, rest)) => rest
            .lines()
            .map(|line| line.strip_prefix('\t').unwrap_or(line))
            .filter(|line| line.trim() != ">")
            .collect::<Vec<_>>()
            .join("\n"),
        None => match stderr.split_once("err=\"") {
            Some((_, rest)) => unquote(rest.trim_end().trim_end_matches('"')),
            None => stderr.to_string(),
        },
    };
    let layer = format!("recursed accumulation of path '{}': ", root_dir.display());
    if let Some(at) = message.find(&layer) {
        message = message[at + layer.len()..].to_string();
    }
    if let Ok(cwd) = std::env::current_dir().and_then(|cwd| cwd.canonicalize()) {
        message = message.replace(&format!("{}/", cwd.display()), "");
    }
    message.trim().to_string()
}

/// A klog value with its escapes undone.
fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            },
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_log_framing_and_the_throwaway_layer_leave_the_message() {
        let stderr = "E1205 23:20:31.337928   31202 run.go:72] \"command failed\" err=<\n\taccumulating resources: accumulation err='accumulating resources from '../../repo/crds': '/repo/crds' must resolve to a file': recursed accumulation of path '/repo/crds': accumulating resources from 'https://example.com/x.yaml': no such host\n\t: exit status 128\n >\n";
        assert_eq!(
            tidy_stderr(stderr, Path::new("/repo/crds")),
            "accumulating resources from 'https://example.com/x.yaml': no such host\n: exit status 128"
        );
        assert_eq!(tidy_stderr("Error: boom\n", Path::new("/r")), "Error: boom");
    }

    #[test]
    fn a_configured_command_wins() {
        let argv = ["my-kustomize".to_string(), "build".to_string()];
        assert_eq!(
            Renderer::find(Some(&argv)).unwrap().command(),
            "my-kustomize build"
        );
    }
}
