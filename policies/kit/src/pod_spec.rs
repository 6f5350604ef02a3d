//! The walks the Pod Security Standards controls share: the [`PodSpec`] of every workload kind,
//! each [`Container`] of its three lists, each [`Owner`] of a `securityContext`, and the JSON
//! Pointers and labels that messages name them by.

use crate::json::{Node, escape};

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

    /// Every container whose boolean field at `relative` (e.g.
    /// `/securityContext/readOnlyRootFilesystem`) does not hold `required`, with what it holds
    /// instead: `None` when the field is unset or `null`, else its value (the other boolean, or
    /// a value of another type). For the controls that require each container to set a boolean,
    /// and word the unset field and the wrong value differently.
    pub fn containers_not_set_to(
        &self,
        relative: &str,
        required: bool,
    ) -> impl Iterator<Item = (Container<'a>, Option<Node<'a>>)> {
        self.containers().filter_map(move |container| {
            match container.get(relative).filter(|v| !v.is_null()) {
                Some(value) if value.as_bool() == Some(required) => None,
                value => Some((container, value)),
            }
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
    /// them: most containers pass, and formatting them for each container up front would be a
    /// large part of a cheap check's work.
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

    /// The pointer for a violation about the field at `relative` (e.g.
    /// `/securityContext/allowPrivilegeEscalation`) that may be missing: the field's own
    /// pointer when the field is set or the block that holds it (`securityContext`, the first
    /// key of `relative`) is there, so admit shows it, or the block it is missing under;
    /// otherwise the container's `name`. Without the block the nearest node along the pointer
    /// is the container itself, which admit could only show by its first line, whatever key
    /// that happens to be; the name is what the message calls it by. A container without a name
    /// keeps the field's pointer.
    pub fn pointer_or_name(&self, relative: &str) -> String {
        let present = |node: Option<Node<'_>>| node.is_some_and(|n| !n.is_null());
        let first_key = relative.split('/').nth(1).unwrap_or_default();
        let block = self
            .get(&format!("/{first_key}"))
            .is_some_and(|b| b.is_object() || b.is_array());
        if present(self.get(relative)) || block || !present(self.value.get("name")) {
            self.pointer(relative)
        } else {
            self.pointer("/name")
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
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
    fn containers_not_set_to_give_unset_and_other_values() {
        let pod = json!({"spec": {
            "containers": [
                {"name": "yes", "securityContext": {"flag": true}},
                {"name": "no", "securityContext": {"flag": false}},
                {"name": "unset"},
                {"name": "null", "securityContext": {"flag": null}},
            ],
            "initContainers": [{"name": "text", "securityContext": {"flag": "true"}}],
        }});
        let spec = pod_spec(testing::document(&pod), "Pod").unwrap();
        let found = |required| -> Vec<(String, Option<String>)> {
            spec.containers_not_set_to("/securityContext/flag", required)
                .map(|(c, value)| (c.name.to_string(), value.map(|v| v.to_string())))
                .collect()
        };
        assert_eq!(
            found(true),
            [
                ("no".to_string(), Some("false".to_string())),
                ("unset".to_string(), None),
                ("null".to_string(), None),
                ("text".to_string(), Some("\"true\"".to_string())),
            ]
        );
        assert_eq!(
            found(false),
            [
                ("yes".to_string(), Some("true".to_string())),
                ("unset".to_string(), None),
                ("null".to_string(), None),
                ("text".to_string(), Some("\"true\"".to_string())),
            ]
        );
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
    fn workloads_of_every_served_api_version_have_their_pod_spec() {
        let template = "/spec/template/spec";
        let cronjob = "/spec/jobTemplate/spec/template/spec";
        for (group, version, kind, pointer) in [
            ("extensions", "v1beta1", "Deployment", template),
            ("extensions", "v1beta1", "DaemonSet", template),
            ("extensions", "v1beta1", "ReplicaSet", template),
            ("apps", "v1beta1", "Deployment", template),
            ("apps", "v1beta1", "StatefulSet", template),
            ("apps", "v1beta2", "Deployment", template),
            ("apps", "v1beta2", "DaemonSet", template),
            ("apps", "v1beta2", "ReplicaSet", template),
            ("apps", "v1beta2", "StatefulSet", template),
            ("batch", "v1beta1", "CronJob", cronjob),
            ("batch", "v2alpha1", "CronJob", cronjob),
        ] {
            let mut object = json!({"containers": [{"name": "app", "securityContext": {}}]});
            for key in pointer.rsplit('/').filter(|key| !key.is_empty()) {
                object = json!({ key: object });
            }
            let settings = crate::NoSettings {};
            let request = crate::Request {
                group,
                version,
                ..testing::request(kind, &object, &settings)
            };
            let spec = request.pod_spec().unwrap();
            let found: Vec<String> = spec
                .containers()
                .map(|c| c.pointer("/securityContext/privileged"))
                .collect();
            assert_eq!(
                found,
                [format!("{pointer}/containers/0/securityContext/privileged")],
                "{group}/{version} {kind}"
            );
        }
    }

    #[test]
    fn a_missing_block_points_at_the_container_name() {
        let pod = json!({"spec": {"containers": [
            {"name": "bare", "image": "x"},
            {"name": "block", "securityContext": {}},
            {"name": "set", "securityContext": {"flag": false}},
            {"name": "null-block", "securityContext": null},
            {"image": "nameless"},
            {"name": "list", "livenessProbe": 3},
        ]}});
        let spec = pod_spec(testing::document(&pod), "Pod").unwrap();
        let found: Vec<String> = spec
            .containers()
            .map(|c| c.pointer_or_name("/securityContext/flag"))
            .collect();
        assert_eq!(
            found,
            [
                "/spec/containers/0/name",
                "/spec/containers/1/securityContext/flag",
                "/spec/containers/2/securityContext/flag",
                "/spec/containers/3/name",
                "/spec/containers/4/securityContext/flag",
                "/spec/containers/5/name",
            ]
        );
        let found: Vec<String> = spec
            .containers()
            .map(|c| c.pointer_or_name("/livenessProbe"))
            .collect();
        assert_eq!(
            found,
            [
                "/spec/containers/0/name",
                "/spec/containers/1/name",
                "/spec/containers/2/name",
                "/spec/containers/3/name",
                "/spec/containers/4/livenessProbe",
                "/spec/containers/5/livenessProbe",
            ]
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
}
