//! An object written as the API server would hand it to a webhook: its quantity fields as
//! strings.
//!
//! Only the fields the API server changes this way are touched; every other node is written as
//! [`Node`]'s own JSON. The quantity fields are those of type `resource.Quantity` in the
//! built-in kinds (`k8s.io/api`): container, pod and overhead resources, `emptyDir.sizeLimit`,
//! claim and volume capacities, quota and limit-range amounts.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::admission::split_api_version;
use super::quantity;
use crate::documents::{Node, Value};

/// One step of a path: a mapping key, any key or item (`*`), or one of several keys.
#[derive(Debug, Clone, Copy)]
enum Step {
    Key(&'static str),
    AnyOf(&'static [&'static str]),
    Any,
}

use Step::{Any, AnyOf, Key};

type Path = &'static [Step];

const CONTAINER_LISTS: Step = AnyOf(&["containers", "initContainers", "ephemeralContainers"]);
const AMOUNTS: Step = AnyOf(&["limits", "requests"]);

/// Quantity fields under a pod spec.
const POD_SPEC: &[Path] = &[
    &[CONTAINER_LISTS, Any, Key("resources"), AMOUNTS, Any],
    &[Key("resources"), AMOUNTS, Any],
    &[Key("overhead"), Any],
    &[Key("volumes"), Any, Key("emptyDir"), Key("sizeLimit")],
    &[
        Key("volumes"),
        Any,
        Key("ephemeral"),
        Key("volumeClaimTemplate"),
        Key("spec"),
        Key("resources"),
        AMOUNTS,
        Any,
    ],
];

/// A persistent volume claim's spec (also a StatefulSet's claim templates).
const CLAIM_SPEC: &[Path] = &[&[Key("resources"), AMOUNTS, Any]];

/// Where a kind keeps its quantity fields: under one or more prefixes, each followed by a set
/// of paths.
struct Layout {
    groups: &'static [&'static str],
    kind: &'static str,
    places: &'static [(Path, &'static [Path])],
}

const TEMPLATE_SPEC: Path = &[Key("spec"), Key("template"), Key("spec")];
const WORKLOAD_GROUPS: &[&str] = &["apps", "extensions"];

/// The built-in kinds with quantity fields, in every version the API server has served them
/// (the fields have the same paths in each).
const LAYOUTS: &[Layout] = &[
    Layout {
        groups: &[""],
        kind: "Pod",
        places: &[(&[Key("spec")], POD_SPEC)],
    },
    Layout {
        groups: &[""],
        kind: "PodTemplate",
        places: &[(&[Key("template"), Key("spec")], POD_SPEC)],
    },
    Layout {
        groups: &[""],
        kind: "ReplicationController",
        places: &[(TEMPLATE_SPEC, POD_SPEC)],
    },
    Layout {
        groups: WORKLOAD_GROUPS,
        kind: "Deployment",
        places: &[(TEMPLATE_SPEC, POD_SPEC)],
    },
    Layout {
        groups: WORKLOAD_GROUPS,
        kind: "ReplicaSet",
        places: &[(TEMPLATE_SPEC, POD_SPEC)],
    },
    Layout {
        groups: WORKLOAD_GROUPS,
        kind: "DaemonSet",
        places: &[(TEMPLATE_SPEC, POD_SPEC)],
    },
    Layout {
        groups: &["apps"],
        kind: "StatefulSet",
        places: &[
            (TEMPLATE_SPEC, POD_SPEC),
            (
                &[Key("spec"), Key("volumeClaimTemplates"), Any, Key("spec")],
                CLAIM_SPEC,
            ),
        ],
    },
    Layout {
        groups: &["batch"],
        kind: "Job",
        places: &[(TEMPLATE_SPEC, POD_SPEC)],
    },
    Layout {
        groups: &["batch"],
        kind: "CronJob",
        places: &[(
            &[
                Key("spec"),
                Key("jobTemplate"),
                Key("spec"),
                Key("template"),
                Key("spec"),
            ],
            POD_SPEC,
        )],
    },
    Layout {
        groups: &[""],
        kind: "PersistentVolumeClaim",
        places: &[
            (&[Key("spec")], CLAIM_SPEC),
            (
                &[Key("status")],
                &[&[AnyOf(&["capacity", "allocatedResources"]), Any]],
            ),
        ],
    },
    Layout {
        groups: &[""],
        kind: "PersistentVolume",
        places: &[(&[Key("spec")], &[&[Key("capacity"), Any]])],
    },
    Layout {
        groups: &[""],
        kind: "ResourceQuota",
        places: &[
            (&[Key("spec")], &[&[Key("hard"), Any]]),
            (&[Key("status")], &[&[AnyOf(&["hard", "used"]), Any]]),
        ],
    },
    Layout {
        groups: &[""],
        kind: "LimitRange",
        places: &[(
            &[Key("spec"), Key("limits"), Any],
            &[&[
                AnyOf(&[
                    "max",
                    "min",
                    "default",
                    "defaultRequest",
                    "maxLimitRequestRatio",
                ]),
                Any,
            ]],
        )],
    },
    Layout {
        groups: &[""],
        kind: "Node",
        places: &[(
            &[Key("status")],
            &[&[AnyOf(&["capacity", "allocatable"]), Any]],
        )],
    },
    Layout {
        groups: &["storage.k8s.io"],
        kind: "CSIStorageCapacity",
        places: &[(&[], &[&[AnyOf(&["capacity", "maximumVolumeSize"])]])],
    },
];

/// A path being matched: the prefix, then one of the paths after it, and how far along.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    prefix: Path,
    rest: Path,
    depth: usize,
}

impl Cursor {
    fn step(&self) -> Option<Step> {
        if self.depth < self.prefix.len() {
            Some(self.prefix[self.depth])
        } else {
            self.rest.get(self.depth - self.prefix.len()).copied()
        }
    }

    fn advance(self, key: Option<&str>) -> Option<Cursor> {
        let matches = match (self.step()?, key) {
            (Any, _) => true,
            (Key(want), Some(key)) => want == key,
            (AnyOf(keys), Some(key)) => keys.contains(&key),
            (_, None) => false,
        };
        matches.then_some(Cursor {
            depth: self.depth + 1,
            ..self
        })
    }

    fn complete(&self) -> bool {
        self.depth == self.prefix.len() + self.rest.len()
    }
}

/// `node` as the API server would write it for an object of `group` and `kind`.
pub struct ClusterObject<'a> {
    node: &'a Node,
    cursors: Vec<Cursor>,
}

impl<'a> ClusterObject<'a> {
    /// The object `node`, of the kind its own `apiVersion` and `kind` say.
    pub fn of(node: &'a Node) -> Self {
        let field = |key| node.get(key).and_then(Node::as_str).unwrap_or_default();
        let group = split_api_version(field("apiVersion")).map_or("", |(group, _)| group);
        Self::new(node, group, field("kind"))
    }

    /// The object `node`, of kind `kind` in API group `group` (`""` for the core group).
    pub fn new(node: &'a Node, group: &str, kind: &str) -> Self {
        let cursors = LAYOUTS
            .iter()
            .filter(|layout| layout.kind == kind && layout.groups.contains(&group))
            .flat_map(|layout| {
                layout.places.iter().flat_map(|(prefix, rests)| {
                    rests.iter().map(|rest| Cursor {
                        prefix,
                        rest,
                        depth: 0,
                    })
                })
            })
            .collect();
        ClusterObject { node, cursors }
    }
}

impl Serialize for ClusterObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Walk {
            node: self.node,
            cursors: &self.cursors,
        }
        .serialize(serializer)
    }
}

/// A node on the way down, with the paths that still lead through it.
struct Walk<'a> {
    node: &'a Node,
    cursors: &'a [Cursor],
}

impl Walk<'_> {
    fn children(&self, key: Option<&str>) -> Vec<Cursor> {
        self.cursors
            .iter()
            .filter_map(|cursor| cursor.advance(key))
            .collect()
    }
}

impl Serialize for Walk<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Off every path, the node is written as it is.
        if self.cursors.is_empty() {
            return self.node.serialize(serializer);
        }
        match &self.node.value {
            Value::Mapping(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for entry in entries {
                    let cursors = self.children(Some(&entry.key));
                    let value = Walk {
                        node: &entry.value,
                        cursors: &cursors,
                    };
                    map.serialize_entry(&entry.key, &value)?;
                }
                map.end()
            }
            Value::Sequence(items) => {
                let cursors = self.children(None);
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Walk {
                        node: item,
                        cursors: &cursors,
                    })?;
                }
                seq.end()
            }
            scalar => match quantity::canonical(scalar) {
                Some(text) if self.cursors.iter().any(Cursor::complete) => {
                    serializer.serialize_str(&text)
                }
                _ => self.node.serialize(serializer),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::documents::load;

    fn written(yaml: &str, group: &str, kind: &str) -> Json {
        let loaded = load(yaml);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let root = &loaded.documents[0].root;
        serde_json::to_value(ClusterObject::new(root, group, kind)).unwrap_or(Json::Null)
    }

    #[test]
    fn container_resources_become_strings_and_nothing_else_changes() {
        let yaml = "\
apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          ports: [{containerPort: 8080}]
          resources:
            limits: {cpu: 1, memory: 1000000000}
            requests: {cpu: 0.5, memory: 64Mi}
      initContainers:
        - name: init
          resources: {requests: {cpu: 0.25}}
      overhead: {cpu: 0.1}
      volumes:
        - name: scratch
          emptyDir: {sizeLimit: 1000}
";
        let object = written(yaml, "apps", "Deployment");
        let spec = &object["spec"]["template"]["spec"];
        assert_eq!(object["spec"]["replicas"], json!(3));
        assert_eq!(
            spec["containers"][0]["ports"][0]["containerPort"],
            json!(8080)
        );
        assert_eq!(
            spec["containers"][0]["resources"],
            json!({"limits": {"cpu": "1", "memory": "1G"}, "requests": {"cpu": "500m", "memory": "64Mi"}})
        );
        assert_eq!(
            spec["initContainers"][0]["resources"]["requests"]["cpu"],
            json!("250m")
        );
        assert_eq!(spec["overhead"]["cpu"], json!("100m"));
        assert_eq!(spec["volumes"][0]["emptyDir"]["sizeLimit"], json!("1k"));
        let loaded = load(yaml);
        let of_itself = serde_json::to_value(ClusterObject::of(&loaded.documents[0].root)).ok();
        assert_eq!(of_itself, Some(object));
    }

    #[test]
    fn old_api_versions_and_other_kinds_have_their_quantities_too() {
        let daemonset = "spec: {template: {spec: {containers: [{resources: {limits: {cpu: 2}}}]}}}";
        let object = written(daemonset, "extensions", "DaemonSet");
        assert_eq!(
            object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            json!("2")
        );
        let cronjob = "spec: {jobTemplate: {spec: {template: {spec: {containers: [{resources: {requests: {memory: 128974848}}}]}}}}}";
        let object = written(cronjob, "batch", "CronJob");
        assert_eq!(
            object["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["resources"]
                ["requests"]["memory"],
            json!("128974848")
        );
        let quota = "spec: {hard: {pods: 10, requests.cpu: 4}}";
        assert_eq!(
            written(quota, "", "ResourceQuota")["spec"]["hard"],
            json!({"pods": "10", "requests.cpu": "4"})
        );
        let limits =
            "spec: {limits: [{type: Container, max: {cpu: 2}, maxLimitRequestRatio: {cpu: 4}}]}";
        let object = written(limits, "", "LimitRange");
        assert_eq!(object["spec"]["limits"][0]["max"]["cpu"], json!("2"));
        assert_eq!(
            object["spec"]["limits"][0]["maxLimitRequestRatio"]["cpu"],
            json!("4")
        );
        let claim = "spec: {volumeClaimTemplates: [{spec: {resources: {requests: {storage: 1000000000000}}}}]}";
        assert_eq!(
            written(claim, "apps", "StatefulSet")["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]
                ["requests"]["storage"],
            json!("1T")
        );
    }

    #[test]
    fn a_custom_resource_of_the_same_kind_is_written_as_it_is() {
        let yaml = "spec: {template: {spec: {containers: [{resources: {limits: {cpu: 1}}}]}}}";
        let object = written(yaml, "example.com", "Deployment");
        assert_eq!(
            object["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"],
            json!(1)
        );
    }

    #[test]
    fn the_walk_writes_what_the_node_writes_off_the_paths() {
        let yaml = "kind: ConfigMap\ndata: {a: 1, b: [1, 2.5, true, null]}\n";
        let loaded = load(yaml);
        let root = &loaded.documents[0].root;
        assert_eq!(
            serde_json::to_string(&ClusterObject::new(root, "", "Pod")).ok(),
            serde_json::to_string(root).ok()
        );
    }
}
