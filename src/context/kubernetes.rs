//! `kubernetes/*` host calls answered from the repository, in the shapes the Kubewarden SDKs
//! decode (the request and answer types of the Rust SDK's `host_capabilities::kubernetes`, as
//! policy-evaluator's `callback_handler/kubernetes` serves them from a cluster): a `List` with
//! `items`, one object, or a SubjectAccessReview status. A resource the repository lacks is
//! answered as the API server answers a missing one: an empty list, or a not-found error.

use serde::Deserialize;
use serde_json::{Value, json};

use super::rbac;
use super::repository::{Repository, StoredObject};
use super::selectors::{FieldSelector, LabelSelector, prune};
use crate::requests::ResourceCatalog;

/// `list_resources_by_namespace`.
#[derive(Debug, Deserialize)]
pub struct ListByNamespace {
    api_version: String,
    kind: String,
    namespace: String,
    #[serde(default)]
    label_selector: Option<String>,
    #[serde(default)]
    field_selector: Option<String>,
    #[serde(default)]
    field_masks: Option<Vec<String>>,
}

/// `list_resources_all`.
#[derive(Debug, Deserialize)]
pub struct ListAll {
    api_version: String,
    kind: String,
    #[serde(default)]
    label_selector: Option<String>,
    #[serde(default)]
    field_selector: Option<String>,
    #[serde(default)]
    field_masks: Option<Vec<String>>,
}

/// `get_resource`.
#[derive(Debug, Deserialize)]
pub struct GetResource {
    api_version: String,
    kind: String,
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    field_masks: Option<Vec<String>>,
}

/// The resource a request is about, for the allow-list check.
pub fn resource_of(operation: &str, payload: &[u8]) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Kind {
        api_version: String,
        kind: String,
    }
    match operation {
        "list_resources_by_namespace" | "list_resources_all" | "get_resource" => {
            serde_json::from_slice::<Kind>(payload)
                .ok()
                .map(|k| (k.api_version, k.kind))
        }
        _ => None,
    }
}

/// Answer `operation` with `payload` from `repository`, leaving `subject` out.
pub fn answer(
    operation: &str,
    payload: &[u8],
    repository: &Repository,
    catalog: &ResourceCatalog,
    subject: Option<u64>,
) -> Result<Vec<u8>, String> {
    let parse_error = |e: serde_json::Error| format!("invalid {operation} request: {e}");
    let visible = |o: &&StoredObject| Some(o.id) != subject;
    let answer = match operation {
        "list_resources_by_namespace" => {
            let request: ListByNamespace = serde_json::from_slice(payload).map_err(parse_error)?;
            let group = group_of(&request.api_version);
            if !catalog.resolve(group, &request.kind).namespaced {
                return Err(format!(
                    "{}/{} is not a namespaced resource: list it with list_resources_all",
                    request.api_version, request.kind
                ));
            }
            let selectors = Selectors::parse(&request.label_selector, &request.field_selector)?;
            let items: Vec<Value> = repository
                .of_kind(&request.api_version, &request.kind)
                .filter(visible)
                .filter(|o| o.namespace.as_deref() == Some(request.namespace.as_str()))
                .filter(|o| selectors.matches(&o.value))
                .map(|o| masked(&o.value, &request.field_masks))
                .collect();
            list(&request.api_version, &request.kind, items)
        }
        "list_resources_all" => {
            let request: ListAll = serde_json::from_slice(payload).map_err(parse_error)?;
            let selectors = Selectors::parse(&request.label_selector, &request.field_selector)?;
            let items: Vec<Value> = repository
                .of_kind(&request.api_version, &request.kind)
                .filter(visible)
                .filter(|o| selectors.matches(&o.value))
                .map(|o| masked(&o.value, &request.field_masks))
                .collect();
            list(&request.api_version, &request.kind, items)
        }
        "get_resource" => {
            let request: GetResource = serde_json::from_slice(payload).map_err(parse_error)?;
            let group = group_of(&request.api_version);
            let resolution = catalog.resolve(group, &request.kind);
            let namespace = resolution.namespaced.then(|| {
                request
                    .namespace
                    .clone()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or_else(|| "default".to_string())
            });
            let found = repository
                .of_kind(&request.api_version, &request.kind)
                .filter(visible)
                .find(|o| o.name == request.name && o.namespace == namespace);
            match found {
                Some(object) => masked(&object.value, &request.field_masks),
                None => {
                    return Err(not_found(
                        &request.api_version,
                        &request.kind,
                        &request.name,
                        &namespace,
                    ));
                }
            }
        }
        "can_i" => rbac::can_i(payload, repository, subject)?,
        _ => return Err(format!("unknown operation: {operation}")),
    };
    serde_json::to_vec(&answer).map_err(|e| format!("cannot serialize the answer: {e}"))
}

struct Selectors {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Selectors {
    fn parse(labels: &Option<String>, fields: &Option<String>) -> Result<Selectors, String> {
        Ok(Selectors {
            labels: LabelSelector::parse(labels.as_deref().unwrap_or(""))?,
            fields: FieldSelector::parse(fields.as_deref().unwrap_or(""))?,
        })
    }

    fn matches(&self, object: &Value) -> bool {
        self.labels.matches(&object["metadata"]["labels"]) && self.fields.matches(object)
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn masked(object: &Value, masks: &Option<Vec<String>>) -> Value {
    match masks {
        Some(masks) if !masks.is_empty() => prune(object, masks),
        _ => object.clone(),
    }
}

/// The List a typed client decodes: `apiVersion`, `kind: KindList`, list metadata, `items`.
fn list(api_version: &str, kind: &str, items: Vec<Value>) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": format!("{kind}List"),
        "metadata": {"resourceVersion": ""},
        "items": items,
    })
}

/// The error policy-evaluator gives for a missing object (`callback_handler/kubernetes`): the
/// text kwctl records and policies look for.
fn not_found(api_version: &str, kind: &str, name: &str, namespace: &Option<String>) -> String {
    format!("Cannot find {api_version}/{kind} named '{name}' inside of namespace '{namespace:?}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> Repository {
        let catalog = ResourceCatalog::builtin();
        Repository::of(
            [
                (
                    1,
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "shop", "labels": {"app": "web"}}, "spec": {"selector": {"app": "web"}}}),
                ),
                (
                    2,
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}}),
                ),
                (
                    3,
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c"}}),
                ),
                (
                    4,
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "x"}}}),
                ),
            ],
            &catalog,
        )
    }

    fn ask(operation: &str, request: Value, subject: Option<u64>) -> Result<Value, String> {
        let bytes = answer(
            operation,
            request.to_string().as_bytes(),
            &repository(),
            &ResourceCatalog::builtin(),
            subject,
        )?;
        Ok(serde_json::from_slice(&bytes).unwrap())
    }

    fn names(list: &Value) -> Vec<&str> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn lists_are_scoped_and_leave_the_subject_out() {
        let by_ns = ask(
            "list_resources_by_namespace",
            json!({"api_version": "v1", "kind": "Service", "namespace": "shop"}),
            Some(1),
        )
        .unwrap();
        assert_eq!(by_ns["kind"], "ServiceList");
        assert_eq!(names(&by_ns), ["b"]);
        let default = ask(
            "list_resources_by_namespace",
            json!({"api_version": "v1", "kind": "Service", "namespace": "default"}),
            None,
        )
        .unwrap();
        assert_eq!(names(&default), ["c"]);
        let labelled = ask(
            "list_resources_all",
            json!({"api_version": "v1", "kind": "Service", "label_selector": "app=web"}),
            None,
        )
        .unwrap();
        assert_eq!(names(&labelled), ["a"]);
        let fields = ask("list_resources_all", json!({"api_version": "v1", "kind": "Service", "field_selector": "metadata.namespace!=shop"}), None).unwrap();
        assert_eq!(names(&fields), ["c"]);
        let none = ask(
            "list_resources_all",
            json!({"api_version": "networking.k8s.io/v1", "kind": "Ingress"}),
            None,
        )
        .unwrap();
        assert_eq!(names(&none), Vec::<&str>::new());
        let error = ask(
            "list_resources_by_namespace",
            json!({"api_version": "v1", "kind": "Namespace", "namespace": "x"}),
            None,
        )
        .unwrap_err();
        assert!(error.contains("not a namespaced resource"), "{error}");
    }

    #[test]
    fn get_finds_one_object_or_says_not_found() {
        let namespace = ask("get_resource", json!({"api_version": "v1", "kind": "Namespace", "name": "shop", "namespace": null, "disable_cache": false}), None).unwrap();
        assert_eq!(namespace["metadata"]["labels"]["team"], "x");
        let error = ask("get_resource", json!({"api_version": "v1", "kind": "ServiceAccount", "name": "web", "namespace": "shop", "disable_cache": false}), None).unwrap_err();
        assert!(
            error
                == "Cannot find v1/ServiceAccount named 'web' inside of namespace 'Some(\"shop\")'",
            "{error}"
        );
        let itself = ask(
            "get_resource",
            json!({"api_version": "v1", "kind": "Service", "name": "a", "namespace": "shop"}),
            Some(1),
        )
        .unwrap_err();
        assert!(
            itself.starts_with("Cannot find v1/Service named 'a'"),
            "{itself}"
        );
    }
}
