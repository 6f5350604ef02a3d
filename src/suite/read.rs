//! Reading a test file: every mistake is a diagnostic at the node that makes it, with the
//! valid choices, as admit.yaml's are (the same `config::reader` does the typed reading). Files
//! the test names (manifests, modules, requests, context files, sessions) must exist when it is
//! read, so that a typo fails before any case runs.

use std::path::{Path, PathBuf};

use super::error::TestFileError;
use super::format::{
    At, Case, CaseInput, Expect, ExpectLayout, ExpectedFinding, FINDING_KINDS, HostContext,
    MessageMatch, SuitePolicy, TestFile, Verdict,
};
use super::{host_context, inline};
use crate::check::{GivenBy, PolicySpec};
use crate::config::reader::{self, Problem};
use crate::documents::{Entry, Node, Value};
use crate::findings::FindingKind;
use crate::inputs::normalize;
use crate::policies::{ExecutionMode, PolicySource, Settings, UnknownExecutionMode};
use crate::source::SourceFile;

const TOP_KEYS: [&str; 5] = ["name", "policies", "context", "replay", "cases"];
const POLICY_KEYS: [&str; 5] = ["id", "module", "name", "settings", "execution-mode"];
const CASE_KEYS: [&str; 8] = [
    "name", "manifest", "request", "policies", "settings", "context", "replay", "expect",
];
const EXPECT_KEYS: [&str; 6] = [
    "result",
    "message",
    "message-pattern",
    "findings",
    "warnings",
    "patch",
];
const FINDING_KEYS: [&str; 5] = ["at", "policy", "message", "pointer", "kind"];

/// Why reading stopped: a problem in the test file, or in a file it names.
enum Fault {
    Here(Problem),
    Elsewhere(TestFileError),
}

impl From<Problem> for Fault {
    fn from(problem: Problem) -> Self {
        Fault::Here(problem)
    }
}

impl From<TestFileError> for Fault {
    fn from(error: TestFileError) -> Self {
        Fault::Elsewhere(error)
    }
}

type Read<T> = Result<T, Fault>;

/// The test file at `path`, read and checked.
pub(crate) fn read(path: &Path) -> Result<TestFile, TestFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| TestFileError::whole(&name, format!("cannot read it: {e}")))?;
    let source = SourceFile::new(name.clone(), text);
    parse(&source, path).map_err(|fault| match fault {
        Fault::Here(problem) => TestFileError::at(&name, &source, problem),
        Fault::Elsewhere(error) => error,
    })
}

/// What reading one test file needs at hand.
struct Reading<'a> {
    file: &'a SourceFile,
    directory: PathBuf,
}

impl Reading<'_> {
    /// `written`, a path relative to the test file, as reports name it.
    fn resolve(&self, written: &str) -> PathBuf {
        normalize(&self.directory.join(written))
    }

    /// The existing file `node` names, relative to the test file.
    fn existing_file(&self, node: &Node, what: &str) -> Read<PathBuf> {
        let written = reader::string(node, what)?;
        let path = self.resolve(written);
        if !path.is_file() {
            return Err(
                Problem::new(node.span, format!("no such file: {}", path.display()))
                    .help("paths are relative to the test file")
                    .into(),
            );
        }
        Ok(path)
    }
}

fn parse(file: &SourceFile, path: &Path) -> Read<TestFile> {
    let documents = reader::load(file).map_err(|error| Problem {
        span: error.span,
        message: error.message,
        help: error.help,
    })?;
    let root = match documents.as_slice() {
        [] => {
            return Err(Problem::new(
                crate::source::Span::new(0, 0),
                "the test file is empty: it needs `policies` and `cases`",
            )
            .into());
        }
        [document] => &document.root,
        [_, second, ..] => {
            return Err(Problem::new(second.span, "a test file is a single YAML document").into());
        }
    };
    let reading = Reading {
        file,
        directory: path.parent().unwrap_or(Path::new("")).to_path_buf(),
    };
    reader::mapping(root, "a test file", &TOP_KEYS)?;
    let name = match root.get("name") {
        Some(node) => reader::string(node, "name")?.to_string(),
        None => file.name().to_string(),
    };
    let policies = policies(
        &reading,
        required(&reading, root, "policies", "a test file")?,
    )?;
    let shared = host_context(&reading, root, HostContext::default())?;
    let cases_node = required(&reading, root, "cases", "a test file")?;
    let Value::Sequence(items) = &cases_node.value else {
        return Err(Problem::new(
            cases_node.span,
            format!(
                "cases must be a list, not {}",
                reader::type_name(cases_node)
            ),
        )
        .into());
    };
    if items.is_empty() {
        return Err(Problem::new(cases_node.span, "a test file needs at least one case").into());
    }
    let mut cases: Vec<Case> = Vec::new();
    for item in items {
        let case = case(&reading, item, &policies, &shared)?;
        if cases.iter().any(|c| c.name == case.name) {
            return Err(Problem::new(
                case.span,
                format!("a second case named `{}`", case.name),
            )
            .help("case names are unique in a file: --filter and the reports name cases by them")
            .into());
        }
        cases.push(case);
    }
    Ok(TestFile {
        source: file.clone(),
        directory: reading.directory,
        name,
        policies,
        cases,
    })
}

/// The value of `key`, which `what` must have.
fn required<'n>(reading: &Reading<'_>, node: &'n Node, key: &str, what: &str) -> Read<&'n Node> {
    node.get(key).ok_or_else(|| {
        let span = crate::findings::first_line(reading.file, node.span);
        Problem::new(span, format!("{what} needs `{key}`")).into()
    })
}

fn policies(reading: &Reading<'_>, node: &Node) -> Read<Vec<SuitePolicy>> {
    let Value::Sequence(items) = &node.value else {
        return Err(Problem::new(
            node.span,
            format!("policies must be a list, not {}", reader::type_name(node)),
        )
        .into());
    };
    if items.is_empty() {
        return Err(Problem::new(node.span, "a test file needs at least one policy").into());
    }
    let mut policies: Vec<SuitePolicy> = Vec::new();
    for item in items {
        let policy = policy(reading, item)?;
        if policies.iter().any(|p| p.key == policy.key) {
            return Err(
                Problem::new(item.span, format!("a second policy named `{}`", policy.key))
                    .help(
                        "give one of them a `name:`; cases and findings tell policies apart by it",
                    )
                    .into(),
            );
        }
        policies.push(policy);
    }
    Ok(policies)
}

fn policy(reading: &Reading<'_>, item: &Node) -> Read<SuitePolicy> {
    let entries = reader::mapping(item, "a policy", &POLICY_KEYS)?;
    let sources: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.key == "id" || e.key == "module")
        .collect();
    let source_entry = match sources.as_slice() {
        [one] => *one,
        [] => {
            return Err(Problem::new(item.span, "a policy needs `id` or `module`")
                .help("e.g. `- id: privileged` or `- module: ./team.wasm`")
                .into());
        }
        [_, second, ..] => {
            return Err(Problem::new(
                second.key_span,
                "`id` and `module` cannot both name one policy; give each its own entry",
            )
            .into());
        }
    };
    let value = &source_entry.value;
    let text = reader::string(value, &source_entry.key)?;
    let source = if source_entry.key == "id" {
        PolicySource::Builtin(crate::config::builtin(text, value.span)?)
    } else if crate::registry::ModuleRef::is_remote(text) {
        let mut source = PolicySource::remote(text).map_err(|e| Problem::new(value.span, e))?;
        if let PolicySource::Remote(remote) = &mut source {
            remote.named_at(reading.file, value.span);
        }
        source
    } else {
        let path = reading.resolve(text);
        if !path.is_file() {
            return Err(Problem::new(
                value.span,
                format!("no policy module at {}", path.display()),
            )
            .help("module paths are relative to the test file")
            .into());
        }
        PolicySource::File(path)
    };
    let name = item
        .get("name")
        .map(|n| reader::string(n, "name").map(str::to_string))
        .transpose()?;
    let settings: Settings = item
        .get("settings")
        .map(|s| reader::json_object(s, "settings"))
        .transpose()?
        .unwrap_or_default();
    let execution_mode = item
        .get("execution-mode")
        .map(|node| {
            let mode = reader::choice(node, "execution-mode", &ExecutionMode::NAMES)?;
            mode.parse()
                .map_err(|e: UnknownExecutionMode| Problem::new(node.span, e.to_string()))
        })
        .transpose()?;
    let declared = item.get("settings").map_or(value.span, |s| s.span);
    let key = name.clone().unwrap_or_else(|| text.to_string());
    Ok(SuitePolicy {
        key,
        spec: PolicySpec {
            id: name,
            declared_at: Some((reading.file.clone(), declared)),
            execution_mode,
            // Invalid settings and a missing execution mode are then reported at the entry,
            // with the keys to fix them, as admit.yaml's are.
            given_by: GivenBy::Configuration,
            ..PolicySpec::new(source, settings)
        },
    })
}

/// `context:` and `replay:` of `node` (the file or a case), added to `inherited`: context
/// files accumulate, a replay session replaces the inherited one.
fn host_context(reading: &Reading<'_>, node: &Node, inherited: HostContext) -> Read<HostContext> {
    let mut context = inherited;
    let test_file = reading.file.name();
    if let Some(list) = node.get("context") {
        for (written, span) in reader::strings(list, "context")? {
            let path = reading.resolve(&written);
            if !path.is_file() {
                return Err(
                    Problem::new(span, format!("no such file: {}", path.display()))
                        .help("context files are relative to the test file")
                        .into(),
                );
            }
            host_context::check_context_file(test_file, &path)?;
            context.context_files.push(path);
        }
    }
    if let Some(replay) = node.get("replay") {
        let path = reading.existing_file(replay, "replay")?;
        host_context::check_replay_file(test_file, &path)?;
        context.replay = Some(path);
    }
    Ok(context)
}

fn case(
    reading: &Reading<'_>,
    item: &Node,
    policies: &[SuitePolicy],
    shared: &HostContext,
) -> Read<Case> {
    let entries = reader::mapping(item, "a case", &CASE_KEYS)?;
    let name_node = required(reading, item, "name", "a case")?;
    let name = reader::string(name_node, "name")?.to_string();
    let inputs: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.key == "manifest" || e.key == "request")
        .collect();
    let input = match inputs.as_slice() {
        [one] if one.key == "manifest" => manifest(reading, &one.value)?,
        [one] => request(reading, &one.value)?,
        [] => {
            return Err(
                Problem::new(name_node.span, "a case needs `manifest` or `request`")
                    .help(
                        "`manifest:` is checked as `admit check` checks a file; `request:` is \
                     evaluated as `admit run --request-path` evaluates it",
                    )
                    .into(),
            );
        }
        [_, second, ..] => {
            return Err(Problem::new(
                second.key_span,
                "a case has one input: `manifest` or `request`; give each its own case",
            )
            .into());
        }
    };
    let chosen = match item.get("policies") {
        Some(node) => reader::strings(node, "policies")?
            .into_iter()
            .map(|(key, span)| {
                policies.iter().position(|p| p.key == key).ok_or_else(|| {
                    let keys: Vec<&str> = policies.iter().map(|p| p.key.as_str()).collect();
                    Problem::new(span, format!("no policy `{key}` in this file"))
                        .help(reader::choices("its policies", &keys, &key))
                        .into()
                })
            })
            .collect::<Read<Vec<usize>>>()?,
        None => (0..policies.len()).collect(),
    };
    let settings = match item.entry("settings") {
        Some(entry) if chosen.len() != 1 => {
            return Err(Problem::new(
                entry.key_span,
                format!(
                    "`settings` replaces the settings of the case's one policy, but it runs {}",
                    chosen.len()
                ),
            )
            .help("name the policy it is for: `policies: [ID]`")
            .into());
        }
        Some(entry) => Some((
            reader::json_object(&entry.value, "settings")?,
            entry.value.span,
        )),
        None => None,
    };
    let host_context = host_context(reading, item, shared.clone())?;
    let home = match &input {
        CaseInput::ManifestFile(path) => path.display().to_string(),
        _ => reading.file.name().to_string(),
    };
    let expect = expect(
        reading,
        required(reading, item, "expect", "a case")?,
        &input,
        chosen.len(),
        &home,
    )?;
    Ok(Case {
        name,
        span: name_node.span,
        input,
        policies: chosen,
        settings,
        host_context,
        expect,
    })
}

fn manifest(reading: &Reading<'_>, node: &Node) -> Read<CaseInput> {
    let written = reading.file.slice(node.span);
    if node.as_str().is_some() && !written.starts_with(['|', '>']) {
        return Ok(CaseInput::ManifestFile(
            reading.existing_file(node, "manifest")?,
        ));
    }
    Ok(CaseInput::InlineManifest(inline::manifest_text(
        reading.file,
        node,
    )?))
}

fn request(reading: &Reading<'_>, node: &Node) -> Read<CaseInput> {
    if matches!(node.value, Value::Mapping(_)) {
        return Ok(CaseInput::Request(node.to_json()));
    }
    let path = reading.existing_file(node, "request")?;
    let test_file = reading.file.name();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        TestFileError::whole(test_file, format!("cannot read {}: {e}", path.display()))
    })?;
    let source = SourceFile::new(path.display().to_string(), text);
    let documents = reader::load(&source).map_err(|error| {
        let problem = Problem {
            span: error.span,
            message: error.message,
            help: error.help,
        };
        TestFileError::at(test_file, &source, problem)
    })?;
    match documents.as_slice() {
        [document] => Ok(CaseInput::Request(document.root.to_json())),
        _ => Err(Problem::new(
            node.span,
            format!(
                "{} holds {} documents; a request is one",
                path.display(),
                documents.len()
            ),
        )
        .into()),
    }
}

fn expect(
    reading: &Reading<'_>,
    node: &Node,
    input: &CaseInput,
    policies: usize,
    home: &str,
) -> Read<Expect> {
    reader::mapping(node, "expect", &EXPECT_KEYS)?;
    let result_node = required(reading, node, "result", "expect")?;
    let names = Verdict::ALL.map(Verdict::name);
    let name = reader::choice(result_node, "result", &names)?;
    let result = Verdict::ALL
        .into_iter()
        .find(|v| v.name() == name)
        .unwrap_or(Verdict::Error);
    if result == Verdict::Skipped && !input.is_manifest() {
        return Err(Problem::new(
            result_node.span,
            "a request is always evaluated, as `admit run` evaluates it: it cannot be skipped",
        )
        .help("`skipped` is for manifests, whose objects a policy's rules may not match")
        .into());
    }
    let message = match (node.get("message"), node.entry("message-pattern")) {
        (Some(_), Some(pattern)) => {
            return Err(Problem::new(
                pattern.key_span,
                "give `message` or `message-pattern`, not both",
            )
            .into());
        }
        (Some(text), None) => Some(MessageMatch::Exact(
            reader::string(text, "message")?.to_string(),
        )),
        (None, Some(pattern)) => {
            let text = reader::string(&pattern.value, "message-pattern")?;
            let regex = regex::Regex::new(text).map_err(|e| {
                Problem::new(
                    pattern.value.span,
                    format!("invalid regular expression: {e}"),
                )
            })?;
            Some(MessageMatch::Pattern(regex))
        }
        (None, None) => None,
    };
    let findings = match node.entry("findings") {
        Some(entry) if !input.is_manifest() => {
            return Err(Problem::new(
                entry.key_span,
                "findings point into manifests, and this case gives a request",
            )
            .help("compare what a request gives with `message`, `warnings` and `patch`")
            .into());
        }
        Some(entry) => Some(findings(reading, &entry.value, home)?),
        None => None,
    };
    let warnings = node
        .get("warnings")
        .map(|list| reader::strings(list, "warnings"))
        .transpose()?
        .map(|list| list.into_iter().map(|(text, _)| text).collect());
    let patch = match node.entry("patch") {
        Some(entry) if policies != 1 => {
            return Err(Problem::new(
                entry.key_span,
                format!("`patch` is the one policy's mutation, but the case runs {policies}"),
            )
            .help("name the policy it is for: `policies: [ID]`")
            .into());
        }
        Some(entry) if !matches!(entry.value.value, Value::Sequence(_)) => {
            return Err(Problem::new(
                entry.value.span,
                "a patch is a JSON Patch: a list of operations (`[]` when nothing changes)",
            )
            .into());
        }
        Some(entry) => {
            one_object(input, entry)?;
            Some(entry.value.to_json())
        }
        None => None,
    };
    Ok(Expect {
        result,
        message,
        findings,
        warnings,
        patch,
        layout: ExpectLayout {
            node: node.clone(),
            result: result_node.span,
            findings: node
                .entry("findings")
                .map(|entry| (entry.key_span, entry.value.span)),
        },
    })
}

/// A manifest case that expects a `patch` must give one object: a patch is one object's.
fn one_object(input: &CaseInput, patch: &Entry) -> Read<()> {
    let text = match input {
        CaseInput::ManifestFile(path) => std::fs::read_to_string(path).map_err(|e| {
            Problem::new(
                patch.key_span,
                format!("cannot read {}: {e}", path.display()),
            )
        })?,
        CaseInput::InlineManifest(text) => text.clone(),
        CaseInput::Request(_) => return Ok(()),
    };
    let objects = crate::documents::load(&text).documents.len();
    if objects == 1 {
        return Ok(());
    }
    Err(Problem::new(
        patch.key_span,
        format!("`patch` is one object's mutation, but the manifest holds {objects} documents"),
    )
    .help("give the object a case of its own")
    .into())
}

fn findings(reading: &Reading<'_>, node: &Node, home: &str) -> Read<Vec<ExpectedFinding>> {
    let items: &[Node] = match &node.value {
        Value::Sequence(items) => items,
        Value::Null => &[],
        _ => {
            return Err(Problem::new(
                node.span,
                format!("findings must be a list, not {}", reader::type_name(node)),
            )
            .into());
        }
    };
    items
        .iter()
        .map(|item| {
            reader::mapping(item, "a finding", &FINDING_KEYS)?;
            let text = |key: &str| -> Read<Option<String>> {
                Ok(item
                    .get(key)
                    .map(|n| reader::string(n, key).map(str::to_string))
                    .transpose()?)
            };
            let at = item.get("at").map(|n| at(reading, n, home)).transpose()?;
            let kind = match item.get("kind") {
                Some(node) => {
                    let names = FINDING_KINDS.map(|(name, _)| name);
                    let name = reader::choice(node, "finding kind", &names)?;
                    FINDING_KINDS
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map_or(FindingKind::Rejection, |(_, kind)| *kind)
                }
                None => FindingKind::Rejection,
            };
            Ok(ExpectedFinding {
                at,
                policy: text("policy")?,
                message: text("message")?,
                pointer: text("pointer")?,
                kind,
            })
        })
        .collect()
}

/// `at:`: `LINE:COL` in the case's manifest (`home`), or `PATH:LINE:COL` with the path
/// relative to the test file.
fn at(reading: &Reading<'_>, node: &Node, home: &str) -> Read<At> {
    let text = reader::string(node, "at")?;
    let bad = || {
        Problem::new(node.span, format!("`{text}` is not a place"))
            .help("write LINE:COL in the case's manifest, or PATH:LINE:COL elsewhere (`\"17:25\"`)")
    };
    let mut parts = text.rsplitn(3, ':');
    let column = parts.next().and_then(|c| c.parse::<usize>().ok());
    let line = parts.next().and_then(|l| l.parse::<usize>().ok());
    let (Some(line), Some(column)) = (line, column) else {
        return Err(bad().into());
    };
    if line == 0 || column == 0 {
        return Err(bad().into());
    }
    let file = match parts.next() {
        Some(path) => reading.resolve(path).display().to_string(),
        None => home.to_string(),
    };
    Ok(At { file, line, column })
}

#[cfg(test)]
mod tests;
