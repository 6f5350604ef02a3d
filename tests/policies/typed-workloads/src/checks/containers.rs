//! Containers of a pod spec (init and ephemeral ones too): images only from
//! `allowedRegistries`, and never `imagePullPolicy: Never`.

use k8s_openapi::api::core::v1::PodSpec;

use crate::settings::Settings;

/// One message per rule a container breaks. `at` is where the pod spec is in the object
/// (`spec.template.spec`), so a message names the container's field exactly.
pub fn check(at: &str, spec: &PodSpec, settings: &Settings) -> Vec<String> {
    // Init and ephemeral containers are different types with the same three fields.
    let containers = (spec.containers.iter())
        .map(|c| ("containers", &c.name, &c.image, &c.image_pull_policy))
        .enumerate();
    let init = (spec.init_containers.iter().flatten())
        .map(|c| ("initContainers", &c.name, &c.image, &c.image_pull_policy))
        .enumerate();
    let ephemeral = (spec.ephemeral_containers.iter().flatten())
        .map(|c| {
            (
                "ephemeralContainers",
                &c.name,
                &c.image,
                &c.image_pull_policy,
            )
        })
        .enumerate();

    let mut problems = Vec::new();
    for (i, (list, name, image, pull_policy)) in containers.chain(init).chain(ephemeral) {
        let container = format!("container \"{name}\" ({at}.{list}[{i}])");
        match image.as_deref() {
            Some(image) if settings.allows_image(image) => {}
            Some(image) => problems.push(format!(
                "{container}: image \"{image}\" is not from an allowed registry ({})",
                settings.allowed_registries.join(", ")
            )),
            // The API server refuses a container without an image; an allow-list still cannot
            // vouch for it.
            None if !settings.allowed_registries.is_empty() => {
                problems.push(format!("{container}: has no image"))
            }
            None => {}
        }
        if pull_policy.as_deref() == Some("Never") {
            problems.push(format!("{container}: imagePullPolicy Never is not allowed"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    fn allowing(registries: &[&str]) -> Settings {
        Settings {
            allowed_registries: registries.iter().map(|r| r.to_string()).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn without_allowed_registries_every_image_passes() {
        let spec = spec(json!({"containers": [{"name": "a", "image": "nginx"}]}));
        assert!(check("spec", &spec, &Settings::default()).is_empty());
    }

    #[test]
    fn images_from_other_registries_are_reported_in_every_container_list() {
        let spec = spec(json!({
            "containers": [
                {"name": "ok", "image": "ghcr.io/acme/api:1"},
                {"name": "web", "image": "nginx:1.27"}
            ],
            "initContainers": [{"name": "setup", "image": "busybox"}],
            "ephemeralContainers": [{"name": "debug", "image": "ghcr.io/other/shell"}]
        }));
        assert_eq!(
            check(
                "spec.template.spec",
                &spec,
                &allowing(&["ghcr.io/acme/", "quay.io/acme/"])
            ),
            [
                "container \"web\" (spec.template.spec.containers[1]): image \"nginx:1.27\" is not from an allowed registry (ghcr.io/acme/, quay.io/acme/)",
                "container \"setup\" (spec.template.spec.initContainers[0]): image \"busybox\" is not from an allowed registry (ghcr.io/acme/, quay.io/acme/)",
                "container \"debug\" (spec.template.spec.ephemeralContainers[0]): image \"ghcr.io/other/shell\" is not from an allowed registry (ghcr.io/acme/, quay.io/acme/)",
            ]
        );
    }

    #[test]
    fn a_container_without_an_image_fails_only_an_allow_list() {
        let spec = spec(json!({"containers": [{"name": "a"}]}));
        assert!(check("spec", &spec, &Settings::default()).is_empty());
        assert_eq!(
            check("spec", &spec, &allowing(&["ghcr.io/"])),
            ["container \"a\" (spec.containers[0]): has no image"]
        );
    }

    #[test]
    fn pull_policy_never_is_reported_in_every_container_list() {
        let spec = spec(json!({
            "containers": [
                {"name": "a", "image": "x", "imagePullPolicy": "IfNotPresent"},
                {"name": "b", "image": "x", "imagePullPolicy": "Never"}
            ],
            "initContainers": [{"name": "i", "image": "x", "imagePullPolicy": "Never"}],
            "ephemeralContainers": [{"name": "e", "image": "x", "imagePullPolicy": "Never"}]
        }));
        assert_eq!(
            check("spec", &spec, &Settings::default()),
            [
                "container \"b\" (spec.containers[1]): imagePullPolicy Never is not allowed",
                "container \"i\" (spec.initContainers[0]): imagePullPolicy Never is not allowed",
                "container \"e\" (spec.ephemeralContainers[0]): imagePullPolicy Never is not allowed",
            ]
        );
    }

    #[test]
    fn one_container_can_break_both_rules() {
        let spec = spec(
            json!({"containers": [{"name": "a", "image": "nginx", "imagePullPolicy": "Never"}]}),
        );
        assert_eq!(
            check("spec", &spec, &allowing(&["ghcr.io/"])),
            [
                "container \"a\" (spec.containers[0]): image \"nginx\" is not from an allowed registry (ghcr.io/)",
                "container \"a\" (spec.containers[0]): imagePullPolicy Never is not allowed",
            ]
        );
    }
}
