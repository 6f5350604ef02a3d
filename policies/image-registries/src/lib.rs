//! `image-registries`: best practice. Every container image must come from one of the registry
//! prefixes the `allowed` setting lists, so that only images from vetted sources run.
//! Docker Hub's short names are expanded first (`nginx` is `docker.io/library/nginx`), so a
//! prefix cannot be bypassed by leaving the registry out.

use admit_policy_kit::{Node, Request, Violations};
use serde::Deserialize;

admit_policy_kit::metadata!(include_bytes!("../metadata.json"));
admit_policy_kit::register!(Settings, check);

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Registry hosts or host/path prefixes, e.g. `registry.example.com` or `ghcr.io/acme`.
    allowed: Vec<String>,
}

impl admit_policy_kit::Settings for Settings {
    fn check(&self) -> Result<(), String> {
        if self.allowed.is_empty() {
            return Err(
                r#"allowed must list at least one registry prefix, e.g. {"allowed": ["registry.example.com", "ghcr.io/acme"]}"#
                    .into(),
            );
        }
        for (index, prefix) in self.allowed.iter().enumerate() {
            if prefix.trim_matches('/').is_empty() {
                return Err(format!(
                    "allowed[{index}] is empty; give a registry host or a host/path prefix"
                ));
            }
            if let Some((_, rest)) = prefix.split_once("://") {
                return Err(format!(
                    "allowed[{index}] ({prefix:?}) must be a registry prefix without a scheme, e.g. {rest:?}"
                ));
            }
        }
        Ok(())
    }
}

/// Docker's old name for Docker Hub means the same registry.
fn canonical(name: &str) -> String {
    match name.strip_prefix("index.docker.io") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("docker.io{rest}"),
        _ => name.to_string(),
    }
}

/// The full repository of an image, without tag or digest, as the runtime resolves it.
fn repository(image: &str) -> String {
    let image = image.split_once('@').map_or(image, |(name, _)| name);
    let last = image.rfind('/').map_or(0, |slash| slash + 1);
    let name = match image[last..].rfind(':') {
        Some(colon) => &image[..last + colon],
        None => image,
    };
    // The first component names a registry only if it looks like a host (Docker's rule).
    match name.split_once('/') {
        Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => canonical(name),
        Some(_) => format!("docker.io/{name}"),
        None => format!("docker.io/library/{name}"),
    }
}

/// Whether `repository` is `prefix` or lies under it, on a path boundary (`ghcr.io/acme` does
/// not allow `ghcr.io/acme-evil/app`).
fn allows(prefix: &str, repository: &str) -> bool {
    let prefix = canonical(prefix.trim_end_matches('/'));
    repository
        .strip_prefix(&prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn check(request: &Request<'_, Settings>, violations: &mut Violations) {
    let Some(spec) = request.pod_spec() else {
        return;
    };
    let allowed = &request.settings.allowed;
    for container in spec.containers() {
        let Some(image) = container.get("/image").and_then(Node::as_str) else {
            continue;
        };
        let repository = repository(image);
        if !allowed.iter().any(|prefix| allows(prefix, &repository)) {
            violations.add(
                container.pointer("/image"),
                format!(
                    "{} uses image {image:?} ({repository}), which is not from an allowed registry: {}",
                    container.label(),
                    allowed.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use admit_policy_kit::Settings as _;
    use admit_policy_kit::testing::findings;
    use serde_json::{Value, json};

    fn run(allowed: &[&str], images: &[&str]) -> Vec<(String, String)> {
        let settings = Settings {
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
        };
        let containers: Vec<Value> = images
            .iter()
            .enumerate()
            .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
            .collect();
        let object = json!({"spec": {"template": {"spec": {"initContainers": containers}}}});
        findings(check, "Deployment", &object, &settings)
    }

    #[test]
    fn expands_docker_hub_short_names() {
        assert_eq!(repository("nginx:1.27"), "docker.io/library/nginx");
        assert_eq!(repository("bitnami/redis"), "docker.io/bitnami/redis");
        assert_eq!(
            repository("index.docker.io/library/nginx"),
            "docker.io/library/nginx"
        );
        assert_eq!(
            repository("localhost:5000/app:1@sha256:00"),
            "localhost:5000/app"
        );
        assert_eq!(repository("ghcr.io/acme/app:v1"), "ghcr.io/acme/app");
    }

    #[test]
    fn prefixes_match_on_path_boundaries() {
        let found = run(
            &["ghcr.io/acme/", "docker.io/library"],
            &[
                "ghcr.io/acme/app:1",
                "nginx:1.27",
                "ghcr.io/acme-evil/app:1",
                "redis:7",
            ],
        );
        assert_eq!(
            found,
            [(
                "/spec/template/spec/initContainers/2/image".into(),
                "init container \"c2\" uses image \"ghcr.io/acme-evil/app:1\" (ghcr.io/acme-evil/app), which is not from an allowed registry: ghcr.io/acme/, docker.io/library".into()
            )]
        );
    }

    #[test]
    fn settings_must_name_at_least_one_prefix() {
        let check = |json: &str| serde_json::from_str::<Settings>(json).unwrap().check();
        assert!(
            check(r#"{}"#)
                .unwrap_err()
                .starts_with("allowed must list at least one")
        );
        assert_eq!(
            check(r#"{"allowed": ["ghcr.io", ""]}"#).unwrap_err(),
            "allowed[1] is empty; give a registry host or a host/path prefix"
        );
        assert_eq!(
            check(r#"{"allowed": ["https://ghcr.io"]}"#).unwrap_err(),
            "allowed[0] (\"https://ghcr.io\") must be a registry prefix without a scheme, e.g. \"ghcr.io\""
        );
        assert!(check(r#"{"allowed": ["ghcr.io"]}"#).is_ok());
    }
}
