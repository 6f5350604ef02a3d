//! The files a test names for context-aware policies, checked when the test file is read: a
//! `context:` file must hold YAML (the cluster state `kubectl get -o yaml` exports), and a
//! `replay:` file must be a kwctl host-capabilities session
//! (`--record-host-capabilities-interactions`). A mistake in either is reported at its line, in
//! that file, before any case runs.

use std::path::Path;

use super::error::TestFileError;
use crate::config::reader::{self, Problem, ReadResult};
use crate::documents::{Node, Value};
use crate::source::SourceFile;

/// The request types a kwctl session may hold (policy-evaluator's `CallbackRequestType`,
/// externally tagged as YAML tags).
const SESSION_REQUESTS: [&str; 16] = [
    "OciManifestDigest",
    "OciManifest",
    "OciManifestAndConfig",
    "SigstorePubKeyVerify",
    "SigstoreKeylessVerify",
    "SigstoreKeylessPrefixVerify",
    "SigstoreGithubActionsVerify",
    "SigstoreCertificateVerify",
    "DNSLookupHost",
    "KubernetesListResourceNamespace",
    "KubernetesListResourceAll",
    "KubernetesGetResource",
    "KubernetesGetResourcePluralName",
    "HasKubernetesListResourceAllResultChangedSinceInstant",
    "KubernetesCanI",
    "CryptoIsCertificateTrusted",
];

/// A file a test names, read: its text as a source, or why it cannot be read.
fn read(test_file: &str, path: &Path) -> Result<SourceFile, TestFileError> {
    std::fs::read_to_string(path)
        .map(|text| SourceFile::new(path.display().to_string(), text))
        .map_err(|e| {
            TestFileError::whole(test_file, format!("cannot read {}: {e}", path.display()))
        })
}

/// Load `file` as YAML documents; a syntax error is the test file's error, at its line.
fn load(
    test_file: &str,
    file: &SourceFile,
) -> Result<Vec<crate::documents::Document>, TestFileError> {
    reader::load(file).map_err(|error| {
        let problem = Problem {
            span: error.span,
            message: error.message,
            help: error.help,
        };
        TestFileError::at(test_file, file, problem)
    })
}

/// Check a `context:` file of the test file `test_file`: it must load as YAML.
pub(crate) fn check_context_file(test_file: &str, path: &Path) -> Result<(), TestFileError> {
    load(test_file, &read(test_file, path)?)
        .map(|_| ())
        .map_err(|mut error| {
            error.message = format!("not a YAML stream of objects: {}", error.message);
            error
        })
}

/// Check a `replay:` file of the test file `test_file`: a list of kwctl's exchanges, each a
/// `request` (a YAML string tagged with its request type) and a `response` (`Success` with a
/// `payload`, or `Error` with a `message`).
pub(crate) fn check_replay_file(test_file: &str, path: &Path) -> Result<(), TestFileError> {
    let file = read(test_file, path)?;
    let documents = load(test_file, &file)?;
    let problem = match documents.as_slice() {
        [] => None,
        [document] => session(&document.root).err(),
        [_, second, ..] => Some(Problem::new(
            second.span,
            "a host-capabilities session is a single YAML document",
        )),
    };
    match problem {
        Some(problem) => Err(TestFileError::at(test_file, &file, problem)),
        None => Ok(()),
    }
}

fn session(root: &Node) -> ReadResult<()> {
    let Value::Sequence(exchanges) = &root.value else {
        return Err(Problem::new(
            root.span,
            format!(
                "a host-capabilities session is a list of exchanges, not {}",
                reader::type_name(root)
            ),
        )
        .help("record one with `kwctl run --record-host-capabilities-interactions FILE`"));
    };
    for exchange in exchanges {
        reader::mapping(exchange, "an exchange", &["type", "request", "response"])?;
        let kind = required(exchange, "type", "an exchange")?;
        reader::choice(kind, "exchange type", &["Exchange"])?;
        let request = required(exchange, "request", "an exchange")?;
        request_type(request)?;
        let response = required(exchange, "response", "an exchange")?;
        reader::mapping(response, "a response", &["type", "payload", "message"])?;
        let kind = required(response, "type", "a response")?;
        let needed = match reader::choice(kind, "response type", &["Success", "Error"])? {
            "Success" => "payload",
            _ => "message",
        };
        reader::string(required(response, needed, "this response")?, needed)?;
    }
    Ok(())
}

/// The value of `key`, which `what` must have.
fn required<'n>(node: &'n Node, key: &str, what: &str) -> ReadResult<&'n Node> {
    node.get(key)
        .ok_or_else(|| Problem::new(node.span, format!("{what} needs `{key}`")))
}

/// A request: the serialized `CallbackRequestType`, a YAML string whose first line is the
/// variant's tag (`!KubernetesGetResource`).
fn request_type(node: &Node) -> ReadResult<()> {
    let text = reader::string(node, "a request")?;
    let tag = text
        .trim_start()
        .strip_prefix('!')
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == '{')
                .next()
                .unwrap_or("")
        })
        .ok_or_else(|| {
            Problem::new(
                node.span,
                "a request starts with its type as a YAML tag, e.g. `!KubernetesGetResource`",
            )
        })?;
    if SESSION_REQUESTS.contains(&tag) {
        return Ok(());
    }
    Err(
        Problem::new(node.span, format!("unknown request type `!{tag}`")).help(reader::choices(
            "kwctl's request types",
            &SESSION_REQUESTS,
            tag,
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> Option<String> {
        let loaded = crate::documents::load(text);
        session(&loaded.documents[0].root).err().map(|p| p.message)
    }

    #[test]
    fn sessions_are_lists_of_exchanges_with_known_requests() {
        let good = "- type: Exchange\n  request: |\n    !KubernetesGetResource\n    api_version: v1\n    kind: Namespace\n    name: a\n    namespace: null\n    disable_cache: false\n  response:\n    type: Success\n    payload: '{\"kind\":\"Namespace\"}'\n- type: Exchange\n  request: \"!DNSLookupHost\\nhost: example.com\\n\"\n  response: {type: Error, message: no such host}\n";
        assert_eq!(problem(good), None);
        assert_eq!(
            problem("- type: Exchange\n  request: \"!KubernetesGetResources\\n\"\n  response: {type: Error, message: x}\n").as_deref(),
            Some("unknown request type `!KubernetesGetResources`")
        );
        assert_eq!(
            problem(
                "- type: Exchange\n  request: \"!KubernetesCanI\\n\"\n  response: {type: Success}\n"
            )
            .as_deref(),
            Some("this response needs `payload`")
        );
        assert_eq!(
            problem("type: Exchange\n").as_deref(),
            Some("a host-capabilities session is a list of exchanges, not a mapping")
        );
    }
}
