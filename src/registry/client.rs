//! The network side: OCI distribution requests through oci-client (the client Kubewarden's
//! policy-fetcher uses) and `https://` downloads through the same reqwest stack, each with a
//! time limit, and every failure turned into a message that says what to do.
//!
//! A Kubewarden policy is an OCI artifact with one layer of
//! `application/vnd.wasm.content.layer.v1+wasm` and a config of
//! `application/vnd.wasm.config.v1+json`, as `kwctl push` writes it (policy-fetcher's
//! `registry.rs`). Every byte is hashed before it is returned: a manifest against the digest
//! that named it, a module against its layer's digest.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use oci_client::Client;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{
    IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE, OciDescriptor,
    WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE,
};
use serde::Deserialize;

use super::RegistryError;
use super::credentials::{self, Credential};
use super::reference::RegistryRef;
use super::sources::Sources;
use super::store::sha256;
use super::verify::{
    SIGNATURE_ANNOTATION, SIGNATURE_LAYER_MEDIA_TYPE, StoredSignature, StoredSignatures,
};

/// What a pull brings: the manifest and the module, both checked against their digests.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The manifest as the registry served it.
    pub manifest: Vec<u8>,
    /// The module.
    pub module: Vec<u8>,
    /// `sha256:` of the module (its layer's digest).
    pub module_digest: String,
}

/// The manifest fields a policy pull reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Descriptor {
    media_type: String,
    pub(super) digest: String,
    #[serde(default)]
    size: i64,
    #[serde(default)]
    annotations: Option<HashMap<String, String>>,
}

impl Descriptor {
    fn oci(&self) -> OciDescriptor {
        OciDescriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            ..OciDescriptor::default()
        }
    }
}

/// A connection to whatever registries a run names, made on first use.
pub struct Fetcher {
    runtime: tokio::runtime::Runtime,
    sources: Sources,
    timeout: Duration,
    clients: HashMap<String, (Client, Credential)>,
}

impl Fetcher {
    /// A fetcher whose every request must answer within `timeout`.
    pub fn new(sources: Sources, timeout: Duration) -> Result<Fetcher, RegistryError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::new(format!("cannot start the network runtime: {e}")))?;
        Ok(Fetcher {
            runtime,
            sources,
            timeout,
            clients: HashMap::new(),
        })
    }

    fn client(&mut self, registry: &str) -> Result<(Client, Credential), RegistryError> {
        if let Some(found) = self.clients.get(registry) {
            return Ok(found.clone());
        }
        let mut config = ClientConfig {
            protocol: if self.sources.is_insecure(registry) {
                ClientProtocol::HttpsExcept(vec![registry.to_string()])
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(self.timeout),
            read_timeout: Some(self.timeout),
            user_agent: concat!("admit/", env!("CARGO_PKG_VERSION")),
            max_concurrent_download: 2,
            ..ClientConfig::default()
        };
        config.platform_resolver = None;
        if let Some(pems) = self.sources.authorities.get(registry) {
            config.extra_root_certificates = pems
                .iter()
                .map(|pem| Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: pem.clone(),
                })
                .collect();
        }
        let client = Client::try_from(config).map_err(|e| {
            RegistryError::new(format!("cannot set up a client for {registry}: {e}"))
        })?;
        let credential = credentials::for_registry(registry);
        self.clients
            .insert(registry.to_string(), (client.clone(), credential.clone()));
        Ok((client, credential))
    }

    fn within<T>(
        &self,
        limit: Duration,
        future: impl Future<Output = Result<T, OciDistributionError>>,
    ) -> Result<T, Failure> {
        self.runtime.block_on(async {
            match tokio::time::timeout(limit, future).await {
                Ok(result) => result.map_err(Failure::Oci),
                Err(_) => Err(Failure::Deadline),
            }
        })
    }

    /// The digest `reference`'s tag points at now.
    pub fn resolve(&mut self, reference: &RegistryRef) -> Result<String, RegistryError> {
        let (client, credential) = self.client(&reference.registry)?;
        let image = reference.as_written();
        let digest = self
            .within(
                self.timeout,
                client.fetch_manifest_digest(&image, &credential.auth),
            )
            .map_err(|f| self.explain(f, reference, &credential, What::Tag))?;
        Ok(digest)
    }

    /// Pull the manifest `digest` of `reference` and its module.
    pub fn pull(&mut self, reference: &RegistryRef, digest: &str) -> Result<Pulled, RegistryError> {
        let (client, credential) = self.client(&reference.registry)?;
        let image = reference.at_digest(digest);
        let (manifest_bytes, _) = self
            .within(
                self.timeout,
                client.pull_manifest_raw(
                    &image,
                    &credential.auth,
                    &[
                        OCI_IMAGE_MEDIA_TYPE,
                        IMAGE_MANIFEST_MEDIA_TYPE,
                        OCI_IMAGE_INDEX_MEDIA_TYPE,
                    ],
                ),
            )
            .map_err(|f| self.explain(f, reference, &credential, What::Manifest))?;
        let manifest_bytes = manifest_bytes.to_vec();
        let actual = sha256(&manifest_bytes);
        if actual != digest {
            return Err(RegistryError::new(format!(
                "the registry served a manifest that hashes to {actual}, not {digest}; nothing was stored or run"
            )));
        }
        let layer = policy_layer(&manifest_bytes)?;
        let mut module = Vec::new();
        // A blob may take longer than one request's limit to arrive; a stalled one is caught
        // by the read timeout of each chunk.
        let blob_limit = self.timeout.saturating_mul(20);
        self.within(
            blob_limit,
            client.pull_blob(&image, &layer.oci(), &mut module),
        )
        .map_err(|f| self.explain(f, reference, &credential, What::Blob))?;
        let module_digest = sha256(&module);
        if module_digest != layer.digest
            || (layer.size >= 0 && module.len() as u64 != layer.size as u64)
        {
            return Err(RegistryError::new(format!(
                "the module downloaded hashes to {module_digest} ({} bytes), not the layer's {} ({} bytes); nothing was stored or run",
                module.len(),
                layer.digest,
                layer.size
            )));
        }
        Ok(Pulled {
            manifest: manifest_bytes,
            module,
            module_digest,
        })
    }

    /// The manifest (or image index) `reference` names, and its digest: for the `oci/*` host
    /// calls of policies that inspect images.
    pub fn manifest(
        &mut self,
        reference: &RegistryRef,
    ) -> Result<(Vec<u8>, String), RegistryError> {
        let (client, credential) = self.client(&reference.registry)?;
        let image = reference.as_written();
        let (bytes, _) = self
            .within(
                self.timeout,
                client.pull_manifest_raw(
                    &image,
                    &credential.auth,
                    &[
                        OCI_IMAGE_MEDIA_TYPE,
                        IMAGE_MANIFEST_MEDIA_TYPE,
                        OCI_IMAGE_INDEX_MEDIA_TYPE,
                        oci_client::manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE,
                    ],
                ),
            )
            .map_err(|f| self.explain(f, reference, &credential, What::Manifest))?;
        let digest = sha256(&bytes);
        Ok((bytes.to_vec(), digest))
    }

    /// The blob `digest` of `reference`'s repository, checked against its digest.
    pub fn blob(
        &mut self,
        reference: &RegistryRef,
        digest: &str,
        media_type: &str,
        size: i64,
    ) -> Result<Vec<u8>, RegistryError> {
        let (client, credential) = self.client(&reference.registry)?;
        let image = reference.as_written();
        let descriptor = OciDescriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size,
            ..OciDescriptor::default()
        };
        let mut bytes = Vec::new();
        self.within(
            self.timeout.saturating_mul(20),
            client.pull_blob(&image, &descriptor, &mut bytes),
        )
        .map_err(|f| self.explain(f, reference, &credential, What::Blob))?;
        Ok(bytes)
    }

    /// The cosign signatures of the manifest `digest` (none when there is no `.sig` tag).
    pub fn signatures(
        &mut self,
        reference: &RegistryRef,
        digest: &str,
    ) -> Result<StoredSignatures, RegistryError> {
        use base64::Engine;
        let (client, credential) = self.client(&reference.registry)?;
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let image = reference.with_tag(&format!("sha256-{hex}.sig"));
        let pulled = self.within(
            self.timeout,
            client.pull_manifest_raw(
                &image,
                &credential.auth,
                &[OCI_IMAGE_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE],
            ),
        );
        let manifest_bytes = match pulled {
            Ok((bytes, _)) => bytes,
            Err(failure) if failure.is_not_found() => return Ok(StoredSignatures::default()),
            Err(failure) => {
                return Err(self.explain(failure, reference, &credential, What::Signature));
            }
        };
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| RegistryError::new(format!("its signature manifest is not JSON: {e}")))?;
        let mut signatures = Vec::new();
        for layer in manifest
            .layers
            .iter()
            .filter(|l| l.media_type == SIGNATURE_LAYER_MEDIA_TYPE)
        {
            let Some(signature) = layer
                .annotations
                .as_ref()
                .and_then(|a| a.get(SIGNATURE_ANNOTATION))
            else {
                continue;
            };
            let mut payload = Vec::new();
            self.within(
                self.timeout,
                client.pull_blob(&image, &layer.oci(), &mut payload),
            )
            .map_err(|f| self.explain(f, reference, &credential, What::Signature))?;
            signatures.push(StoredSignature {
                payload: base64::engine::general_purpose::STANDARD.encode(&payload),
                signature: signature.clone(),
            });
        }
        Ok(StoredSignatures { signatures })
    }

    /// Download an `https://` module; sources.yaml's authorities for its host are trusted too.
    pub fn download(&mut self, url: &str) -> Result<Vec<u8>, RegistryError> {
        let timeout = self.timeout;
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| RegistryError::new(format!("not a valid URL: {e}")))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => return Err(RegistryError::new("the URL names no host")),
        };
        let mut authorities = Vec::new();
        for pem in self.sources.authorities.get(&host).into_iter().flatten() {
            authorities.push(reqwest::Certificate::from_pem(pem).map_err(|e| {
                RegistryError::new(format!(
                    "a certificate sources.yaml lists for {host} is not PEM: {e}"
                ))
            })?);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .user_agent(concat!("admit/", env!("CARGO_PKG_VERSION")))
            .tls_certs_merge(authorities)
            .build()
            .map_err(|e| RegistryError::new(format!("cannot set up an HTTPS client: {e}")))?;
        let result: Result<Vec<u8>, String> = self.runtime.block_on(async {
            let response = tokio::time::timeout(timeout, client.get(url).send())
                .await
                .map_err(|_| format!("no answer within {}s", timeout.as_secs()))?
                .map_err(|e| describe_request_error(&e, timeout))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("the server answered {status}"));
            }
            let body = tokio::time::timeout(timeout.saturating_mul(20), response.bytes())
                .await
                .map_err(|_| "the download did not finish in time; nothing was stored".to_string())?
                .map_err(|e| {
                    format!(
                        "the download was interrupted ({}); nothing was stored",
                        chain(&e)
                    )
                })?;
            Ok(body.to_vec())
        });
        result.map_err(|message| {
            let error = RegistryError::new(format!("cannot download {url}: {message}"));
            if is_tls_failure(&message) {
                error.help(TLS_HELP)
            } else {
                error
            }
        })
    }

    fn explain(
        &self,
        failure: Failure,
        reference: &RegistryRef,
        credential: &Credential,
        what: What,
    ) -> RegistryError {
        let registry = &reference.registry;
        let seconds = self.timeout.as_secs_f64();
        let error = match failure {
            Failure::Deadline => {
                return RegistryError::new(format!(
                    "{registry} did not answer within {seconds}s"
                ))
                .help("check the registry is up, or raise `registry: {timeout: SECONDS}` in admit.yaml (ADMIT_REGISTRY_TIMEOUT)");
            }
            Failure::Oci(error) => error,
        };
        if is_auth_error(&error) {
            let refused = match credential.auth {
                oci_client::secrets::RegistryAuth::Anonymous => format!(
                    "{registry} wants credentials and admit found none ({})",
                    credential.source
                ),
                _ => format!(
                    "{registry} refused the credentials of {}",
                    credential.source
                ),
            };
            return RegistryError::new(refused)
                .help(format!("run `docker login {registry}` (or set DOCKER_CONFIG to a directory whose config.json has an entry for {registry})"));
        }
        if is_not_found(&error) {
            return match what {
                What::Tag | What::Manifest => {
                    let name = match (&reference.digest, &reference.tag, what) {
                        (_, _, What::Manifest) | (Some(_), _, _) => "the manifest".to_string(),
                        (None, Some(tag), _) => format!("tag `{tag}`"),
                        (None, None, _) => "tag `latest`".to_string(),
                    };
                    RegistryError::new(format!(
                        "{name} is not in {registry}/{}",
                        reference.repository
                    ))
                    .help("check the reference's spelling and tag; `admit lock --update` re-resolves a locked tag")
                }
                What::Blob | What::Signature => {
                    RegistryError::new(format!("{registry} lists a blob it does not have"))
                }
            };
        }
        if let OciDistributionError::DigestError(e) = &error {
            return RegistryError::new(format!(
                "what {registry} sent does not hash to its digest ({e}); nothing was stored or run"
            ));
        }
        if let OciDistributionError::RequestError(e) = &error {
            let message = describe_request_error(e, self.timeout);
            let help = if is_tls_failure(&message) && !self.sources.is_insecure(registry) {
                TLS_HELP
            } else {
                "check the host name and your network; `--offline` runs from the store alone"
            };
            let interrupted =
                matches!(what, What::Blob) && (e.is_body() || e.is_decode() || e.is_timeout());
            return RegistryError::new(if interrupted {
                format!("the download from {registry} was interrupted ({message}); nothing was stored or run")
            } else {
                message
            })
            .help(help);
        }
        if let OciDistributionError::IoError(e) = &error
            && matches!(what, What::Blob)
        {
            return RegistryError::new(format!(
                "the download from {registry} was interrupted ({e}); nothing was stored or run"
            ));
        }
        RegistryError::new(format!("{registry}: {}", chain(&error)))
    }
}

/// Which request failed, to name what was missing.
#[derive(Debug, Clone, Copy)]
enum What {
    Tag,
    Manifest,
    Blob,
    Signature,
}

/// A request that failed or ran out of time.
enum Failure {
    Oci(OciDistributionError),
    Deadline,
}

impl Failure {
    fn is_not_found(&self) -> bool {
        matches!(self, Failure::Oci(e) if is_not_found(e))
    }
}

fn is_not_found(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|e| {
            matches!(
                e.code,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
                    | OciErrorCode::BlobUnknown
            )
        }),
        _ => false,
    }
}

fn is_auth_error(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => true,
        OciDistributionError::ServerError { code, .. } => matches!(code, 401 | 403),
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)),
        _ => false,
    }
}

const TLS_HELP: &str = "a registry over plain HTTP is listed under `insecure_sources`, and a \
     private certificate authority under `source_authorities`, in kwctl's sources.yaml \
     (`registry: {sources: FILE}` in admit.yaml names it)";

/// Whether a failure is TLS's: a certificate not trusted, or TLS spoken to a plain-HTTP server.
fn is_tls_failure(message: &str) -> bool {
    let lower = message.to_lowercase();
    ["tls", "certificate", "corrupt message", "handshake"]
        .iter()
        .any(|word| lower.contains(word))
}

/// A reqwest failure as a user reads it: an unknown host, a refused connection, a timeout.
fn describe_request_error(error: &reqwest::Error, timeout: Duration) -> String {
    let detail = chain(error);
    let host = error
        .url()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(port) => format!("{h}:{port}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| "the registry".to_string());
    if error.is_timeout() {
        return format!("{host} did not answer within {}s", timeout.as_secs_f64());
    }
    let lower = detail.to_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        return format!("cannot resolve host {host} ({detail})");
    }
    if error.is_connect() {
        return format!("cannot connect to {host} ({detail})");
    }
    detail
}

/// An error and its sources, one after another.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = next.source();
    }
    parts.join(": ")
}

/// The one wasm layer of a Kubewarden policy manifest; anything else is named.
pub(super) fn policy_layer(manifest_bytes: &[u8]) -> Result<Descriptor, RegistryError> {
    let manifest: Manifest = serde_json::from_slice(manifest_bytes)
        .map_err(|e| RegistryError::new(format!("the registry's manifest is not JSON: {e}")))?;
    let not_a_policy = |what: String| {
        RegistryError::new(format!("not a Kubewarden policy: {what}")).help(format!(
            "a policy is pushed by `kwctl push`: one layer of {WASM_LAYER_MEDIA_TYPE}"
        ))
    };
    if manifest.manifests.is_some()
        || manifest.media_type.as_deref() == Some(OCI_IMAGE_INDEX_MEDIA_TYPE)
    {
        return Err(not_a_policy(
            "it is an image index (a multi-platform image)".to_string(),
        ));
    }
    let wasm: Vec<&Descriptor> = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == WASM_LAYER_MEDIA_TYPE)
        .collect();
    match wasm.as_slice() {
        [layer] => Ok((*layer).clone()),
        _ => {
            let types: Vec<&str> = manifest
                .layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect();
            let config = manifest
                .config
                .as_ref()
                .map_or("none", |c| c.media_type.as_str());
            let expected_config = if config == WASM_CONFIG_MEDIA_TYPE {
                ""
            } else {
                " (a policy's is application/vnd.wasm.config.v1+json)"
            };
            Err(not_a_policy(format!(
                "its layers are [{}] and its config {config}{expected_config}",
                types.join(", ")
            )))
        }
    }
}
