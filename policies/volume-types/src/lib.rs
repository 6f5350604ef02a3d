//! `volume-types`: Pod Security Standards, restricted. Every volume must be one of the core
//! types the restricted policy permits; host paths, network filesystems and in-tree cloud disks
//! bypass the PersistentVolume layer where cluster administrators vet storage.

use admit_policy_kit::{NoSettings, Node, Request, Violations, escape};

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(NoSettings, check);

const ALLOWED: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn check(request: &Request<'_, NoSettings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for (pointer, volume) in spec.items("volumes") {
        // In key order, so that the violations' order does not depend on how the manifest
        // orders the volume's fields.
        let Some(fields) = volume.as_sorted_object() else {
            continue;
        };
        let name = volume
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or_default();
        // A volume with no source at all is defaulted to emptyDir by the API server, so only
        // a source that is set (non-null) and not allowed is a violation.
        for (field, value) in fields {
            if field == "name" || value.is_null() || ALLOWED.contains(&field) {
                continue;
            }
            violations.add(
                format!("{pointer}/{}", escape(field)),
                format!(
                    "volume {name:?} uses {field}; the restricted policy allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::run;
    use serde_json::json;

    #[test]
    fn only_the_listed_volume_types_pass() {
        let found = run(
            check,
            "Job",
            json!({"spec": {"template": {"spec": {"volumes": [
                {"name": "config", "configMap": {"name": "app"}},
                {"name": "host", "hostPath": {"path": "/var/run"}},
                {"name": "scratch"},
                {"name": "share", "nfs": {"server": "nfs", "path": "/"}},
                {"name": "tokens", "projected": {"sources": []}},
            ]}}}}),
        );
        let allowed = "the restricted policy allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes";
        assert_eq!(
            found,
            [
                (
                    "/spec/template/spec/volumes/1/hostPath".into(),
                    format!("volume \"host\" uses hostPath; {allowed}")
                ),
                (
                    "/spec/template/spec/volumes/3/nfs".into(),
                    format!("volume \"share\" uses nfs; {allowed}")
                ),
            ]
        );
    }
}
