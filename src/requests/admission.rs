//! The Kubernetes AdmissionRequest, and how a manifest becomes one.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::catalog::{ResolutionSource, ResourceCatalog};
use super::cluster_object::ClusterObject;
use crate::documents::{Node, Value as NodeValue};

/// The `uid` of every request admit builds: the one `kwctl scaffold admission-request` uses,
/// so requests and responses compare equal with kwctl's.
pub const REQUEST_UID: &str = "705ab4f5-6393-11e8-b7cc-42010a800002";

/// The user name admit's requests claim. kwctl's scaffold uses `test-user`.
pub const DEFAULT_USERNAME: &str = "admit";

/// The groups admit's requests claim: only `system:authenticated`. kwctl's scaffold uses
/// `system:masters`, but policies commonly exempt cluster admins, and a manifest checked as
/// cluster-admin would slip past exactly the checks it was brought here for.
pub const DEFAULT_GROUPS: &[&str] = &["system:authenticated"];

/// The requesting user of every request [`build_request`] makes: [`DEFAULT_USERNAME`] in
/// [`DEFAULT_GROUPS`]. See [`DEFAULT_GROUPS`] for why this is not kwctl's
/// `test-user` / `system:masters`.
pub fn default_user_info() -> UserInfo {
    UserInfo {
        username: Some(DEFAULT_USERNAME.to_string()),
        uid: None,
        groups: Some(DEFAULT_GROUPS.iter().map(|g| g.to_string()).collect()),
        extra: None,
    }
}

/// A kind with its API group and version; the core group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version within the group, such as `v1`.
    pub version: String,
    /// The kind, such as `Deployment`.
    pub kind: String,
}

/// A resource (plural, lowercase) with its API group and version; the core group is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionResource {
    /// API group, `""` for the core group.
    pub group: String,
    /// API version within the group, such as `v1`.
    pub version: String,
    /// The resource, such as `deployments`.
    pub resource: String,
}

/// The user making a request (Kubernetes `authentication/v1` UserInfo).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A unique identifier for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The groups the user belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// Further information the authenticator provided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<BTreeMap<String, Vec<String>>>,
}

/// What a request does to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    /// The object is being created.
    Create,
    /// The object is being replaced or patched.
    Update,
    /// The object is being deleted.
    Delete,
    /// A connection is being opened (exec, attach, port-forward, proxy).
    Connect,
}

impl Operation {
    /// The name Kubernetes uses on the wire and in webhook rules, such as `CREATE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `request` of a Kubernetes `admission.k8s.io/v1` AdmissionReview, as a policy receives it.
///
/// Serializes in camelCase with absent fields omitted, never `null`: the Rust policy SDK
/// accepts a missing key but fails on `null` for several of them. Deserializing accepts `null`
/// for every optional field, so hand-written or recorded requests load too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    /// Identifies this request; a response must carry the same value.
    pub uid: String,
    /// The kind of the object, in the version the request is for.
    pub kind: GroupVersionKind,
    /// The resource being requested.
    pub resource: GroupVersionResource,
    /// The subresource being requested (`status`, `scale`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    /// The kind the client sent, before any conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    /// The resource the client addressed, before any conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    /// The subresource the client addressed, before any conversion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    /// The object's name, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The object's namespace; absent for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// What the request does.
    pub operation: Operation,
    /// Who makes the request.
    #[serde(default, deserialize_with = "null_as_default")]
    pub user_info: UserInfo,
    /// The object as it would be stored; absent for DELETE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    /// The object as it is stored now, for UPDATE and DELETE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_object: Option<Value>,
    /// Whether the request would only be simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// The operation's options (`CreateOptions`, `UpdateOptions`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl AdmissionRequest {
    /// The request as JSON, with `object` written from `object` instead of the one it holds.
    ///
    /// `admit check` keeps only an object's apiVersion, kind and metadata in its requests (all
    /// that matching and scoping read) and writes the whole object straight from the document
    /// tree when a policy wants it, so a large object is never copied into a JSON tree.
    ///
    /// The object is written as the API server would pass it on ([`ClusterObject`]: a
    /// quantity given as a number becomes its canonical string).
    ///
    /// `size_hint` is the expected length: a buffer that grows by doubling would hold up to
    /// three times a large object's JSON at its last step.
    pub fn to_json_with_object(
        &mut self,
        object: &Node,
        size_hint: usize,
    ) -> serde_json::Result<Vec<u8>> {
        #[derive(Serialize)]
        struct WithObject<'a> {
            #[serde(flatten)]
            request: &'a AdmissionRequest,
            object: &'a ClusterObject<'a>,
        }
        let object = ClusterObject::new(object, &self.kind.group, &self.kind.kind);
        // Out of the way while writing, so that `object` is not written twice.
        let held = self.object.take();
        let mut json = Vec::with_capacity(size_hint);
        let written = serde_json::to_writer(
            &mut json,
            &WithObject {
                request: self,
                object: &object,
            },
        );
        self.object = held;
        written.map(|()| json)
    }
}

/// What `admit check` gives [`build_request`] of an object: its apiVersion, kind and metadata,
/// all that building the request, matching rules and scoping read. The whole object is written
/// from the tree when a policy wants it ([`AdmissionRequest::to_json_with_object`]). A root
/// that is not a mapping is kept whole, for `build_request` to refuse.
pub fn object_header(node: &Node) -> serde_json::Value {
    match &node.value {
        NodeValue::Mapping(entries) => serde_json::Value::Object(
            entries
                .iter()
                .filter(|entry| matches!(entry.key.as_str(), "apiVersion" | "kind" | "metadata"))
                .map(|entry| (entry.key.clone(), entry.value.to_json()))
                .collect(),
        ),
        _ => node.to_json(),
    }
}

/// A request built from a manifest, with what the user should know about how it was built.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltRequest {
    /// The request a cluster would send to an admission webhook for creating the object.
    pub request: AdmissionRequest,
    /// Where the request may differ from a cluster's: a guessed resource name, an ignored
    /// namespace.
    pub warnings: Vec<RequestWarning>,
}

/// The id of the warning that a kind is neither built in nor defined by a
/// CustomResourceDefinition: its own, so that a user can turn it off (a repository of custom
/// resources whose CRDs live elsewhere would get one on every object).
pub const UNKNOWN_KIND: &str = "unknown-kind";

/// The id of every other warning about how a request was built.
pub const REQUEST_WARNING: &str = "request";

/// Where a built request may differ from the one a cluster would build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestWarning {
    /// The diagnostic id: [`UNKNOWN_KIND`] or [`REQUEST_WARNING`].
    pub id: &'static str,
    /// What the user should know.
    pub message: String,
}

impl fmt::Display for RequestWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why a manifest cannot become an AdmissionRequest.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// The document is not a mapping.
    #[error(
        "this document is {found}, not a Kubernetes object; an object is a mapping with apiVersion, kind and metadata"
    )]
    NotAMapping {
        /// What the document is instead, such as "a sequence".
        found: &'static str,
    },
    /// `apiVersion` or `kind` is absent, `null` or empty.
    #[error(
        "`{field}` is missing or empty; every Kubernetes object needs apiVersion (such as `apps/v1`) and kind (such as `Deployment`)"
    )]
    MissingField {
        /// The field, such as "kind".
        field: &'static str,
    },
    /// A field that must be a string is something else.
    #[error("`{field}` must be a string, but it is {found}")]
    NotAString {
        /// The field, such as "metadata.name".
        field: &'static str,
        /// What it is instead, such as "a number".
        found: &'static str,
    },
    /// `apiVersion` is neither `version` nor `group/version`.
    #[error(
        "malformed apiVersion \"{api_version}\": {reason}; expected `version` for the core group (`v1`) or `group/version` (`apps/v1`)"
    )]
    MalformedApiVersion {
        /// The apiVersion as written.
        api_version: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `metadata` is present but not a mapping.
    #[error("`metadata` must be a mapping, but it is {found}")]
    MetadataNotAMapping {
        /// What it is instead, such as "a string".
        found: &'static str,
    },
}

/// Builds the AdmissionRequest a cluster would send to an admission webhook when `object` is
/// created, following `kwctl scaffold admission-request --operation CREATE`:
///
/// * `uid` is [`REQUEST_UID`];
/// * `kind` and `requestKind` come from apiVersion and kind, the core group being `""`;
/// * `resource` and `requestResource` take the plural from `catalog`; a guessed plural adds a
///   warning;
/// * `name` is `metadata.name`, else `metadata.generateName` (kwctl leaves it out then; the
///   prefix lets a policy's messages still say which object they mean);
/// * `namespace` is `metadata.namespace`, or `default` for a namespaced kind without one, and
///   absent for cluster-scoped kinds (a namespace set on one adds a warning);
/// * `operation` is CREATE, `userInfo` is [`default_user_info`], and `object` is `object`
///   verbatim.
///
/// `object` is moved in, not copied: a large object would otherwise live twice in memory.
pub fn build_request(
    object: Value,
    catalog: &ResourceCatalog,
) -> Result<BuiltRequest, RequestError> {
    let fields = object.as_object().ok_or(RequestError::NotAMapping {
        found: describe(&object),
    })?;
    let api_version = required_str(fields.get("apiVersion"), "apiVersion")?;
    let kind = required_str(fields.get("kind"), "kind")?;
    if kind.is_empty() {
        return Err(RequestError::MissingField { field: "kind" });
    }
    let (group, version) = split_api_version(api_version)?;
    let metadata = match fields.get("metadata") {
        // `metadata:` with nothing after it is null in YAML; the API server reads it as empty.
        None | Some(Value::Null) => None,
        Some(Value::Object(metadata)) => Some(metadata),
        Some(other) => {
            return Err(RequestError::MetadataNotAMapping {
                found: describe(other),
            });
        }
    };
    let metadata_str = |key: &str, field: &'static str| match metadata {
        Some(metadata) => optional_str(metadata.get(key), field),
        None => Ok(None),
    };
    let name = match metadata_str("name", "metadata.name")? {
        Some(name) => Some(name),
        None => metadata_str("generateName", "metadata.generateName")?,
    };
    let declared_namespace = metadata_str("namespace", "metadata.namespace")?;

    let mut warnings = Vec::new();
    let resolution = catalog.resolve(group, kind);
    if resolution.source == ResolutionSource::Guessed {
        warnings.push(RequestWarning {
            id: UNKNOWN_KIND,
            message: format!(
                "unknown kind {api_version} {kind}: guessed resource \"{}\"; add its CustomResourceDefinition to the checked files to make this exact",
                resolution.plural
            ),
        });
    }
    let namespace = if resolution.namespaced {
        Some(declared_namespace.unwrap_or("default"))
    } else {
        if declared_namespace.is_some() {
            let named = name.map(|n| format!(" \"{n}\"")).unwrap_or_default();
            warnings.push(RequestWarning {
                id: REQUEST_WARNING,
                message: format!(
                    "{api_version} {kind}{named} is cluster-scoped; metadata.namespace is ignored"
                ),
            });
        }
        None
    };

    let gvk = GroupVersionKind {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
    };
    let gvr = GroupVersionResource {
        group: group.to_string(),
        version: version.to_string(),
        resource: resolution.plural,
    };
    let mut request = AdmissionRequest {
        uid: REQUEST_UID.to_string(),
        kind: gvk.clone(),
        resource: gvr.clone(),
        sub_resource: None,
        request_kind: Some(gvk),
        request_resource: Some(gvr),
        request_sub_resource: None,
        name: name.map(str::to_string),
        namespace: namespace.map(str::to_string),
        operation: Operation::Create,
        user_info: default_user_info(),
        // Moved in below, once nothing borrows from it.
        object: None,
        old_object: None,
        dry_run: None,
        options: None,
    };
    request.object = Some(object);
    Ok(BuiltRequest { request, warnings })
}

fn required_str<'a>(
    value: Option<&'a Value>,
    field: &'static str,
) -> Result<&'a str, RequestError> {
    match value {
        None | Some(Value::Null) => Err(RequestError::MissingField { field }),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(RequestError::NotAString {
            field,
            found: describe(other),
        }),
    }
}

/// A string field that may be absent. `null` and `""` count as absent, as they do for the API
/// server, which decodes both to Go's empty string.
fn optional_str<'a>(
    value: Option<&'a Value>,
    field: &'static str,
) -> Result<Option<&'a str>, RequestError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
        Some(other) => Err(RequestError::NotAString {
            field,
            found: describe(other),
        }),
    }
}

/// Splits `apps/v1` into `("apps", "v1")` and `v1` into `("", "v1")`.
pub(super) fn split_api_version(api_version: &str) -> Result<(&str, &str), RequestError> {
    let malformed = |reason| RequestError::MalformedApiVersion {
        api_version: api_version.to_string(),
        reason,
    };
    if api_version.is_empty() {
        return Err(malformed("it is empty"));
    }
    match api_version.split_once('/') {
        None => Ok(("", api_version)),
        Some((_, version)) if version.contains('/') => Err(malformed("it has more than one `/`")),
        Some(("", _)) => Err(malformed("the group before `/` is empty")),
        Some((_, "")) => Err(malformed("the version after `/` is empty")),
        Some((group, version)) => Ok((group, version)),
    }
}

/// Names a JSON value's type the way a YAML author thinks of it.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn build(object: Value) -> BuiltRequest {
        match build_request(object, &ResourceCatalog::builtin()) {
            Ok(built) => built,
            Err(error) => panic!("{error}"),
        }
    }

    fn has_null(value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::Array(items) => items.iter().any(has_null),
            Value::Object(fields) => fields.values().any(has_null),
            _ => false,
        }
    }

    /// The request `kwctl scaffold admission-request` makes for a Pod (kwctl's
    /// `tests/data/privileged-pod.json`), with admit's user.
    #[test]
    fn pod_request_matches_kwctl_scaffold() {
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "nginx", "namespace": "default"},
            "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                     "securityContext": {"privileged": true}}]}
        });
        let built = build(pod.clone());
        assert!(built.warnings.is_empty(), "{:?}", built.warnings);
        let serialized = serde_json::to_string(&built.request).expect("serializes");
        let expected = format!(
            concat!(
                r#"{{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","#,
                r#""kind":{{"group":"","version":"v1","kind":"Pod"}},"#,
                r#""resource":{{"group":"","version":"v1","resource":"pods"}},"#,
                r#""requestKind":{{"group":"","version":"v1","kind":"Pod"}},"#,
                r#""requestResource":{{"group":"","version":"v1","resource":"pods"}},"#,
                r#""name":"nginx","namespace":"default","operation":"CREATE","#,
                r#""userInfo":{{"username":"admit","groups":["system:authenticated"]}},"#,
                r#""object":{}}}"#
            ),
            serde_json::to_string(&pod).expect("serializes")
        );
        assert_eq!(serialized, expected);
    }

    #[test]
    fn namespaced_kind_without_namespace_gets_default() {
        let built = build(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"}
        }));
        let request = built.request;
        assert_eq!(
            request.kind,
            GroupVersionKind {
                group: "apps".into(),
                version: "v1".into(),
                kind: "Deployment".into()
            }
        );
        assert_eq!(
            request.resource,
            GroupVersionResource {
                group: "apps".into(),
                version: "v1".into(),
                resource: "deployments".into()
            }
        );
        assert_eq!(request.namespace.as_deref(), Some("default"));
        assert!(built.warnings.is_empty());
    }

    #[test]
    fn cluster_scoped_kind_has_no_namespace_key() {
        let built = build(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "reader"},
            "rules": []
        }));
        let json = serde_json::to_value(&built.request).expect("serializes");
        assert!(json.get("namespace").is_none());
        assert_eq!(json["resource"]["resource"], "clusterroles");
        assert_eq!(json["kind"]["group"], "rbac.authorization.k8s.io");
        assert!(!has_null(&json));
        assert!(built.warnings.is_empty());
    }

    #[test]
    fn namespace_on_cluster_scoped_kind_is_dropped_with_a_warning() {
        let built = build(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "reader", "namespace": "team-a"}
        }));
        assert_eq!(built.request.namespace, None);
        assert_eq!(
            built.warnings,
            [RequestWarning {
                id: REQUEST_WARNING,
                message: "rbac.authorization.k8s.io/v1 ClusterRole \"reader\" is cluster-scoped; metadata.namespace is ignored".into()
            }]
        );
    }

    #[test]
    fn custom_resource_uses_its_crd() {
        let mut catalog = ResourceCatalog::builtin();
        assert!(catalog.add_crd(&json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "scope": "Cluster",
                     "names": {"kind": "Octopus", "plural": "octopi"}}
        })));
        let octopus = json!({
            "apiVersion": "example.com/v1",
            "kind": "Octopus",
            "metadata": {"name": "paul"}
        });
        let built = build_request(octopus, &catalog).expect("builds");
        assert!(built.warnings.is_empty(), "{:?}", built.warnings);
        assert_eq!(built.request.resource.resource, "octopi");
        assert_eq!(built.request.resource.group, "example.com");
        assert_eq!(built.request.namespace, None);
    }

    #[test]
    fn unknown_kind_gets_a_guessed_plural_and_a_warning() {
        let built = build(json!({
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w"}
        }));
        assert_eq!(built.request.resource.resource, "widgets");
        assert_eq!(built.request.namespace.as_deref(), Some("default"));
        assert_eq!(
            built.warnings,
            [RequestWarning {
                id: UNKNOWN_KIND,
                message: "unknown kind example.com/v1 Widget: guessed resource \"widgets\"; add its CustomResourceDefinition to the checked files to make this exact".into()
            }]
        );
    }

    #[test]
    fn name_falls_back_to_generate_name() {
        let built = build(json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"generateName": "migrate-", "namespace": "db"}
        }));
        assert_eq!(built.request.name.as_deref(), Some("migrate-"));
        assert_eq!(built.request.namespace.as_deref(), Some("db"));
    }

    #[test]
    fn object_without_metadata_has_no_name() {
        for metadata in [None, Some(Value::Null)] {
            let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap"});
            if let Some(metadata) = metadata {
                object["metadata"] = metadata;
            }
            let mut json = serde_json::to_value(build(object).request).expect("serializes");
            assert!(json.get("name").is_none());
            assert_eq!(json["namespace"], "default");
            // The object is the user's, nulls included; only the envelope must be null-free.
            json.as_object_mut().map(|fields| fields.remove("object"));
            assert!(!has_null(&json));
        }
    }

    #[test]
    fn object_is_kept_verbatim() {
        let object = json!({
            "kind": "Secret",
            "apiVersion": "v1",
            "metadata": {"name": "s", "annotations": {"z": "1", "a": "2"}},
            "stringData": {"password": "hunter2"}
        });
        let built = build(object.clone());
        assert_eq!(built.request.object.as_ref(), Some(&object));
        let serialized = serde_json::to_string(&built.request).expect("serializes");
        let verbatim = serde_json::to_string(&object).expect("serializes");
        assert!(serialized.contains(&verbatim));
    }

    #[test]
    fn rejects_what_is_not_a_kubernetes_object() {
        let catalog = ResourceCatalog::builtin();
        let cases = [
            (
                json!(["a"]),
                RequestError::NotAMapping {
                    found: "a sequence",
                },
            ),
            (
                json!({"kind": "Pod"}),
                RequestError::MissingField {
                    field: "apiVersion",
                },
            ),
            (
                json!({"apiVersion": null, "kind": "Pod"}),
                RequestError::MissingField {
                    field: "apiVersion",
                },
            ),
            (
                json!({"apiVersion": "v1"}),
                RequestError::MissingField { field: "kind" },
            ),
            (
                json!({"apiVersion": "v1", "kind": ""}),
                RequestError::MissingField { field: "kind" },
            ),
            (
                json!({"apiVersion": 1, "kind": "Pod"}),
                RequestError::NotAString {
                    field: "apiVersion",
                    found: "a number",
                },
            ),
            (
                json!({"apiVersion": "v1", "kind": ["Pod"]}),
                RequestError::NotAString {
                    field: "kind",
                    found: "a sequence",
                },
            ),
            (
                json!({"apiVersion": "", "kind": "Pod"}),
                RequestError::MalformedApiVersion {
                    api_version: "".into(),
                    reason: "it is empty",
                },
            ),
            (
                json!({"apiVersion": "a/b/v1", "kind": "Pod"}),
                RequestError::MalformedApiVersion {
                    api_version: "a/b/v1".into(),
                    reason: "it has more than one `/`",
                },
            ),
            (
                json!({"apiVersion": "apps/", "kind": "Deployment"}),
                RequestError::MalformedApiVersion {
                    api_version: "apps/".into(),
                    reason: "the version after `/` is empty",
                },
            ),
            (
                json!({"apiVersion": "/v1", "kind": "Pod"}),
                RequestError::MalformedApiVersion {
                    api_version: "/v1".into(),
                    reason: "the group before `/` is empty",
                },
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": "nginx"}),
                RequestError::MetadataNotAMapping { found: "a string" },
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": 7}}),
                RequestError::NotAString {
                    field: "metadata.name",
                    found: "a number",
                },
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": true}}),
                RequestError::NotAString {
                    field: "metadata.namespace",
                    found: "a boolean",
                },
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": {}}}),
                RequestError::NotAString {
                    field: "metadata.generateName",
                    found: "a mapping",
                },
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(
                build_request(object.clone(), &catalog),
                Err(expected),
                "{object}"
            );
        }
    }

    #[test]
    fn errors_tell_the_user_what_to_write() {
        let error = build_request(json!({"kind": "Pod"}), &ResourceCatalog::builtin())
            .expect_err("no apiVersion");
        assert_eq!(
            error.to_string(),
            "`apiVersion` is missing or empty; every Kubernetes object needs apiVersion (such as `apps/v1`) and kind (such as `Deployment`)"
        );
    }

    #[test]
    fn deserializes_requests_with_nulls_and_round_trips() {
        let text = r#"{
            "uid": "1299d386-525b-4032-98ae-1949f69f9cfc",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "subResource": null, "requestKind": null, "name": "nginx", "namespace": null,
            "operation": "DELETE",
            "userInfo": {"username": "kubernetes-admin", "groups": null,
                         "extra": {"scopes": ["a"]}},
            "object": null, "oldObject": {"kind": "Pod"}, "dryRun": false, "options": null,
            "unknownField": 1
        }"#;
        let request: AdmissionRequest = serde_json::from_str(text).expect("deserializes");
        assert_eq!(request.operation, Operation::Delete);
        assert_eq!(request.sub_resource, None);
        assert_eq!(request.object, None);
        assert_eq!(request.dry_run, Some(false));
        assert_eq!(request.user_info.groups, None);
        let json = serde_json::to_value(&request).expect("serializes");
        assert!(!has_null(&json), "{json}");
        let again: AdmissionRequest = serde_json::from_value(json).expect("deserializes");
        assert_eq!(again, request);
    }

    #[test]
    fn user_info_may_be_missing_or_null() {
        for user_info in ["", r#","userInfo":null"#] {
            let text = format!(
                r#"{{"uid":"u","kind":{{"group":"","version":"v1","kind":"Pod"}},"resource":{{"group":"","version":"v1","resource":"pods"}},"operation":"CREATE"{user_info}}}"#
            );
            let request: AdmissionRequest = serde_json::from_str(&text).expect("deserializes");
            assert_eq!(request.user_info, UserInfo::default());
        }
    }
}
