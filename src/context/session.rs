//! kwctl's host-capability sessions (`--record-host-capabilities-interactions` and
//! `--replay-host-capabilities-interactions`, kwctl's `src/callback_handler/proxy.rs`): a YAML
//! list of exchanges, each a request (a YAML string holding the tagged `CallbackRequestType`
//! of policy-evaluator's `src/callback_requests.rs`) and the response the guest got.
//!
//! kwctl replays strictly in order, one request after another. A check evaluates many objects
//! on several threads, so admit answers each request with the first recorded exchange equal
//! to it, whatever came before: the same answers for a session kwctl recorded in order, and
//! the same output whatever the thread count. A recording is written sorted and without
//! repeats, for the same reason.

use std::path::Path;
use std::sync::Mutex;

use serde_json::{Map, Value, json};

/// A request as a session names it: the `CallbackRequestType` variant and its fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TypedRequest {
    /// `KubernetesGetResource`, `OciManifestDigest`...
    pub variant: String,
    /// The fields, null ones left out (kwctl writes `namespace: null`; older versions
    /// lack `field_masks`), as canonical JSON text.
    pub fields: String,
}

/// A recorded answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The bytes the guest got.
    Success(String),
    /// The error text the guest got.
    Error(String),
}

/// The typed form of the call `namespace/operation` with `payload`, or `None` for a call no
/// session records (logging).
pub fn typed(namespace: &str, operation: &str, payload: &[u8]) -> Result<TypedRequest, String> {
    let json: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("invalid {namespace}/{operation} request: {e}"))?;
    let image = |v: &Value| json!({"image": v});
    let (variant, fields): (String, Value) = match (namespace, operation) {
        ("kubernetes", "list_resources_by_namespace") => {
            ("KubernetesListResourceNamespace".into(), json)
        }
        ("kubernetes", "list_resources_all") => ("KubernetesListResourceAll".into(), json),
        ("kubernetes", "get_resource") => ("KubernetesGetResource".into(), json),
        ("kubernetes", "can_i") => (
            "KubernetesCanI".into(),
            json!({"request": json["subject_access_review"], "disable_cache": json["disable_cache"]}),
        ),
        ("oci", "v1/manifest_digest") => ("OciManifestDigest".into(), image(&json)),
        ("oci", "v1/oci_manifest") => ("OciManifest".into(), image(&json)),
        ("oci", "v1/oci_manifest_config") => ("OciManifestAndConfig".into(), image(&json)),
        ("net", "v1/dns_lookup_host") => ("DNSLookupHost".into(), json!({"host": json})),
        ("crypto", "v1/is_certificate_trusted") => (
            "CryptoIsCertificateTrusted".into(),
            json!({"request": json}),
        ),
        ("oci", "v1/verify") => match json {
            Value::Object(map) if map.len() == 1 => {
                let (variant, fields) = map.into_iter().next().unwrap_or_default();
                (variant, fields)
            }
            _ => return Err("invalid oci/v1/verify request".into()),
        },
        ("oci", "v2/verify") => {
            let mut fields = json;
            let variant = fields
                .as_object_mut()
                .and_then(|m| m.remove("type"))
                .and_then(|t| t.as_str().map(str::to_string))
                .ok_or("invalid oci/v2/verify request: no `type`")?;
            (variant, fields)
        }
        _ => return Err(format!("unknown operation: {namespace}/{operation}")),
    };
    Ok(TypedRequest {
        variant,
        fields: canonical(&fields),
    })
}

/// `value` without null fields, keys sorted, as JSON text.
fn canonical(value: &Value) -> String {
    fn clean(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut sorted: Vec<(&String, &Value)> =
                    map.iter().filter(|(_, v)| !v.is_null()).collect();
                sorted.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    sorted
                        .into_iter()
                        .map(|(k, v)| (k.clone(), clean(v)))
                        .collect::<Map<_, _>>(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(clean).collect()),
            other => other.clone(),
        }
    }
    clean(value).to_string()
}

/// A session read for replay.
#[derive(Debug, Default)]
pub struct Replay {
    exchanges: Vec<(TypedRequest, Response)>,
}

impl Replay {
    /// Read a session file.
    pub fn read(path: &Path) -> Result<Replay, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the session {}: {e}", path.display()))?;
        let loaded = crate::documents::load(&text);
        if let Some(error) = loaded.errors.first() {
            return Err(format!(
                "{}: invalid YAML: {}",
                path.display(),
                error.message
            ));
        }
        let list = loaded
            .documents
            .first()
            .map_or(Value::Array(Vec::new()), |d| d.root.to_json());
        let Value::Array(items) = list else {
            return Err(format!(
                "{}: a session is a list of exchanges",
                path.display()
            ));
        };
        let mut exchanges = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let at = |what: &str| format!("{}: exchange {}: {what}", path.display(), index + 1);
            let request_text = item["request"]
                .as_str()
                .ok_or_else(|| at("no `request` string"))?;
            let request = parse_request(request_text).map_err(|e| at(&e))?;
            let response = match item["response"]["type"].as_str() {
                Some("Success") => Response::Success(
                    item["response"]["payload"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ),
                Some("Error") => Response::Error(
                    item["response"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ),
                _ => return Err(at("a `response` is of type Success or Error")),
            };
            exchanges.push((request, response));
        }
        Ok(Replay { exchanges })
    }

    /// The recorded answer to `request`.
    pub fn answer(&self, request: &TypedRequest) -> Result<Vec<u8>, String> {
        match self
            .exchanges
            .iter()
            .find(|(recorded, _)| recorded == request)
        {
            Some((_, Response::Success(payload))) => Ok(payload.clone().into_bytes()),
            Some((_, Response::Error(message))) => Err(message.clone()),
            None => Err(format!(
                "Replay error: the session has no answer for {} {}",
                request.variant, request.fields
            )),
        }
    }
}

/// `!Variant` on the first line, then the fields as YAML.
fn parse_request(text: &str) -> Result<TypedRequest, String> {
    let text = text.trim_start();
    let rest = text
        .strip_prefix('!')
        .ok_or("a request starts with its !Variant tag")?;
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    let (variant, fields) = rest.split_at(end);
    let loaded = crate::documents::load(fields);
    if let Some(error) = loaded.errors.first() {
        return Err(format!("invalid request fields: {}", error.message));
    }
    let fields = loaded
        .documents
        .first()
        .map_or(Value::Object(Map::new()), |d| d.root.to_json());
    Ok(TypedRequest {
        variant: variant.to_string(),
        fields: canonical(&fields),
    })
}

/// Exchanges kept for `--record-host-capabilities-interactions`.
#[derive(Debug, Default)]
pub struct Recorder {
    exchanges: Mutex<Vec<(TypedRequest, Response)>>,
}

impl Recorder {
    /// Keep one exchange.
    pub fn record(&self, request: TypedRequest, answer: &Result<Vec<u8>, String>) {
        let response = match answer {
            Ok(bytes) => Response::Success(String::from_utf8_lossy(bytes).into_owned()),
            Err(message) => Response::Error(message.clone()),
        };
        if let Ok(mut exchanges) = self.exchanges.lock() {
            exchanges.push((request, response));
        }
    }

    /// The session as kwctl writes it: sorted by request, each request once.
    pub fn render(&self) -> String {
        let mut exchanges = self.exchanges.lock().map(|e| e.clone()).unwrap_or_default();
        exchanges.sort_by(|a, b| a.0.cmp(&b.0));
        exchanges.dedup_by(|a, b| a.0 == b.0);
        let mut text = String::new();
        for (request, response) in exchanges {
            text.push_str("- type: Exchange\n  request: |\n");
            text.push_str(&format!("    !{}\n", request.variant));
            if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&request.fields) {
                for (key, value) in fields {
                    text.push_str(&format!("    {key}: {value}\n"));
                }
            }
            text.push_str("  response:\n");
            match response {
                Response::Success(payload) => {
                    text.push_str("    type: Success\n");
                    text.push_str(&format!("    payload: '{}'\n", payload.replace('\'', "''")));
                }
                Response::Error(message) => {
                    text.push_str("    type: Error\n");
                    text.push_str(&format!("    message: '{}'\n", message.replace('\'', "''")));
                }
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kwctl_session_replays_by_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.yml");
        std::fs::write(
            &path,
            "- type: Exchange\n  request: |\n    !KubernetesGetResource\n    api_version: v1\n    kind: Namespace\n    name: test-policy\n    namespace: null\n    disable_cache: false\n  response:\n    type: Success\n    payload: '{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"test-policy\"}}'\n- type: Exchange\n  request: |\n    !KubernetesGetResource\n    api_version: v1\n    kind: Namespace\n    name: gone\n    namespace: null\n    disable_cache: false\n  response:\n    type: Error\n    message: 'not found'\n",
        )
        .unwrap();
        let replay = Replay::read(&path).unwrap();
        let ask = |name: &str| {
            let payload = json!({"api_version": "v1", "kind": "Namespace", "name": name, "disable_cache": false});
            replay.answer(
                &typed("kubernetes", "get_resource", payload.to_string().as_bytes()).unwrap(),
            )
        };
        assert!(
            String::from_utf8(ask("test-policy").unwrap())
                .unwrap()
                .contains("\"name\":\"test-policy\"")
        );
        assert_eq!(ask("gone"), Err("not found".to_string()));
        assert!(ask("other").unwrap_err().starts_with("Replay error:"));
    }

    #[test]
    fn a_recording_reads_back_as_the_same_session() {
        let recorder = Recorder::default();
        let request = typed("oci", "v1/manifest_digest", b"\"busybox:latest\"").unwrap();
        recorder.record(request.clone(), &Ok(b"{\"digest\":\"sha256:ab\"}".to_vec()));
        recorder.record(request.clone(), &Ok(b"{\"digest\":\"sha256:ab\"}".to_vec()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recorded.yml");
        std::fs::write(&path, recorder.render()).unwrap();
        let replay = Replay::read(&path).unwrap();
        assert_eq!(replay.exchanges.len(), 1);
        assert_eq!(
            replay.answer(&request),
            Ok(b"{\"digest\":\"sha256:ab\"}".to_vec())
        );
    }
}
