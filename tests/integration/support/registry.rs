//! A real OCI registry for the tests: Debian's `docker-registry` (CNCF Distribution 2.8) on a
//! free localhost port with its own storage directory, and pushes made as Kubewarden and
//! cosign make them, through the same oci-client crate admit pulls with.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{
    IMAGE_CONFIG_MEDIA_TYPE, IMAGE_LAYER_GZIP_MEDIA_TYPE, WASM_CONFIG_MEDIA_TYPE,
    WASM_LAYER_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

const BINARY: &str = "docker-registry";

/// A running registry, stopped when dropped.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Its storage, config and htpasswd.
    pub dir: tempfile::TempDir,
    auth: RegistryAuth,
    /// The certificate authority that signed its certificate, when it speaks TLS (PEM).
    pub ca: Option<Vec<u8>>,
}

fn binary() -> PathBuf {
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(["/usr/bin", "/usr/sbin"])
    {
        let candidate = Path::new(dir).join(BINARY);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "the registry tests need CNCF Distribution's registry: `sudo apt-get install -y docker-registry` \
         (Debian's package; .ci/run installs it)"
    );
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Registry {
    /// A registry open to anyone.
    pub fn start() -> Registry {
        Self::start_with(None, false)
    }

    /// A registry that wants `user`/`password` over HTTP basic auth (htpasswd).
    pub fn start_with_auth(user: &str, password: &str) -> Registry {
        Self::start_with(Some((user, password)), false)
    }

    /// A registry over HTTPS, its certificate signed by a certificate authority of its own
    /// (made with the `openssl` command), as a company's internal registry is.
    pub fn start_tls() -> Registry {
        Self::start_with(None, true)
    }

    fn start_with(auth: Option<(&str, &str)>, tls: bool) -> Registry {
        let binary = binary();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("storage").display()
        );
        if let Some((user, password)) = auth {
            let hash = bcrypt::hash(password, 5).unwrap();
            std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: admit-tests\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let ca = tls.then(|| {
            certificates(dir.path());
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.path().join("server.pem").display(),
                dir.path().join("server.key").display()
            ));
            std::fs::read(dir.path().join("ca.pem")).unwrap()
        });
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(&host).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry did not listen on {host}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            child,
            host,
            dir,
            auth: match auth {
                Some((user, password)) => RegistryAuth::Basic(user.into(), password.into()),
                None => RegistryAuth::Anonymous,
            },
            ca,
        }
    }

    /// `registry://HOST/REPOSITORY`.
    pub fn reference(&self, repository_and_tag: &str) -> String {
        format!("registry://{}/{repository_and_tag}", self.host)
    }

    fn client(&self) -> Client {
        match &self.ca {
            Some(ca) => Client::new(ClientConfig {
                protocol: ClientProtocol::Https,
                extra_root_certificates: vec![oci_client::client::Certificate {
                    encoding: oci_client::client::CertificateEncoding::Pem,
                    data: ca.clone(),
                }],
                ..ClientConfig::default()
            }),
            None => Client::new(ClientConfig {
                protocol: ClientProtocol::HttpsExcept(vec![self.host.clone()]),
                ..ClientConfig::default()
            }),
        }
    }

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    /// Push `wasm` as `kwctl push` does (one wasm layer, the wasm config media type) to
    /// `repository:tag`; its manifest digest.
    pub fn push_policy(&self, repository_and_tag: &str, wasm: &[u8]) -> String {
        self.push(
            repository_and_tag,
            ImageLayer::new(wasm.to_vec(), WASM_LAYER_MEDIA_TYPE.to_string(), None),
            Config::new(b"{}".to_vec(), WASM_CONFIG_MEDIA_TYPE.to_string(), None),
        )
    }

    /// Push a container-image-like artifact that is not a policy.
    pub fn push_image(&self, repository_and_tag: &str) -> String {
        self.push(
            repository_and_tag,
            ImageLayer::new(
                b"not a tarball".to_vec(),
                IMAGE_LAYER_GZIP_MEDIA_TYPE.to_string(),
                None,
            ),
            Config::new(b"{}".to_vec(), IMAGE_CONFIG_MEDIA_TYPE.to_string(), None),
        )
    }

    fn push(&self, repository_and_tag: &str, layer: ImageLayer, config: Config) -> String {
        let reference: Reference = format!("{}/{repository_and_tag}", self.host)
            .parse()
            .unwrap();
        let client = self.client();
        Self::block_on(async {
            client
                .push(&reference, &[layer], config, &self.auth, None)
                .await
                .expect("push");
            client
                .fetch_manifest_digest(&reference, &self.auth)
                .await
                .expect("digest of what was pushed")
        })
    }

    /// Sign the manifest `digest` of `repository` with `key` as `cosign sign --key` does: a
    /// simple-signing payload layer at the tag `sha256-HEX.sig`, its ECDSA signature in the
    /// layer's `dev.cosignproject.cosign/signature` annotation.
    pub fn sign(
        &self,
        repository: &str,
        digest: &str,
        key: &SigningKey,
        annotations: &BTreeMap<String, String>,
    ) {
        let payload = serde_json::to_vec(&serde_json::json!({
            "critical": {
                "identity": {"docker-reference": format!("{}/{repository}", self.host)},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": if annotations.is_empty() { serde_json::Value::Null } else { serde_json::json!(annotations) },
        }))
        .unwrap();
        let signature: Signature = key.sign(&payload);
        let mut layer_annotations = BTreeMap::new();
        layer_annotations.insert(
            "dev.cosignproject.cosign/signature".to_string(),
            STANDARD.encode(signature.to_der().as_bytes()),
        );
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.push(
            &format!("{repository}:sha256-{hex}.sig"),
            ImageLayer::new(
                payload,
                "application/vnd.dev.cosign.simplesigning.v1+json".to_string(),
                Some(layer_annotations),
            ),
            Config::new(b"{}".to_vec(), IMAGE_CONFIG_MEDIA_TYPE.to_string(), None),
        );
    }

    /// The file the registry keeps the blob `digest` in (to tamper with it).
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate authority (`ca.pem`) and a certificate it signed for 127.0.0.1
/// (`server.pem`, `server.key`) in `dir`, with the `openssl` command.
fn certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("the TLS registry test needs the openssl command: `sudo apt-get install -y openssl`");
        assert!(status.success(), "openssl {args:?} failed");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=admit test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

/// A cosign key pair: the signing key and its public key as `cosign.pub` PEM.
pub fn key_pair(seed: &str) -> (SigningKey, String) {
    let secret: [u8; 32] = Sha256::digest(seed.as_bytes()).into();
    let key = SigningKey::from_slice(&secret).unwrap();
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    (key, pem)
}

/// `sha256:HEX` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A server in front of `upstream` that passes every request through but cuts the first
/// blob download after `keep` bytes of its body, as a registry that dies mid-download.
pub struct Interrupting {
    /// `127.0.0.1:PORT`.
    pub host: String,
}

impl Interrupting {
    pub fn start(upstream: &str, keep: usize) -> Interrupting {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let upstream = upstream.to_string();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let upstream = upstream.clone();
                std::thread::spawn(move || relay(client, &upstream, keep));
            }
        });
        Interrupting { host }
    }
}

/// One request at a time on `client`, each forwarded on a fresh upstream connection
/// (`Connection: close`), the answer relayed whole, or cut when it is a blob.
fn relay(mut client: TcpStream, upstream: &str, keep: usize) {
    loop {
        let Some(request) = read_head(&mut client) else {
            return;
        };
        let is_blob = request
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("GET") && l.contains("/blobs/"));
        let mut head = String::new();
        for line in request.lines().filter(|l| !l.is_empty()) {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("connection:") || lower.starts_with("host:") {
                continue;
            }
            head.push_str(line);
            head.push_str("\r\n");
        }
        head.push_str(&format!("Host: {upstream}\r\nConnection: close\r\n\r\n"));
        let Ok(mut server) = TcpStream::connect(upstream) else {
            return;
        };
        if server.write_all(head.as_bytes()).is_err() {
            return;
        }
        let mut answer = Vec::new();
        let _ = server.read_to_end(&mut answer);
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(answer.len(), |p| p + 4);
        let (answer_head, body) = answer.split_at(split);
        // Whatever upstream said about the connection, this side keeps it open for the next
        // request, except after a cut.
        let text = String::from_utf8_lossy(answer_head).replace("Connection: close\r\n", "");
        if client.write_all(text.as_bytes()).is_err() {
            return;
        }
        if is_blob && body.len() > keep {
            let _ = client.write_all(&body[..keep]);
            let _ = client.flush();
            let _ = client.shutdown(std::net::Shutdown::Both);
            return;
        }
        if client.write_all(body).is_err() {
            return;
        }
    }
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A server that accepts connections and never answers.
pub fn silent() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    host
}
