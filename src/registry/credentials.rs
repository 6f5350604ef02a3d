//! Registry credentials as `docker login` (or `podman login`) leaves them: the Docker config
//! file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), its credential helpers
//! included, then podman's `auth.json`. What was tried is kept, so a refusal can say which
//! credential the registry refused, or where admit looked and found none.

use std::path::PathBuf;

use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::secrets::RegistryAuth;

/// The credential for one registry, and where it came from.
#[derive(Debug, Clone)]
pub struct Credential {
    /// What is sent.
    pub auth: RegistryAuth,
    /// Where it came from, or where admit looked: for messages.
    pub source: String,
}

/// The credential for `registry` (`HOST[:PORT]`).
pub fn for_registry(registry: &str) -> Credential {
    // Docker keys Docker Hub's entry by its old index URL.
    let server = if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    let mut looked = Vec::new();
    for (file, name) in candidate_files() {
        let Ok(reader) = std::fs::File::open(&file) else {
            looked.push(format!("{name} {} (absent)", file.display()));
            continue;
        };
        match docker_credential::get_credential_from_reader(std::io::BufReader::new(reader), server)
        {
            Ok(credential) => {
                let (auth, who) = match credential {
                    DockerCredential::UsernamePassword(user, password) => {
                        let who = format!("user `{user}`");
                        (RegistryAuth::Basic(user, password), who)
                    }
                    DockerCredential::IdentityToken(token) => {
                        (RegistryAuth::Bearer(token), "an identity token".to_string())
                    }
                };
                return Credential {
                    auth,
                    source: format!("{who} from {name} {}", file.display()),
                };
            }
            Err(CredentialRetrievalError::NoCredentialConfigured) => {
                looked.push(format!(
                    "{name} {} (no entry for {registry})",
                    file.display()
                ));
            }
            Err(error) => {
                looked.push(format!("{name} {} ({error})", file.display()));
            }
        }
    }
    Credential {
        auth: RegistryAuth::Anonymous,
        source: format!("no credentials: looked in {}", looked.join(", ")),
    }
}

/// The Docker config file, then podman's auth file.
fn candidate_files() -> Vec<(PathBuf, &'static str)> {
    let mut files = Vec::new();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(dir) => files.push((PathBuf::from(dir).join("config.json"), "$DOCKER_CONFIG")),
        None => {
            if let Some(home) = &home {
                files.push((home.join(".docker").join("config.json"), "Docker's"));
            }
        }
    }
    if let Some(file) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|v| !v.is_empty()) {
        files.push((PathBuf::from(file), "$REGISTRY_AUTH_FILE"));
    } else if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        files.push((
            PathBuf::from(runtime).join("containers").join("auth.json"),
            "podman's",
        ));
    }
    files
}
