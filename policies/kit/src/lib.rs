//! The common work of admit's built-in policies, so that each policy is only its check.
//!
//! A built-in policy is an ordinary Kubewarden waPC policy. This crate gives it:
//! - [`register!`] and [`metadata!`]: the waPC entry points and the `io.kubewarden.metadata`
//!   custom section;
//! - [`validate_settings`]: settings parsed with serde, errors turned into `{"valid": false}`
//!   with a message a user can act on;
//! - [`validate`]: the request decoded without building a `serde_json::Value`: only its kind,
//!   namespace and object are read (the object into a [`Json`] document, its strings borrowed
//!   from the request), and everything else is skipped;
//! - [`Node`]: a value of the object, with the accessors the checks used on `serde_json::Value`
//!   (`get`, `pointer`, `as_str`, `as_bool`, numbers, `as_array`, `as_object`, `Display`) and the
//!   same answers;
//! - [`Request`], [`PodSpec`] and [`Container`]: the pod spec of every workload kind and each
//!   container of all three lists, with JSON Pointers to them;
//! - [`Violations`]: the rejection, with admit's `violations` extension (one JSON Pointer per
//!   offending node; see admit's docs/policy-protocol.md). Kubewarden ignores the extension, and
//!   the `message` lists every violation, so the policy reads well in a cluster too;
//! - [`PodSpec::is_windows`], [`PodSpec::owners`] and [`shown`]: the walks and wording several
//!   Pod Security Standards controls share;
//! - with the `testing` feature (enable it only under `[dev-dependencies]`), [`testing`]: run a
//!   check on an object in a unit test and get its findings.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod json;
pub use json::{Items, Json, Members, Node};

pub use kubewarden_policy_sdk as sdk;
use kubewarden_policy_sdk::wapc_guest::CallResult;

/// Embed the policy's Kubewarden metadata as the `io.kubewarden.metadata` custom section:
/// `admit_policy_kit::metadata!(include_bytes!("../metadata.json"));`
#[macro_export]
macro_rules! metadata {
    ($bytes:expr) => {
        #[unsafe(link_section = "io.kubewarden.metadata")]
        #[used]
        static KUBEWARDEN_METADATA: [u8; $bytes.len()] = *$bytes;
    };
}

/// Define `wapc_init`, registering `validate`, `validate_settings` and `protocol_version`:
/// `admit_policy_kit::register!(Settings, check);` where `check` is
/// `fn(&Request<Settings>, &mut Violations)`.
#[macro_export]
macro_rules! register {
    ($settings:ty, $check:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn wapc_init() {
            $crate::sdk::wapc_guest::register_function("validate", |payload| {
                $crate::validate::<$settings>(payload, $check)
            });
            $crate::sdk::wapc_guest::register_function(
                "validate_settings",
                $crate::validate_settings::<$settings>,
            );
            $crate::sdk::wapc_guest::register_function(
                "protocol_version",
                $crate::sdk::protocol_version_guest,
            );
        }
    };
}

/// A policy's settings: deserialized from the user's JSON object (use
/// `#[serde(default, deny_unknown_fields)]` so typos are caught), then checked for meaning.
pub trait Settings: DeserializeOwned + Default {
    /// Reject settings that parse but make no sense, with a message naming the setting.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Settings of a policy that takes none: any key is an error.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoSettings {}

impl Settings for NoSettings {}

#[derive(Serialize)]
struct SettingsAnswer {
    valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// The `validate_settings` waPC handler.
pub fn validate_settings<S: Settings>(payload: &[u8]) -> CallResult {
    let message = match serde_json::from_slice::<S>(payload) {
        Ok(settings) => settings.check().err(),
        Err(error) => Some(serde_message(&error)),
    };
    Ok(serde_json::to_vec(&SettingsAnswer {
        valid: message.is_none(),
        message,
    })?)
}

/// serde's message without its "at line 1 column 23" suffix, which points into JSON the user
/// never wrote (admit and Kubewarden serialize the settings themselves).
fn serde_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// What a policy's check receives.
pub struct Request<'a, S> {
    /// The object under review (`request.object`).
    pub object: Node<'a>,
    /// Its kind, e.g. `Deployment`.
    pub kind: &'a str,
    /// Its group, `""` for the core group.
    pub group: &'a str,
    /// Its API version (`v1`, `v1beta1`, ...), without the group.
    pub version: &'a str,
    /// The request's namespace, `""` for cluster-scoped objects.
    pub namespace: &'a str,
    /// The policy's settings.
    pub settings: &'a S,
}

impl<'a, S> Request<'a, S> {
    /// The object's pod spec, if it is a workload that has one.
    pub fn pod_spec(&self) -> Option<PodSpec<'a>> {
        pod_spec(self.object, self.kind)
    }

    /// `metadata.name` of the object, `""` when absent.
    pub fn name(&self) -> &'a str {
        self.object
            .pointer("/metadata/name")
            .and_then(Node::as_str)
            .unwrap_or_default()
    }
}

/// A policy's check: look at the request, record what is wrong.
pub type Check<S> = fn(&Request<'_, S>, &mut Violations);

/// The `validate` waPC handler: parse the request, run `check`, answer.
pub fn validate<S: Settings>(payload: &[u8], check: Check<S>) -> CallResult {
    let null = Json::default();
    if let Some(scanned) = json::scan(payload)
        && let Some(fast) = FastPayload::read(&scanned, null.root())
    {
        return answer(&fast.request(), check);
    }
    // Checked once here, UTF-8 lets serde_json borrow each string without checking it again
    // (`from_slice` checks string by string: a twentieth of the time of a call).
    let text = std::str::from_utf8(payload)
        .map_err(|e| format!("cannot read the request: it is not UTF-8 ({e})"))?;
    // What the fast path does not vouch for (invalid JSON, an unusual request, settings that
    // do not parse) is read as it always was, so that the answer, or the error, is the same.
    let payload: Payload<'_, S> = serde_json::from_str(text)
        .map_err(|e| format!("cannot read the request: {}", serde_message(&e)))?;
    let admission = &payload.request;
    let request = Request {
        object: admission.object.root(),
        kind: &admission.kind.kind,
        group: &admission.kind.group,
        version: &admission.kind.version,
        namespace: &admission.namespace,
        settings: &payload.settings,
    };
    answer(&request, check)
}

fn answer<S>(request: &Request<'_, S>, check: Check<S>) -> CallResult {
    let mut violations = Violations::default();
    check(request, &mut violations);
    violations.respond()
}

/// The fields of [`Payload`] read from the fast path's list instead of by serde, or `None`
/// wherever serde's reading might differ: a field of `Payload`, `Admission` or
/// `GroupVersionKind` repeated (serde rejects that) or of an unexpected type (serde rejects
/// most, and reads a struct from an array), or settings that do not deserialize.
struct FastPayload<'a, S> {
    object: Node<'a>,
    kind: &'a str,
    group: &'a str,
    version: &'a str,
    namespace: &'a str,
    settings: S,
}

impl<'a, S: Settings> FastPayload<'a, S> {
    fn read(scanned: &'a json::Scanned<'a>, null: Node<'a>) -> Option<Self> {
        let [admission, settings] = unique(scanned.json.root(), ["request", "settings"])?;
        let admission = object_or_missing(admission)??;
        let settings = settings?;
        // The text of the settings: serde deserializes them from it exactly as it would inside
        // the payload (a settings error is then reported by the serde path).
        let (_, text) = scanned
            .spans
            .iter()
            .find(|(index, _)| settings.index() == *index)?;
        let settings = serde_json::from_slice(text).ok()?;
        let [gvk, namespace, object] = unique(admission, ["kind", "namespace", "object"])?;
        let (mut group, mut version, mut kind) = ("", "", "");
        if let Some(gvk) = object_or_missing(gvk)? {
            let [g, v, k] = unique(gvk, ["group", "version", "kind"])?;
            group = str_or_missing(g)?;
            version = str_or_missing(v)?;
            kind = str_or_missing(k)?;
        }
        Some(FastPayload {
            object: object.unwrap_or(null),
            kind,
            group,
            version,
            namespace: str_or_missing(namespace)?,
            settings,
        })
    }

    fn request(&self) -> Request<'_, S> {
        Request {
            object: self.object,
            kind: self.kind,
            group: self.group,
            version: self.version,
            namespace: self.namespace,
            settings: &self.settings,
        }
    }
}

/// The members `keys` of `object`, each `None` when missing, in one pass over its members;
/// `None` when `object` is not an object or one of `keys` is there more than once (serde's
/// "duplicate field").
fn unique<'a, const N: usize>(object: Node<'a>, keys: [&str; N]) -> Option<[Option<Node<'a>>; N]> {
    let mut found = [None; N];
    for (name, value) in object.as_object()? {
        if let Some(at) = keys.iter().position(|key| *key == name)
            && found[at].replace(value).is_some()
        {
            return None;
        }
    }
    Some(found)
}

/// `Some(member)` when it is an object or missing, `None` (serde would differ) otherwise.
fn object_or_missing(member: Option<Node<'_>>) -> Option<Option<Node<'_>>> {
    match member {
        Some(value) if !value.is_object() => None,
        _ => Some(member),
    }
}

/// The member's string, `""` (serde's default) when missing, `None` when it is not a string.
fn str_or_missing(member: Option<Node<'_>>) -> Option<&str> {
    match member {
        Some(value) => value.as_str(),
        None => Some(""),
    }
}

/// The `validate` payload, as Kubewarden's `ValidationRequest` has it: `request` and `settings`
/// must be there, and every field of `request` may be missing.
#[derive(Deserialize)]
struct Payload<'a, S> {
    #[serde(borrow)]
    request: Admission<'a>,
    settings: S,
}

/// The fields of the AdmissionRequest a check reads. serde skips the others (`uid`,
/// `userInfo`, `oldObject`, `options`, ...) without building anything.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Admission<'a> {
    #[serde(borrow)]
    kind: GroupVersionKind<'a>,
    #[serde(borrow)]
    namespace: Cow<'a, str>,
    #[serde(borrow)]
    object: Json<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct GroupVersionKind<'a> {
    #[serde(borrow)]
    group: Cow<'a, str>,
    #[serde(borrow)]
    version: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

/// The violations a check finds, in the order found.
#[derive(Debug, Default)]
pub struct Violations {
    items: Vec<Violation>,
}

/// One offending node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// JSON Pointer into the object; may name a field that is missing.
    pub pointer: String,
    /// What is wrong, and for a missing field what to add where.
    pub message: String,
}

#[derive(Serialize)]
struct Rejection<'a> {
    accepted: bool,
    message: String,
    violations: &'a [Violation],
}

impl Violations {
    /// Record a violation at `pointer`.
    pub fn add(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.items.push(Violation {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// The violations recorded so far.
    pub fn items(&self) -> &[Violation] {
        &self.items
    }

    /// Accept when there is nothing, else reject with every violation.
    pub fn respond(self) -> CallResult {
        if self.items.is_empty() {
            return sdk::accept_request();
        }
        let message = self
            .items
            .iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Ok(serde_json::to_vec(&Rejection {
            accepted: false,
            message,
            violations: &self.items,
        })?)
    }
}

/// Escape one JSON Pointer reference token (RFC 6901): `~` as `~0`, `/` as `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A value as the user wrote it, for messages: strings bare, anything else as JSON (so a
/// mistyped `true` or `0` still shows what was there).
pub fn shown(value: Node<'_>) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

/// Where the pod spec is in each kind that carries one.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// The pod spec of `object` when its `kind` carries one and it is present.
pub fn pod_spec<'a>(object: Node<'a>, kind: &str) -> Option<PodSpec<'a>> {
    let pointer = pod_spec_pointer(kind)?;
    let value = object.pointer(pointer).filter(|v| v.is_object())?;
    Some(PodSpec { pointer, value })
}

/// A pod spec and where it is in the object.
#[derive(Debug, Clone, Copy)]
pub struct PodSpec<'a> {
    /// JSON Pointer of the pod spec, e.g. `/spec/template/spec`.
    pub pointer: &'static str,
    /// The pod spec.
    pub value: Node<'a>,
}

/// The three container lists of a pod spec.
pub const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

impl<'a> PodSpec<'a> {
    /// The value at `relative` (a JSON Pointer from the pod spec, e.g. `/hostNetwork`).
    pub fn get(&self, relative: &str) -> Option<Node<'a>> {
        self.value.pointer(relative)
    }

    /// The pointer from the object to `relative` inside the pod spec.
    pub fn pointer(&self, relative: &str) -> String {
        format!("{}{relative}", self.pointer)
    }

    /// Whether the pod declares itself a Windows pod (`os.name: windows`). Several controls of
    /// the Pod Security Standards are Linux-only since Kubernetes 1.25 and skip these pods.
    pub fn is_windows(&self) -> bool {
        self.get("/os/name").and_then(Node::as_str) == Some("windows")
    }

    /// The pod spec itself, then every container (as [`PodSpec::containers`]): each place a
    /// `securityContext` can be set, so a control on such a field is one loop with one message.
    pub fn owners(&self) -> impl Iterator<Item = Owner<'a>> + '_ {
        let pod = Owner {
            value: self.value,
            pod: self.pointer,
            container: None,
        };
        std::iter::once(pod).chain(self.containers().map(|container| Owner {
            value: container.value,
            pod: self.pointer,
            container: Some(container),
        }))
    }

    /// Every container of `containers`, `initContainers` and `ephemeralContainers`, in that
    /// order.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + '_ {
        CONTAINER_LISTS.into_iter().flat_map(move |list| {
            self.value
                .get(list)
                .and_then(Node::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(index, value)| Container {
                    list,
                    index,
                    name: value.get("name").and_then(Node::as_str).unwrap_or_default(),
                    value,
                    pod: self.pointer,
                })
        })
    }

    /// The items of a list field of the pod spec (e.g. `volumes`) with their pointers.
    pub fn items(&self, field: &str) -> impl Iterator<Item = (String, Node<'a>)> + '_ {
        let base = self.pointer(&format!("/{}", escape(field)));
        self.value
            .get(field)
            .and_then(Node::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .map(move |(index, value)| (format!("{base}/{index}"), value))
    }
}

/// One container of a pod spec.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub list: &'static str,
    /// Position in its list.
    pub index: usize,
    /// Its name, `""` when absent.
    pub name: &'a str,
    /// The container.
    pub value: Node<'a>,
    /// The pod spec's pointer. Pointers and labels are written only when a violation needs
    /// them: most containers pass, and formatting each one's up front was a fifth of some
    /// checks' time.
    pod: &'static str,
}

impl<'a> Container<'a> {
    /// The value at `relative` (a JSON Pointer from the container, e.g.
    /// `/securityContext/privileged`).
    pub fn get(&self, relative: &str) -> Option<Node<'a>> {
        self.value.pointer(relative)
    }

    /// The pointer from the object to `relative` inside the container (`""` for the
    /// container itself).
    pub fn pointer(&self, relative: &str) -> String {
        format!("{}/{}/{}{relative}", self.pod, self.list, self.index)
    }

    /// How messages name the container: `container "web"`, `init container "setup"`,
    /// `ephemeral container "debug"`.
    pub fn label(&self) -> String {
        let what = match self.list {
            "initContainers" => "init container",
            "ephemeralContainers" => "ephemeral container",
            _ => "container",
        };
        format!("{what} \"{}\"", self.name)
    }
}

/// The pod spec or one of its containers, as [`PodSpec::owners`] gives them: what holds a
/// `securityContext`, named as messages name it.
#[derive(Debug, Clone)]
pub struct Owner<'a> {
    /// The pod spec or the container.
    pub value: Node<'a>,
    /// The pod spec's pointer.
    pod: &'static str,
    /// The container, `None` for the pod spec.
    container: Option<Container<'a>>,
}

impl<'a> Owner<'a> {
    /// The value at `relative` (a JSON Pointer from the owner, e.g.
    /// `/securityContext/runAsUser`).
    pub fn get(&self, relative: &str) -> Option<Node<'a>> {
        self.value.pointer(relative)
    }

    /// The pointer from the object to `relative` inside the owner.
    pub fn pointer(&self, relative: &str) -> String {
        match &self.container {
            Some(container) => container.pointer(relative),
            None => format!("{}{relative}", self.pod),
        }
    }

    /// `pod`, or the container's [`Container::label`] (`container "web"`, ...).
    pub fn label(&self) -> String {
        match &self.container {
            Some(container) => container.label(),
            None => "pod".to_string(),
        }
    }

    /// Whether this is the pod spec rather than a container, for the few messages that word
    /// the two differently.
    pub fn is_pod(&self) -> bool {
        self.container.is_none()
    }
}

/// Unit-test support for policies: run a check on an object without the waPC round trip.
/// Behind the `testing` feature so that it never reaches a module; a policy enables it in its
/// `[dev-dependencies]` only.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use super::{Check, Json, Node, Request, Violation, Violations};
    use serde_json::Value;

    /// `object` as a check sees it in a request: printed as JSON and decoded as
    /// [`validate`](super::validate) decodes a request's object.
    ///
    /// The text and the document are leaked, so that a test can build its object with `json!`
    /// and still hand a borrowing [`Request`] around: a few kilobytes a test, and this module
    /// never reaches a policy module.
    pub fn document(object: &Value) -> Node<'static> {
        let text: &'static str = Box::leak(object.to_string().into_boxed_str());
        let json = Json::parse(text).expect("a Value prints as JSON that parses");
        Box::leak(Box::new(json)).root()
    }

    /// A request for `object` of `kind` as most tests want it: core group, version `v1`,
    /// namespace `default`. Change the rest with struct update syntax:
    /// `Request { group: "apps", ..request("Deployment", &object, &settings) }`.
    pub fn request<'a, S>(kind: &'a str, object: &'a Value, settings: &'a S) -> Request<'a, S> {
        Request {
            object: document(object),
            kind,
            group: "",
            version: "v1",
            namespace: "default",
            settings,
        }
    }

    /// Run `check` on `request` and return what it recorded, in order.
    pub fn violations<S>(check: Check<S>, request: &Request<'_, S>) -> Vec<Violation> {
        let mut violations = Violations::default();
        check(request, &mut violations);
        violations.items().to_vec()
    }

    /// Run `check` on `object` of `kind` (a request as [`request`] makes it) and return each
    /// violation as `(pointer, message)`, the shape tests compare against.
    pub fn findings<S>(
        check: Check<S>,
        kind: &str,
        object: &Value,
        settings: &S,
    ) -> Vec<(String, String)> {
        violations(check, &request(kind, object, settings))
            .into_iter()
            .map(|v| (v.pointer, v.message))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_every_container_of_a_cronjob_with_pointers() {
        let cronjob = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "a"}],
            "initContainers": [{"name": "b"}],
            "ephemeralContainers": [{"name": "c"}]
        }}}}}});
        let spec = pod_spec(testing::document(&cronjob), "CronJob").unwrap();
        let found: Vec<(String, String)> = spec
            .containers()
            .map(|c| (c.label(), c.pointer("/image")))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "container \"a\"".to_string(),
                    "/spec/jobTemplate/spec/template/spec/containers/0/image".to_string()
                ),
                (
                    "init container \"b\"".to_string(),
                    "/spec/jobTemplate/spec/template/spec/initContainers/0/image".to_string()
                ),
                (
                    "ephemeral container \"c\"".to_string(),
                    "/spec/jobTemplate/spec/template/spec/ephemeralContainers/0/image".to_string()
                ),
            ]
        );
    }

    #[test]
    fn owners_are_the_pod_then_each_container() {
        let deployment = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "a"}],
            "initContainers": [{"name": "b"}]
        }}}});
        let spec = pod_spec(testing::document(&deployment), "Deployment").unwrap();
        let found: Vec<(String, bool, String)> = spec
            .owners()
            .map(|o| (o.label(), o.is_pod(), o.pointer("/securityContext")))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "pod".to_string(),
                    true,
                    "/spec/template/spec/securityContext".to_string()
                ),
                (
                    "container \"a\"".to_string(),
                    false,
                    "/spec/template/spec/containers/0/securityContext".to_string()
                ),
                (
                    "init container \"b\"".to_string(),
                    false,
                    "/spec/template/spec/initContainers/0/securityContext".to_string()
                ),
            ]
        );
        let first = spec.owners().nth(1).unwrap();
        assert_eq!(first.get("/name").map(Node::to_value), Some(json!("a")));
    }

    #[test]
    fn only_os_name_windows_makes_a_windows_pod() {
        let windows = json!({"spec": {"os": {"name": "windows"}}});
        assert!(
            pod_spec(testing::document(&windows), "Pod")
                .unwrap()
                .is_windows()
        );
        let linux = json!({"spec": {"os": {"name": "linux"}}});
        assert!(
            !pod_spec(testing::document(&linux), "Pod")
                .unwrap()
                .is_windows()
        );
        assert!(
            !pod_spec(testing::document(&json!({"spec": {}})), "Pod")
                .unwrap()
                .is_windows()
        );
    }

    #[test]
    fn shown_leaves_strings_bare() {
        let shown = |value| shown(testing::document(&value));
        assert_eq!(shown(json!("Unconfined")), "Unconfined");
        assert_eq!(shown(json!(true)), "true");
        assert_eq!(shown(json!(["a"])), r#"["a"]"#);
    }

    #[test]
    fn testing_runs_a_check_with_defaults() {
        fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
            violations.add(
                format!("/{}", request.kind),
                format!(
                    "{} {} {}",
                    request.group, request.version, request.namespace
                ),
            );
        }
        let object = json!({});
        assert_eq!(
            testing::findings(check, "Pod", &object, &NoSettings {}),
            [("/Pod".to_string(), " v1 default".to_string())]
        );
        let request = Request {
            group: "apps",
            ..testing::request("Deployment", &object, &NoSettings {})
        };
        assert_eq!(
            testing::violations(check, &request),
            [Violation {
                pointer: "/Deployment".into(),
                message: "apps v1 default".into()
            }]
        );
    }

    #[test]
    fn kinds_without_pod_specs_have_none() {
        assert!(pod_spec(testing::document(&json!({"spec": {}})), "Service").is_none());
        assert!(
            pod_spec(
                testing::document(&json!({"spec": {"template": 3}})),
                "Deployment"
            )
            .is_none()
        );
    }

    #[test]
    fn settings_errors_lose_the_json_position() {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct S {
            #[allow(dead_code)]
            allowed: Vec<String>,
        }
        impl Settings for S {}
        let answer = validate_settings::<S>(br#"{"alowed": []}"#).unwrap();
        let text = String::from_utf8(answer).unwrap();
        assert_eq!(
            text,
            r#"{"valid":false,"message":"unknown field `alowed`, expected `allowed`"}"#
        );
    }

    /// `validate` on `payload` with a check that reports what it was given.
    fn validated(payload: &str) -> String {
        fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
            let name = request.object.pointer("/metadata/name");
            violations.add(
                format!("/{}", request.kind),
                format!(
                    "{}|{}|{}|{}|{}",
                    request.group,
                    request.version,
                    request.namespace,
                    name.and_then(Node::as_str).unwrap_or("-"),
                    request.object.is_null()
                ),
            );
        }
        match validate::<NoSettings>(payload.as_bytes(), check) {
            Ok(answer) => String::from_utf8(answer).unwrap(),
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn validate_reads_kind_namespace_and_object_and_skips_the_rest() {
        let payload = r#"{"settings": {}, "request": {"uid": "u", "userInfo": {"groups": [1, {}]},
            "kind": {"group": "ap\u0070s", "version": "v1", "kind": "Deployment", "x": null},
            "oldObject": {"metadata": {"name": "old"}}, "options": null, "dryRun": "odd",
            "object": {"metadata": {"name": "we\"b"}}, "namespace": "team"}}"#;
        assert_eq!(
            validated(payload),
            r#"{"accepted":false,"message":"apps|v1|team|we\"b|false","violations":[{"pointer":"/Deployment","message":"apps|v1|team|we\"b|false"}]}"#
        );
        // Every field of the request may be missing, as in Kubewarden's own type.
        assert_eq!(
            validated(r#"{"request": {}, "settings": {}}"#),
            r#"{"accepted":false,"message":"|||-|true","violations":[{"pointer":"/","message":"|||-|true"}]}"#
        );
    }

    #[test]
    fn a_malformed_request_is_an_error_answer() {
        for (payload, error) in [
            (r#"{"settings": {}}"#, "missing field `request`"),
            (
                r#"{"request": {"object": {"a": }}, "settings": {}}"#,
                "expected value",
            ),
            (
                r#"{"request": {"namespace": 3}, "settings": {}}"#,
                "invalid type: integer `3`, expected a string",
            ),
            (
                r#"{"request": {}, "settings": {"x": 1}}"#,
                "unknown field `x`, there are no fields",
            ),
            (
                r#"{"request": {}, "settings": {}} trailing"#,
                "trailing characters",
            ),
        ] {
            assert_eq!(
                validated(payload),
                format!("error: cannot read the request: {error}")
            );
        }
        let answer = validate::<NoSettings>(b"{\"request\": \"\xff\"}", |_, _| {});
        assert!(
            answer
                .unwrap_err()
                .to_string()
                .starts_with("cannot read the request: it is not UTF-8")
        );
    }

    #[test]
    fn a_rejection_lists_every_violation() {
        let mut violations = Violations::default();
        violations.add("/a", "first");
        violations.add("/b", "second");
        let text = String::from_utf8(violations.respond().unwrap()).unwrap();
        assert_eq!(
            text,
            r#"{"accepted":false,"message":"first; second","violations":[{"pointer":"/a","message":"first"},{"pointer":"/b","message":"second"}]}"#
        );
    }

    /// Settings with a few shapes, for the fast path's settings against serde's.
    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Knobs {
        limit: Option<u32>,
        names: Vec<String>,
    }

    impl Settings for Knobs {}

    /// Where the fast path reads a payload, serde reads the same fields from it.
    fn payloads_agree(text: &str) -> bool {
        let null = Json::default();
        let Some(scanned) = json::scan(text.as_bytes()) else {
            return false;
        };
        let Some(fast) = FastPayload::<Knobs>::read(&scanned, null.root()) else {
            return false;
        };
        let serde: Payload<'_, Knobs> = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("the fast path read a payload serde rejects ({e}): {text}"));
        let admission = &serde.request;
        assert_eq!(fast.kind, admission.kind.kind, "{text}");
        assert_eq!(fast.group, admission.kind.group, "{text}");
        assert_eq!(fast.version, admission.kind.version, "{text}");
        assert_eq!(fast.namespace, admission.namespace, "{text}");
        assert_eq!(fast.settings, serde.settings, "{text}");
        assert_eq!(
            fast.object.to_value(),
            admission.object.root().to_value(),
            "{text}"
        );
        assert_eq!(
            fast.object.to_string(),
            admission.object.root().to_string(),
            "{text}"
        );
        true
    }

    /// `{...}` of the members given, in order.
    fn object_of(members: &[(&str, &str)]) -> String {
        let members: Vec<String> = members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{{{}}}", members.join(","))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn the_fast_path_reads_payloads_as_serde_does(
            gvk in proptest::collection::vec((
                proptest::sample::select(&[r#""group""#, r#""version""#, r#""kind""#, r#""other""#][..]),
                proptest::sample::select(&[r#""apps""#, r#""v1""#, r#""Deploy\u006dent""#, "null", "1", "[]", "{}"][..]),
            ), 0..5),
            gvk_as in proptest::sample::select(&["object", "array", "null", "missing"][..]),
            request in proptest::collection::vec((
                proptest::sample::select(&[r#""kind""#, r#""namespace""#, r#""object""#, r#""uid""#, r#""oldObject""#][..]),
                proptest::sample::select(&[
                    r#""team""#, r#""te\"am""#, "null", "3", "true", "[]", "{}",
                    r#"{"spec": {"template": {"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 8080}]}]}}}}"#,
                    r#"{"a": 1, "a": [2.5, -0, 18446744073709551615]}"#,
                ][..]),
            ), 0..6),
            request_as in proptest::sample::select(&["object", "array", "null"][..]),
            settings in proptest::sample::select(&[
                "{}", r#"{"limit": 3}"#, r#"{"limit": -1}"#, r#"{"limit": 3, "limit": 4}"#,
                r#"{"names": ["a", "b\n"]}"#, r#"{"other": 1}"#, "null", "[]", r#"[3, ["x"]]"#,
            ][..]),
            root in proptest::collection::vec(
                proptest::sample::select(&["request", "settings", "uid", "settings", "request"][..]),
                0..4,
            ),
        ) {
            let gvk: Vec<(&str, &str)> = gvk.into_iter().collect();
            let gvk_text = match gvk_as {
                "object" => Some(object_of(&gvk)),
                "array" => Some(format!("[{}]", gvk.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(","))),
                "null" => Some("null".to_string()),
                _ => None,
            };
            let mut members: Vec<(&str, String)> =
                request.iter().map(|(k, v)| (*k, v.to_string())).collect();
            if let Some(gvk_text) = gvk_text {
                members.push((r#""kind""#, gvk_text));
            }
            let members: Vec<(&str, &str)> = members.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let request_text = match request_as {
                "object" => object_of(&members),
                "array" => format!("[{}]", members.iter().map(|(_, v)| *v).collect::<Vec<_>>().join(",")),
                _ => "null".to_string(),
            };
            let root: Vec<(String, &str)> = root
                .iter()
                .map(|key| match *key {
                    "request" => (format!("{key:?}"), request_text.as_str()),
                    "settings" => (format!("{key:?}"), settings),
                    _ => (format!("{key:?}"), r#""u""#),
                })
                .collect();
            let root: Vec<(&str, &str)> = root.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            payloads_agree(&object_of(&root));
        }
    }

    #[test]
    fn the_fast_path_takes_a_usual_request() {
        let payload = r#"{"request": {"uid": "u", "kind": {"group": "apps", "version": "v1",
            "kind": "Deployment"}, "namespace": "team", "userInfo": {"groups": ["a"]},
            "object": {"metadata": {"name": "web"}, "spec": {"replicas": 3}}, "oldObject": null},
            "settings": {"limit": 2}}"#;
        assert!(payloads_agree(payload));
        // Repeated fields and settings that do not deserialize are left to serde.
        for payload in [
            r#"{"request": {}, "request": {}, "settings": {}}"#,
            r#"{"request": {"namespace": "a", "namespace": "b"}, "settings": {}}"#,
            r#"{"request": {"kind": {"kind": "A", "kind": "B"}}, "settings": {}}"#,
            r#"{"request": {}, "settings": {"limit": "3"}}"#,
            r#"{"request": {"kind": ["apps", "v1", "Deployment"]}, "settings": {}}"#,
        ] {
            assert!(!payloads_agree(payload), "{payload}");
        }
    }
}
