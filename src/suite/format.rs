//! What a test file says, once read: the policies it runs, its cases, and what each case must
//! give. Plain data; `read` builds it from the YAML, `runner` and `verdict` use it.
//!
//! ```yaml
//! name: privileged                  # the suite's name in reports (default: the file's path)
//! policies:                         # what the cases run
//!   - id: privileged                # a built-in; or `module: ./p.wasm` / `module: registry://...`
//!     settings: {skip_containers: [istio-proxy]}
//! context: [cluster/namespaces.yaml]  # for context-aware policies (see `HostContext`)
//! cases:
//!   - name: a privileged container is rejected
//!     manifest: ../fixtures/fail.yaml   # a file, an inline mapping, or a `|` block of YAML
//!     expect:
//!       result: rejected            # allowed | rejected | skipped | error
//!       findings:
//!         - at: "17:25"             # in the case's manifest; `other.yaml:3:5` elsewhere
//!           policy: privileged
//!           message: container "agent" must not be privileged
//! ```

use std::path::PathBuf;

use crate::check::PolicySpec;
use crate::documents::Node;
use crate::findings::FindingKind;
use crate::policies::Settings;
use crate::source::{SourceFile, Span};

/// File names a test file may have: exactly these, or ending in `.` and one of them
/// (`privileged.admit-test.yaml`).
pub(crate) const TEST_FILE_NAMES: [&str; 2] = ["admit-test.yaml", "admit-test.yml"];

/// A test file, read and checked.
#[derive(Debug, Clone)]
pub(crate) struct TestFile {
    /// The file, named as reports show it.
    pub(crate) source: SourceFile,
    /// The directory its paths are relative to.
    pub(crate) directory: PathBuf,
    /// The suite's name: its `name:`, else the file's path.
    pub(crate) name: String,
    /// The policies, in the order written.
    pub(crate) policies: Vec<SuitePolicy>,
    /// The cases, in the order written.
    pub(crate) cases: Vec<Case>,
}

/// One entry of `policies:`.
#[derive(Debug, Clone)]
pub(crate) struct SuitePolicy {
    /// How cases name it in their `policies:`: its `name:`, else its built-in id, else the
    /// module as written.
    pub(crate) key: String,
    /// The policy as `admit check` takes it.
    pub(crate) spec: PolicySpec,
}

/// One case: an input, the policies it goes to, and what must come out.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// Its name, unique in the file.
    pub(crate) name: String,
    /// Where the case is written (its `name:` value), for reports.
    pub(crate) span: Span,
    /// What the policies are given.
    pub(crate) input: CaseInput,
    /// Indices into the file's policies: those the case names, else all of them.
    pub(crate) policies: Vec<usize>,
    /// Settings that replace those of the case's one policy, and where they are written.
    pub(crate) settings: Option<(Settings, Span)>,
    /// Context files and the replay session, for context-aware policies.
    pub(crate) host_context: HostContext,
    /// What must come out.
    pub(crate) expect: Expect,
}

/// What a case gives its policies.
#[derive(Debug, Clone)]
pub(crate) enum CaseInput {
    /// A manifest file, checked as `admit check FILE` checks it.
    ManifestFile(PathBuf),
    /// A manifest written in the test file: the test file's text with everything but the
    /// manifest blanked, so that every node keeps its byte offset (see `inline`).
    InlineManifest(String),
    /// A request given as it is (an AdmissionReview, an AdmissionRequest, or any document for
    /// a raw policy), evaluated as `admit run --request-path` evaluates it.
    Request(serde_json::Value),
}

impl CaseInput {
    /// Whether the input is a manifest, checked as `admit check` does.
    pub(crate) fn is_manifest(&self) -> bool {
        !matches!(self, CaseInput::Request(_))
    }
}

/// The files a context-aware policy's host calls are answered from, as a case names them
/// (`context:` and `replay:`, the file's and the case's).
///
/// Read and checked with the test file, and handed to every run of the case in
/// `runner::CaseRun::host_context`, whose policies' host calls they answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HostContext {
    /// Manifests added to what context-aware policies see, never checked themselves: the
    /// file's, then the case's.
    pub(crate) context_files: Vec<PathBuf>,
    /// A kwctl host-capabilities session (`--replay-host-capabilities-interactions`): the
    /// case's, else the file's.
    pub(crate) replay: Option<PathBuf>,
}

/// What a case's evaluation gave, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Evaluated, and nothing rejected.
    Allowed,
    /// A policy rejected the input.
    Rejected,
    /// No policy's rules matched: nothing was evaluated.
    Skipped,
    /// A policy failed, refused its settings, or the input could not be checked.
    Error,
}

impl Verdict {
    /// Every verdict, in the order the schema lists them.
    pub(crate) const ALL: [Verdict; 4] = [
        Verdict::Allowed,
        Verdict::Rejected,
        Verdict::Skipped,
        Verdict::Error,
    ];

    /// Its name in test files and reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Rejected => "rejected",
            Verdict::Skipped => "skipped",
            Verdict::Error => "error",
        }
    }
}

/// How a message must read.
#[derive(Debug, Clone)]
pub(crate) enum MessageMatch {
    /// Exactly this text.
    Exact(String),
    /// Text in which this regular expression finds a match.
    Pattern(regex::Regex),
}

impl MessageMatch {
    /// Whether `message` satisfies it.
    pub(crate) fn matches(&self, message: &str) -> bool {
        match self {
            MessageMatch::Exact(text) => text == message,
            MessageMatch::Pattern(pattern) => pattern.is_match(message),
        }
    }
}

impl std::fmt::Display for MessageMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageMatch::Exact(text) => write!(f, "{text:?}"),
            MessageMatch::Pattern(pattern) => write!(f, "a match for /{}/", pattern.as_str()),
        }
    }
}

/// What must come out of a case. Only what is written is compared, except `result`, which
/// every case gives.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    /// The verdict.
    pub(crate) result: Verdict,
    /// What each rejection says (each error's message, when the result is `error`).
    pub(crate) message: Option<MessageMatch>,
    /// Every finding, in report order (manifests only).
    pub(crate) findings: Option<Vec<ExpectedFinding>>,
    /// The policies' warnings, in order.
    pub(crate) warnings: Option<Vec<String>>,
    /// The JSON Patch the case's one policy would apply (`[]`: none).
    pub(crate) patch: Option<serde_json::Value>,
    /// Where its parts are written, for `--update`.
    pub(crate) layout: ExpectLayout,
}

/// Where an `expect:` mapping and the parts `--update` rewrites are written.
#[derive(Debug, Clone)]
pub(crate) struct ExpectLayout {
    /// The `expect:` value.
    pub(crate) node: Node,
    /// The `result:` value.
    pub(crate) result: Span,
    /// The `findings:` key and its value, when written.
    pub(crate) findings: Option<(Span, Span)>,
}

/// One finding a case must give. Omitted fields are not compared, except `kind`, which is a
/// rejection unless written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedFinding {
    /// Where it points.
    pub(crate) at: Option<At>,
    /// The policy (or admit's own diagnostic) that reports it.
    pub(crate) policy: Option<String>,
    /// Its message, exactly.
    pub(crate) message: Option<String>,
    /// The JSON Pointer from the object to the node.
    pub(crate) pointer: Option<String>,
    /// What it is: a rejection, a warning or a mutation.
    pub(crate) kind: FindingKind,
}

/// A `path:line:col`, the path resolved as reports name files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At {
    /// The file, as reports name it.
    pub(crate) file: String,
    /// One-based line.
    pub(crate) line: usize,
    /// One-based column, in characters.
    pub(crate) column: usize,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The kinds a finding may have in a test file, by name.
pub(crate) const FINDING_KINDS: [(&str, FindingKind); 3] = [
    ("rejection", FindingKind::Rejection),
    ("warning", FindingKind::Warning),
    ("mutation", FindingKind::Mutation),
];

/// The name of a finding kind in test files.
pub(crate) fn kind_name(kind: FindingKind) -> &'static str {
    FINDING_KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("error", |(name, _)| name)
}
