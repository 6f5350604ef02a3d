//! Kubewarden `ClusterAdmissionPolicy` and `AdmissionPolicy` resources as a policy list, so a
//! team's cluster configuration is also its `admit` configuration.
//!
//! Unlike `kwctl run`, which ignores rules and selectors, the resources are honoured as the
//! cluster would: `spec.rules` replace the module's rules, `spec.objectSelector` filters on the
//! object's labels, an `AdmissionPolicy` sees only its own namespace, and `spec.mode: monitor`
//! makes rejections warnings. `spec.namespaceSelector` can only be answered for the
//! `kubernetes.io/metadata.name` label offline; any other label is refused with a pointer to
//! `match.namespaces`, rather than silently applying the policy everywhere.
//!
//! Modules: a path (relative to the file) or `file://` URL is read directly; `registry://` and
//! `https://` modules are fetched through `crate::registry` (locked, stored, verified).

use std::path::{Path, PathBuf};

use super::reader::{self, FileError, Problem, ReadResult};
use crate::check::{GivenBy, PolicySpec};
use crate::documents::{Node, Value};
use crate::findings::Severity;
use crate::policies::PolicySource;
use crate::policies::rules::Rule;
use crate::policies::scope::{NAMESPACE_NAME_LABEL, Scope};
use crate::source::SourceFile;

const GROUP: &str = "policies.kubewarden.io";
const KINDS: [&str; 2] = ["ClusterAdmissionPolicy", "AdmissionPolicy"];

/// Read every policy resource in the YAML file at `path`.
pub(crate) fn read_admission_policies(path: &Path) -> Result<Vec<PolicySpec>, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        file: SourceFile::new(path.display().to_string(), ""),
        span: Default::default(),
        message: format!("cannot read {}: {e}", path.display()),
        help: None,
    })?;
    let file = SourceFile::new(path.display().to_string(), text);
    let directory = path.parent().unwrap_or(Path::new("."));
    let mut specs = Vec::new();
    for document in reader::load(&file)? {
        let spec = policy(&document.root, directory).map_err(|p| p.in_file(&file))?;
        specs.extend(spec.map(|spec| {
            let spec_node = document.root.get("spec");
            let span = spec_node
                .and_then(|s| s.get("settings").or_else(|| s.get("module")))
                .map_or(document.root.span, |n| n.span);
            let mut source = spec.source.clone();
            if let (PolicySource::Remote(remote), Some(module)) =
                (&mut source, spec_node.and_then(|s| s.get("module")))
            {
                remote.named_at(&file, module.span);
            }
            PolicySpec {
                declared_at: Some((file.clone(), span)),
                source,
                ..spec
            }
        }));
    }
    Ok(specs)
}

fn policy(root: &Node, directory: &Path) -> ReadResult<Option<PolicySpec>> {
    let api_version = root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let kind_node = root
        .get("kind")
        .ok_or_else(|| Problem::new(root.span, "a document without `kind`"))?;
    let kind = reader::string(kind_node, "kind")?;
    if !api_version.starts_with(&format!("{GROUP}/")) || !KINDS.contains(&kind) {
        if kind.ends_with("PolicyGroup") {
            return Err(Problem::new(
                kind_node.span,
                format!("{kind} is not supported yet: list its policies as separate resources"),
            ));
        }
        return Err(Problem::new(
            kind_node.span,
            format!(
                "expected a {GROUP} ClusterAdmissionPolicy or AdmissionPolicy, found {api_version} {kind}"
            ),
        ));
    }
    let metadata = root
        .get("metadata")
        .ok_or_else(|| Problem::new(root.span, format!("a {kind} needs metadata.name")))?;
    let name = metadata
        .get("name")
        .ok_or_else(|| Problem::new(metadata.span, format!("a {kind} needs metadata.name")))
        .and_then(|n| reader::string(n, "metadata.name"))?;
    let spec = root
        .get("spec")
        .ok_or_else(|| Problem::new(root.span, format!("{kind} {name} has no spec")))?;
    let module = spec
        .get("module")
        .ok_or_else(|| Problem::new(spec.span, format!("{kind} {name} has no spec.module")))?;
    let source = module_source(module, directory)?;
    let settings = spec
        .get("settings")
        .map(|s| reader::json_object(s, "spec.settings"))
        .transpose()?
        .unwrap_or_default();
    let severity = match spec.get("mode") {
        Some(mode) => match reader::choice(mode, "mode", &["protect", "monitor"])? {
            "monitor" => Some(Severity::Warning),
            _ => None,
        },
        None => None,
    };
    let mut scope = Scope {
        rules: spec.get("rules").map(rules).transpose()?,
        labels: spec
            .get("objectSelector")
            .map(super::label_selector)
            .transpose()?,
        ..Scope::default()
    };
    if let Some(selector) = spec.get("namespaceSelector") {
        let parsed = super::label_selector(selector)?;
        let foreign = parsed
            .match_labels
            .keys()
            .chain(parsed.match_expressions.iter().map(|r| &r.key))
            .any(|key| key != NAMESPACE_NAME_LABEL);
        if foreign {
            return Err(Problem::new(
                selector.span,
                format!("namespaceSelector can only use the {NAMESPACE_NAME_LABEL} label offline: other namespace labels live in the cluster"),
            )
            .help("list the namespaces in the admit.yaml entry's `match.namespaces` instead"));
        }
        scope.namespace_labels = Some(parsed);
    }
    if kind == "AdmissionPolicy" {
        let namespace = metadata
            .get("namespace")
            .map(|n| reader::string(n, "metadata.namespace"))
            .transpose()?
            .unwrap_or("default");
        scope.namespaces = vec![namespace.to_string()];
    }
    Ok(Some(PolicySpec {
        id: Some(name.to_string()),
        severity,
        scope,
        given_by: GivenBy::PolicyResource,
        ..PolicySpec::new(source, settings)
    }))
}

fn module_source(node: &Node, directory: &Path) -> ReadResult<PolicySource> {
    let uri = reader::string(node, "spec.module")?;
    if crate::registry::ModuleRef::is_remote(uri) {
        return PolicySource::remote(uri).map_err(|e| Problem::new(node.span, e));
    }
    let path = match uri.strip_prefix("file://") {
        Some(path) => PathBuf::from(path),
        None => directory.join(uri),
    };
    if !path.is_file() {
        return Err(
            Problem::new(node.span, format!("no policy module at {}", path.display()))
                .help("paths are relative to the file that names them"),
        );
    }
    Ok(PolicySource::File(path))
}

fn rules(node: &Node) -> ReadResult<Vec<Rule>> {
    let Value::Sequence(items) = &node.value else {
        return Err(Problem::new(node.span, "spec.rules must be a list"));
    };
    items
        .iter()
        .map(|item| {
            reader::mapping(
                item,
                "a rule",
                &[
                    "apiGroups",
                    "apiVersions",
                    "resources",
                    "operations",
                    "scope",
                ],
            )?;
            let list = |key: &str| reader::string_list(item, key);
            Ok(Rule {
                api_groups: list("apiGroups")?,
                api_versions: list("apiVersions")?,
                resources: list("resources")?,
                operations: list("operations")?,
                scope: item
                    .get("scope")
                    .map(|s| reader::string(s, "scope").map(str::to_string))
                    .transpose()?,
            })
        })
        .collect()
}
