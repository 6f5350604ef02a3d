//! `admit.yaml`: a team's checks in one file instead of a list of flags.
//!
//! The file is found by walking up from a checked path to the repository root (the first
//! directory with `.git`); paths inside it are relative to the file. Every mistake is a
//! diagnostic at the offending line with the valid choices, because a config that is silently
//! half-read is worse than none. The schema is `admit.schema.json` at the repository root.

mod admission_policies;
pub(crate) mod reader;
mod registry;
mod rendering;

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use globset::{GlobSet, GlobSetBuilder};

pub(crate) use admission_policies::read_admission_policies;
pub(crate) use reader::FileError;

use crate::check::{FailOn, GivenBy, PolicySpec};
use crate::documents::{Node, Value};
use crate::findings::{ADMIT_WARNINGS, Severity};
use crate::inputs::{Selection, normalize, pattern_globs};
use crate::objects::KindPattern;
use crate::policies::scope::{LabelOperator, LabelRequirement, LabelSelector, Scope};
use crate::policies::{
    Builtin, ExecutionMode, PolicySource, Settings, UnknownExecutionMode, select,
};
use crate::reports::{Format, OutputSpec};
use crate::source::SourceFile;
use reader::{Problem, ReadResult};

/// File names a configuration may have, in the order they are looked for.
pub(crate) const CONFIG_NAMES: [&str; 2] = crate::inputs::CONFIG_FILE_NAMES;

const TOP_KEYS: [&str; 16] = [
    "include",
    "exclude",
    "fail-on",
    "policies",
    "output",
    "policy-timeout",
    "policy-memory",
    "skip-kinds",
    "known-kinds",
    "disable",
    "render",
    "kustomize",
    "helm",
    "registry",
    "verify",
    "context",
];
const POLICY_KEYS: [&str; 11] = [
    "preset",
    "id",
    "module",
    "policies-from",
    "name",
    "settings",
    "severity",
    "match",
    "except",
    "execution-mode",
    "allow-context-aware",
];
const MATCH_KEYS: [&str; 3] = ["kinds", "namespaces", "labels"];
const SELECTOR_KEYS: [&str; 2] = ["matchLabels", "matchExpressions"];
/// The severities a policy entry may give its rejections; a note is only for what a mutating
/// policy would change.
const SEVERITIES: [Severity; 2] = [Severity::Error, Severity::Warning];

/// A loaded configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Which files to check: `include` and `exclude`, relative to the file's directory.
    pub(crate) selection: Selection,
    /// Which findings fail the run.
    pub(crate) fail_on: Option<FailOn>,
    /// The policies to run; `None` when the file does not say (the default preset).
    pub(crate) policies: Option<Vec<PolicySpec>>,
    /// Reports to write.
    pub(crate) outputs: Vec<OutputSpec>,
    /// Wall-time limit for one policy call, in seconds.
    pub(crate) policy_timeout: Option<f64>,
    /// Memory cap of one policy instance, in MiB.
    pub(crate) policy_memory: Option<u64>,
    /// Kinds never checked, beyond the other tools' configurations admit knows.
    pub(crate) skip_kinds: Vec<KindPattern>,
    /// Custom resources known without their CustomResourceDefinition: no unknown-kind warning.
    pub(crate) known_kinds: Vec<KindPattern>,
    /// admit's own warnings turned off, by id.
    pub(crate) disabled: Vec<String>,
    /// Whether Kustomize roots and Helm charts are rendered (`render:`).
    pub(crate) render: Option<bool>,
    /// The command that renders a kustomization.
    pub(crate) kustomize: Option<Vec<String>>,
    /// The command that runs Helm.
    pub(crate) helm: Option<Vec<String>>,
    /// How each chart is rendered, by its directory.
    pub(crate) charts: Vec<(PathBuf, Vec<crate::helm::RenderSpec>)>,
    /// The directory the file is in: its `admit.lock` lives there.
    pub(crate) directory: PathBuf,
    /// How registries are reached (`registry:`).
    pub(crate) registry: registry::RegistrySettings,
    /// The keys registry modules must be signed with (`verify:`).
    pub(crate) verify: Option<crate::registry::VerifyConfig>,
    /// Cluster state context-aware policies see but the check does not (`context:`).
    pub(crate) context: Vec<PathBuf>,
}

/// The configuration that governs `path`: the nearest `admit.yaml` or `.admit.yaml` in its
/// directory or above, stopping at the repository root (a directory holding `.git`).
pub(crate) fn discover(path: &Path) -> Option<PathBuf> {
    let start = if path.as_os_str() == "-" {
        std::env::current_dir().ok()?
    } else {
        let absolute = std::env::current_dir().ok()?.join(path);
        let absolute = normalize(&absolute);
        if absolute.is_dir() {
            absolute
        } else {
            absolute.parent()?.to_path_buf()
        }
    };
    for directory in start.ancestors() {
        for name in CONFIG_NAMES {
            let candidate = directory.join(name);
            if candidate.is_file() {
                // Reports name it as the user would: relative to where admit runs.
                let shown = std::env::current_dir()
                    .ok()
                    .and_then(|cwd| candidate.strip_prefix(cwd).ok().map(Path::to_path_buf));
                return Some(shown.unwrap_or(candidate));
            }
        }
        if directory.join(".git").exists() {
            break;
        }
    }
    None
}

/// Read and validate the configuration at `path`.
pub(crate) fn load(path: &Path) -> Result<Config, Box<dyn miette::Diagnostic + Send + Sync>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Box::new(miette::MietteDiagnostic::new(format!(
            "cannot read configuration {}: {e}",
            path.display()
        ))) as Box<dyn miette::Diagnostic + Send + Sync>
    })?;
    let file = SourceFile::new(path.display().to_string(), text);
    parse(&file, path).map_err(|e| Box::new(e) as Box<dyn miette::Diagnostic + Send + Sync>)
}

/// Parse the configuration text in `file`, which lives at `path`.
pub(crate) fn parse(file: &SourceFile, path: &Path) -> Result<Config, FileError> {
    let documents = reader::load(file)?;
    let directory = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut config = Config {
        selection: Selection::new(directory.clone()),
        fail_on: None,
        policies: None,
        outputs: Vec::new(),
        policy_timeout: None,
        policy_memory: None,
        skip_kinds: Vec::new(),
        known_kinds: Vec::new(),
        disabled: Vec::new(),
        render: None,
        kustomize: None,
        helm: None,
        charts: Vec::new(),
        directory: directory.clone(),
        registry: registry::RegistrySettings::default(),
        verify: None,
        context: Vec::new(),
    };
    let root = match documents.as_slice() {
        [] => return Ok(config),
        [document] => &document.root,
        [_, second, ..] => {
            return Err(
                Problem::new(second.span, "a configuration is a single YAML document")
                    .in_file(file),
            );
        }
    };
    let result: ReadResult<()> = (|| {
        for entry in reader::mapping(root, "the configuration", &TOP_KEYS)? {
            let node = &entry.value;
            match entry.key.as_str() {
                "include" => config.selection.include = Some(globs(node, "include")?),
                "exclude" => config.selection.exclude = Some(globs(node, "exclude")?),
                "fail-on" => config.fail_on = Some(fail_on(node)?),
                "policy-timeout" => {
                    config.policy_timeout = Some(reader::positive_number(node, "policy-timeout")?)
                }
                "policy-memory" => {
                    config.policy_memory = Some(policy_memory(node)?);
                }
                "output" => config.outputs = outputs(node, &directory)?,
                "skip-kinds" => config.skip_kinds = kind_patterns(node, "skip-kinds")?,
                "known-kinds" => config.known_kinds = kind_patterns(node, "known-kinds")?,
                "disable" => config.disabled = disabled(node)?,
                "render" => config.render = Some(rendering::render(node)?),
                "kustomize" => config.kustomize = Some(rendering::command(node, "kustomize")?),
                "helm" => (config.helm, config.charts) = rendering::helm(node, &directory)?,
                "registry" => config.registry = registry::registry(node, &directory)?,
                "verify" => config.verify = Some(registry::verify(node, &directory)?),
                "context" => config.context = context_files(node, &directory)?,
                "policies" => config.policies = Some(Vec::new()),
                _ => {}
            }
        }
        Ok(())
    })();
    result.map_err(|problem| problem.in_file(file))?;
    if let Some(node) = root.get("policies") {
        config.policies = Some(policies(node, file, &directory)?);
    }
    Ok(config)
}

fn globs(node: &Node, what: &str) -> ReadResult<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for (pattern, span) in reader::strings(node, what)? {
        for glob in pattern_globs(&pattern)
            .map_err(|e| Problem::new(span, format!("invalid glob `{pattern}`: {}", e.kind())))?
        {
            builder.add(glob);
        }
    }
    builder
        .build()
        .map_err(|e| Problem::new(node.span, format!("invalid {what} globs: {e}")))
}

/// The built-in policy `id`, or the error at `span` with the ids there are.
pub(crate) fn builtin(id: &str, span: crate::source::Span) -> ReadResult<&'static Builtin> {
    Builtin::find(id).ok_or_else(|| {
        let ids: Vec<&str> = crate::policies::builtin::BUILTINS
            .iter()
            .map(|b| b.id)
            .collect();
        Problem::new(span, format!("unknown built-in policy `{id}`")).help(reader::choices(
            "built-in ids",
            &ids,
            id,
        ))
    })
}

/// `allow-context-aware: true|false` on a policy entry.
fn allow_context_aware(item: &Node) -> ReadResult<bool> {
    item.get("allow-context-aware")
        .map(|node| match node.value {
            Value::Bool(flag) => Ok(flag),
            _ => Err(Problem::new(
                node.span,
                "allow-context-aware must be true or false",
            )),
        })
        .transpose()
        .map(|flag| flag.unwrap_or(false))
}

/// `context:`: files or directories of cluster state, relative to the configuration.
fn context_files(node: &Node, directory: &Path) -> ReadResult<Vec<PathBuf>> {
    reader::strings(node, "context")?
        .into_iter()
        .map(|(name, span)| {
            let path = directory.join(&name);
            if path.exists() {
                Ok(path)
            } else {
                Err(Problem::new(span, format!("no context file or directory at {}", path.display()))
                    .help("paths are relative to this file: `kubectl get namespaces -o yaml > cluster/namespaces.yaml` makes one"))
            }
        })
        .collect()
}

/// `skip-kinds` and `known-kinds`: kinds as `GROUP/KIND`, `GROUP/*` or `KIND`.
fn kind_patterns(node: &Node, what: &str) -> ReadResult<Vec<KindPattern>> {
    reader::strings(node, what)?
        .into_iter()
        .map(|(text, span)| {
            KindPattern::parse(&text).map_err(|error| {
                Problem::new(span, error.to_string()).help(
                    "write GROUP/KIND (`example.com/Widget`), GROUP/* for every kind of a \
                     group, GROUP/VERSION/KIND, or a bare KIND for that kind in any group; \
                     the group is the apiVersion before its version",
                )
            })
        })
        .collect()
}

/// `disable`: admit's own warnings to turn off.
fn disabled(node: &Node) -> ReadResult<Vec<String>> {
    reader::strings(node, "disable")?
        .into_iter()
        .map(|(id, span)| {
            if ADMIT_WARNINGS.contains(&id.as_str()) {
                return Ok(id);
            }
            let problem = Problem::new(span, format!("`{id}` is not one of admit's warnings"));
            Err(if Builtin::find(&id).is_some() {
                problem.help(format!(
                    "`{id}` is a policy: leave it out with `except: [{id}]` on its preset, or \
                     make it a warning with `- id: {id}` and `severity: warning`"
                ))
            } else {
                problem.help(reader::choices("admit's warnings", &ADMIT_WARNINGS, &id))
            })
        })
        .collect()
}

fn outputs(node: &Node, directory: &Path) -> ReadResult<Vec<OutputSpec>> {
    let items: Vec<&Node> = match &node.value {
        Value::Sequence(items) => items.iter().collect(),
        _ => vec![node],
    };
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    items
        .into_iter()
        .map(|item| {
            let (format_node, file) = match &item.value {
                Value::String(_) => (item, None),
                _ => {
                    reader::mapping(item, "an output", &["format", "file"])?;
                    let format = item.get("format").ok_or_else(|| {
                        Problem::new(item.span, "an output needs a `format`")
                            .help(reader::choices("formats", &names, ""))
                    })?;
                    let file = item
                        .get("file")
                        .map(|f| reader::string(f, "an output file").map(|f| directory.join(f)))
                        .transpose()?;
                    (format, file)
                }
            };
            let name = reader::choice(format_node, "output format", &names)?;
            let format = Format::from_name(name).unwrap_or(Format::Human);
            Ok(OutputSpec { format, file })
        })
        .collect()
}

/// The policy list: entries in order, a later entry for the same policy replacing an earlier
/// one (so `preset: recommended` then `id: privileged, severity: warning` tunes one member).
fn policies(
    node: &Node,
    file: &SourceFile,
    directory: &Path,
) -> Result<Vec<PolicySpec>, FileError> {
    let Value::Sequence(items) = &node.value else {
        return Err(Problem::new(
            node.span,
            format!("policies must be a list, not {}", reader::type_name(node)),
        )
        .in_file(file));
    };
    let mut specs: Vec<PolicySpec> = Vec::new();
    for item in items {
        for spec in policy_entry(item, file, directory)? {
            match specs.iter_mut().find(|s| same_policy(s, &spec)) {
                Some(existing) => *existing = spec,
                None => specs.push(spec),
            }
        }
    }
    Ok(specs)
}

/// Two specs name the same policy when they would report under the same id.
fn same_policy(a: &PolicySpec, b: &PolicySpec) -> bool {
    let key = |s: &PolicySpec| s.id.clone().unwrap_or_else(|| s.source.name());
    key(a) == key(b)
}

fn policy_entry(
    item: &Node,
    file: &SourceFile,
    directory: &Path,
) -> Result<Vec<PolicySpec>, FileError> {
    let in_file = |problem: Problem| problem.in_file(file);
    let entries = reader::mapping(item, "a policy", &POLICY_KEYS).map_err(in_file)?;
    let sources: Vec<&crate::documents::Entry> = entries
        .iter()
        .filter(|e| matches!(e.key.as_str(), "preset" | "id" | "module" | "policies-from"))
        .collect();
    let source = match sources.as_slice() {
        [one] => *one,
        [] => {
            return Err(in_file(
                Problem::new(
                    item.span,
                    "a policy needs one of `preset`, `id`, `module` or `policies-from`",
                )
                .help(
                    "e.g. `- preset: recommended`, `- id: privileged` or `- module: ./team.wasm`",
                ),
            ));
        }
        [_, second, ..] => {
            return Err(in_file(Problem::new(
                second.key_span,
                format!(
                    "`{}` cannot be combined with `{}` in one policy entry; give each its own entry",
                    second.key, sources[0].key
                ),
            )));
        }
    };
    if source.key == "policies-from" {
        let extra = entries.iter().find(|e| {
            !matches!(
                e.key.as_str(),
                "policies-from" | "severity" | "allow-context-aware"
            )
        });
        if let Some(extra) = extra {
            return Err(in_file(Problem::new(
                extra.key_span,
                format!(
                    "`{}` does not apply to `policies-from`: the policies in that file carry their own",
                    extra.key
                ),
            )));
        }
        let name = reader::string(&source.value, "policies-from").map_err(in_file)?;
        let severity = item
            .get("severity")
            .map(severity)
            .transpose()
            .map_err(in_file)?;
        let path = directory.join(name);
        if !path.is_file() {
            return Err(in_file(
                Problem::new(
                    source.value.span,
                    format!("no such file: {}", path.display()),
                )
                .help("paths are relative to the configuration file"),
            ));
        }
        let allow_context_aware = allow_context_aware(item).map_err(in_file)?;
        let mut specs = read_admission_policies(&path)?;
        for spec in &mut specs {
            if let Some(severity) = severity {
                spec.severity = Some(severity);
            }
            spec.allow_context_aware = allow_context_aware;
        }
        return Ok(specs);
    }
    let read = || -> ReadResult<Vec<PolicySpec>> {
        let settings: Settings = item
            .get("settings")
            .map(|s| reader::json_object(s, "settings"))
            .transpose()?
            .unwrap_or_default();
        let severity = item.get("severity").map(severity).transpose()?;
        let execution_mode = item.get("execution-mode").map(execution_mode).transpose()?;
        let allow_context_aware = allow_context_aware(item)?;
        let scope = item
            .get("match")
            .map(scope)
            .transpose()?
            .unwrap_or_default();
        let name = item
            .get("name")
            .map(|n| reader::string(n, "name").map(str::to_string))
            .transpose()?;
        let value = &source.value;
        let text = reader::string(value, &source.key)?;
        if let Some(except) = item.entry("except")
            && source.key != "preset"
        {
            return Err(Problem::new(
                except.key_span,
                "`except` only applies to a `preset`",
            ));
        }
        if source.key == "preset" && (item.get("settings").is_some() || item.get("name").is_some())
        {
            let key = if item.get("settings").is_some() {
                "settings"
            } else {
                "name"
            };
            let span = item.entry(key).map_or(item.span, |e| e.key_span);
            return Err(
                Problem::new(span, format!("`{key}` is per policy; a preset has several"))
                    .help("add an entry `- id: POLICY` with its settings after the preset"),
            );
        }
        let sources: Vec<PolicySource> = match source.key.as_str() {
            "preset" => {
                let presets = crate::policies::builtin::PRESETS;
                let members = Builtin::preset(text).ok_or_else(|| {
                    Problem::new(value.span, format!("unknown preset `{text}`"))
                        .help(reader::choices("presets", &presets, text))
                })?;
                let except = item
                    .get("except")
                    .map(|e| reader::strings(e, "except"))
                    .transpose()?
                    .unwrap_or_default();
                for (id, span) in &except {
                    if !members.iter().any(|b| b.id == id) {
                        return Err(Problem::new(
                            *span,
                            format!("`{id}` is not in the {text} preset"),
                        ));
                    }
                }
                members
                    .into_iter()
                    .filter(|b| !except.iter().any(|(id, _)| id == b.id))
                    .map(PolicySource::Builtin)
                    .collect()
            }
            "id" => vec![PolicySource::Builtin(builtin(text, value.span)?)],
            _ if crate::registry::ModuleRef::is_remote(text) => {
                vec![PolicySource::remote(text).map_err(|e| Problem::new(value.span, e))?]
            }
            _ => {
                let path = directory.join(text);
                if !path.is_file() {
                    return Err(Problem::new(
                        value.span,
                        format!("no policy module at {}", path.display()),
                    )
                    .help("module paths are relative to the configuration file"));
                }
                select(&[path.display().to_string()]).map_err(|e| Problem::new(value.span, e))?
            }
        };
        let declared = item.get("settings").map_or(value.span, |s| s.span);
        Ok(sources
            .into_iter()
            .map(|mut source| {
                if let PolicySource::Remote(remote) = &mut source {
                    remote.named_at(file, value.span);
                }
                source
            })
            .map(|source| PolicySpec {
                id: name.clone(),
                severity,
                scope: scope.clone(),
                declared_at: Some((file.clone(), declared)),
                execution_mode,
                given_by: GivenBy::Configuration,
                allow_context_aware,
                ..PolicySpec::new(source, settings.clone())
            })
            .collect())
    };
    read().map_err(in_file)
}

/// `fail-on`: one of `--fail-on`'s levels.
fn fail_on(node: &Node) -> ReadResult<FailOn> {
    let names: Vec<String> = FailOn::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .map(|value| value.get_name().to_string())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let name = reader::choice(node, "fail-on level", &names)?;
    Ok(FailOn::from_str(name, false).unwrap_or_default())
}

fn severity(node: &Node) -> ReadResult<Severity> {
    let name = reader::choice(node, "severity", &SEVERITIES.map(Severity::name))?;
    Ok(SEVERITIES
        .into_iter()
        .find(|severity| severity.name() == name)
        .unwrap_or(Severity::Error))
}

/// `execution-mode`: the mode by its name.
fn execution_mode(node: &Node) -> ReadResult<ExecutionMode> {
    let name = reader::choice(node, "execution-mode", &ExecutionMode::NAMES)?;
    name.parse()
        .map_err(|error: UnknownExecutionMode| Problem::new(node.span, error.to_string()))
}

fn scope(node: &Node) -> ReadResult<Scope> {
    reader::mapping(node, "match", &MATCH_KEYS)?;
    Ok(Scope {
        kinds: reader::string_list(node, "kinds")?,
        namespaces: reader::string_list(node, "namespaces")?,
        labels: node.get("labels").map(label_selector).transpose()?,
        ..Scope::default()
    })
}

/// A label selector: `{matchLabels, matchExpressions}`, or a plain map of labels as a
/// shorthand for `matchLabels`.
pub(crate) fn label_selector(node: &Node) -> ReadResult<LabelSelector> {
    let structured = node.get("matchLabels").is_some() || node.get("matchExpressions").is_some();
    let labels_node = if structured {
        node.get("matchLabels")
    } else {
        Some(node)
    };
    if structured {
        reader::mapping(node, "a label selector", &SELECTOR_KEYS)?;
    }
    let mut selector = LabelSelector::default();
    if let Some(labels) = labels_node {
        match &labels.value {
            Value::Null => {}
            Value::Mapping(entries) => {
                for entry in entries {
                    let value = match &entry.value.value {
                        Value::String(s) => s.clone(),
                        Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_) => {
                            entry.value.to_json().to_string()
                        }
                        _ => {
                            return Err(Problem::new(
                                entry.value.span,
                                "a label value must be a string",
                            ));
                        }
                    };
                    selector.match_labels.insert(entry.key.clone(), value);
                }
            }
            _ => {
                return Err(Problem::new(
                    labels.span,
                    format!(
                        "labels must be a mapping, not {}",
                        reader::type_name(labels)
                    ),
                ));
            }
        }
    }
    if let Some(expressions) = node.get("matchExpressions").filter(|_| structured) {
        let Value::Sequence(items) = &expressions.value else {
            return Err(Problem::new(
                expressions.span,
                "matchExpressions must be a list",
            ));
        };
        for item in items {
            reader::mapping(item, "a match expression", &["key", "operator", "values"])?;
            let key = item
                .get("key")
                .ok_or_else(|| Problem::new(item.span, "a match expression needs a `key`"))?;
            let operator = item
                .get("operator")
                .ok_or_else(|| Problem::new(item.span, "a match expression needs an `operator`"))?;
            let names = ["In", "NotIn", "Exists", "DoesNotExist"];
            let operator = LabelOperator::from_name(reader::choice(operator, "operator", &names)?)
                .unwrap_or(LabelOperator::Exists);
            let values = item
                .get("values")
                .map(|v| reader::strings(v, "values"))
                .transpose()?
                .unwrap_or_default();
            selector.match_expressions.push(LabelRequirement {
                key: reader::string(key, "key")?.to_string(),
                operator,
                values: values.into_iter().map(|(v, _)| v).collect(),
            });
        }
    }
    Ok(selector)
}

/// The commented starter configuration `admit init` writes.
pub(crate) const STARTER: &str = include_str!("starter.yaml");

#[cfg(test)]
mod tests;

/// `policy-memory`: whole MiB, from 1 to 4096 (a wasm32 memory cannot be larger).
fn policy_memory(node: &Node) -> ReadResult<u64> {
    match node.value {
        Value::Int(mib) if (1..=MAX_POLICY_MEMORY_MIB as i64).contains(&mib) => Ok(mib as u64),
        _ => Err(Problem::new(
            node.span,
            format!(
                "policy-memory must be a whole number of MiB from 1 to {MAX_POLICY_MEMORY_MIB}"
            ),
        )),
    }
}

/// The largest `policy-memory` / `--policy-memory`, in MiB: 4 GiB, all a wasm32 guest can address.
pub(crate) const MAX_POLICY_MEMORY_MIB: u64 = 4096;
