//! `image-tag`: best practice. Every container image must be pinned: a tag other than `latest`
//! or a digest, so that what runs is what was reviewed and a rollback returns to the same bits.
//! With `require_digest`, only a digest will do.

use admit_policy_kit::{Node, Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Require `@sha256:...` on every image; a tag alone can be moved to other content.
    require_digest: bool,
}

impl admit_policy_kit::Settings for Settings {}

/// An image reference split into repository, tag and digest (`registry:5000/app:1.0@sha256:..`).
fn split(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    // A colon before the last slash is a registry port, not a tag.
    let last = rest.rfind('/').map_or(0, |slash| slash + 1);
    match rest[last..].rfind(':') {
        Some(colon) => (
            &rest[..last + colon],
            Some(&rest[last + colon + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    for container in spec.containers() {
        let Some(image) = container.get("/image").and_then(Node::as_str) else {
            continue;
        };
        let (repository, tag, digest) = split(image);
        let tag = tag.filter(|t| !t.is_empty());
        let problem = match (tag, digest) {
            (_, Some(_)) => continue,
            _ if request.settings.require_digest => format!(
                "uses image {image:?} without a digest; pin it as {image}@sha256:<digest> (require_digest is set)"
            ),
            (None, None) => format!(
                "uses image {image:?} without a tag; pin a version (e.g. {repository}:1.2.3) or a digest"
            ),
            (Some("latest"), None) => format!(
                "uses image {image:?}; latest moves to new releases, pin a version (e.g. {repository}:1.2.3) or a digest"
            ),
            (Some(_), None) => continue,
        };
        violations.add(
            container.pointer("/image"),
            format!("{} {problem}", container.label()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::testing::findings;
    use serde_json::{Value, json};

    fn run(settings: Settings, object: Value) -> Vec<(String, String)> {
        findings(check, "Pod", &object, &settings)
    }

    fn pod(images: &[&str]) -> Value {
        let containers: Vec<Value> = images
            .iter()
            .enumerate()
            .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
            .collect();
        json!({"spec": {"containers": containers}})
    }

    #[test]
    fn splits_registry_ports_tags_and_digests() {
        assert_eq!(split("nginx"), ("nginx", None, None));
        assert_eq!(
            split("registry:5000/team/app"),
            ("registry:5000/team/app", None, None)
        );
        assert_eq!(
            split("registry:5000/app:1.0@sha256:ab"),
            ("registry:5000/app", Some("1.0"), Some("sha256:ab"))
        );
    }

    #[test]
    fn missing_and_latest_tags_are_reported_at_the_image() {
        let found = run(
            Settings::default(),
            pod(&[
                "nginx:1.27",
                "nginx",
                "registry:5000/app:latest",
                "app@sha256:0123",
            ]),
        );
        assert_eq!(
            found,
            [
                (
                    "/spec/containers/1/image".into(),
                    "container \"c1\" uses image \"nginx\" without a tag; pin a version (e.g. nginx:1.2.3) or a digest".into()
                ),
                (
                    "/spec/containers/2/image".into(),
                    "container \"c2\" uses image \"registry:5000/app:latest\"; latest moves to new releases, pin a version (e.g. registry:5000/app:1.2.3) or a digest".into()
                ),
            ]
        );
    }

    #[test]
    fn require_digest_accepts_only_digests() {
        let found = run(
            Settings {
                require_digest: true,
            },
            pod(&["nginx:1.27", "nginx:1.27@sha256:0123"]),
        );
        assert_eq!(
            found,
            [(
                "/spec/containers/0/image".into(),
                "container \"c0\" uses image \"nginx:1.27\" without a digest; pin it as nginx:1.27@sha256:<digest> (require_digest is set)".into()
            )]
        );
    }
}
