//! What a policy module reference names: `registry://HOST/REPO:TAG`,
//! `registry://HOST/REPO@sha256:DIGEST`, or `https://HOST/PATH.wasm`, as Kubewarden writes
//! `spec.module` (a reference without a tag means `:latest`, as `docker pull` does).

use std::fmt;

/// A module admit downloads rather than reads from the repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModuleRef {
    /// An OCI artifact in a registry.
    Registry(RegistryRef),
    /// A plain download.
    Https(String),
}

/// An OCI reference, kept as the user wrote it (the lockfile's key) and as oci-client parsed it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryRef {
    /// As written, `registry://` included.
    pub written: String,
    /// `HOST[:PORT]`.
    pub registry: String,
    /// The repository path, without tag or digest.
    pub repository: String,
    /// The tag, when the reference names one (`latest` when it names neither).
    pub tag: Option<String>,
    /// The manifest digest, when the reference pins one.
    pub digest: Option<String>,
}

/// Why a string is not a module reference admit can fetch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReferenceError(pub String);

impl ModuleRef {
    /// Whether `name` is written as a remote reference (`registry://`, `https://`, `http://`),
    /// as opposed to a path or a built-in id.
    pub fn is_remote(name: &str) -> bool {
        ["registry://", "https://", "http://"]
            .iter()
            .any(|scheme| name.starts_with(scheme))
    }

    /// Parse a remote reference.
    pub fn parse(name: &str) -> Result<ModuleRef, ReferenceError> {
        let name = name.trim();
        if let Some(rest) = name.strip_prefix("registry://") {
            return RegistryRef::parse(name, rest).map(ModuleRef::Registry);
        }
        if let Some(rest) = name.strip_prefix("https://") {
            if rest.is_empty() || rest.starts_with('/') {
                return Err(ReferenceError(format!("`{name}` names no host")));
            }
            return Ok(ModuleRef::Https(name.to_string()));
        }
        if name.starts_with("http://") {
            return Err(ReferenceError(format!(
                "`{name}`: admit downloads modules over https:// only; a registry without TLS \
                 is named with registry:// and listed under `insecure_sources` in sources.yaml"
            )));
        }
        Err(ReferenceError(format!(
            "`{name}` is not a registry:// or https:// reference"
        )))
    }

    /// The reference as written: the lockfile's key and the policy's origin in reports.
    pub fn written(&self) -> &str {
        match self {
            ModuleRef::Registry(r) => &r.written,
            ModuleRef::Https(url) => url,
        }
    }

    /// The id a policy gets when its metadata has no title: the repository's or file's last
    /// name, without tag or extension (`pod-privileged`).
    pub fn fallback_id(&self) -> String {
        let last = match self {
            ModuleRef::Registry(r) => r.repository.rsplit('/').next().unwrap_or(&r.repository),
            ModuleRef::Https(url) => {
                let path = url.split(['?', '#']).next().unwrap_or(url);
                path.rsplit('/').next().unwrap_or(path)
            }
        };
        last.strip_suffix(".wasm").unwrap_or(last).to_string()
    }
}

impl fmt::Display for ModuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.written())
    }
}

impl RegistryRef {
    /// A container image reference as a policy names it to the `oci/*` host calls, with
    /// Docker's defaults: `busybox` is `docker.io/library/busybox:latest`.
    pub fn image(text: &str) -> Result<RegistryRef, ReferenceError> {
        let first = text.split('/').next().unwrap_or("");
        let has_host = text.contains('/')
            && (first.contains('.') || first.contains(':') || first == "localhost");
        let full = match (has_host, text.contains('/')) {
            (true, _) => text.to_string(),
            (false, true) => format!("docker.io/{text}"),
            (false, false) => format!("docker.io/library/{text}"),
        };
        Self::parse(text, &full)
    }

    /// `HOST[:PORT]/PATH[:TAG][@sha256:HEX]`, as the distribution spec's reference grammar
    /// writes it. Parsed here rather than with oci-client's parser, whose regular expression
    /// costs tens of milliseconds to compile: more than a whole warm check.
    fn parse(written: &str, rest: &str) -> Result<RegistryRef, ReferenceError> {
        let invalid =
            |why: &str| ReferenceError(format!("`{written}` is not a valid OCI reference: {why}"));
        // A registry:// reference always names its host (Kubewarden has no default registry),
        // so `registry://pod-privileged:v1` is a mistake rather than Docker Hub.
        let Some((registry, remainder)) = rest.split_once('/') else {
            return Err(ReferenceError(format!(
                "`{written}` names no registry host: write registry://HOST/REPOSITORY:TAG"
            )));
        };
        if registry.is_empty()
            || !registry
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        {
            return Err(invalid("the registry host is not HOST or HOST:PORT"));
        }
        let (name_and_tag, digest) = match remainder.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (remainder, None),
        };
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name_and_tag[last_slash..].split_once(':') {
            Some((_, tag)) => (
                &name_and_tag[..name_and_tag.len() - tag.len() - 1],
                Some(tag),
            ),
            None => (name_and_tag, None),
        };
        let component = |c: &str| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.as_bytes()[0].is_ascii_alphanumeric()
        };
        if !repository.split('/').all(component) {
            return Err(invalid(
                "a repository is lower-case letters, digits and `._-`, in `/`-separated parts",
            ));
        }
        if let Some(tag) = tag {
            let valid = (1..=128).contains(&tag.len())
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                && (tag.as_bytes()[0].is_ascii_alphanumeric() || tag.as_bytes()[0] == b'_');
            if !valid {
                return Err(invalid("a tag is up to 128 letters, digits and `_.-`"));
            }
        }
        if let Some(digest) = digest
            && !super::lockfile::is_sha256(digest)
        {
            return Err(invalid(
                "a digest is sha256: and 64 lower-case hexadecimal digits",
            ));
        }
        Ok(RegistryRef {
            written: written.to_string(),
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: tag
                .map(str::to_string)
                .or_else(|| digest.is_none().then(|| "latest".to_string())),
            digest: digest.map(str::to_string),
        })
    }

    /// The reference with `digest` in place of any tag: what a locked reference pulls.
    pub fn at_digest(&self, digest: &str) -> oci_client::Reference {
        oci_client::Reference::with_digest(
            self.registry.clone(),
            self.repository.clone(),
            digest.to_string(),
        )
    }

    /// The reference as written, for resolving its tag.
    pub fn as_written(&self) -> oci_client::Reference {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => self.at_digest(digest),
            (None, tag) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                tag.clone().unwrap_or_else(|| "latest".to_string()),
            ),
        }
    }

    /// Another tag in the same repository (cosign's `sha256-HEX.sig`).
    pub fn with_tag(&self, tag: &str) -> oci_client::Reference {
        oci_client::Reference::with_tag(
            self.registry.clone(),
            self.repository.clone(),
            tag.to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_references_keep_host_repository_tag_and_digest() {
        let ModuleRef::Registry(r) =
            ModuleRef::parse("registry://ghcr.io/kubewarden/policies/pod-privileged:v0.3.2")
                .unwrap()
        else {
            panic!("not a registry reference")
        };
        assert_eq!(r.registry, "ghcr.io");
        assert_eq!(r.repository, "kubewarden/policies/pod-privileged");
        assert_eq!(r.tag.as_deref(), Some("v0.3.2"));
        assert_eq!(r.digest, None);

        let digest = format!("sha256:{}", "a".repeat(64));
        let ModuleRef::Registry(r) =
            ModuleRef::parse(&format!("registry://localhost:5000/p/x@{digest}")).unwrap()
        else {
            panic!("not a registry reference")
        };
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(digest.as_str()));

        let ModuleRef::Registry(r) = ModuleRef::parse("registry://localhost:5000/p/x").unwrap()
        else {
            panic!("not a registry reference")
        };
        assert_eq!(r.tag.as_deref(), Some("latest"));
    }

    #[test]
    fn mistakes_are_named() {
        let error = ModuleRef::parse("registry://pod-privileged:v1").unwrap_err();
        assert!(error.0.contains("names no registry host"), "{error}");
        let error = ModuleRef::parse("http://example.com/p.wasm").unwrap_err();
        assert!(error.0.contains("https:// only"), "{error}");
        let error = ModuleRef::parse("registry://r.example/Policies/x:v1").unwrap_err();
        assert!(error.0.contains("lower-case"), "{error}");
        let error = ModuleRef::parse("registry://r.example/p/x@sha256:abc").unwrap_err();
        assert!(error.0.contains("64 lower-case hexadecimal"), "{error}");
        let error = ModuleRef::parse("registry://r.example/p/x:v1!").unwrap_err();
        assert!(error.0.contains("a tag is"), "{error}");
        assert!(ModuleRef::is_remote("https://example.com/p.wasm"));
        assert!(!ModuleRef::is_remote("policies/p.wasm"));
    }

    #[test]
    fn the_fallback_id_is_the_last_name() {
        let id = |s: &str| ModuleRef::parse(s).unwrap().fallback_id();
        assert_eq!(
            id("registry://ghcr.io/kubewarden/policies/pod-privileged:v0.3.2"),
            "pod-privileged"
        );
        assert_eq!(
            id("https://example.com/dl/safe-labels.wasm?x=1"),
            "safe-labels"
        );
    }
}
